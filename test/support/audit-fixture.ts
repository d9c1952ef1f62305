import { randomBytes } from 'node:crypto';
import { httpDate, signRequest } from '../../src/auth/http-signature.js';
import { waitFor } from './processes.js';
import { call } from './server.js';
import type { SignedSystem } from './system-context.js';

/**
 * What test/audit-routes.test.ts needs to make a valid call to any mutating
 * route (audit-requests.ts and audit-requests-faces.ts hold one builder per
 * route): the shapes, the fixtures builders make what they act on with, and
 * how a built request is sent.
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

export const ok = async (f: Fixture, method: string, path: string, body?: unknown) => {
  const r = await f.api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
};
// Its deliveries go to a port nothing listens on: they are logged as failed attempts, never received.
export const webhook = async (f: Fixture) =>
  (await ok(f, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/audit', events: ['job.completed'] })).webhook.id as string;
export const group = async (f: Fixture) => (await ok(f, 'POST', '/v1/groups', { name: f.unique('g') })).id as string;
export const user = async (f: Fixture) => (await ok(f, 'POST', '/v1/users', { username: f.unique('u') })).id as string;
export const script = async (f: Fixture) => (await ok(f, 'POST', '/v1/scripts', { name: f.unique('s'), content: 'true' })).id as string;
export const command = async (f: Fixture, extra: Record<string, unknown> = {}) =>
  (await ok(f, 'POST', '/v1/commands', { name: f.unique('c'), content: 'true', ...extra })).id as string;
export const offlineJob = async (f: Fixture) => {
  const sys = await f.system();
  return (await ok(f, 'POST', '/v1/jobs', { content: 'true', targets: { system_ids: [sys.systemId] } })).job.id as string;
};
export const jobRuns = async (f: Fixture, jobId: string) => (await ok(f, 'GET', `/v1/jobs/${jobId}/runs`)).items as Array<{ id: string; state: string }>;
export const finishedJob = async (f: Fixture, content: string) => {
  const id = (await ok(f, 'POST', '/v1/jobs', { content, targets: { system_ids: [f.live] } })).job.id as string;
  await waitFor(async () => (await ok(f, 'GET', `/v1/jobs/${id}`)).done === true, `job ${id} to finish`);
  return id;
};
export const discarded = async (f: Fixture) => {
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
export const openSession = async (f: Fixture) => (await ok(f, 'POST', '/v1/sessions', { system_id: f.live })).id as string;
export const customAttribute = async (f: Fixture) => {
  const name = f.unique('attr').replace(/-/g, '_');
  await ok(f, 'POST', '/api/v1/custom_attributes', { name });
  return name;
};
export const smdmScript = async (f: Fixture) => {
  const r = await call(f.url, undefined, 'POST', '/api/v1/scripts', { name: f.unique('m'), content: '#!/bin/sh\ntrue' }, basic(f.admin));
  if (r.status !== 201) throw new Error(r.text);
  return String(r.body.data.id);
};
export const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });
export const byId = (body: any) => body.id as string;
export const PDB_FACTS = (certname: string) =>
  JSON.stringify({ certname, environment: 'production', producer_timestamp: new Date().toISOString(), producer: 'puppet', values: { a: 1 } });

export async function memberAdd(f: Fixture, twin: boolean): Promise<Built> {
  const [id, sys] = [await group(f), await f.system()];
  return {
    params: { id },
    body: { op: 'add', type: 'system', id: sys.systemId },
    ...(twin ? { auth: { kind: 'signed' as const, system: sys } } : {}),
    expect: { action: 'group.member.add', targetType: 'group', targetId: id, ...(twin ? { actor: `system:${sys.systemId}` } : {}) },
  };
}

export async function attributeUpdate(f: Fixture): Promise<Built> {
  const name = await customAttribute(f);
  return {
    auth: { kind: 'basic' },
    params: { name },
    body: { default_value: 'x' },
    expect: { action: 'custom_attribute.update', targetType: 'custom_attribute', targetId: name },
  };
}

export async function pdbSubmit(f: Fixture): Promise<Built> {
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
