import type { FastifyRequest } from 'fastify';
import { invalid } from '../../core/errors.js';

/** An uploaded file of a multipart form. */
export interface Upload {
  filename: string;
  data: Buffer;
}

type Value = string | number | boolean | Upload | Value[] | null | Record<string, unknown>;

/**
 * A request's parameters, from wherever the client put them: the query
 * string, a urlencoded or multipart form, or a JSON object; clients mix them
 * (query parameters beside a multipart file), and a body value wins over a
 * query one of the same name.
 */
export class Params {
  private constructor(private readonly values: Record<string, Value>) {}

  /** The parameters of a request whose body the face's parsers have read. */
  static of(req: FastifyRequest): Params {
    const values: Record<string, Value> = {};
    for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, Value>)) values[k] = v;
    const body = req.body;
    if (body !== undefined && body !== null) {
      if (typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) throw invalid('body', 'must be a JSON object or a form');
      const multipart = req.isMultipart();
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) values[k] = multipart ? fromPart(v) : (v as Value);
    }
    return new Params(values);
  }

  /** Whether any of the names was sent. */
  has(...names: string[]): boolean {
    return names.some((n) => this.values[n] !== undefined);
  }

  /** The first of the names that was sent, as text (a file's contents as UTF-8); undefined when none was. */
  text(...names: string[]): string | undefined {
    for (const name of names) {
      const v = this.one(name);
      if (v === undefined) continue;
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      if (isUpload(v)) return v.data.toString('utf8');
      throw invalid(name, 'must be text');
    }
    return undefined;
  }

  /** The first of the names sent as an uploaded file. */
  file(...names: string[]): (Upload & { field: string }) | undefined {
    for (const name of names) {
      const v = this.one(name);
      if (isUpload(v)) return { ...v, field: name };
    }
    return undefined;
  }

  /** A boolean: `true`/`false`, `1`/`0` (as text or JSON), also `yes`/`no` and `on`/`off` as forms send them. */
  bool(...names: string[]): boolean | undefined {
    for (const name of names) {
      const v = this.one(name);
      if (v === undefined) continue;
      if (typeof v === 'boolean') return v;
      const s = typeof v === 'string' || typeof v === 'number' ? String(v).toLowerCase() : undefined;
      if (s !== undefined && ['true', '1', 'yes', 'on'].includes(s)) return true;
      if (s !== undefined && ['false', '0', 'no', 'off', ''].includes(s)) return false;
      throw invalid(name, 'must be true or false (or 1 or 0)');
    }
    return undefined;
  }

  /** A list of references: a JSON array, repeated parameters, or comma-separated text; each entry a number or an id. */
  list(...names: string[]): Array<string | number> | undefined {
    let out: Array<string | number> | undefined;
    for (const name of names) {
      const v = this.values[name] ?? this.values[`${name}[]`];
      if (v === undefined || v === null) continue;
      const items = (Array.isArray(v) ? v : [v]).flatMap((item): Array<string | number> => {
        if (typeof item === 'number') return [item];
        if (typeof item !== 'string') throw invalid(name, 'must be ids, as an array or comma-separated');
        return item.split(',').map((s) => s.trim());
      });
      if (items.some((i) => i === '')) throw invalid(name, 'has an empty id');
      out = [...(out ?? []), ...items];
    }
    return out;
  }

  private one(name: string): Value | undefined {
    const v = this.values[name];
    if (Array.isArray(v)) {
      if (v.length > 1) throw invalid(name, 'must be given once');
      return v[0];
    }
    return v === null ? undefined : v;
  }
}

function isUpload(v: unknown): v is Upload {
  return typeof v === 'object' && v !== null && Buffer.isBuffer((v as Upload).data);
}

/** A multipart part as @fastify/multipart attaches it (`attachFieldsToBody: true`). */
function fromPart(part: unknown): Value {
  if (Array.isArray(part)) return part.map(fromPart);
  const p = part as { type?: string; value?: unknown; filename?: string; _buf?: Buffer };
  if (p?.type === 'file') return { filename: p.filename ?? '', data: p._buf ?? Buffer.alloc(0) };
  return typeof p?.value === 'string' ? p.value : String(p?.value ?? '');
}
