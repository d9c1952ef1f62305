/** A named set of systems. */
export interface GroupRecord {
  id: string;
  organizationId: string;
  name: string;
  description: string;
  createdAt: string;
}

/** Storage of groups and their members. */
export interface GroupStore {
  /** Inserts; false when the organization already has a group of that name. */
  insertGroup(group: GroupRecord): Promise<boolean>;
  getGroup(organizationId: string, id: string): Promise<GroupRecord | undefined>;
  /** Case-insensitive name lookup. */
  findGroupByName(organizationId: string, name: string): Promise<GroupRecord | undefined>;
  listGroups(organizationId: string): Promise<GroupRecord[]>;
  /** Applies the change; 'missing' when the group is not in the organization, 'conflict' when the name is taken. */
  updateGroup(organizationId: string, id: string, patch: { name?: string; description?: string }): Promise<'ok' | 'missing' | 'conflict'>;
  deleteGroup(organizationId: string, id: string): Promise<boolean>;
  memberIds(groupId: string): Promise<string[]>;
  /** Idempotent. */
  addMember(groupId: string, systemId: string): Promise<void>;
  removeMember(groupId: string, systemId: string): Promise<void>;
  groupsOfSystem(systemId: string): Promise<GroupRecord[]>;
}
