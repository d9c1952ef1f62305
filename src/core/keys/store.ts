import type { Role } from '../access/index.js';

export interface ApiKeyRecord {
  id: string;
  organizationId: string;
  name: string;
  role: Role;
  prefix: string;
  secretHash: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface EnrollmentKeyRecord {
  id: string;
  organizationId: string;
  name: string;
  tags: string[];
  prefix: string;
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
  /** Groups a system enrolled with this key joins. */
  groupIds: string[];
  /** After this moment the key no longer enrolls; null: never expires. */
  expiresAt: string | null;
  /** How many systems it may enroll in all; null: unlimited. */
  maxUses: number | null;
  uses: number;
}

/** Storage of API keys and enrollment keys. */
export interface KeyStore {
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(organizationId: string): Promise<ApiKeyRecord[]>;
  /** Sets revoked_at; false when no unrevoked key with that id is in the organization. */
  revokeApiKey(organizationId: string, id: string, at: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;
  insertEnrollmentKey(key: EnrollmentKeyRecord): Promise<void>;
  findEnrollmentKeyByHash(hash: string): Promise<EnrollmentKeyRecord | undefined>;
  listEnrollmentKeys(organizationId: string): Promise<EnrollmentKeyRecord[]>;
  revokeEnrollmentKey(organizationId: string, id: string, at: string): Promise<boolean>;
  /** Counts one use, atomically; false when the key is revoked or has no uses left. */
  consumeEnrollmentKey(id: string): Promise<boolean>;
}
