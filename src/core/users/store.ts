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

/** Fields a user listing may filter and sort on. */
export const USER_QUERY_FIELDS = ['id', 'username', 'email', 'firstName', 'lastName', 'createdAt'] as const;
export type UserQueryField = (typeof USER_QUERY_FIELDS)[number];

/** A page of users: filters (all must hold; `contains` is a case-insensitive substring), sort keys, skip and limit. */
export interface SystemUserQuery {
  filters: Array<{ field: UserQueryField; op: 'eq' | 'ne' | 'in' | 'contains'; values: string[] }>;
  sort: Array<{ field: UserQueryField; desc: boolean }>;
  skip: number;
  limit: number;
}

/** Storage of system users and their bindings to systems. */
export interface SystemUserStore {
  /** Inserts; false when the organization already has that username. */
  insertUser(user: SystemUserRecord): Promise<boolean>;
  getUser(organizationId: string, id: string): Promise<SystemUserRecord | undefined>;
  listUsers(organizationId: string): Promise<SystemUserRecord[]>;
  /** A filtered, sorted page (by username unless sorted), and how many users match in all. */
  queryUsers(organizationId: string, query: SystemUserQuery): Promise<{ total: number; items: SystemUserRecord[] }>;
  updateUser(organizationId: string, id: string, patch: SystemUserPatch): Promise<'ok' | 'missing' | 'conflict'>;
  deleteUser(organizationId: string, id: string): Promise<boolean>;
  /** Idempotent. */
  bind(userId: string, systemId: string): Promise<void>;
  unbind(userId: string, systemId: string): Promise<void>;
  systemIdsOfUser(userId: string): Promise<string[]>;
  usersOfSystem(systemId: string): Promise<SystemUserRecord[]>;
}
