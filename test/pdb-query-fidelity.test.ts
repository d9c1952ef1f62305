import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';

const PAYLOADS = fileURLToPath(new URL('./fixtures/puppetdb-payloads', import.meta.url));
const fixture = (name: string) => JSON.parse(readFileSync(join(PAYLOADS, name), 'utf8')) as Record<string, any>;

/** Facts as Puppet's terminus sends them: `trusted` is one of the facts. */
const facts = (certname: string, values: Record<string, unknown>, ts = '2026-11-23T10:00:00.000Z') => ({
  certname,
  environment: 'production',
  producer_timestamp: ts,
  producer: 'puppet.example.com',
  values: {
    ...values,
    trusted: { authenticated: 'remote', certname, domain: 'example.com', extensions: { pp_role: certname.split('.')[0] }, hostname: certname.split('.')[0] },
  },
});

/** A format 5 report: events listed flat, each with its resource. */
const reportV5 = {
  certname: 'db1.example.com',
  puppet_version: '4.10.0',
  report_format: 5,
  configuration_version: '42',
  start_time: '2026-11-23T09:00:00.000Z',
  end_time: '2026-11-23T09:00:05.000Z',
  producer_timestamp: '2026-11-23T09:00:06.000Z',
  noop: false,
  transaction_uuid: '11111111-2222-4333-8444-555555555555',
  metrics: [],
  logs: [],
  environment: 'production',
  status: 'failed',
  resource_events: [
    {
      status: 'failure',
      timestamp: '2026-11-23T09:00:02.000Z',
      resource_type: 'Service',
      resource_title: 'postgresql',
      property: 'ensure',
      new_value: 'running',
      old_value: 'stopped',
      message: 'could not start',
      file: '/etc/puppet/code/db.pp',
      line: 7,
      containment_path: ['Stage[main]', 'Db::Server', 'Service[postgresql]'],
    },
  ],
};

describe.each(DATABASES)('PuppetDB query fidelity on $name', ({ name, skip }) => {
  let s: TestServer;
  const submit = async (command: string, version: number, payload: Record<string, unknown>) => {
    const res = await fetch(`${s.url}/pdb/cmd/v1?command=${command}&version=${version}&certname=${payload.certname}&secondsToWaitForCompletion=10`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBe(200);
  };
  const get = (path: string, query?: unknown) =>
    call(
      s.url,
      s.adminKey,
      'GET',
      `/pdb/query/v4${path}${query === undefined ? '' : `?query=${encodeURIComponent(typeof query === 'string' ? query : JSON.stringify(query))}`}`,
    );
  const post = (path: string, body: unknown) => call(s.url, s.adminKey, 'POST', `/pdb/query/v4${path}`, body);
  const certnames = async (path: string, query?: unknown) => {
    const r = await get(path, query);
    expect(r.status, r.text).toBe(200);
    return [...new Set((r.body as Array<{ certname: string }>).map((x) => x.certname))];
  };

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name);
    await submit(
      'replace_facts',
      5,
      facts('web1.example.com', {
        kernel: 'Linux',
        os: { family: 'Debian' },
        uptime_days: 40,
        is_virtual: true,
        processors: { models: ['Intel Xeon', 'Intel Xeon'] },
      }),
    );
    await submit('replace_facts', 5, facts('web2.example.com', { kernel: 'Linux', os: { family: 'RedHat' }, uptime_days: 3, is_virtual: false }));
    await submit('replace_facts', 5, facts('db1.example.com', { kernel: 'windows', os: { family: 'windows' }, uptime_days: 12 }));
    await submit('replace_facts', 5, facts('old.example.com', { kernel: 'Linux', os: { family: 'Debian' }, uptime_days: 900 }));
    await submit('deactivate_node', 3, { certname: 'old.example.com', producer_timestamp: '2026-11-23T11:00:00.000Z' });
    await submit('store_report', 8, { ...fixture('report-v8-with-event.json'), certname: 'web1.example.com' });
    await submit('store_report', 5, reportV5);
  });
  afterAll(async () => {
    if (!skip) await s.stop();
  });

  it.skipIf(skip)('takes ["fact", <name>] fields on nodes, factsets, facts and inventory', async () => {
    const linux = ['=', ['fact', 'kernel'], 'Linux'];
    expect(await certnames('/nodes', linux)).toEqual(['web1.example.com', 'web2.example.com']);
    expect(await certnames('/factsets', linux)).toEqual(['web1.example.com', 'web2.example.com']);
    expect(await certnames('/inventory', linux)).toEqual(['web1.example.com', 'web2.example.com']);
    expect(await certnames('/facts', ['and', ['=', 'name', 'uptime_days'], linux])).toEqual(['web1.example.com', 'web2.example.com']);
    // PuppetDB's own example: Linux nodes with uptime_days > 30.
    expect(await certnames('/nodes', ['and', linux, ['>', ['fact', 'uptime_days'], 30]])).toEqual(['web1.example.com']);
    expect(await certnames('/nodes', ['=', ['fact', 'is_virtual'], true])).toEqual(['web1.example.com']);
    expect(await certnames('/nodes', ['~', ['fact', 'kernel'], '^win'])).toEqual(['db1.example.com']);
    expect(await certnames('/nodes', ['in', ['fact', 'kernel'], ['array', ['windows', 'Solaris']]])).toEqual(['db1.example.com']);
    // A node without the fact matches a `not` of it.
    expect(await certnames('/nodes', ['not', ['=', ['fact', 'is_virtual'], true]])).toEqual(['db1.example.com', 'web2.example.com']);
    const refused = await get('/nodes', ['>', ['fact', 'kernel'], 'Linux']);
    expect(refused.status).toBe(400);
    expect(refused.text).toBe("Operator '>' not allowed on value 'Linux'");
  });

  it.skipIf(skip)('takes ["node", "active"] and node_state active, inactive and any', async () => {
    expect(await certnames('/nodes', ['=', ['node', 'active'], true])).toEqual(['db1.example.com', 'web1.example.com', 'web2.example.com']);
    expect(await certnames('/nodes', ['=', ['node', 'active'], false])).toEqual(['old.example.com']);
    expect(await certnames('/factsets', ['=', ['node', 'active'], false])).toEqual(['old.example.com']);
    expect(await certnames('/facts', ['and', ['=', 'name', 'kernel'], ['=', 'node_state', 'inactive']])).toEqual(['old.example.com']);
    expect(await certnames('/inventory', ['=', 'node_state', 'any'])).toEqual(['db1.example.com', 'old.example.com', 'web1.example.com', 'web2.example.com']);
    expect(await certnames('/nodes', ['or', ['=', ['node', 'active'], true], ['=', ['node', 'active'], false]])).toHaveLength(4);
    // Without node_state, deactivated nodes are left out everywhere.
    expect(await certnames('/inventory')).toEqual(['db1.example.com', 'web1.example.com', 'web2.example.com']);
    const bad = await get('/nodes', ['=', 'node_state', 'sleeping']);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/node_state must be "active", "inactive" or "any"/);
  });

  it.skipIf(skip)("answers /inventory in PuppetDB's shape, with dot notation on facts and trusted", async () => {
    const one = await get('/inventory', ['=', 'certname', 'web1.example.com']);
    expect(one.status).toBe(200);
    expect(one.body).toHaveLength(1);
    expect(Object.keys(one.body[0]).sort()).toEqual(['certname', 'environment', 'facts', 'timestamp', 'trusted']);
    expect(one.body[0]).toMatchObject({
      certname: 'web1.example.com',
      environment: 'production',
      facts: { kernel: 'Linux', os: { family: 'Debian' } },
      trusted: { certname: 'web1.example.com', extensions: { pp_role: 'web1' } },
    });
    expect(Date.parse(one.body[0].timestamp)).not.toBeNaN();
    expect(await certnames('/inventory', ['=', 'facts.os.family', 'Debian'])).toEqual(['web1.example.com']);
    expect(await certnames('/inventory', ['>', 'facts.uptime_days', 10])).toEqual(['db1.example.com', 'web1.example.com']);
    expect(await certnames('/inventory', ['~', 'facts.processors.models[0]', 'Intel.*'])).toEqual(['web1.example.com']);
    expect(await certnames('/inventory', ['=', 'trusted.extensions.pp_role', 'db1'])).toEqual(['db1.example.com']);
    expect(await certnames('/inventory', ['null?', 'facts.processors', true])).toEqual(['db1.example.com', 'web2.example.com']);
    expect((await get('/inventory', ['=', 'facts.os.match("f.*")', 'x'])).status).toBe(400);
  });

  it.skipIf(skip)('answers /events from the stored reports, both formats, with latest_report? and counts', async () => {
    const all = await get('/events');
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(2);
    const web = all.body.find((e: any) => e.certname === 'web1.example.com');
    expect(web).toMatchObject({
      status: 'success',
      timestamp: '2026-11-23T10:10:01.000Z',
      resource_type: 'File',
      resource_title: '/tmp/hello',
      property: 'ensure',
      new_value: 'file',
      old_value: 'absent',
      message: "defined content as '{sha256}abc'",
      file: '/etc/puppet/code/site.pp',
      line: 1,
      containment_path: ['Stage[main]', 'Main', 'File[/tmp/hello]'],
      containing_class: 'Main',
      run_start_time: '2026-11-23T10:10:00.000Z',
      run_end_time: '2026-11-23T10:10:05.000Z',
      environment: 'production',
      configuration_version: '1700000001',
    });
    expect(web.report).toMatch(/^[0-9a-f]{40}$/);
    const db = all.body.find((e: any) => e.certname === 'db1.example.com');
    expect(db).toMatchObject({
      status: 'failure',
      resource_type: 'Service',
      resource_title: 'postgresql',
      line: 7,
      containing_class: 'Db::Server',
      new_value: 'running',
    });
    expect(await certnames('/events', ['=', 'report', web.report])).toEqual(['web1.example.com']);
    expect(await certnames('/events', ['and', ['=', 'status', 'failure'], ['~', 'certname', 'db.*'], ['=', 'resource_type', 'Service']])).toEqual([
      'db1.example.com',
    ]);
    expect(await certnames('/events', ['and', ['<', 'timestamp', '2026-11-23T10:00:00.000Z'], ['>', 'timestamp', '2026-11-23T08:00:00+00:00']])).toEqual([
      'db1.example.com',
    ]);
    expect(await certnames('/events', ['and', ['=', 'latest_report?', true], ['~', 'file', 'site.pp']])).toEqual(['web1.example.com']);
    expect(await certnames('/events', ['=', 'new_value', 'running'])).toEqual(['db1.example.com']);
    const counted = await get('/events', [
      'extract',
      [['function', 'count'], 'status', 'certname'],
      ['=', ['node', 'active'], true],
      ['group_by', 'status', 'certname'],
    ]);
    expect(counted.body).toEqual([
      { status: 'failure', certname: 'db1.example.com', count: 1 },
      { status: 'success', certname: 'web1.example.com', count: 1 },
    ]);
  });

  it.skipIf(skip)('answers the root endpoint with "from" and with PQL, by GET and POST', async () => {
    const ast = await post('', { query: ['from', 'nodes', ['=', 'certname', 'web2.example.com']] });
    expect(ast.status).toBe(200);
    expect(ast.body).toEqual([expect.objectContaining({ certname: 'web2.example.com', deactivated: null, facts_environment: 'production' })]);
    const pql = await get('', 'nodes[certname] { certname = "web2.example.com" }');
    expect(pql.body).toEqual([{ certname: 'web2.example.com' }]);
    expect((await post('', { query: "nodes[certname] { certname ~ '^web' order by certname desc limit 1 }" })).body).toEqual([
      { certname: 'web2.example.com' },
    ]);
    expect((await get('', 'facts[certname, value] { name = "kernel" and !(value = "Linux") }')).body).toEqual([
      { certname: 'db1.example.com', value: 'windows' },
    ]);
    expect((await get('', 'nodes[count()] { facts_environment = "production" }')).body).toEqual([{ count: 3 }]);
    expect((await get('', 'facts[value, count()] { name = "kernel" group by value }')).body).toEqual([
      { value: 'Linux', count: 2 },
      { value: 'windows', count: 1 },
    ]);
    expect((await get('', 'inventory[certname] { facts.os.family = "RedHat" or trusted.extensions.pp_role in ["db1"] }')).body).toEqual([
      { certname: 'db1.example.com' },
      { certname: 'web2.example.com' },
    ]);
    expect((await get('', "nodes[certname] { node_state = 'inactive' }")).body).toEqual([{ certname: 'old.example.com' }]);
    expect((await get('', ['from', 'events', ['=', 'status', 'failure']])).body.map((e: any) => e.certname)).toEqual(['db1.example.com']);
    expect((await get('', ['from', 'fact_contents', ['=', 'path', ['os', 'family']], ['order_by', [['certname', 'desc']]], ['limit', 1]])).body).toEqual([
      { certname: 'web2.example.com', environment: 'production', path: ['os', 'family'], name: 'os', value: 'RedHat' },
    ]);
    for (const bad of ['nodes { certname = }', 'nodes { certname in facts[certname] { name = "x" } }', 'planets { }', '["=", "certname", "x"]']) {
      const r = await get('', bad);
      expect(r.status, bad).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    }
    expect((await post('', {})).status).toBe(400);
  });

  it.skipIf(skip)('answers 1,000-term queries on both databases, and 400 naming the limit past 10,000 terms', async () => {
    // A GET keeps to short values (Node's 16 KiB header limit); a POST takes long ones.
    const short = ['web1.example.com', 'web2.example.com', ...Array.from({ length: 998 }, (_, i) => `n${i}`)];
    expect(await certnames('/nodes', ['in', 'certname', ['array', short]])).toEqual(['web1.example.com', 'web2.example.com']);
    const many = Array.from({ length: 1000 }, (_, i) => `web${i}.example.com`);
    expect((await post('/nodes', { query: ['in', 'certname', ['array', many]] })).body.map((n: any) => n.certname)).toEqual([
      'web1.example.com',
      'web2.example.com',
    ]);
    const ors = await post('/nodes', { query: ['or', ...many.map((c) => ['=', 'certname', c])] });
    expect(ors.status, ors.text).toBe(200);
    expect(ors.body.map((n: any) => n.certname)).toEqual(['web1.example.com', 'web2.example.com']);
    const values = await post('/facts', {
      query: ['and', ['=', 'name', 'uptime_days'], ['in', 'value', ['array', Array.from({ length: 1000 }, (_, i) => i)]]],
    });
    expect(values.body.map((f: any) => f.certname)).toEqual(['db1.example.com', 'web1.example.com', 'web2.example.com']);
    const facts = await post('/nodes', { query: ['or', ...Array.from({ length: 1000 }, (_, i) => ['=', ['fact', 'uptime_days'], i])] });
    expect(facts.body.map((n: any) => n.certname)).toEqual(['db1.example.com', 'web1.example.com', 'web2.example.com']);
    const notIn = await post('/nodes', { query: ['not', ['in', 'certname', ['array', many]]] });
    expect(notIn.body.map((n: any) => n.certname)).toEqual(['db1.example.com']);

    const tooMany = await post('/nodes', { query: ['in', 'certname', ['array', Array.from({ length: 10_001 }, (_, i) => `n${i}`)]] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toMatch(/more than 10000 terms/);
    let deep: unknown = ['=', 'certname', 'x'];
    for (let i = 0; i < 70; i++) deep = ['not', deep];
    const tooDeep = await post('/nodes', { query: deep });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.text).toMatch(/more than 64 levels/);
  });

  it.skipIf(skip)('treats an empty body with a JSON content type as no body', async () => {
    const r = await fetch(`${s.url}/pdb/query/v4/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as Array<{ certname: string }>).map((n) => n.certname)).toEqual(['db1.example.com', 'web1.example.com', 'web2.example.com']);
    const root = await fetch(`${s.url}/pdb/query/v4`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' },
    });
    expect(root.status).toBe(400);
    expect(await root.text()).toMatch(/query/);
  });

  it.skipIf(skip)('answers 401 without a key on events, inventory and the root', async () => {
    for (const path of ['/pdb/query/v4/events', '/pdb/query/v4/inventory', `/pdb/query/v4?query=${encodeURIComponent('nodes {}')}`]) {
      const r = await call(s.url, undefined, 'GET', path);
      expect(r.status, path).toBe(401);
      expect(r.body).toEqual({ error: expect.any(String) });
    }
  });
});
