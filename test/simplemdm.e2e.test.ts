import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from './support/curl.js';
import { createTestDatabase, DATABASES, type TestDatabase } from './support/databases.js';
import { startAgentProcess, startServerProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call } from './support/server.js';

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(DATABASES)('SimpleMDM face end to end on $name', ({ name, skip }) => {
  let db: TestDatabase;
  let server: ServerProcess;
  let agents: AgentProcess[] = [];
  /** Each agent's SimpleMDM device id, in the order of `agents`. */
  let devices: number[] = [];
  let groupId: number;
  const dir = mkdtempSync(join(tmpdir(), 'muster-smdm-e2e-'));
  const auth = () => ({ authorization: `Basic ${Buffer.from(`${server.adminKey}:`).toString('base64')}` });
  const smdm = (method: string, path: string, body?: unknown) => call(server.url, undefined, method, `/api/v1${path}`, body, auth());
  /** curl as the request writes it, with this server and key. */
  const cu = (path: string, ...args: string[]) => curl([`${server.url}/api/v1${path}`, ...args, '-u', `${server.adminKey}:`]);

  /** A script job once every device has ended. */
  async function ended(jobId: number): Promise<any> {
    return waitFor(
      async () => {
        const { body } = await smdm('GET', `/script_jobs/${jobId}`);
        return body.data.attributes.status !== 'pending' ? body.data : undefined;
      },
      `script job ${jobId} to end`,
      30_000,
    );
  }

  async function script(fields: Record<string, unknown>): Promise<number> {
    const created = await smdm('POST', '/scripts', fields);
    expect(created.status, created.text).toBe(201);
    return created.body.data.id;
  }

  beforeAll(async () => {
    if (skip) return;
    db = await createTestDatabase(name);
    server = await startServerProcess(db);
    agents = [await startAgentProcess(server), await startAgentProcess(server)];
    await waitFor(async () => {
      const { body } = await call(server.url, server.adminKey, 'GET', '/v1/systems');
      return agents.every((a) => body.items.some((s: { id: string; connected: boolean }) => s.id === a.systemId && s.connected));
    }, 'two agents to connect');
    const listed = (await smdm('GET', '/devices')).body.data as Array<{ id: number; attributes: { unique_identifier: string } }>;
    devices = agents.map((a) => listed.find((d) => d.attributes.unique_identifier === a.systemId)!.id);
    const group = await call(server.url, server.adminKey, 'POST', '/v1/groups', { name: 'lab' });
    for (const a of agents) await call(server.url, server.adminKey, 'POST', `/v1/groups/${group.body.id}/members`, { system_id: a.systemId });
    groupId = (await smdm('GET', `/device_groups/${group.body.id}`)).body.data.id;
  });

  afterAll(async () => {
    for (const a of agents) await a.proc.stop();
    await server?.proc.stop();
    await db?.drop();
  });

  it.skipIf(skip)('devices and groups have integer ids, also reachable by muster id', async () => {
    expect(devices.every(Number.isInteger)).toBe(true);
    const one = await smdm('GET', `/devices/${devices[0]}?include_secret_custom_attributes=true`);
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({ type: 'device', id: devices[0], attributes: { unique_identifier: agents[0]!.systemId, status: 'enrolled' } });
    expect(one.body.data.relationships.device_group.data).toEqual({ type: 'device_group', id: groupId });
    expect((await smdm('GET', `/devices/${agents[0]!.systemId}`)).body.data.id).toBe(devices[0]);
    const group = await smdm('GET', `/device_groups/${groupId}`);
    expect(group.body.data.relationships.devices.data.map((d: { id: number }) => d.id).sort()).toEqual([...devices].sort());
    const assignment = await smdm('GET', `/assignment_groups/${groupId}`);
    expect(assignment.body.data).toMatchObject({ type: 'assignment_group', id: groupId, attributes: { name: 'lab' } });
    const page = await smdm('GET', '/devices?limit=1');
    expect(page.body).toMatchObject({ has_more: true, data: [{ id: Math.min(...devices) }] });
    const next = await smdm('GET', `/devices?limit=1&starting_after=${Math.min(...devices)}`);
    expect(next.body).toMatchObject({ has_more: false, data: [{ id: Math.max(...devices) }] });
  });

  it.skipIf(skip)("runs the request's curl examples: upload, a job on a device and on a group, status, base64 log, raw output", async () => {
    const file = join(dir, 'myscript.sh');
    writeFileSync(file, 'echo "hello from $DEVICE_NAME"\necho "careful" >&2\n');
    const upload = await cu('/scripts/', '-F', `file=@${file};filename=myscript.sh`, '-F', 'attributesupport=true');
    expect(upload.status).toBe(201);
    expect(upload.body.data).toMatchObject({ type: 'script', attributes: { name: 'myscript.sh', variable_support: true } });

    const onDevice = await cu('/jobs/', '-d', 'scriptname=myscript.sh', '-d', `target=${devices[0]}`, '-d', 'target_type=device');
    expect(onDevice.status).toBe(201);
    expect(onDevice.body.data).toMatchObject({
      type: 'job',
      attributes: { scriptname: 'myscript.sh', target_type: 'device', target: devices[0], devices: [{ id: devices[0] }] },
    });
    expect(Number.isInteger(onDevice.body.data.id)).toBe(true);
    const done = await waitFor(async () => {
      const status = await cu(`/job/${onDevice.body.data.id}`);
      return status.body.data.attributes.status.pending === 0 ? status.body.data : undefined;
    }, 'the device job to end');
    expect(done.attributes.status).toEqual({ pending: 0, completed: 1, failed: 0 });
    const [entry] = done.attributes.devices;
    expect(entry).toMatchObject({ id: devices[0], status: 'completed', logid: expect.any(Number) });
    const log = await cu(`/job/log/${entry.logid}`);
    expect(log.status).toBe(200);
    expect(log.body.data).toMatchObject({ type: 'log', id: entry.logid, metadata: { name: 'myscript.sh', job_status: '0' } });
    const device = (await smdm('GET', `/devices/${devices[0]}`)).body.data.attributes.name;
    expect(Buffer.from(log.body.data.metadata.stdout, 'base64').toString('utf8')).toBe(`hello from ${device}\n`);
    expect(Buffer.from(log.body.data.metadata.stderr, 'base64').toString('utf8')).toBe('careful\n');
    const rawOut = await cu(`/job/log/${entry.logid}/stdout`, '-D', '-');
    expect(rawOut.text).toMatch(/content-type: application\/octet-stream/i);
    expect(rawOut.text.endsWith(`\r\n\r\nhello from ${device}\n`)).toBe(true);
    expect((await cu(`/job/log/${entry.logid}/stderr`)).text).toBe('careful\n');
    expect((await cu(`/job/response/${onDevice.body.data.id}?stream=stderr`)).text).toBe('careful\n');

    const onGroup = await cu('/jobs/', '-d', 'scriptname=myscript.sh', '-d', `target=${groupId}`, '-d', 'targettype=device_group');
    expect(onGroup.status).toBe(201);
    expect(onGroup.body.data.attributes).toMatchObject({ targettype: 'device_group', target: groupId });
    const group = await waitFor(async () => {
      const status = await cu(`/job/${onGroup.body.data.id}`);
      return status.body.data.attributes.status.pending === 0 ? status.body.data : undefined;
    }, 'the group job to end');
    expect(group.attributes.status).toEqual({ pending: 0, completed: 2, failed: 0 });
    expect(group.attributes.devices.map((d: { id: number }) => d.id).sort()).toEqual([...devices].sort());
    const many = await cu(`/job/response/${onGroup.body.data.id}`);
    expect(many.status).toBe(400);
    expect(many.body.errors[0].title).toMatch(/name one with device_id/);
    expect((await cu(`/job/response/${onGroup.body.data.id}?device_id=${devices[1]}`)).text).toMatch(/^hello from /);
  });

  it.skipIf(skip)('script jobs: integer ids end to end, each device with status, status code and response', async () => {
    const id = await script({ name: 'exit-code.sh', content: 'echo "out $((1 + 1))"; exit 3' });
    const created = await smdm('POST', '/script_jobs', { script_id: id, device_ids: [devices[0]], group_ids: String(groupId) });
    expect(created.status, created.text).toBe(201);
    expect(created.body.data).toMatchObject({ type: 'script_job', attributes: { script_name: 'exit-code.sh', status: 'pending', pending_count: 2 } });
    const job = await ended(created.body.data.id);
    expect(job.attributes).toMatchObject({
      script_name: 'exit-code.sh',
      job_name: 'exit-code.sh',
      job_identifier: expect.stringMatching(/^[0-9a-f]{24}$/),
      status: 'failed',
      pending_count: 0,
      success_count: 0,
      errored_count: 2,
      content: 'echo "out $((1 + 1))"; exit 3',
      variable_support: false,
      custom_attribute: null,
    });
    expect(job.relationships.device.data).toHaveLength(2);
    for (const d of job.relationships.device.data) expect(d).toMatchObject({ type: 'device', status: 'failed', status_code: '3', response: 'out 2\n' });
    expect((await smdm('GET', `/script_jobs/${job.attributes.job_identifier}`)).body.data.id).toBe(created.body.data.id);
  });

  it.skipIf(skip)('lists script jobs by filter, a page at a time', async () => {
    const id = await script({ name: 'ok.sh', content: 'echo ok' });
    const jobs: number[] = [];
    for (const body of [
      { script_id: id, device_ids: String(devices[0]) },
      { script_id: id, device_ids: String(devices[1]) },
      { script_id: id, group_ids: [groupId] },
    ]) {
      const r = await smdm('POST', '/script_jobs/', body);
      expect(r.status).toBe(201);
      jobs.push(r.body.data.id);
      await ended(r.body.data.id);
    }
    const ids = async (q: string) => {
      const r = await smdm('GET', `/script_jobs?${q}`);
      expect(r.status, r.text).toBe(200);
      return r.body.data.map((j: { id: number }) => j.id);
    };
    expect(await ids(`script_id=${id}`)).toEqual(jobs);
    expect(await ids('script_name=ok.sh&status=completed')).toEqual(jobs);
    expect(await ids(`script_id=${id}&device_id=${devices[1]}`)).toEqual([jobs[1], jobs[2]]);
    expect(await ids(`script_id=${id}&target_type=device_group`)).toEqual([jobs[2]]);
    expect(await ids(`group_ids=${groupId}&script_name=ok.sh`)).toEqual([jobs[2]]);
    expect(await ids(`script_id=${id}&status=failed`)).toEqual([]);
    expect(await ids('script_name=exit-code.sh&status=failed')).toHaveLength(1);
    expect(await ids(`script_id=${id}&created_after=2999-01-01`)).toEqual([]);
    expect(await ids(`script_id=${id}&updated_before=2999-01-01T00:00:00Z`)).toEqual(jobs);
    const first = await smdm('GET', `/script_jobs?script_id=${id}&limit=2`);
    expect(first.body.has_more).toBe(true);
    expect(first.body.data.map((j: { id: number }) => j.id)).toEqual(jobs.slice(0, 2));
    const rest = await smdm('GET', `/script_jobs?script_id=${id}&limit=2&starting_after=${jobs[1]}`);
    expect(rest.body).toMatchObject({ has_more: false, data: [{ id: jobs[2] }] });
    const before = await smdm('GET', `/script_jobs?script_id=${id}&limit=1&ending_before=${jobs[2]}`);
    expect(before.body).toMatchObject({ has_more: true, data: [{ id: jobs[1] }] });
  });

  it.skipIf(skip)('cancelling a running script job stops its process on the machine', async () => {
    const pidFile = join(dir, 'pid');
    const id = await script({ name: 'long.sh', content: `echo $$ > ${pidFile}\nsleep 300\n` });
    const created = await smdm('POST', '/script_jobs', { script_id: id, device_ids: String(devices[0]) });
    const pid = await waitFor(async () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8').trim()), 'the script to start');
    expect(alive(pid)).toBe(true);
    const cancelled = await smdm('DELETE', `/script_jobs/${created.body.data.id}`);
    expect(cancelled.status).toBe(204);
    expect(cancelled.text).toBe('');
    await waitFor(async () => !alive(pid), 'the script process to stop');
    const job = await ended(created.body.data.id);
    expect(job.relationships.device.data[0]).toMatchObject({ status: 'cancelled' });
  });

  it.skipIf(skip)('with variable support each device gets its own values as variables, never in the script', async () => {
    expect((await smdm('POST', '/custom_attributes', { name: 'color', default_value: 'grey' })).status).toBe(201);
    const set = await smdm('PUT', `/devices/${devices[0]}/custom_attribute_values/color`, { value: 'red' });
    expect(set.body.data).toMatchObject({ id: 'color', attributes: { value: 'red' } });
    const content = 'echo "$COLOR $DEVICE_ID"';
    const id = await script({ name: 'vars.sh', content, variable_support: '1' });
    const job = await ended((await smdm('POST', '/script_jobs', { script_id: id, device_ids: `${devices[0]},${devices[1]}` })).body.data.id);
    expect(job.attributes).toMatchObject({ variable_support: true, content });
    const responses = Object.fromEntries(job.relationships.device.data.map((d: { id: number; response: string }) => [d.id, d.response]));
    expect(responses).toEqual({ [devices[0]!]: `red ${devices[0]}\n`, [devices[1]!]: `grey ${devices[1]}\n` });
    // COLOR may come from the agent's own environment; these names only from variable support.
    const bulk = await smdm('PUT', `/devices/${devices[1]}/custom_attribute_values`, { data: [{ name: 'color', value: 'blue' }] });
    expect(bulk.body.data).toEqual([{ type: 'custom_attribute_value', id: 'color', attributes: { value: 'blue', secret: false, default: false } }]);
    const again = await ended((await smdm('POST', '/script_jobs', { script_id: id, device_ids: String(devices[1]) })).body.data.id);
    expect(again.relationships.device.data[0].response).toBe(`blue ${devices[1]}\n`);
    const plain = await script({ name: 'no-vars.sh', content: 'echo "[$DEVICE_ID][$SERIAL_NUMBER]"', variable_support: false });
    const without = await ended((await smdm('POST', '/script_jobs', { script_id: plain, device_ids: String(devices[0]) })).body.data.id);
    expect(without.relationships.device.data[0].response).toBe('[][]\n');
  });

  it.skipIf(skip)("stores each device's output in a custom attribute, whole or the regex's first match", async () => {
    for (const name of ['build', 'last_output']) expect((await smdm('POST', '/custom_attributes', { name })).status).toBe(201);
    const id = await script({ name: 'report.sh', content: 'echo "version: 4.2.$((40 + 1))"; echo "build 77"' });
    const value = (device: number, attribute: string) =>
      waitFor(async () => {
        const values = (await smdm('GET', `/devices/${device}/custom_attribute_values`)).body.data as Array<{ id: string; attributes: { value: string } }>;
        return values.find((v) => v.id === attribute && v.attributes.value !== '')?.attributes.value;
      }, `${attribute} of device ${device}`);
    const regex = await smdm('POST', '/script_jobs', {
      script_id: id,
      group_ids: String(groupId),
      custom_attribute: 'build',
      custom_attribute_regex: 'build (\\d+)',
    });
    expect(regex.status, regex.text).toBe(201);
    expect((await ended(regex.body.data.id)).attributes).toMatchObject({ custom_attribute: 'build', custom_attribute_regex: 'build (\\d+)' });
    for (const d of devices) expect(await value(d, 'build')).toBe('77');
    const whole = await smdm('POST', '/script_jobs', { script_id: id, device_ids: String(devices[1]), custom_attribute: 'last_output' });
    await ended(whole.body.data.id);
    expect(await value(devices[1]!, 'last_output')).toBe('version: 4.2.41\nbuild 77');
    const device = await smdm('GET', `/devices/${devices[1]}`);
    expect(device.body.data.relationships.custom_attribute_values.data).toContainEqual(
      expect.objectContaining({ id: 'build', attributes: expect.objectContaining({ value: '77' }) }),
    );
  });

  it.skipIf(skip)("another organization's key reaches none of these devices, groups, jobs or logs, by integer id or muster id", async () => {
    const other = (await call(server.url, server.adminKey, 'POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key as string;
    const as = (method: string, path: string, body?: unknown) =>
      call(server.url, undefined, method, `/api/v1${path}`, body, { authorization: `Basic ${Buffer.from(`${other}:`).toString('base64')}` });
    const id = await script({ name: 'mine.sh', content: 'echo mine' });
    const job = await ended((await smdm('POST', '/script_jobs', { script_id: id, device_ids: String(devices[0]) })).body.data.id);
    const log = (await smdm('GET', `/job/${job.id}`)).body.data.attributes.devices[0].logid;
    for (const path of [
      `/devices/${devices[0]}`,
      `/devices/${agents[0]!.systemId}`,
      `/devices/${devices[0]}/custom_attribute_values`,
      `/device_groups/${groupId}`,
      `/script_jobs/${job.id}`,
      `/script_jobs/${job.attributes.job_identifier}`,
      `/job/${job.id}`,
      `/job/log/${log}`,
      `/job/log/${log}/stdout`,
    ]) {
      const r = await as('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body.errors[0].title, path).toMatch(/not found/);
    }
    expect((await as('DELETE', `/script_jobs/${job.id}`)).status).toBe(404);
    expect((await as('GET', '/devices')).body).toEqual({ data: [], has_more: false });
    expect((await as('GET', '/script_jobs')).body).toEqual({ data: [], has_more: false });
    const theirs = (await as('POST', '/scripts', { name: 'theirs.sh', content: 'echo theirs' })).body.data.id;
    const across = await as('POST', '/script_jobs', { script_id: theirs, device_ids: String(devices[0]) });
    expect(across.status).toBe(404);
    expect(across.body.errors[0].title).toBe(`device ${devices[0]} not found`);
    expect((await as('GET', `/scripts/${id}`)).status).toBe(404);
  });

  it.skipIf(skip)('a script marked run-on-enroll runs on a newly enrolled device with its variables, and its job is listed like any other', async () => {
    const id = await script({ name: 'welcome.sh', content: 'echo "welcome $DEVICE_ID"', run_on_enroll: 'true', variable_support: '1' });
    const fresh = await startAgentProcess(server);
    agents.push(fresh);
    const device = await waitFor(async () => {
      const listed = (await smdm('GET', '/devices?limit=100')).body.data as Array<{ id: number; attributes: { unique_identifier: string } }>;
      return listed.find((d) => d.attributes.unique_identifier === fresh.systemId)?.id;
    }, 'the new device to be listed');
    const job = await waitFor(
      async () => {
        const { body } = await smdm('GET', `/script_jobs?script_id=${id}&device_id=${device}`);
        return body.data[0]?.attributes.status === 'completed' ? body.data[0] : undefined;
      },
      'the enrollment job to complete',
      30_000,
    );
    expect(job.attributes).toMatchObject({ script_name: 'welcome.sh', source: 'enroll', success_count: 1 });
    expect(job.relationships.device.data).toEqual([expect.objectContaining({ id: device, status: 'completed' })]);
    const full = await smdm('GET', `/script_jobs/${job.id}`);
    expect(full.body.data.relationships.device.data[0].response).toBe(`welcome ${device}\n`);
  });
});
