import { randomBytes, randomUUID } from 'node:crypto';

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

let lastMs = 0;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit counter for ids
 * made in the same millisecond (method 1 of §6.2; on overflow the timestamp
 * moves on by one), then random bits. Ids made in this process sort in the order
 * they were made, so rows keyed by them are appended to their B-tree's last page
 * instead of landing on a random one: for the ingest queue, a few pages written
 * per commit instead of one per command (docs/benchmarks.md).
 */
export function uuidV7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = 0;
  }
  const ts = lastMs.toString(16).padStart(12, '0');
  // randomUUID's last 16 characters hold the variant bits and 62 random bits.
  return `${ts.slice(0, 8)}-${ts.slice(8)}-7${counter.toString(16).padStart(3, '0')}-${randomUUID().slice(19)}`;
}
