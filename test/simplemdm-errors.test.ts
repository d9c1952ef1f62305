import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from './support/curl.js';
import { DATABASES } from './support/databases.js';
import { call, startTestServer, type TestServer } from './support/server.js';

/** HTTP Basic with the key as user name and an empty password, as SimpleMDM's clients send it. */
const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });

describe.each(DATABASES)('SimpleMDM face: bad input and security on $name', ({ name, skip }) => {
  let s: TestServer;
  let otherKey: string;
  let viewerKey: string;
  let scriptId: number;
  const dir = mkdtempSync(join(tmpdir(), 'muster-smdm-'));
  const smdm = (method: string, path: string, body?: unknown, key = s.adminKey) => call(s.url, undefined, method, `/api/v1${path}`, body, basic(key));
  const jobCount = async () => (await call(s.url, s.adminKey, 'GET', '/v1/jobs?limit=500')).body.items.length;
  const scriptCount = async () => (await call(s.url, s.adminKey, 'GET', '/v1/scripts')).body.items.length;

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name, { script_max_bytes: 2048 });
    otherKey = (await call(s.url, s.adminKey, 'POST', '/v1/organizations', { name: 'Other', slug: 'other' })).body.api_key;
    viewerKey = (await call(s.url, s.adminKey, 'POST', '/v1/api-keys', { name: 'viewer', role: 'viewer' })).body.secret;
    const created = await smdm('POST', '/scripts', { name: 'hello.sh', content: 'echo hello' });
    expect(created.status).toBe(201);
    scriptId = created.body.data.id;
  });
  afterAll(async () => s?.stop());

  it.skipIf(skip)('a script is created from JSON, urlencoded and base64 content, with integer ids, and read back whole', async () => {
    expect(Number.isInteger(scriptId)).toBe(true);
    const form = await call(s.url, undefined, 'POST', '/api/v1/scripts/', 'name=form.sh&content=echo+form&variable_support=1', {
      ...basic(s.adminKey),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(201);
    expect(form.body.data).toMatchObject({ type: 'script', attributes: { name: 'form.sh', content: 'echo form', variable_support: true } });
    expect(form.body.data.id).toBe(scriptId + 1);
    const encoded = await smdm('POST', '/scripts', { name: 'b64.sh', content: Buffer.from('echo "b64"\n').toString('base64'), content_encoding: 'base64' });
    expect(encoded.status).toBe(201);
    const read = await smdm('GET', `/scripts/${encoded.body.data.id}`);
    expect(read.status).toBe(200);
    expect(read.body.data.attributes).toMatchObject({ name: 'b64.sh', content: 'echo "b64"\n', variable_support: false, created_by: expect.any(String) });
    expect(read.body.data.attributes.created_at).toMatch(/^\d{4}-/);
    const patched = await smdm('PATCH', `/scripts/${encoded.body.data.id}`, { name: 'renamed.sh', variable_support: 'true' });
    expect(patched.body.data.attributes).toMatchObject({ name: 'renamed.sh', content: 'echo "b64"\n', variable_support: true });
    expect((await smdm('DELETE', `/scripts/${encoded.body.data.id}`)).status).toBe(204);
    expect((await smdm('GET', `/scripts/${encoded.body.data.id}`)).status).toBe(404);
  });

  it.skipIf(skip)('query-string parameters beside a multipart file, and the name taken from the file', async () => {
    const file = join(dir, 'upload.sh');
    writeFileSync(file, '#!/bin/sh\necho uploaded\n');
    const r = await curl([`${s.url}/api/v1/scripts/?variable_support=1`, '-F', `file=@${file};filename=upload.sh`, '-u', `${s.adminKey}:`]);
    expect(r.status).toBe(201);
    expect(r.body.data.attributes).toMatchObject({ name: 'upload.sh', content: '#!/bin/sh\necho uploaded\n', variable_support: true });
    const replaced = join(dir, 'v2.sh');
    writeFileSync(replaced, 'echo v2\n');
    const patched = await curl([
      '-X',
      'PATCH',
      `${s.url}/api/v1/scripts/${r.body.data.id}?name=upload-v2.sh`,
      '-F',
      `scriptfile=@${replaced}`,
      '-u',
      `${s.adminKey}:`,
    ]);
    expect(patched.status).toBe(200);
    expect(patched.body.data.attributes).toMatchObject({ name: 'upload-v2.sh', content: 'echo v2\n' });
  });

  it.skipIf(skip)('bad scripts are refused with a SimpleMDM error and nothing is created', async () => {
    const before = await scriptCount();
    const empty = join(dir, 'empty.sh');
    writeFileSync(empty, '');
    const emptyFile = await curl([`${s.url}/api/v1/scripts`, '-F', `file=@${empty}`, '-F', 'name=empty.sh', '-u', `${s.adminKey}:`]);
    expect(emptyFile.status).toBe(400);
    expect(emptyFile.body.errors[0].title).toMatch(/file: the uploaded file is empty/);
    const badBase64 = await smdm('POST', '/scripts', { name: 'x.sh', content: 'not base64!', content_encoding: 'base64' });
    expect(badBase64.status).toBe(400);
    expect(badBase64.body.errors[0].title).toMatch(/content: is not valid base64/);
    const tooLarge = await smdm('POST', '/scripts', { name: 'big.sh', content: `echo ${'x'.repeat(4096)}` });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.errors[0].title).toMatch(/content: must be at most 2048 bytes/);
    const noName = await smdm('POST', '/scripts', { content: 'echo' });
    expect(noName.status).toBe(400);
    const taken = await smdm('POST', '/scripts', { name: 'hello.sh', content: 'echo' });
    expect(taken.status).toBe(409);
    expect(await scriptCount()).toBe(before);
  });

  it.skipIf(skip)('bad script jobs are a 4xx naming the problem, and no job is launched', async () => {
    const before = await jobCount();
    expect((await call(s.url, s.adminKey, 'POST', '/v1/groups', { name: 'empty' })).status).toBe(201);
    const group = (await smdm('GET', '/device_groups')).body.data.find((g: { attributes: { name: string } }) => g.attributes.name === 'empty').id;
    expect(Number.isInteger(group)).toBe(true);
    const cases: Array<[unknown, number, RegExp]> = [
      [{ device_ids: '1' }, 400, /script_id: is required/],
      [{ script_id: 999999, device_ids: '1' }, 404, /script 999999 not found/],
      [{ script_id: scriptId }, 400, /device_ids: name where to run the script/],
      [{ script_id: scriptId, device_ids: '424242' }, 404, /device 424242 not found/],
      [{ script_id: scriptId, group_ids: [777777] }, 404, /group 777777 not found/],
      [{ script_id: scriptId, device_ids: '1,,2' }, 400, /device_ids: has an empty id/],
      [{ script_id: scriptId, group_ids: [group], custom_attribute: 'nope' }, 404, /custom attribute nope not found/],
      [{ script_id: scriptId, group_ids: [group], custom_attribute_regex: '(' }, 400, /custom_attribute_regex: needs custom_attribute/],
      [{ script_id: scriptId, group_ids: [group] }, 400, /the selection matches no systems/],
    ];
    for (const [body, status, title] of cases) {
      const r = await smdm('POST', '/script_jobs', body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.errors[0].title).toMatch(title);
    }
    expect(await jobCount()).toBe(before);
  });

  it.skipIf(skip)('list parameters out of range are 400', async () => {
    for (const q of ['limit=0', 'limit=101', 'limit=ten', 'status=running', 'target_type=printer', 'created_after=yesterday', 'starting_after=abc']) {
      const r = await smdm('GET', `/script_jobs?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.errors[0].title, q).toMatch(new RegExp(q.split('=')[0]!));
    }
    expect((await smdm('GET', '/scripts?limit=100')).status).toBe(200);
    expect((await smdm('GET', '/devices?limit=0')).status).toBe(400);
  });

  it.skipIf(skip)('malformed requests are a 4xx, never a 500', async () => {
    const form = { ...basic(s.adminKey), 'content-type': 'application/x-www-form-urlencoded' };
    const cases: Array<[string, string, unknown, Record<string, string>?]> = [
      ['POST', '/scripts', '[1,2]'],
      ['POST', '/scripts', '{"name": {"a": 1}, "content": "echo"}'],
      ['POST', '/scripts', '{"name": ["a", "b"], "content": "echo"}'],
      ['POST', '/scripts', '{not json'],
      ['POST', '/scripts', 'name=a&name=b&content=x', form],
      ['POST', '/scripts', 'hello', { ...basic(s.adminKey), 'content-type': 'text/plain' }],
      ['POST', '/scripts', '--x\r\nbroken', { ...basic(s.adminKey), 'content-type': 'multipart/form-data; boundary=x' }],
      ['PATCH', `/scripts/${scriptId}`, '{"variable_support": "maybe"}'],
      ['PATCH', `/scripts/${scriptId}`, '{"run_on_enroll": {"x": 1}}'],
      ['POST', '/script_jobs', '{"script_id": {"x": 1}, "device_ids": "1"}'],
      ['POST', '/script_jobs', `{"script_id": ${scriptId}, "device_ids": {"x": 1}}`],
      ['POST', '/script_jobs', `{"script_id": ${scriptId}, "device_ids": [1.5]}`],
      ['POST', '/script_jobs', `{"script_id": ${scriptId}, "device_ids": ["99999999999999999999"]}`],
      ['POST', '/jobs', 'scriptname=hello.sh&target=1&target_type=printer', form],
      ['POST', '/jobs', 'scriptname=hello.sh', form],
      ['POST', '/jobs', 'scriptname=nope.sh&target=1', form],
      ['GET', '/script_jobs/abc', undefined],
      ['GET', '/script_jobs/-1', undefined],
      ['GET', '/job/log/0', undefined],
      ['GET', '/job/log/1/stdout', undefined],
      ['GET', '/job/response/1?stream=both', undefined],
      ['GET', '/devices/%00', undefined],
      ['GET', '/script_jobs?limit=5&limit=6', undefined],
      ['PUT', '/devices/1/custom_attribute_values/x', '{"value": 1}'],
      ['POST', '/custom_attributes', '{"name": "a", "default_value": {"x": 1}}'],
      ['GET', '/apps', undefined],
    ];
    for (const [method, path, body, headers] of cases) {
      const r = await call(s.url, undefined, method, `/api/v1${path}`, body, headers ?? basic(s.adminKey));
      expect(r.status, `${method} ${path} ${String(body)}: ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${method} ${path} ${String(body)}: ${r.text}`).toBeLessThan(500);
      expect(r.body?.errors?.[0]?.title, `${method} ${path}`).toEqual(expect.any(String));
    }
  });

  it.skipIf(skip)('no key, a wrong key and a viewer are refused; another organization sees none of these ids', async () => {
    const none = await call(s.url, undefined, 'GET', '/api/v1/scripts');
    expect(none.status).toBe(401);
    expect(none.body.errors[0]).toMatchObject({ code: 'UNAUTHENTICATED' });
    const wrong = await smdm('GET', '/scripts', undefined, 'mk_wrong');
    expect(wrong.status).toBe(401);
    const viewer = await smdm('POST', '/script_jobs', { script_id: scriptId, device_ids: '1' }, viewerKey);
    expect(viewer.status).toBe(403);
    expect((await smdm('GET', `/scripts/${scriptId}`, undefined, viewerKey)).status).toBe(200);
    const other = await smdm('GET', `/scripts/${scriptId}`, undefined, otherKey);
    expect(other.status).toBe(404);
    expect((await smdm('DELETE', `/scripts/${scriptId}`, undefined, otherKey)).status).toBe(404);
    expect((await smdm('GET', '/scripts', undefined, otherKey)).body).toEqual({ data: [], has_more: false });
    expect((await smdm('GET', `/scripts/${scriptId}`)).status).toBe(200);
  });

  it.skipIf(skip)('custom attributes are defined, listed and removed', async () => {
    const created = await smdm('POST', '/custom_attributes', { name: 'asset_tag', default_value: 'none' });
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({ type: 'custom_attribute', id: 'asset_tag', attributes: { name: 'asset_tag', default_value: 'none' } });
    expect((await smdm('POST', '/custom_attributes', { name: 'asset_tag' })).status).toBe(409);
    expect((await smdm('POST', '/custom_attributes', { name: 'bad name' })).status).toBe(400);
    expect((await smdm('PATCH', '/custom_attributes/asset_tag', { default_value: 'unset' })).body.data.attributes.default_value).toBe('unset');
    expect((await smdm('GET', '/custom_attributes')).body.data.map((a: { id: string }) => a.id)).toContain('asset_tag');
    expect((await smdm('GET', '/custom_attributes', undefined, otherKey)).body.data).toEqual([]);
    expect((await smdm('DELETE', '/custom_attributes/asset_tag')).status).toBe(204);
    expect((await smdm('GET', '/custom_attributes/asset_tag')).status).toBe(404);
  });
});
