import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

const Schema = Type.Object(
  {
    listen: Type.String({ default: '127.0.0.1:8080' }),
    workers: Type.Integer({ minimum: 1, default: 2 }),
    verbose: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
const bindings = [
  { key: 'listen', env: 'MUSTER_LISTEN', kind: 'string' },
  { key: 'workers', env: 'MUSTER_WORKERS', kind: 'integer' },
  { key: 'verbose', env: 'MUSTER_VERBOSE', kind: 'boolean' },
] as const;

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'muster-config-')), 'config.json');
  writeFileSync(path, content);
  return path;
}

describe('loadConfig', () => {
  it('applies defaults < file < env < flags and freezes the result', () => {
    const path = file(JSON.stringify({ listen: '0.0.0.0:1', workers: 3 }));
    const config = loadConfig(Schema, {
      file: path,
      env: { MUSTER_WORKERS: '4', MUSTER_VERBOSE: 'true' },
      bindings,
      flags: { listen: '127.0.0.1:9000', verbose: undefined },
    });
    expect(config).toEqual({ listen: '127.0.0.1:9000', workers: 4, verbose: true });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names the key of a bad value', () => {
    expect(() => loadConfig(Schema, { env: { MUSTER_WORKERS: '0' }, bindings, flags: {} })).toThrow(/workers/);
    expect(() => loadConfig(Schema, { env: { MUSTER_WORKERS: 'many' }, bindings, flags: {} })).toThrow(ConfigError);
  });

  it('rejects unknown keys and unreadable files', () => {
    expect(() => loadConfig(Schema, { file: file('{"lisen": "x"}'), env: {}, bindings, flags: {} })).toThrow(/lisen/);
    expect(() => loadConfig(Schema, { file: file('{nope'), env: {}, bindings, flags: {} })).toThrow(/not valid JSON/);
    expect(() => loadConfig(Schema, { file: '/nonexistent/muster.json', env: {}, bindings, flags: {} })).toThrow(/cannot read/);
  });
});
