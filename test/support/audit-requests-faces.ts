import { signTrigger } from '../../src/core/commands/index.js';
import { waitFor } from './processes.js';
import { call } from './server.js';
import {
  attributeUpdate,
  basic,
  byId,
  command,
  customAttribute,
  group,
  jobRuns,
  memberAdd,
  ok,
  pdbSubmit,
  script,
  smdmScript,
  user,
  type Built,
  type Fixture,
} from './audit-fixture.js';

/** The builders of test/support/audit-requests.ts for the faces other than the native API. */
export const FACE_BUILDERS: Record<string, (f: Fixture, twin: boolean) => Promise<Built>> = {
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
