import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KyselyPlugin, Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreFixture, type CoreFixture } from '../../../test/support/core.js';
import { DATABASES } from '../../../test/support/databases.js';
import { parseIngestQuery, toEffect, type IngestQueryResult, type QueryEntity, type QueryInput } from '../../core/ingest/index.js';
import type { Schema } from '../schema.js';
import { applyEffects } from './effects.js';
import { runIngestQuery } from './pdb-query.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/puppetdb-payloads/', import.meta.url));
const fixture = (name: string) => JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')) as Record<string, unknown>;
const N = 30;
const name = (i: number) => `node-${String(i).padStart(2, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 10, minute)).toISOString();

/** Counts the rows the database hands back: proves a page reads only its rows, without timing anything. */
class RowCounter implements KyselyPlugin {
  rows = 0;
  transformQuery: KyselyPlugin['transformQuery'] = (args) => args.node;
  transformResult: KyselyPlugin['transformResult'] = async (args) => {
    this.rows += args.result.rows.length;
    return args.result;
  };
}

describe.each(DATABASES)('PuppetDB queries compiled to SQL on $name', ({ name: db, skip }) => {
  let f: CoreFixture;
  let org: string;
  const apply = async (command: Parameters<typeof toEffect>[0], version: number, payload: Record<string, unknown>) =>
    applyEffects(f.database.db, [{ org, e: toEffect(command, version, payload, at(59)) }]);
  const run = async (entity: QueryEntity, query: unknown, more: Partial<QueryInput> = {}, on: Kysely<Schema> = f.database.db): Promise<IngestQueryResult> =>
    runIngestQuery(on, f.database.capabilities, org, parseIngestQuery(entity, { query, limit: undefined, offset: 0, orderBy: [], ...more }));
  const rows = async (entity: QueryEntity, query: unknown, more: Partial<QueryInput> = {}) => {
    const r = await run(entity, query, more);
    if (r.kind !== 'rows') throw new Error('expected rows');
    return r.rows as unknown as Array<Record<string, unknown>>;
  };
  const certnames = async (entity: QueryEntity, query: unknown, more: Partial<QueryInput> = {}) => (await rows(entity, query, more)).map((r) => r.certname);

  beforeAll(async () => {
    if (skip) return;
    f = await coreFixture(db);
    org = f.admin.organizationId;
    for (let i = 0; i < N; i++) {
      const values = {
        kernel: 'Linux',
        uptime: i * 100,
        is_virtual: i % 2 === 0,
        os: { family: i % 3 === 0 ? 'RedHat' : 'Debian', release: { major: String(i % 3) } },
        empty: {},
      };
      await apply('replace facts', 5, { certname: name(i), environment: i < 20 ? 'production' : 'test', producer_timestamp: at(i), producer: 'p', values });
    }
    const catalog = fixture('catalog-v9-minimal.json');
    for (const i of [1, 2, 3]) await apply('replace catalog', 9, { ...catalog, certname: name(i), producer_timestamp: at(i) });
    const report = fixture('report-v8-minimal.json');
    await apply('store report', 8, { ...report, certname: name(1), end_time: at(1), producer_timestamp: at(1), status: 'unchanged' });
    await apply('store report', 8, { ...report, certname: name(1), end_time: at(2), producer_timestamp: at(2), status: 'changed' });
    await apply('store report', 8, { ...report, certname: name(2), end_time: at(3), producer_timestamp: at(3), status: 'failed' });
  });
  afterAll(async () => f?.close());

  it.skipIf(skip)('compiles each operator over node columns', async () => {
    expect(await certnames('nodes', ['=', 'certname', name(4)])).toEqual([name(4)]);
    expect(await certnames('nodes', ['in', 'certname', ['array', [name(5), name(6), 'nope']]])).toEqual([name(5), name(6)]);
    expect(await certnames('nodes', ['~', 'certname', '^node-2[89]$'])).toEqual([name(28), name(29)]);
    expect(await certnames('nodes', ['null?', 'catalog_timestamp', false])).toEqual([name(1), name(2), name(3)]);
    expect(await certnames('nodes', ['and', ['=', 'facts_environment', 'test'], ['not', ['>=', 'certname', name(22)]]])).toEqual([name(20), name(21)]);
    expect(await certnames('nodes', ['or', ['<', 'certname', name(1)], ['>', 'certname', name(28)]])).toEqual([name(0), name(29)]);
    expect(await certnames('nodes', ['<=', 'facts_timestamp', '2000-01-01'])).toEqual([]);
    expect(await certnames('nodes', ['=', 'latest_report_status', 'changed'])).toEqual([name(1)]);
    // not over an absent value keeps the row (SQL's NULL would have dropped it).
    expect(await certnames('nodes', ['not', ['=', 'latest_report_status', 'changed']])).toHaveLength(N - 1);
  });

  it.skipIf(skip)('compiles facts and fact contents over the stored documents, by value type', async () => {
    expect(await rows('facts', ['and', ['=', 'name', 'uptime'], ['>', 'value', 2700]])).toEqual([
      { certname: name(28), name: 'uptime', value: 2800, environment: 'test' },
      { certname: name(29), name: 'uptime', value: 2900, environment: 'test' },
    ]);
    expect(await certnames('facts', ['and', ['=', 'name', 'uptime'], ['=', 'value', '300']])).toEqual([name(3)]);
    expect(await certnames('facts', ['and', ['=', 'name', 'is_virtual'], ['=', 'value', true], ['<', 'certname', name(4)]])).toEqual([name(0), name(2)]);
    expect(await certnames('facts', ['and', ['=', 'name', 'os'], ['=', 'value', { family: 'RedHat', release: { major: '0' } }]])).toEqual([
      name(0),
      name(3),
      name(6),
      name(9),
      name(12),
      name(15),
      name(18),
      name(21),
      name(24),
      name(27),
    ]);
    expect(await rows('fact-contents', ['and', ['=', 'path', ['os', 'release', 'major']], ['=', 'certname', name(5)]])).toEqual([
      { certname: name(5), environment: 'production', path: ['os', 'release', 'major'], name: 'os', value: '2' },
    ]);
    expect(await certnames('fact-contents', ['and', ['=', 'name', 'empty'], ['~', 'certname', '^node-0[01]$']])).toEqual([name(0), name(1)]);
    expect(await certnames('fact-contents', ['and', ['~', 'value', '^Red'], ['<', 'certname', name(4)]])).toEqual([name(0), name(3)]);
    expect(await certnames('facts', ['and', ['=', 'name', 'kernel'], ['null?', 'value', true]])).toEqual([]);
  });

  it.skipIf(skip)('compiles resources, reports with latest_report? and catalogs', async () => {
    expect(await rows('resources', ['and', ['=', 'type', 'File'], ['=', 'certname', name(2)]])).toEqual([
      {
        certname: name(2),
        resource: expect.stringMatching(/^[0-9a-f]{40}$/),
        type: 'File',
        title: '/tmp/hello',
        tags: ['file', 'class'],
        exported: false,
        file: '/etc/puppet/code/site.pp',
        line: 1,
        parameters: { ensure: 'file', content: 'hi\n' },
        environment: 'production',
      },
    ]);
    expect(await certnames('resources', ['and', ['=', 'parameters.ensure', 'file'], ['>=', 'line', 1], ['=', 'exported', false]])).toEqual([
      name(1),
      name(2),
      name(3),
    ]);
    const latest = await rows('reports', ['=', 'latest_report?', true]);
    expect(latest.map((r) => [r.certname, (r.body as Record<string, unknown>).status])).toEqual([
      [name(2), 'failed'],
      [name(1), 'changed'],
    ]);
    expect((await rows('reports', ['and', ['=', 'status', 'unchanged'], ['=', 'noop', false], ['>', 'report_format', 11]])).map((r) => r.certname)).toEqual([
      name(1),
    ]);
    expect(await certnames('catalogs', ['=', 'environment', 'production'])).toEqual([name(1), name(2), name(3)]);
  });

  it.skipIf(skip)('orders, pages and counts in SQL, reading only the page', async () => {
    const counter = new RowCounter();
    const page = await certnames('nodes', undefined, { limit: 3, offset: 2, orderBy: [{ field: 'certname', order: 'desc' }] });
    expect(page).toEqual([name(27), name(26), name(25)]);
    const counted = await run('nodes', undefined, { limit: 3, offset: 2, orderBy: [{ field: 'certname', order: 'desc' }] }, f.database.db.withPlugin(counter));
    expect(counted.kind === 'rows' && counted.rows).toHaveLength(3);
    expect(counter.rows).toBe(3);
    // Absent values sort last ascending, first descending.
    expect(
      (
        await certnames('nodes', undefined, {
          limit: 4,
          orderBy: [
            { field: 'catalog_timestamp', order: 'desc' },
            { field: 'certname', order: 'asc' },
          ],
        })
      ).slice(0, 2),
    ).toEqual([name(0), name(4)]);
    expect(
      await certnames('nodes', undefined, {
        limit: 2,
        orderBy: [
          { field: 'catalog_timestamp', order: 'asc' },
          { field: 'certname', order: 'desc' },
        ],
      }),
    ).toEqual([name(3), name(2)]);
    expect(await certnames('facts', ['=', 'name', 'uptime'], { limit: 2, orderBy: [{ field: 'value', order: 'desc' }] })).toEqual([name(29), name(28)]);
    expect((await run('facts', ['extract', [['function', 'count']], ['=', 'name', 'kernel']])).rows).toEqual([{ count: N }]);
    const grouped = await run(
      'facts',
      ['extract', ['environment', ['function', 'count']], ['=', 'name', 'kernel'], ['group_by', 'environment']],
      {},
      f.database.db.withPlugin(counter),
    );
    expect(grouped.rows).toEqual([
      { environment: 'production', count: 20 },
      { environment: 'test', count: 10 },
    ]);
    expect((await run('facts', ['extract', ['value', ['function', 'count']], ['=', 'name', 'is_virtual'], ['group_by', 'value']])).rows).toEqual([
      { value: false, count: 15 },
      { value: true, count: 15 },
    ]);
    expect((await run('nodes', ['extract', [['function', 'count']], ['=', 'node_state', 'any']])).rows).toEqual([{ count: N }]);
  });

  it.skipIf(skip)('answers from the latest facts and catalog through replacement, older data, deactivation and reactivation', async () => {
    const facts = (ts: string, values: Record<string, unknown>) =>
      apply('replace facts', 5, { certname: name(7), environment: 'production', producer_timestamp: ts, producer: 'p', values });
    await facts(at(40), { kernel: 'Darwin' });
    expect(await rows('facts', ['=', 'certname', name(7)])).toEqual([{ certname: name(7), name: 'kernel', value: 'Darwin', environment: 'production' }]);
    await facts(at(30), { kernel: 'Windows', extra: 1 });
    expect(await rows('fact-contents', ['=', 'certname', name(7)])).toEqual([
      { certname: name(7), environment: 'production', path: ['kernel'], name: 'kernel', value: 'Darwin' },
    ]);
    await apply('deactivate node', 3, { certname: name(7), producer_timestamp: at(45) });
    expect(await certnames('facts', ['=', 'certname', name(7)])).toEqual([]);
    expect(await certnames('nodes', ['=', 'certname', name(7)])).toEqual([]);
    expect(await certnames('nodes', ['and', ['=', 'certname', name(7)], ['null?', 'deactivated', false]])).toEqual([name(7)]);
    await facts(at(50), { kernel: 'Linux' });
    expect(await rows('facts', ['=', 'certname', name(7)])).toEqual([{ certname: name(7), name: 'kernel', value: 'Linux', environment: 'production' }]);
    const catalog = fixture('catalog-v9-minimal.json');
    await apply('replace catalog', 9, {
      ...catalog,
      certname: name(3),
      producer_timestamp: at(50),
      resources: [(catalog.resources as unknown[])[0]],
      edges: [],
    });
    await apply('replace catalog', 9, { ...catalog, certname: name(3), producer_timestamp: at(45) });
    expect((await rows('resources', ['=', 'certname', name(3)])).map((r) => r.type)).toEqual(['Stage']);
  });

  it.skipIf(skip)("runs queries at the 10,000-term bound without passing either database's limits", async () => {
    const terms = (f: (i: number) => unknown, length = 10_000) => Array.from({ length }, (_, i) => f(i));
    // The heaviest terms: a fact value by string (its typed parts) and a value inside the facts document.
    expect(
      await certnames('facts', [
        'and',
        ['=', 'name', 'kernel'],
        ['or', ...terms((i) => ['=', 'value', i === 0 ? 'Linux' : `k${i}`], 9_998)],
        ['<', 'certname', name(2)],
      ]),
    ).toEqual([name(0), name(1)]);
    expect(await certnames('nodes', ['and', ['<', 'certname', name(5)], ['or', ...terms((i) => ['=', ['fact', 'uptime'], i * 100], 9_999)]])).toEqual(
      [0, 1, 2, 3, 4].map(name),
    );
    expect(await certnames('nodes', ['not', ['in', 'certname', ['array', terms((i) => name(i))]]])).toEqual([]);
    expect(
      await certnames('facts', [
        'and',
        ['=', 'name', 'uptime'],
        ['in', 'value', ['array', terms((i) => (i % 2 === 0 ? i * 100 : String(i * 100)), 9_998)]],
        ['<', 'certname', name(3)],
      ]),
    ).toEqual([name(0), name(1), name(2)]);
    await expect(run('nodes', ['or', ...terms((i) => ['~', 'certname', `^x${i}`], 1_001)])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('more than 1000 terms with ~'),
    });
    await expect(run('nodes', ['or', ...terms(() => ['=', 'certname', 'x']), ['=', 'certname', 'y']])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('more than 10000 terms'),
    });
  });

  it.skipIf(skip)('refuses unknown fields, order_by columns and bad regular expressions before SQL', async () => {
    await expect(run('nodes', ['=', 'nope', 1])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining("'nope' is not a queryable object for nodes"),
    });
    await expect(run('facts', undefined, { orderBy: [{ field: 'nope', order: 'asc' }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(run('nodes', ['~', 'certname', '('])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(run('nodes', ['in', 'certname', ['select_nodes']])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // A Unicode class means nothing to PostgreSQL's engine: refused on either database, before SQL.
    expect(
      await run('nodes', ['~', 'certname', '\\p{L}']).then(
        () => 'ran',
        (err: { code?: string }) => err.code,
      ),
    ).toBe('INVALID_ARGUMENT');
  });

  it.skipIf(skip)('walks structured facts to every leaf, with array positions and keys that need quoting', async () => {
    const values = { 'a.b': { 'we"ird': [1, { x: null }], 'sp ace': true, '': 3, '1x': [], é: {}, is_virtual: 'no' }, n: 1.5, list: ['x', ['y']] };
    await apply('replace facts', 5, { certname: 'odd-keys', environment: 'lab', producer_timestamp: at(58), producer: 'p', values });
    const leaves = await rows('fact-contents', ['=', 'certname', 'odd-keys']);
    const byPath = Object.fromEntries(leaves.map((r) => [JSON.stringify(r.path), r.value]));
    expect(byPath).toEqual({
      '["a.b","we\\"ird",0]': 1,
      '["a.b","we\\"ird",1,"x"]': null,
      '["a.b","sp ace"]': true,
      '["a.b",""]': 3,
      '["a.b","1x"]': [],
      '["a.b","é"]': {},
      '["a.b","is_virtual"]': 'no',
      '["n"]': 1.5,
      '["list",0]': 'x',
      '["list",1,0]': 'y',
    });
    expect(leaves.every((r) => r.name === (r.path as unknown[])[0] && r.environment === 'lab')).toBe(true);
    expect(await rows('fact-contents', ['=', 'path', ['a.b', 'we"ird', 1, 'x']])).toEqual([
      { certname: 'odd-keys', environment: 'lab', path: ['a.b', 'we"ird', 1, 'x'], name: 'a.b', value: null },
    ]);
    expect(await certnames('fact-contents', ['=', 'path', ['list', 1, 0]])).toEqual(['odd-keys']);
    expect(await certnames('fact-contents', ['=', 'path', ['list', '1', 0]])).toEqual([]);
    expect(await certnames('fact-contents', ['and', ['=', 'name', 'a.b'], ['null?', 'value', true]])).toEqual(['odd-keys']);
    expect(await certnames('fact-contents', ['and', ['=', 'value', true], ['=', 'certname', 'odd-keys']])).toEqual(['odd-keys']);
    expect(await certnames('fact-contents', ['and', ['=', 'value', 'true'], ['=', 'certname', 'odd-keys']])).toEqual(['odd-keys']);
    expect(await certnames('facts', ['and', ['=', 'name', 'n'], ['=', 'value', '1.5']])).toEqual(['odd-keys']);
    expect(await certnames('facts', ['and', ['=', 'name', 'list'], ['=', 'value', ['x', ['y']]]])).toEqual(['odd-keys']);
    expect(await certnames('facts', ['and', ['=', 'name', 'list'], ['=', 'value', ['y', ['x']]]])).toEqual([]);
    expect(await rows('facts', ['and', ['=', 'name', 'a.b'], ['=', 'certname', 'odd-keys']])).toEqual([
      { certname: 'odd-keys', name: 'a.b', value: values['a.b'], environment: 'lab' },
    ]);
    await apply('deactivate node', 3, { certname: 'odd-keys', producer_timestamp: at(59) });
    expect(await certnames('fact-contents', ['=', 'certname', 'odd-keys'])).toEqual([]);
  });
});
