import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newSecretKey, parseSecretKey, sealedKeyId, secretKeyId, secretKeyring } from './secret-box.js';

describe('secret box', () => {
  const key = randomBytes(32);
  const secret = 'mts_0123456789abcdef0123456789abcdef0123456789abcdef';

  it('seals so that the stored text holds neither the secret nor the key, and opens it back', () => {
    const ring = secretKeyring(key);
    const sealed = ring.seal(secret, 'trigger:a');
    expect(sealed).toMatch(new RegExp(`^sealed:v1:${ring.currentId}:[A-Za-z0-9_-]+$`));
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(key.toString('base64'));
    expect(ring.seal(secret, 'trigger:a')).not.toBe(sealed);
    expect(ring.open(sealed, 'trigger:a')).toBe(secret);
  });

  it('refuses a value moved to another trigger, an altered one, and one under a key it does not hold', () => {
    const ring = secretKeyring(key);
    const sealed = ring.seal(secret, 'trigger:a');
    expect(() => ring.open(sealed, 'trigger:b')).toThrow();
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BA' : 'AA');
    expect(() => ring.open(flipped, 'trigger:a')).toThrow();
    const other = secretKeyring(randomBytes(32));
    expect(() => other.open(sealed, 'trigger:a')).toThrow(new RegExp(`sealed with key ${ring.currentId}, which this server does not have`));
  });

  it('opens with a previous key during a rotation and seals only with the current one', () => {
    const old = secretKeyring(key);
    const sealed = old.seal(secret, 'trigger:a');
    const rotated = secretKeyring(randomBytes(32), [key]);
    expect(rotated.open(sealed, 'trigger:a')).toBe(secret);
    expect(sealedKeyId(rotated.seal(secret, 'trigger:a'))).toBe(rotated.currentId);
    expect(rotated.ids).toEqual([rotated.currentId, old.currentId]);
    expect(sealedKeyId(secret)).toBeUndefined();
  });

  it('reads a key as 64 hex digits or base64 and names the format otherwise', () => {
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(` ${key.toString('base64')}\n`)).toEqual(key);
    expect(parseSecretKey(newSecretKey())).toHaveLength(32);
    expect(() => parseSecretKey('short')).toThrow(/64 hex digits or 32 bytes in base64/);
    expect(secretKeyId(key)).toMatch(/^[0-9a-f]{12}$/);
    expect(secretKeyId(key)).not.toBe(secretKeyId(randomBytes(32)));
  });
});
