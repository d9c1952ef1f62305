import { waitFor } from './processes.js';
import {
  byId,
  command,
  discarded,
  finishedJob,
  group,
  jobRuns,
  offlineJob,
  ok,
  openSession,
  script,
  user,
  webhook,
  type Built,
  type Fixture,
} from './audit-fixture.js';
import { FACE_BUILDERS } from './audit-requests-faces.js';

export { send, type Fixture } from './audit-fixture.js';

/**
 * One valid request per mutating route of every face and the audit event it
 * must leave, for test/audit-routes.test.ts, which walks the route table and
 * fails on a mutating route missing here: the native API's here, the other
 * faces' in audit-requests-faces.ts.
 */
const NATIVE_BUILDERS: Record<string, (f: Fixture, twin: boolean) => Promise<Built>> = {
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
};

/** One valid call per mutating route, keyed by face, method and path (a JumpCloud trailing-slash twin shares its route's). */
export const BUILDERS: Record<string, (f: Fixture, twin: boolean) => Promise<Built>> = { ...NATIVE_BUILDERS, ...FACE_BUILDERS };
