import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every import specifier of a file (static, dynamic and type-only). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Imports of the files under `folder` that match one of `forbidden`, as "file → import". */
function violations(folder: string, forbidden: RegExp[]): string[] {
  return files(join(SRC, folder)).flatMap((file) =>
    imports(file)
      .filter((spec) => forbidden.some((re) => re.test(spec)))
      .map((spec) => `${relative(SRC, file)} → ${spec}`),
  );
}

/** The file a relative specifier names: `./x.js` is `x.ts`, a folder is its `index.ts`; undefined for packages. */
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = resolve(dirname(from), spec);
  return [target.replace(/\.js$/, '.ts'), join(target, 'index.ts')].find(existsSync);
}

/** One cycle of the import graph per strongly connected component (Tarjan), each as the path that closes it. */
function importCycles(all: string[]): string[][] {
  const graph = new Map(all.map((f) => [f, [...new Set(imports(f).flatMap((s) => resolveImport(f, s) ?? []))]]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) visit(w);
      if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, low.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = new Set(stack.splice(stack.indexOf(v)));
    if (component.size > 1 || graph.get(v)!.includes(v)) cycles.push(cycleThrough(v, component, graph));
  };
  for (const f of all) if (!index.has(f)) visit(f);
  return cycles;
}

/** The shortest path from `start` back to itself inside its component (breadth first). */
function cycleThrough(start: string, component: Set<string>, graph: Map<string, string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!.filter((t) => component.has(t))) {
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const DRIVERS = [/^pg$/, /^better-sqlite3$/, /^kysely$/];
const FRAMEWORKS = [/^fastify$/, /^@fastify\//, /^ws$/];

describe('architecture: dependencies point inward', () => {
  it('core imports no face, hub, CLI, agent, store, framework or driver', () => {
    const forbidden = [/\/faces\//, /\/hub\//, /\/cli\//, /\/agent\//, /\/store\//, /\/server(\.js)?$/, /\/app(\.js)?$/, ...FRAMEWORKS, ...DRIVERS];
    expect(violations('core', forbidden)).toEqual([]);
  });

  it('the agent and the CLI never load the server, the store or a database driver', () => {
    const forbidden = [/\/store\//, /\/faces\//, /\/hub\//, /\/core\/(?!errors)/, /\/server(\.js)?$/, /\/app(\.js)?$/, /^fastify$/, ...DRIVERS];
    expect(violations('agent', forbidden)).toEqual([]);
    expect(violations('cli', forbidden)).toEqual([]);
  });

  it('the protocol is shared vocabulary: it imports only its schema library', () => {
    const all = files(join(SRC, 'protocol')).flatMap(imports);
    expect(all.filter((spec) => !/^typebox(\/|$)/.test(spec) && !spec.startsWith('./') && !spec.startsWith('node:'))).toEqual([]);
  });

  it("the native API's wire types import only the schema library and the protocol, so the CLI and the console can load them", () => {
    const all = files(join(SRC, 'api')).flatMap(imports);
    expect(all.filter((spec) => !/^typebox(\/|$)/.test(spec) && !spec.startsWith('./') && !/^(\.\.\/)+protocol\//.test(spec))).toEqual([]);
  });

  it('faces hold no SQL: they never import the store or a driver', () => {
    expect(violations('faces', [/\/store\/(?!index)/, ...DRIVERS])).toEqual([]);
  });

  it('a core concept reaches another only through its index.ts', () => {
    const CORE = join(SRC, 'core');
    const crossings = files(CORE).flatMap((file) => {
      const concept = relative(CORE, file).split('/')[0]!;
      return imports(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => relative(CORE, join(dirname(file), spec)))
        .filter((target) => !target.startsWith('..') && target.includes('/') && target.split('/')[0] !== concept && !target.endsWith('/index.js'))
        .map((target) => `${relative(SRC, file)} → core/${target}`);
    });
    expect(crossings).toEqual([]);
  });

  it("the hub and auth depend on core's ports, not on the store", () => {
    expect(violations('hub', [/\/store\//, ...DRIVERS])).toEqual([]);
    expect(violations('auth', [/\/store\//, ...DRIVERS])).toEqual([]);
  });

  it('no import cycles in src, type-only imports included', () => {
    const cycles = importCycles(files(SRC)).map((cycle) => cycle.map((f) => relative(SRC, f)).join(' → '));
    expect(cycles).toEqual([]);
  });

  it('only src/config reads process.env', () => {
    const readers = files(SRC)
      .filter((f) => !relative(SRC, f).startsWith('config/'))
      .filter((f) => /process\.env\.[A-Z_]+|process\.env\[/.test(readFileSync(f, 'utf8')));
    expect(readers.map((f) => relative(SRC, f))).toEqual([]);
  });
});
