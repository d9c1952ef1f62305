import { requireRole, type Actor, type Role } from '../access/index.js';
import { MusterError } from '../errors.js';

/**
 * A system acting for itself, authenticated by its own key (JumpCloud's System
 * Context). It may act on its own record and memberships only.
 */
export interface SystemPrincipal {
  kind: 'system';
  systemId: string;
  organizationId: string;
}

/** Who asks for an inventory operation: an API key's actor, or a system about itself. */
export type Caller = Actor | SystemPrincipal;

/** True when the caller is a system acting for itself. */
export function isSystemPrincipal(caller: Caller): caller is SystemPrincipal {
  return (caller as SystemPrincipal).kind === 'system';
}

/** The audit label of a caller. */
export function callerLabel(caller: Caller): string {
  return isSystemPrincipal(caller) ? `system:${caller.systemId}` : caller.label;
}

/**
 * Checks that `caller` may act on system `systemId`: an actor needs `role`; a
 * system may act on itself only (any other id is UNAUTHENTICATED, as the System
 * Context API answers 401 outside its scope). Returns the organization.
 */
export function authorizeOnSystem(caller: Caller, systemId: string, role: Role): string {
  if (isSystemPrincipal(caller)) {
    if (caller.systemId !== systemId) throw new MusterError('UNAUTHENTICATED', 'a system may only act on its own record');
    return caller.organizationId;
  }
  requireRole(caller, role);
  return caller.organizationId;
}

/** An actor, or UNAUTHENTICATED for a system (the operation is outside the System Context scope). */
export function requireActor(caller: Caller, role: Role): Actor {
  if (isSystemPrincipal(caller)) throw new MusterError('UNAUTHENTICATED', 'this operation is not part of the System Context API');
  requireRole(caller, role);
  return caller;
}
