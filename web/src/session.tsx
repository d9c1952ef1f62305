import { createContext, useContext } from 'react';
import type { Role, Whoami } from '../../src/api/native/index.js';

/** Who is logged in: the key's organization and role. */
export const SessionContext = createContext<Whoami | null>(null);

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `who` has at least `role`. */
export function can(who: Whoami | null, role: Role): boolean {
  return who !== null && RANK[who.role] >= RANK[role];
}

/** Whether the logged-in key has at least `role` (the pages offer only what it may do). */
export function useCan(role: Role): boolean {
  return can(useContext(SessionContext), role);
}
