import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpDate, signRequest } from '../src/auth/http-signature.js';
import { signTrigger } from '../src/core/commands/index.js';
import type { RouteAuth } from '../src/faces/face.js';
import { DATABASES } from './support/databases.js';
import { startAgentProcess, waitFor, type AgentProcess, type ServerProcess } from './support/processes.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { enrollSystem, type SignedSystem } from './support/system-context.js';

/**
 * Generated from the route table: every mutating route of every face (and the
 * GETs that change something) is called once, validly, and must leave an
 * audit event with the right action, actor, target, request id and client
 * address. A mutating route with neither a request builder below nor a
 * reasoned exemption fails the first test, so a new route cannot ship
 * unaudited by accident.
 */

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes that change nothing, whatever their method. */
const EXEMPT: Record<string, string> = {
  // PuppetDB takes queries over POST (a long AST does not fit a URL); they only read.
  'puppetdb POST /pdb/query/v4': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/nodes': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/facts': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/factsets': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/fact-contents': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/reports': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/resources': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/catalogs': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/events': 'a PuppetDB query: a read',
  'puppetdb POST /pdb/query/v4/inventory': 'a PuppetDB query: a read',
};

/** GET routes that change something: they are held to the same rule. */
const MUTATING_GETS = new Set(['beyondtrust GET /api/client_script']);

interface Expected {
  action: string;
  /** The event's actor; the admin key's by default. */
  actor?: string;
  targetType: string;
  /** The target's id, when the builder knows it before the call; or read from the answer. */
  targetId?: string | ((body: any) => string);
}

/** How a builder's request authenticates. */
type Auth = { kind: 'admin' } | { kind: 'none' } | { kind: 'basic' } | { kind: 'signed'; system: SignedSystem } | { kind: 'bearer'; secret: string };

interface Built {
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

interface Fixture {
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
const BUILDERS: Record<string, (f: Fixture, twin: boolean) => Promise<Built>> = {
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

/** JumpCloud and SimpleMDM answer every route with a trailing slash too: the twin shares its route's builder. */
const isTwin = (r: RouteAuth) => (r.face === 'jumpcloud' || r.face === 'simplemdm') && r.url.endsWith('/');
const keyOf = (r: RouteAuth) => `${r.face} ${r.method} ${isTwin(r) ? r.url.slice(0, -1) : r.url}`;
const audited = (r: RouteAuth) => (MUTATING.has(r.method) || MUTATING_GETS.has(keyOf(r))) && !(keyOf(r) in EXEMPT);

/** Sends a built request to `url` (the route's path with its params), as the builder says it authenticates. */
async function send(f: Fixture, method: string, path: string, b: Built, requestId: string) {
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

describe.each(DATABASES)('every mutating route writes its audit event, on $name', ({ name, skip }) => {
  let s: TestServer;
  let routes: RouteAuth[];
  let agent: AgentProcess | undefined;
  let f: Fixture;
  let n = 0;

  beforeAll(async () => {
    if (skip) return;
    s = await startTestServer(name, { sweep_interval_ms: 100 });
    routes = s.server.routeAuth();
    const api = (method: string, path: string, body?: unknown) => call(s.url, s.adminKey, method, path, body);
    const whoami = (await api('GET', '/v1/whoami')).body;
    const enrollmentKeys = (await api('GET', '/v1/enrollment-keys')).body.items as Array<{ id: string }>;
    agent = await startAgentProcess({ url: s.url, enrollmentKey: s.enrollmentKey } as ServerProcess);
    await waitFor(async () => (await api('GET', `/v1/systems/${agent!.systemId}`)).body?.connected === true, 'the agent to connect');
    f = {
      url: s.url,
      admin: s.adminKey,
      adminActor: `api_key:${whoami.key_id}`,
      enrollmentKey: s.enrollmentKey,
      enrollmentActor: `enrollment_key:${enrollmentKeys[0]!.id}`,
      live: agent.systemId,
      api,
      system: () => enrollSystem(s.url, s.enrollmentKey, `sys-${++n}`),
      unique: (prefix) => `${prefix}-${++n}-${randomBytes(3).toString('hex')}`,
    };
  }, 120_000);
  afterAll(async () => {
    await agent?.proc.stop();
    await s?.stop();
  });

  it.skipIf(skip)('every mutating route has a request builder or a reasoned exemption', () => {
    const missing = [...new Set(routes.filter(audited).map(keyOf))].filter((k) => !(k in BUILDERS));
    expect(missing, 'mutating routes without an audit test: add a builder (or, for a pure read, an exemption)').toEqual([]);
    // Nothing stale: every builder and exemption names a route that exists.
    const known = new Set(routes.map(keyOf));
    expect(Object.keys(BUILDERS).filter((k) => !known.has(k))).toEqual([]);
    expect(Object.keys(EXEMPT).filter((k) => !known.has(k))).toEqual([]);
    expect(routes.filter(audited).length).toBeGreaterThan(100);
  });

  it.skipIf(skip)(
    'each call leaves an event with its action, actor, target, request id and client address',
    async () => {
      const failures: string[] = [];
      for (const route of routes.filter(audited)) {
        const key = keyOf(route);
        const builder = BUILDERS[key];
        if (!builder) continue;
        const built = await builder(f, isTwin(route));
        const path = route.url.replace(/:([A-Za-z]+)/g, (_, p: string) => encodeURIComponent(built.params?.[p] ?? `missing-${p}`));
        const requestId = `audit-test-${++n}`;
        const res = await send(f, route.method, path, built, requestId);
        if (res.status >= 400) {
          failures.push(`${route.method} ${route.url}: ${res.status} ${res.text.slice(0, 200)}`);
          continue;
        }
        const events = (await f.api('GET', `/v1/audit?request_id=${requestId}`)).body.items as Array<Record<string, any>>;
        const want = built.expect;
        const targetId = typeof want.targetId === 'function' ? want.targetId(res.body) : want.targetId;
        const found = events.find(
          (e) =>
            e.action === want.action &&
            e.target_type === want.targetType &&
            (targetId === undefined || e.target_id === targetId) &&
            e.actor === (want.actor ?? f.adminActor),
        );
        if (!found) {
          failures.push(`${route.method} ${route.url}: no ${want.action} event on ${want.targetType}:${targetId ?? '*'}; got ${JSON.stringify(events)}`);
          continue;
        }
        for (const e of events) {
          if (e.request_id !== requestId || e.source_ip !== '127.0.0.1') failures.push(`${route.method} ${route.url}: ${JSON.stringify(e)} lacks its request`);
        }
      }
      expect(failures).toEqual([]);
    },
    300_000,
  );
});
