import { MusterError } from '../errors.js';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Who is asking. Every core operation takes one and answers only within
 * `organizationId`: rows of other organizations do not exist for it.
 */
export interface Actor {
  organizationId: string;
  role: Role;
  /** For the audit log, e.g. `api_key:<id>` or `system:<id>`. */
  label: string;
}

/** Throws FORBIDDEN unless the actor's role is at least `role`. */
export function requireRole(actor: Actor, role: Role): void {
  if (RANK[actor.role] < RANK[role]) {
    throw new MusterError('FORBIDDEN', `this action needs the ${role} role; the key has ${actor.role}`);
  }
}

/** True when `value` is one of the roles. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
