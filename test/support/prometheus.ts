/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4),
 * for tests: every line must be a `# HELP`, a `# TYPE`, another comment, a
 * blank line or a well-formed sample, or it throws naming the line. It also
 * holds a scrape to the format's rules: each family's TYPE comes once and
 * before its samples, a family's samples stand together, no series repeats,
 * and a histogram has cumulative `le` buckets ending at `+Inf` equal to its
 * `_count`, with a `_sum`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (a histogram's `x_bucket`, `x_sum`, `x_count`). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: ['', '_total'],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
};

export class ExpositionError extends Error {
  constructor(line: number, text: string, why: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text)}`);
  }
}

/** A sample value as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case, so prom-client's `Nan` too). */
function parseValue(text: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${text} is not a number`);
  return Number(text);
}

/** `{a="1",b="x\"y"}` → labels; throws on anything else. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new Error('a label without a value');
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${name}`);
    if (name in labels) throw new Error(`label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`label ${name}'s value is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape \\${next}`);
      } else if (text[j] === '\n') throw new Error('a newline in a label value');
      else value += text[j];
    }
    if (j >= text.length) throw new Error(`label ${name}'s value is not closed`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`expected , after label ${name}`);
  }
  return labels;
}

/** The family a sample belongs to, given the families declared so far. */
function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  for (const f of families.values()) if (SUFFIXES[f.type].some((s) => `${f.name}${s}` === sample)) return f;
  return undefined;
}

/** Parses a whole scrape; throws ExpositionError at the first line that breaks the format. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const helps = new Map<string, string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new ExpositionError(lines.length, lines[lines.length - 1]!, 'the exposition must end with a newline');
  lines.forEach((line, index) => {
    const n = index + 1;
    const fail = (why: string): never => {
      throw new ExpositionError(n, line, why);
    };
    if (line.trim() === '') return;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!new RegExp(`^${NAME}$`).test(name!)) fail('bad metric name');
      if (kind === 'HELP') {
        if (helps.has(name!)) fail('a second HELP');
        helps.set(name!, rest);
        const f = families.get(name!);
        if (f) f.help = rest;
        return;
      }
      if (!TYPES.includes(rest)) fail(`unknown type ${rest}`);
      if (families.has(name!)) fail('a second TYPE');
      if (current) closed.add(current.name);
      current = { name: name!, type: rest as MetricType, help: helps.get(name!), samples: [] };
      families.set(name!, current);
      return;
    }
    if (line.startsWith('#')) return;
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`).exec(line);
    if (!m) fail('not a sample line');
    const [, name, labelText = '', valueText] = m!;
    let labels: Record<string, string> = {};
    let value = 0;
    try {
      labels = parseLabels(labelText);
      value = parseValue(valueText!);
    } catch (err) {
      fail((err as Error).message);
    }
    const family = familyOf(name!, families);
    if (!family) fail(`sample ${name} has no TYPE before it`);
    if (family !== current || closed.has(family!.name)) fail(`sample of ${family!.name} outside its family's block`);
    const key = `${name}{${Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (series.has(key)) fail('a series twice');
    series.add(key);
    if (family!.type === 'histogram' && name!.endsWith('_bucket') && labels.le === undefined) fail('a bucket without le');
    if (family!.type === 'counter' && (value < 0 || Number.isNaN(value))) fail('a counter below zero');
    family!.samples.push({ name: name!, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Buckets per series are cumulative, end at +Inf, and +Inf equals _count; _sum is there. */
function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith('_bucket')) g.buckets.push([parseValue(le!), s.value]);
    else if (s.name.endsWith('_count')) g.count = s.value;
    else if (s.name.endsWith('_sum')) g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const where = `histogram ${f.name}${key}`;
    if (g.count === undefined || g.sum === undefined) throw new Error(`${where}: no _count or _sum`);
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new Error(`${where}: no +Inf bucket`);
    sorted.forEach(([, v], i) => {
      if (i > 0 && v < sorted[i - 1]![1]) throw new Error(`${where}: buckets are not cumulative`);
    });
    if (sorted.at(-1)![1] !== g.count) throw new Error(`${where}: the +Inf bucket is not _count`);
  }
}

/** The value of one series of a scrape (labels matched exactly on the names given), or undefined. */
export function sampleValue(families: Map<string, Family>, family: string, sample: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(family);
  return f?.samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
