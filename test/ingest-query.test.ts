import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';

const PAYLOADS = fileURLToPath(new URL('./fixtures/puppetdb-payloads', import.meta.url));
const json = (name: string) => JSON.parse(readFileSync(join(PAYLOADS, name), 'utf8')) as Record<string, any>;

describe.each(DATABASES)('ingest processing, /pdb/query/v4 and fact: selectors on $name', ({ name, skip }) => {
  let s: TestServer;
  /** Submits in blocking mode, so the data is there when this resolves. */
  const submit = async (command: string, version: number, payload: Record<string, unknown>) => {
    const res = await fetch(`${s.url}/pdb/cmd/v1?command=${command}&version=${version}&certname=${payload.certname}&secondsToWaitForCompletion=10`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    return body;
  };
  const q = async (path: string, query?: unknown, extra = '') => {
    const qs = query === undefined ? extra : `?query=${encodeURIComponent(JSON.stringify(query))}${extra}`;
    return call(s.url, s.adminKey, 'GET', `/pdb/query/v4/${path}${qs}`);
  };

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    await submit('replace_facts', 5, json('facts-v5-minimal.json'));
    await submit('replace_facts', 4, json('facts-v4-minimal.json'));
    await submit('replace_catalog', 9, json('catalog-v9-minimal.json'));
    await submit('store_report', 8, json('report-v8-minimal.json'));
    await submit('store_report', 8, json('report-v8-with-event.json'));
    await submit('configure_expiration', 1, json('configure-expiration-v1.json'));
  });
  afterAll(async () => {
    if (!skip) await s.stop();
  });

  it.skipIf(skip)('lists nodes and shows one, with its timestamps and latest report', async () => {
    const nodes = await q('nodes');
    expect(nodes.status).toBe(200);
    expect(nodes.body.map((n: any) => n.certname)).toEqual(['wire1.example.com', 'wire4.example.com']);
    const one = await q('nodes/wire1.example.com');
    expect(one.body).toMatchObject({
      certname: 'wire1.example.com',
      deactivated: null,
      facts_environment: 'production',
      latest_report_status: 'changed',
      report_timestamp: '2026-11-23T10:10:05.000Z',
    });
    expect(Date.parse(one.body.facts_timestamp)).toBeGreaterThan(Date.parse('2026-11-23T12:00:00Z') - 365 * 86400e3);
    const missing = await q('nodes/nope.example.com');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'No information is known about node nope.example.com' });
  });

  it.skipIf(skip)('answers facts, facts/<name>, facts/<name>/<value>, factsets and fact-contents', async () => {
    const kernel = await q('facts/kernel');
    expect(kernel.body).toEqual([
      { certname: 'wire1.example.com', name: 'kernel', value: 'Linux', environment: 'production' },
      { certname: 'wire4.example.com', name: 'kernel', value: 'Linux', environment: 'production' },
    ]);
    expect((await q('facts/osfamily/Debian')).body.map((f: any) => f.certname)).toEqual(['wire4.example.com']);
    const filtered = await q('facts', ['and', ['=', 'name', 'uptime_seconds'], ['>', 'value', 1000]]);
    expect(filtered.body).toEqual([{ certname: 'wire1.example.com', name: 'uptime_seconds', value: 12345, environment: 'production' }]);
    const set = await q('factsets/wire1.example.com');
    expect(set.body).toMatchObject({
      certname: 'wire1.example.com',
      environment: 'production',
      producer: 'puppet.example.com',
      producer_timestamp: '2026-11-23T10:00:00.000Z',
    });
    expect(set.body.facts.data).toContainEqual({ name: 'os', value: { family: 'Debian', release: { major: '12', full: '12.7' } } });
    const contents = await q('fact-contents', ['=', 'path', ['os', 'release', 'major']]);
    expect(contents.body).toEqual([{ certname: 'wire1.example.com', environment: 'production', path: ['os', 'release', 'major'], name: 'os', value: '12' }]);
  });

  it.skipIf(skip)('answers reports with latest_report?, resources and catalogs', async () => {
    const all = await q('reports', undefined, '?order_by=' + encodeURIComponent(JSON.stringify([{ field: 'end_time', order: 'asc' }])));
    expect(all.body.map((r: any) => [r.configuration_version, r['latest_report?']])).toEqual([
      ['1700000000', false],
      ['1700000001', true],
    ]);
    const latest = await q('reports', ['=', 'latest_report?', true]);
    expect(latest.body).toHaveLength(1);
    expect(latest.body[0].resource_events.data[0]).toMatchObject({
      resource_type: 'File',
      resource_title: '/tmp/hello',
      status: 'success',
      property: 'ensure',
    });
    const files = await q('resources', ['=', 'type', 'File']);
    expect(files.body).toEqual([
      expect.objectContaining({
        certname: 'wire1.example.com',
        type: 'File',
        title: '/tmp/hello',
        parameters: { ensure: 'file', content: 'hi\n' },
        file: '/etc/puppet/code/site.pp',
        line: 1,
      }),
    ]);
    const catalog = await q('catalogs/wire1.example.com');
    expect(catalog.body).toMatchObject({ certname: 'wire1.example.com', version: '1700000000', producer: 'puppet.example.com' });
    expect(catalog.body.resources.data).toHaveLength(3);
    expect(catalog.body.edges.data).toHaveLength(2);
  });

  it.skipIf(skip)('runs the AST subset: in, ~, null?, not, or, extract with count and group_by, limit/offset/order_by', async () => {
    expect((await q('nodes', ['in', 'certname', ['array', ['wire4.example.com', 'x']]])).body.map((n: any) => n.certname)).toEqual(['wire4.example.com']);
    expect((await q('nodes', ['~', 'certname', '^wire1'])).body).toHaveLength(1);
    expect((await q('nodes', ['null?', 'catalog_timestamp', true])).body.map((n: any) => n.certname)).toEqual(['wire4.example.com']);
    expect((await q('nodes', ['not', ['=', 'certname', 'wire1.example.com']])).body).toHaveLength(1);
    expect((await q('facts', ['extract', [['function', 'count']], ['=', 'name', 'kernel']])).body).toEqual([{ count: 2 }]);
    expect(
      (await q('facts', ['extract', ['certname', ['function', 'count']], ['or', ['=', 'name', 'kernel'], ['=', 'name', 'os']], ['group_by', 'certname']])).body,
    ).toEqual([
      { certname: 'wire1.example.com', count: 2 },
      { certname: 'wire4.example.com', count: 1 },
    ]);
    expect((await q('facts', ['extract', ['certname', 'value'], ['=', 'name', 'kernel']])).body).toEqual([
      { certname: 'wire1.example.com', value: 'Linux' },
      { certname: 'wire4.example.com', value: 'Linux' },
    ]);
    const paged = await q('nodes', undefined, `?limit=1&offset=1&order_by=${encodeURIComponent(JSON.stringify([{ field: 'certname', order: 'desc' }]))}`);
    expect(paged.body.map((n: any) => n.certname)).toEqual(['wire1.example.com']);
    const post = await call(s.url, s.adminKey, 'POST', '/pdb/query/v4/nodes', { query: ['=', 'certname', 'wire4.example.com'] });
    expect(post.body.map((n: any) => n.certname)).toEqual(['wire4.example.com']);
    expect((await call(s.url, s.adminKey, 'GET', '/pdb/meta/v1/version')).body).toEqual({ version: expect.any(String) });
  });

  it.skipIf(skip)('refuses bad queries with 400, and answers 401 without a key', async () => {
    for (const bad of [['frob', 'x', 1], ['=', 'certname'], ['in', 'certname', ['select_nodes']], 'nope']) {
      const r = await q('nodes', bad);
      expect(r.status).toBe(400);
    }
    expect((await call(s.url, s.adminKey, 'GET', '/pdb/query/v4/nodes?query=%5B')).status).toBe(400);
    expect((await call(s.url, s.adminKey, 'GET', '/pdb/query/v4/nodes?limit=-1')).status).toBe(400);
    expect((await call(s.url, undefined, 'GET', '/pdb/query/v4/nodes')).status).toBe(401);
  });

  it.skipIf(skip)('selects systems by their certname facts; deactivation removes them until newer data', async () => {
    const agent = await FakeAgent.enroll(s.url, s.enrollmentKey, 'wire1.example.com');
    await FakeAgent.enroll(s.url, s.enrollmentKey, 'other-host');
    const select = async (sel: string) => (await call(s.url, s.adminKey, 'GET', `/v1/systems?select=${encodeURIComponent(sel)}`)).body;
    const ids = async (sel: string) => ((await select(sel)).items ?? []).map((x: any) => x.id);
    expect(await ids('fact:os.family=Debian')).toEqual([agent.systemId]);
    const shown = await call(s.url, s.adminKey, 'GET', `/v1/ingest/systems/${agent.systemId}/facts`);
    expect(shown.body).toMatchObject({ certname: 'wire1.example.com', facts: { kernel: 'Linux', os: { family: 'Debian' } } });
    expect((await call(s.url, s.adminKey, 'GET', '/v1/ingest/systems/000000000000000000000000/facts')).status).toBe(404);
    expect(await ids('fact:os.family=debian and fact:os.release.major=12')).toEqual([agent.systemId]);
    expect(await ids('fact:os.release.full~^12\\.')).toEqual([agent.systemId]);
    expect(await ids('fact:is_virtual=true and fact:uptime_seconds=12345')).toEqual([agent.systemId]);
    expect(await ids('fact:os.family=RedHat')).toEqual([]);
    expect((await ids('fact:os.family!=Debian')).includes(agent.systemId)).toBe(false);
    expect((await select('fact:os.family~(')).error.code).toBe('INVALID_ARGUMENT');

    await submit('deactivate_node', 3, { certname: 'wire1.example.com', producer_timestamp: '2026-11-23T11:00:00.000Z' });
    expect(await ids('fact:os.family=Debian')).toEqual([]);
    expect((await q('nodes')).body.map((n: any) => n.certname)).toEqual(['wire4.example.com']);
    expect((await q('nodes/wire1.example.com')).body.deactivated).toBe('2026-11-23T11:00:00.000Z');
    expect((await q('factsets/wire1.example.com')).body.deactivated).toBe('2026-11-23T11:00:00.000Z');
    // Older facts do not reactivate; newer ones do.
    await submit('replace_facts', 5, { ...json('facts-v5-minimal.json'), producer_timestamp: '2026-11-23T10:30:00.000Z' });
    expect(await ids('fact:os.family=Debian')).toEqual([]);
    await submit('replace_facts', 5, { ...json('facts-v5-minimal.json'), producer_timestamp: '2026-11-23T12:00:00.000Z' });
    expect(await ids('fact:os.family=Debian')).toEqual([agent.systemId]);
    // An older deactivation has no effect; deactivating an unknown certname creates it deactivated.
    await submit('deactivate_node', 3, { certname: 'wire1.example.com', producer_timestamp: '2026-11-23T11:30:00.000Z' });
    expect(await ids('fact:os.family=Debian')).toEqual([agent.systemId]);
    await submit('deactivate_node', 3, { certname: 'ghost.example.com' });
    expect((await q('nodes/ghost.example.com')).body.deactivated).toEqual(expect.any(String));
  });

  it.skipIf(skip)("an agent's own facts arrive through the ingest queue, and never replace a Puppet run's facts", async () => {
    const agent = await FakeAgent.enroll(s.url, s.enrollmentKey, 'agent-facts.example.com');
    await agent.connect();
    const node = await waitFor(async () => {
      const r = await q('factsets/agent-facts.example.com');
      return r.status === 200 ? r.body : undefined;
    }, 'the agent facts to be processed');
    expect(node).toMatchObject({ certname: 'agent-facts.example.com', producer: 'muster-agent' });
    expect(node.facts.data).toEqual(
      expect.arrayContaining([
        { name: 'os', value: { name: 'Test', release: { full: '1', major: '1' }, architecture: 'x64', distro: { description: 'Test OS 1' } } },
      ]),
    );
    const selected = await call(s.url, s.adminKey, 'GET', `/v1/systems?select=${encodeURIComponent('fact:os.name=test and fact:networking.ip=127.0.0.1')}`);
    expect(selected.body.items.map((x: any) => x.id)).toContain(agent.systemId);
    await agent.close();

    // wire1.example.com has facts from Puppet: an agent answering to that certname reports newer, fewer facts, which are not applied.
    const counts = async () => (await call(s.url, s.adminKey, 'GET', '/v1/ingest/counts')).body as Record<string, number>;
    const doneBefore = (await counts()).done ?? 0;
    const puppet = await FakeAgent.enroll(s.url, s.enrollmentKey, 'wire1.example.com');
    await puppet.connect();
    await waitFor(async () => {
      const c = await counts();
      const open = Object.entries(c)
        .filter(([state]) => state !== 'done' && state !== 'discarded')
        .reduce((n, [, v]) => n + v, 0);
      return (c.done ?? 0) > doneBefore && open === 0;
    }, "the agent's facts command to be processed");
    await puppet.close();
    const facts = await q('factsets/wire1.example.com');
    expect(facts.body.producer).not.toBe('muster-agent');
  });

  it.skipIf(skip)('an explicit certname on a system takes the place of its hostname; only operators set it', async () => {
    const agent = await FakeAgent.enroll(s.url, s.enrollmentKey, 'renamed-host');
    const select = async (sel: string) =>
      ((await call(s.url, s.adminKey, 'GET', `/v1/systems?select=${encodeURIComponent(sel)}`)).body.items ?? []).map((x: any) => x.id);
    // wire1.example.com has Debian facts (previous test); this system answers to it only once told to.
    expect(await select('fact:os.family=Debian')).not.toContain(agent.systemId);
    const patched = await call(s.url, s.adminKey, 'PATCH', `/v1/systems/${agent.systemId}`, { certname: 'wire1.example.com' });
    expect(patched.status).toBe(200);
    expect(patched.body.certname).toBe('wire1.example.com');
    expect(await select('fact:os.family=Debian')).toContain(agent.systemId);
    const bad = await call(s.url, s.adminKey, 'PATCH', `/v1/systems/${agent.systemId}`, { certname: 'Not A Certname' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/certname/);
    expect((await call(s.url, s.adminKey, 'PATCH', `/v1/systems/${agent.systemId}`, { certname: null })).body.certname).toBeNull();
    expect(await select('fact:os.family=Debian')).not.toContain(agent.systemId);
  });
});
