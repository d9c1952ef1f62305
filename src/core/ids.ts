import { randomBytes } from 'node:crypto';

/**
 * Ids are 24 lowercase hex characters, like JumpCloud's ObjectIds. They must stay
 * word characters only: the System Context reference script extracts the system id
 * from agent.conf with the regex `systemKey":"(\w+)"`.
 */
export function newId(): string {
  return randomBytes(12).toString('hex');
}

/** True when `id` has the shape of an id (so a malformed id is a 404, never a query error). */
export function isId(id: string): boolean {
  return /^[a-f0-9]{24}$/.test(id);
}
