import { readFileSync } from 'node:fs';
import Type, { type Static, type TObject } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * One loader for every executable's config. Precedence, lowest first:
 * the schema's defaults < config file (JSON) < `MUSTER_*` environment < flags.
 * The result is validated once against the schema and frozen. A bad value
 * throws ConfigError naming the key and where it came from.
 */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`invalid config ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type EnvKind = 'string' | 'integer' | 'number' | 'boolean' | 'list';

/** Maps a config key to its environment variable and how to parse the text. */
export interface EnvBinding {
  key: string;
  env: string;
  kind: EnvKind;
}

export interface LoadOptions {
  /** Path of a JSON config file; absent means none. A named file that cannot be read is an error. */
  file?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  bindings: readonly EnvBinding[];
  /** Values given on the command line; `undefined` entries are ignored. */
  flags: Readonly<Record<string, unknown>>;
}

function parseEnv(binding: EnvBinding, text: string): unknown {
  switch (binding.kind) {
    case 'string':
      return text;
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new ConfigError(binding.key, `${binding.env}=${JSON.stringify(text)} is not a number`);
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      throw new ConfigError(binding.key, `${binding.env}=${JSON.stringify(text)} is not a boolean`);
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  }
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('config', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('config', `${path} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

function defaults(schema: TObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    const value = (prop as { default?: unknown }).default;
    if (value !== undefined) out[key] = structuredClone(value);
  }
  return out;
}

/** Loads, merges, validates and freezes a config. */
export function loadConfig<T extends TObject>(schema: T, options: LoadOptions): Readonly<Static<T>> {
  const merged: Record<string, unknown> = defaults(schema);
  if (options.file) {
    for (const [key, value] of Object.entries(readFile(options.file))) {
      if (!(key in schema.properties)) throw new ConfigError(key, `unknown key in ${options.file}`);
      merged[key] = value;
    }
  }
  for (const binding of options.bindings) {
    const text = options.env[binding.env];
    if (text !== undefined && text !== '') merged[binding.key] = parseEnv(binding, text);
  }
  for (const [key, value] of Object.entries(options.flags)) {
    if (value !== undefined) merged[key] = value;
  }
  const validator = Compile(schema);
  if (!validator.Check(merged)) {
    const first = [...validator.Errors(merged)][0];
    const key = first?.instancePath ? first.instancePath.slice(1).split('/')[0]! : 'config';
    const extra = (first?.params as { additionalProperties?: string[] } | undefined)?.additionalProperties;
    throw new ConfigError(extra?.[0] ?? key, first?.message ?? 'is invalid');
  }
  return Object.freeze(merged) as Readonly<Static<T>>;
}

/** pino's levels, shared by every executable's config. */
export const LogLevel = Type.Union(
  [
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('trace'),
    Type.Literal('silent'),
  ],
  { default: 'info' },
);
