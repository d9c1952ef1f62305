import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets the server must read back (trigger HMAC keys) are stored sealed
 * with AES-256-GCM, so that a copy of the database (a backup, a leaked
 * dump, a world-readable file) does not hand out the power to fire
 * triggers. A sealed value names the key that sealed it, so a keyring can
 * hold the current key and the previous ones while secrets are re-sealed
 * during a rotation.
 *
 * Format: `sealed:v1:<key id>:<base64url of iv (12 bytes) | ciphertext | tag (16 bytes)>`.
 * The context (for a trigger, its id) is authenticated with the secret, so a
 * sealed value copied onto another row does not open there.
 */

const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A secret key as configured: 64 hex digits, or 32 bytes in base64 (what `newSecretKey` writes). */
const SECRET_KEY_TEXT = '(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=?)';
export const SECRET_KEY_PATTERN = `^${SECRET_KEY_TEXT}$`;
/** Several keys, comma-separated (the previous keys of a rotation). */
export const SECRET_KEYS_PATTERN = `^${SECRET_KEY_TEXT}(?:,${SECRET_KEY_TEXT})*$`;

/** The 32 key bytes of a configured key, or an Error saying what a key must look like. */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  if (!new RegExp(SECRET_KEY_PATTERN).test(t)) throw new Error('a secret key is 64 hex digits or 32 bytes in base64 (`openssl rand -base64 32`)');
  return /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
}

/** A new random key, in base64. */
export function newSecretKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** A short, stable name for a key (not secret: a hash prefix), shown in logs and stored with each sealed value. */
export function secretKeyId(key: Buffer): string {
  return createHash('sha256').update('muster secret key id\0').update(key).digest('hex').slice(0, 12);
}

/** Seals and opens secrets with the current key; opens with previous keys too. */
export interface SecretKeyring {
  /** The id of the key new secrets are sealed with. */
  readonly currentId: string;
  /** Ids of every key this keyring can open with, current first. */
  readonly ids: readonly string[];
  seal(plaintext: string, context: string): string;
  /** The plaintext; throws when the key is not in the keyring or the value was altered. */
  open(sealed: string, context: string): string;
}

/** The id of the key that sealed `value`, or undefined when `value` is not sealed (a plaintext secret from before sealing). */
export function sealedKeyId(value: string): string | undefined {
  if (!value.startsWith(PREFIX)) return undefined;
  return value.slice(PREFIX.length).split(':', 1)[0];
}

/** A keyring of the current key and, for a rotation in progress, the previous ones. */
export function secretKeyring(current: Buffer, previous: readonly Buffer[] = []): SecretKeyring {
  for (const k of [current, ...previous]) if (k.length !== KEY_BYTES) throw new Error(`a secret key must be ${KEY_BYTES} bytes`);
  const keys = new Map<string, Buffer>();
  for (const k of [current, ...previous]) if (!keys.has(secretKeyId(k))) keys.set(secretKeyId(k), k);
  const currentId = secretKeyId(current);
  return {
    currentId,
    ids: [...keys.keys()],
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${currentId}:${body.toString('base64url')}`;
    },
    open(sealed, context) {
      const id = sealedKeyId(sealed);
      if (id === undefined) throw new Error('the value is not sealed');
      const key = keys.get(id);
      if (!key) throw new Error(`the value is sealed with key ${id}, which this server does not have (it has ${[...keys.keys()].join(', ')})`);
      const body = Buffer.from(sealed.slice(PREFIX.length + id.length + 1), 'base64url');
      if (body.length < IV_BYTES + TAG_BYTES) throw new Error('the sealed value is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}

/** A keyring whose key lives only as long as the process: for stores opened without one (tests, tools). */
export function ephemeralKeyring(): SecretKeyring {
  return secretKeyring(randomBytes(KEY_BYTES));
}
