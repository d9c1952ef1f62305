import { randomBytes } from 'node:crypto';
import { httpDate, signRequest } from '../../src/auth/http-signature.js';
import { signTrigger } from '../../src/core/commands/index.js';
import { waitFor } from './processes.js';
import { call } from './server.js';
import type { SignedSystem } from './system-context.js';

/**
 * One valid request per mutating route of every face and the audit event it
 * must leave, for test/audit-routes.test.ts, which walks the route table and
 * fails on a mutating route missing here.
 */

export interface Expected {
  action: string;
  /** The event's actor; the admin key's by default. */
  actor?: string;
  targetType: string;
  /** The target's id, when the builder knows it before the call; or read from the answer. */
  targetId?: string | ((body: any) => string);
}

/** How a builder's request authenticates. */
export type Auth = { kind: 'admin' } | { kind: 'none' } | { kind: 'basic' } | { kind: 'signed'; system: SignedSystem } | { kind: 'bearer'; secret: string };

export interface Built {
  /** Values for the route's `:params`. */
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** A body sent as is, with its content type. */
  raw?: { text: string; type: string };
  headers?: Record<string, string>;
  auth?: Auth;
  expect: Expected;
}

export interface Fixture {
  url: string;
  admin: string;
  adminActor: string;
  enrollmentKey: string;
  enrollmentActor: string;
  /** A system whose real agent is connected (shells, runs that finish). */
  live: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  /** A fresh enrolled system, offline, with its signing key. */
  system(): Promise<SignedSystem>;
  unique(prefix: string): string;
}

const ok = async (f: Fixture, method: string, path: string, body?: unknown) => {
  const r = await f.api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
};
// Its deliveries go to a port nothing listens on: they are logged as failed attempts, never received.
const webhook = async (f: Fixture) =>
  (await ok(f, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/audit', events: ['job.completed'] })).webhook.id as string;
const group = async (f: Fixture) => (await ok(f, 'POST', '/v1/groups', { name: f.unique('g') })).id as string;
const user = async (f: Fixture) => (await ok(f, 'POST', '/v1/users', { username: f.unique('u') })).id as string;
const script = async (f: Fixture) => (await ok(f, 'POST', '/v1/scripts', { name: f.unique('s'), content: 'true' })).id as string;
const command = async (f: Fixture, extra: Record<string, unknown> = {}) =>
  (await ok(f, 'POST', '/v1/commands', { name: f.unique('c'), content: 'true', ...extra })).id as string;
const offlineJob = async (f: Fixture) => {
  const sys = await f.system();
  return (await ok(f, 'POST', '/v1/jobs', { content: 'true', targets: { system_ids: [sys.systemId] } })).job.id as string;
};
const jobRuns = async (f: Fixture, jobId: string) => (await ok(f, 'GET', `/v1/jobs/${jobId}/runs`)).items as Array<{ id: string; state: string }>;
const finishedJob = async (f: Fixture, content: string) => {
  const id = (await ok(f, 'POST', '/v1/jobs', { content, targets: { system_ids: [f.live] } })).job.id as string;
  await waitFor(async () => (await ok(f, 'GET', `/v1/jobs/${id}`)).done === true, `job ${id} to finish`);
  return id;
};
const discarded = async (f: Fixture) => {
  const certname = f.unique('n');
  // No producer: admitted, then discarded by its worker.
  const broken = JSON.stringify({ certname, environment: 'production', producer_timestamp: '2026-11-23T10:00:00Z', values: {} });
  const res = await fetch(`${f.url}/pdb/cmd/v1?command=replace_facts&version=5&certname=${certname}&secondsToWaitForCompletion=10`, {
    method: 'POST',
    headers: { authorization: `Bearer ${f.admin}`, 'content-type': 'application/json' },
    body: broken,
  });
  return ((await res.json()) as { uuid: string }).uuid;
};
const openSession = async (f: Fixture) => (await ok(f, 'POST', '/v1/sessions', { system_id: f.live })).id as string;
const customAttribute = async (f: Fixture) => {
  const name = f.unique('attr').replace(/-/g, '_');
  await ok(f, 'POST', '/api/v1/custom_attributes', { name });
  return name;
};
const smdmScript = async (f: Fixture) => {
  const r = await call(f.url, undefined, 'POST', '/api/v1/scripts', { name: f.unique('m'), content: '#!/bin/sh\ntrue' }, basic(f.admin));
  if (r.status !== 201) throw new Error(r.text);
  return String(r.body.data.id);
};
const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });
const byId = (body: any) => body.id as string;
const PDB_FACTS = (certname: string) =>
  JSON.stringify({ certname, environment: 'production', producer_timestamp: new Date().toISOString(), producer: 'puppet', values: { a: 1 } });

/** One valid call per mutating route, keyed by face, method and path (a JumpCloud trailing-slash twin shares its route's). */
export const BUILDERS: Record<string, (f: Fixture, twin: boolean) => Promise<Built>> = {
  // native
  'native POST /v1/organizations': async (f) => ({
    body: { name: 'Other', slug: f.unique('org') },
    expect: { action: 'organization.create', targetType: 'organization', targetId: (b) => b.organization.id },
  }),
  'native POST /v1/api-keys': async () => ({
    body: { name: 'k', role: 'viewer' },
    expect: { action: 'api_key.create', targetType: 'api_key', targetId: (b) => b.key.id },
  }),
  'native DELETE /v1/api-keys/:id': async (f) => {
    const id = (await ok(f, 'POST', '/v1/api-keys', { name: 'k', role: 'viewer' })).key.id;
    return { params: { id }, expect: { action: 'api_key.revoke', targetType: 'api_key', targetId: id } };
  },
  'native POST /v1/enrollment-keys': async () => ({
    body: { name: 'e' },
    expect: { action: 'enrollment_key.create', targetType: 'enrollment_key', targetId: (b) => b.key.id },
  }),
  'native DELETE /v1/enrollment-keys/:id': async (f) => {
    const id = (await ok(f, 'POST', '/v1/enrollment-keys', { name: 'e' })).key.id;
    return { params: { id }, expect: { action: 'enrollment_key.revoke', targetType: 'enrollment_key', targetId: id } };
  },
  'native PATCH /v1/systems/:id': async (f) => {
    const { systemId } = await f.system();
    return { params: { id: systemId }, body: { description: 'patched' }, expect: { action: 'system.update', targetType: 'system', targetId: systemId } };
  },
  'native DELETE /v1/systems/:id': async (f) => {
    const { systemId } = await f.system();
    return { params: { id: systemId }, expect: { action: 'system.delete', targetType: 'system', targetId: systemId } };
  },
  'native POST /v1/groups': async (f) => ({ body: { name: f.unique('g') }, expect: { action: 'group.create', targetType: 'group', targetId: byId } }),
  'native PATCH /v1/groups/:id': async (f) => {
    const id = await group(f);
    return { params: { id }, body: { description: 'd' }, expect: { action: 'group.update', targetType: 'group', targetId: id } };
  },
  'native DELETE /v1/groups/:id': async (f) => {
    const id = await group(f);
    return { params: { id }, expect: { action: 'group.delete', targetType: 'group', targetId: id } };
  },
  'native POST /v1/groups/:id/members': async (f) => {
    const [id, sys] = [await group(f), await f.system()];
    return { params: { id }, body: { system_id: sys.systemId }, expect: { action: 'group.member.add', targetType: 'group', targetId: id } };
  },
  'native DELETE /v1/groups/:id/members/:systemId': async (f) => {
    const [id, sys] = [await group(f), await f.system()];
    await ok(f, 'POST', `/v1/groups/${id}/members`, { system_id: sys.systemId });
    return { params: { id, systemId: sys.systemId }, expect: { action: 'group.member.remove', targetType: 'group', targetId: id } };
  },
  'native POST /v1/users': async (f) => ({ body: { username: f.unique('u') }, expect: { action: 'user.create', targetType: 'user', targetId: byId } }),
  'native PATCH /v1/users/:id': async (f) => {
    const id = await user(f);
    return { params: { id }, body: { first_name: 'Ada' }, expect: { action: 'user.update', targetType: 'user', targetId: id } };
  },
  'native DELETE /v1/users/:id': async (f) => {
    const id = await user(f);
    return { params: { id }, expect: { action: 'user.delete', targetType: 'user', targetId: id } };
  },
  'native POST /v1/users/:id/systems': async (f) => {
    const [id, sys] = [await user(f), await f.system()];
    return { params: { id }, body: { system_id: sys.systemId }, expect: { action: 'user.binding.add', targetType: 'user', targetId: id } };
  },
  'native DELETE /v1/users/:id/systems/:systemId': async (f) => {
    const [id, sys] = [await user(f), await f.system()];
    await ok(f, 'POST', `/v1/users/${id}/systems`, { system_id: sys.systemId });
    return { params: { id, systemId: sys.systemId }, expect: { action: 'user.binding.remove', targetType: 'user', targetId: id } };
  },
  'native POST /v1/scripts': async (f) => ({
    body: { name: f.unique('s'), content: 'true' },
    expect: { action: 'script.create', targetType: 'script', targetId: byId },
  }),
  'native PATCH /v1/scripts/:id': async (f) => {
    const id = await script(f);
    return { params: { id }, body: { content: 'false' }, expect: { action: 'script.update', targetType: 'script', targetId: id } };
  },
  'native DELETE /v1/scripts/:id': async (f) => {
    const id = await script(f);
    return { params: { id }, expect: { action: 'script.delete', targetType: 'script', targetId: id } };
  },
  'native POST /v1/commands': async (f) => ({
    body: { name: f.unique('c'), content: 'true' },
    expect: { action: 'script.create', targetType: 'script', targetId: byId },
  }),
  'native PATCH /v1/commands/:id': async (f) => {
    const id = await command(f);
    return { params: { id }, body: { content: 'false' }, expect: { action: 'script.update', targetType: 'script', targetId: id } };
  },
  'native DELETE /v1/commands/:id': async (f) => {
    const id = await command(f);
    return { params: { id }, expect: { action: 'script.delete', targetType: 'script', targetId: id } };
  },
  'native POST /v1/commands/:id/run': async (f) => {
    const [id, sys] = [await command(f), await f.system()];
    return { params: { id }, body: { system_ids: [sys.systemId] }, expect: { action: 'job.launch', targetType: 'job' } };
  },
  'native POST /v1/webhooks': async () => ({
    body: { url: 'https://hooks.example.com/audit', events: ['job.completed'] },
    expect: { action: 'webhook.create', targetType: 'webhook', targetId: (body) => body.webhook.id },
  }),
  'native PATCH /v1/webhooks/:id': async (f) => {
    const id = await webhook(f);
    return { params: { id }, body: { description: 'audited' }, expect: { action: 'webhook.update', targetType: 'webhook', targetId: id } };
  },
  'native DELETE /v1/webhooks/:id': async (f) => {
    const id = await webhook(f);
    return { params: { id }, expect: { action: 'webhook.delete', targetType: 'webhook', targetId: id } };
  },
  'native POST /v1/webhooks/:id/rotate-secret': async (f) => {
    const id = await webhook(f);
    return { params: { id }, expect: { action: 'webhook.rotate_secret', targetType: 'webhook', targetId: id } };
  },
  'native POST /v1/webhooks/:id/ping': async (f) => {
    const id = await webhook(f);
    return { params: { id }, expect: { action: 'webhook.ping', targetType: 'webhook', targetId: id } };
  },
  'native POST /v1/webhooks/:id/deliveries/:delivery/redeliver': async (f) => {
    const id = await webhook(f);
    const delivery = (await ok(f, 'POST', `/v1/webhooks/${id}/ping`)).id as string;
    // Redelivery waits for an attempt in progress to end: here the first one fails at once (port 9 is refused).
    await waitFor(async () => {
      const page = await ok(f, 'GET', `/v1/webhooks/${id}/deliveries`);
      return (page.items as Array<{ id: string; state: string; attempts: number }>).some((d) => d.id === delivery && d.state !== 'sending' && d.attempts > 0);
    }, 'the first attempt to end');
    return { params: { id, delivery }, expect: { action: 'webhook.redeliver', targetType: 'webhook', targetId: id } };
  },
  'native POST /v1/triggers': async (f) => ({ body: { name: f.unique('t') }, expect: { action: 'trigger.create', targetType: 'trigger' } }),
  'native POST /v1/triggers/:name/rotate-secret': async (f) => {
    const name = f.unique('t');
    await ok(f, 'POST', '/v1/triggers', { name, secret: true });
    return { params: { name }, expect: { action: 'trigger.rotate_secret', targetType: 'trigger', targetId: name } };
  },
  'native DELETE /v1/triggers/:name': async (f) => {
    const name = f.unique('t');
    await ok(f, 'POST', '/v1/triggers', { name });
    return { params: { name }, expect: { action: 'trigger.delete', targetType: 'trigger', targetId: name } };
  },
  'native POST /v1/triggers/:name/fire': async (f) => {
    const name = f.unique('t');
    const sys = await f.system();
    await command(f, { trigger: name, launch_type: 'trigger', default_targets: { system_ids: [sys.systemId] } });
    return { params: { name }, body: { a: '1' }, expect: { action: 'trigger.fire', targetType: 'trigger', targetId: name } };
  },
  'native POST /v1/jobs': async (f) => {
    const sys = await f.system();
    return {
      body: { content: 'true', targets: { system_ids: [sys.systemId] } },
      expect: { action: 'job.launch', targetType: 'job', targetId: (b) => b.job.id },
    };
  },
  'native POST /v1/jobs/:id/cancel': async (f) => {
    const id = await offlineJob(f);
    return { params: { id }, expect: { action: 'job.cancel', targetType: 'job', targetId: id } };
  },
  'native POST /v1/jobs/:id/retry': async (f) => {
    const id = await finishedJob(f, 'exit 3');
    return { params: { id }, expect: { action: 'job.launch', targetType: 'job', targetId: (b) => b.job.id } };
  },
  'native POST /v1/runs/:id/cancel': async (f) => {
    const [run] = await jobRuns(f, await offlineJob(f));
    return { params: { id: run!.id }, expect: { action: 'run.cancel', targetType: 'run', targetId: run!.id } };
  },
  'native POST /v1/ingest/discarded/:id/retry': async (f) => {
    const id = await discarded(f);
    return { params: { id }, expect: { action: 'ingest.retry', targetType: 'ingest_command', targetId: id } };
  },
  'native DELETE /v1/ingest/discarded/:id': async (f) => {
    const id = await discarded(f);
    return { params: { id }, expect: { action: 'ingest.delete', targetType: 'ingest_command', targetId: id } };
  },
  'native POST /v1/sessions': async (f) => ({ body: { system_id: f.live }, expect: { action: 'session.open', targetType: 'session', targetId: byId } }),
  'native PUT /v1/session-settings': async () => ({
    body: { record_input: false, custom_fields: ['ticket'] },
    expect: { action: 'session.settings', targetType: 'organization' },
  }),
  'native POST /v1/sessions/:id/end': async (f) => {
    const id = await openSession(f);
    return { params: { id }, expect: { action: 'session.close', targetType: 'session', targetId: id } };
  },
  'native POST /v1/sessions/:id/attach-ticket': async (f) => {
    const id = await openSession(f);
    return { params: { id }, expect: { action: 'session.attach_ticket', targetType: 'session', targetId: id } };
  },

  // JumpCloud (the twin ending in / is called by a system for itself where the System Context allows it)
  'jumpcloud POST /api/commands': async (f) => ({
    body: { name: f.unique('jc'), command: 'true' },
    expect: { action: 'script.create', targetType: 'script', targetId: (b) => b._id },
  }),
  'jumpcloud PUT /api/commands/:id': async (f) => {
    const id = await command(f);
    return { params: { id }, body: { command: 'false' }, expect: { action: 'script.update', targetType: 'script', targetId: id } };
  },
  'jumpcloud DELETE /api/commands/:id': async (f) => {
    const id = await command(f);
    return { params: { id }, expect: { action: 'script.delete', targetType: 'script', targetId: id } };
  },
  'jumpcloud POST /api/runCommand': async (f) => {
    const [id, sys] = [await command(f), await f.system()];
    return { body: { _id: id, systemIds: [sys.systemId] }, expect: { action: 'job.launch', targetType: 'job' } };
  },
  'jumpcloud POST /api/v2/commands/:id/associations': async (f) => {
    const [id, sys] = [await command(f), await f.system()];
    return { params: { id }, body: { op: 'add', type: 'system', id: sys.systemId }, expect: { action: 'script.update', targetType: 'script', targetId: id } };
  },
  'jumpcloud DELETE /api/commandresults/:id': async (f) => {
    // A command's result: a run of a saved command's job.
    const job = (await ok(f, 'POST', `/v1/commands/${await command(f)}/run`, { system_ids: [f.live] })).job.id as string;
    await waitFor(async () => (await ok(f, 'GET', `/v1/jobs/${job}`)).done === true, `job ${job} to finish`);
    const [run] = await jobRuns(f, job);
    return { params: { id: run!.id }, expect: { action: 'command_result.delete', targetType: 'run', targetId: run!.id } };
  },
  'jumpcloud PUT /api/systems/:id': async (f, twin) => {
    const sys = await f.system();
    return {
      params: { id: sys.systemId },
      body: { displayName: 'renamed' },
      ...(twin ? { auth: { kind: 'signed' as const, system: sys } } : {}),
      expect: { action: 'system.update', targetType: 'system', targetId: sys.systemId, ...(twin ? { actor: `system:${sys.systemId}` } : {}) },
    };
  },
  'jumpcloud DELETE /api/systems/:id': async (f, twin) => {
    const sys = await f.system();
    return {
      params: { id: sys.systemId },
      ...(twin ? { auth: { kind: 'signed' as const, system: sys } } : {}),
      expect: { action: 'system.delete', targetType: 'system', targetId: sys.systemId, ...(twin ? { actor: `system:${sys.systemId}` } : {}) },
    };
  },
  'jumpcloud POST /api/v2/systemgroups': async (f) => ({
    body: { name: f.unique('jg') },
    expect: { action: 'group.create', targetType: 'group', targetId: byId },
  }),
  'jumpcloud PUT /api/v2/systemgroups/:id': async (f) => {
    const id = await group(f);
    return { params: { id }, body: { name: f.unique('jg') }, expect: { action: 'group.update', targetType: 'group', targetId: id } };
  },
  'jumpcloud DELETE /api/v2/systemgroups/:id': async (f) => {
    const id = await group(f);
    return { params: { id }, expect: { action: 'group.delete', targetType: 'group', targetId: id } };
  },
  'jumpcloud POST /api/v2/systemgroups/:id/members': async (f, twin) => memberAdd(f, twin),
  'jumpcloud POST /api/v2/systemgroups/:id': async (f, twin) => memberAdd(f, twin),
  'jumpcloud POST /api/systemusers': async (f) => ({
    body: { username: f.unique('ju') },
    expect: { action: 'user.create', targetType: 'user', targetId: byId },
  }),
  'jumpcloud PUT /api/systemusers/:id': async (f) => {
    const id = await user(f);
    return { params: { id }, body: { firstname: 'Ada' }, expect: { action: 'user.update', targetType: 'user', targetId: id } };
  },
  'jumpcloud DELETE /api/systemusers/:id': async (f) => {
    const id = await user(f);
    return { params: { id }, expect: { action: 'user.delete', targetType: 'user', targetId: id } };
  },
  'jumpcloud POST /api/v2/systems/:id/associations': async (f, twin) => {
    const [id, sys] = [await group(f), await f.system()];
    return {
      params: { id: sys.systemId },
      body: { op: 'add', type: 'system_group', id },
      ...(twin ? { auth: { kind: 'signed' as const, system: sys } } : {}),
      expect: { action: 'group.member.add', targetType: 'group', targetId: id, ...(twin ? { actor: `system:${sys.systemId}` } : {}) },
    };
  },
  'jumpcloud POST /api/command/trigger/:name': async (f, twin) => {
    const name = f.unique('jt');
    const sys = await f.system();
    await command(f, { trigger: name, launch_type: 'trigger', default_targets: { system_ids: [sys.systemId] } });
    if (!twin) return { params: { name }, body: { a: '1' }, expect: { action: 'trigger.fire', targetType: 'trigger', targetId: name } };
    // Called with the trigger's secret instead of a key: the trigger is the actor.
    const { trigger, secret } = await ok(f, 'POST', '/v1/triggers', { name, secret: true });
    const text = JSON.stringify({ a: '1' });
    const t = Math.floor(Date.now() / 1000);
    return {
      params: { name },
      raw: { text, type: 'application/json' },
      auth: { kind: 'none' },
      headers: { 'x-muster-signature': `t=${t},v1=${signTrigger(secret, t, text)}` },
      expect: { action: 'trigger.fire', targetType: 'trigger', targetId: name, actor: `trigger:${trigger.id}` },
    };
  },

  // PuppetDB: both methods submit a command
  'puppetdb POST /pdb/cmd/v1': async (f) => pdbSubmit(f),
  'puppetdb PUT /pdb/cmd/v1': async (f) => pdbSubmit(f),

  // BeyondTrust: a console script's ticket, by GET or POST
  'beyondtrust POST /api/client_script': async () => ({
    query: 'type=rep&operation=generate&action=start_jump_item_session&client.hostname=nothing-matches',
    expect: { action: 'session.ticket', targetType: 'organization' },
  }),
  'beyondtrust GET /api/client_script': async () => ({
    query: 'type=rep&operation=generate&action=start_jump_item_session&client.hostname=nothing-matches',
    expect: { action: 'session.ticket', targetType: 'organization' },
  }),

  // SimpleMDM (HTTP Basic, the key as user name)
  'simplemdm POST /api/v1/scripts': async (f) => ({
    auth: { kind: 'basic' },
    body: { name: f.unique('m'), content: '#!/bin/sh\ntrue' },
    expect: { action: 'script.create', targetType: 'script' },
  }),
  'simplemdm PATCH /api/v1/scripts/:id': async (f) => ({
    auth: { kind: 'basic' },
    params: { id: await smdmScript(f) },
    body: { content: '#!/bin/sh\nfalse' },
    expect: { action: 'script.update', targetType: 'script' },
  }),
  'simplemdm DELETE /api/v1/scripts/:id': async (f) => ({
    auth: { kind: 'basic' },
    params: { id: await smdmScript(f) },
    expect: { action: 'script.delete', targetType: 'script' },
  }),
  'simplemdm POST /api/v1/script_jobs': async (f) => ({
    auth: { kind: 'basic' },
    body: { script_id: await smdmScript(f), device_ids: (await f.system()).systemId },
    expect: { action: 'job.launch', targetType: 'job' },
  }),
  'simplemdm DELETE /api/v1/script_jobs/:id': async (f) => {
    const sys = await f.system();
    const r = await call(f.url, undefined, 'POST', '/api/v1/script_jobs', { script_id: await smdmScript(f), device_ids: sys.systemId }, basic(f.admin));
    return { auth: { kind: 'basic' }, params: { id: String(r.body.data.id) }, expect: { action: 'job.cancel', targetType: 'job' } };
  },
  'simplemdm POST /api/v1/jobs': async (f) => {
    const name = f.unique('m');
    await call(f.url, undefined, 'POST', '/api/v1/scripts', { name, content: '#!/bin/sh\ntrue' }, basic(f.admin));
    return {
      auth: { kind: 'basic' },
      body: { scriptname: name, target_type: 'device', target: (await f.system()).systemId },
      expect: { action: 'job.launch', targetType: 'job' },
    };
  },
  'simplemdm PUT /api/v1/devices/:id/custom_attribute_values/:name': async (f) => {
    const [name, sys] = [await customAttribute(f), await f.system()];
    return {
      auth: { kind: 'basic' },
      params: { id: sys.systemId, name },
      body: { value: 'red' },
      expect: { action: 'system.update', targetType: 'system', targetId: sys.systemId },
    };
  },
  'simplemdm PUT /api/v1/devices/:id/custom_attribute_values': async (f) => {
    const [name, sys] = [await customAttribute(f), await f.system()];
    return {
      auth: { kind: 'basic' },
      params: { id: sys.systemId },
      body: { data: [{ name, value: 'blue' }] },
      expect: { action: 'system.update', targetType: 'system', targetId: sys.systemId },
    };
  },
  'simplemdm POST /api/v1/custom_attributes': async (f) => {
    const name = f.unique('attr').replace(/-/g, '_');
    return { auth: { kind: 'basic' }, body: { name }, expect: { action: 'custom_attribute.create', targetType: 'custom_attribute', targetId: name } };
  },
  'simplemdm PATCH /api/v1/custom_attributes/:name': async (f) => attributeUpdate(f),
  'simplemdm PUT /api/v1/custom_attributes/:name': async (f) => attributeUpdate(f),
  'simplemdm DELETE /api/v1/custom_attributes/:name': async (f) => {
    const name = await customAttribute(f);
    return { auth: { kind: 'basic' }, params: { name }, expect: { action: 'custom_attribute.delete', targetType: 'custom_attribute', targetId: name } };
  },

  // The agent hub: enrollment with an enrollment key
  'agent POST /agent/v1/enroll': async (f) => {
    const pem = (await import('node:crypto')).generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return {
      auth: { kind: 'bearer', secret: f.enrollmentKey },
      body: { public_key: pem, facts: { hostname: f.unique('h'), os: 'linux', os_release: 'Test', arch: 'x64', ip_addresses: [], agent_version: '0.0.0' } },
      expect: { action: 'system.enroll', targetType: 'system', targetId: (b) => b.system_id, actor: f.enrollmentActor },
    };
  },
};

async function memberAdd(f: Fixture, twin: boolean): Promise<Built> {
  const [id, sys] = [await group(f), await f.system()];
  return {
    params: { id },
    body: { op: 'add', type: 'system', id: sys.systemId },
    ...(twin ? { auth: { kind: 'signed' as const, system: sys } } : {}),
    expect: { action: 'group.member.add', targetType: 'group', targetId: id, ...(twin ? { actor: `system:${sys.systemId}` } : {}) },
  };
}

async function attributeUpdate(f: Fixture): Promise<Built> {
  const name = await customAttribute(f);
  return {
    auth: { kind: 'basic' },
    params: { name },
    body: { default_value: 'x' },
    expect: { action: 'custom_attribute.update', targetType: 'custom_attribute', targetId: name },
  };
}

async function pdbSubmit(f: Fixture): Promise<Built> {
  const certname = f.unique('node');
  return {
    query: `command=replace_facts&version=5&certname=${certname}`,
    raw: { text: PDB_FACTS(certname), type: 'application/json' },
    expect: { action: 'ingest.submit', targetType: 'ingest_command', targetId: (b) => b.uuid },
  };
}

/** Sends a built request to `url` (the route's path with its params), as the builder says it authenticates. */
export async function send(f: Fixture, method: string, path: string, b: Built, requestId: string) {
  const full = b.query ? `${path}?${b.query}` : path;
  const text = b.raw?.text ?? (b.body === undefined ? undefined : JSON.stringify(b.body));
  const headers: Record<string, string> = {
    'x-request-id': requestId,
    ...(text !== undefined ? { 'content-type': b.raw?.type ?? 'application/json' } : {}),
    ...b.headers,
  };
  const auth = b.auth ?? { kind: 'admin' };
  if (auth.kind === 'admin') headers.authorization = `Bearer ${f.admin}`;
  if (auth.kind === 'basic') Object.assign(headers, basic(f.admin));
  if (auth.kind === 'bearer') headers.authorization = `Bearer ${auth.secret}`;
  if (auth.kind === 'signed') {
    const date = httpDate(new Date());
    const nonce = randomBytes(8).toString('hex');
    headers.date = date;
    headers['x-nonce'] = nonce;
    headers.authorization = signRequest({
      keyId: `system/${auth.system.systemId}`,
      privateKeyPem: auth.system.privateKeyPem,
      request: { method, path: full, headers: { date, 'x-nonce': nonce } },
      headers: ['request-line', 'date', 'x-nonce'],
    });
  }
  return call(f.url, undefined, method, full, text, headers);
}
