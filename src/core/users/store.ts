/** A user account on managed systems (JumpCloud's system user). */
export interface SystemUserRecord {
  id: string;
  organizationId: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  createdAt: string;
}

export type SystemUserPatch = Partial<Pick<SystemUserRecord, 'username' | 'email' | 'firstName' | 'lastName'>>;

/** Storage of system users and their bindings to systems. */
export interface SystemUserStore {
  /** Inserts; false when the organization already has that username. */
  insertUser(user: SystemUserRecord): Promise<boolean>;
  getUser(organizationId: string, id: string): Promise<SystemUserRecord | undefined>;
  listUsers(organizationId: string): Promise<SystemUserRecord[]>;
  updateUser(organizationId: string, id: string, patch: SystemUserPatch): Promise<'ok' | 'missing' | 'conflict'>;
  deleteUser(organizationId: string, id: string): Promise<boolean>;
  /** Idempotent. */
  bind(userId: string, systemId: string): Promise<void>;
  unbind(userId: string, systemId: string): Promise<void>;
  systemIdsOfUser(userId: string): Promise<string[]>;
  usersOfSystem(systemId: string): Promise<SystemUserRecord[]>;
}
