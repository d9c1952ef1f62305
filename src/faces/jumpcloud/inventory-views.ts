import { invalid } from '../../core/errors.js';
import type { GroupRecord } from '../../core/groups/index.js';
import { networkInterfaces, type QueryField, type SystemRecord } from '../../core/systems/index.js';
import type { SystemUserRecord, UserQueryField } from '../../core/users/index.js';
import { ownValue } from './list-query.js';

/**
 * JumpCloud's wire shapes for inventory. Systems follow the v1 record of the
 * System Context reference (`_id`, `displayName`, `hostname`, `os`, `version`,
 * `arch`, `agentVersion`, `firstContact`, `lastContact`, `active`, `tags`, …);
 * groups, users and associations follow v2.
 */
export function jcSystem(s: SystemRecord): Record<string, unknown> {
  return {
    __v: 0,
    _id: s.id,
    id: s.id,
    organization: s.organizationId,
    displayName: s.displayName,
    hostname: s.hostname,
    description: s.description,
    os: s.os,
    version: s.osRelease,
    arch: s.arch,
    kernelVersion: s.kernel,
    agentVersion: s.agentVersion,
    // In the reference's example; JumpCloud-internal (which of its servers, which socket), so null here.
    agentServer: null,
    connectionKey: null,
    remoteIP: s.publicIp,
    networkInterfaces: networkInterfaces(s).map(({ address, name }) => ({ address, family: address.includes(':') ? 'IPv6' : 'IPv4', internal: false, name })),
    firstContact: s.createdAt,
    created: s.createdAt,
    lastContact: s.lastContact,
    active: s.connected,
    tags: s.tags,
    attributes: s.attributes,
  };
}

/** JumpCloud field names → core names, for filters, sorting and PUT bodies (errors name the JumpCloud field). */
export const JC_SYSTEM_FIELDS: Record<string, string> = {
  _id: 'id',
  id: 'id',
  organization: 'organizationId',
  displayName: 'displayName',
  hostname: 'hostname',
  description: 'description',
  os: 'os',
  version: 'osRelease',
  arch: 'arch',
  kernelVersion: 'kernel',
  agentVersion: 'agentVersion',
  remoteIP: 'publicIp',
  networkInterfaces: 'ipAddresses',
  firstContact: 'firstContact',
  created: 'createdAt',
  lastContact: 'lastContact',
  active: 'connected',
  tags: 'tags',
  attributes: 'attributes',
};

/** JumpCloud field names a listing can filter or sort on, with their core names. */
export const JC_QUERY_FIELDS: Record<string, QueryField> = {
  _id: 'id',
  id: 'id',
  hostname: 'hostname',
  displayName: 'displayName',
  os: 'os',
  version: 'osRelease',
  arch: 'arch',
  agentVersion: 'agentVersion',
  description: 'description',
  firstContact: 'createdAt',
  created: 'createdAt',
  lastContact: 'lastContact',
  active: 'connected',
  tags: 'tags',
};

/**
 * A JSON body's JumpCloud keys → core names, with the JumpCloud name of each
 * for errors. Unknown keys pass through as `unknown:<key>`, which core refuses
 * naming the caller's key.
 */
export function toCoreFields(body: unknown, fields: Readonly<Record<string, string>>): { patch: Record<string, unknown>; names: Record<string, string> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  const patch: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    const core = ownValue(fields, key) ?? `unknown:${key}`;
    patch[core] = value;
    names[core] = key;
  }
  return { patch, names };
}

export function jcGroup(g: GroupRecord): Record<string, unknown> {
  return { id: g.id, name: g.name, description: g.description, type: 'system_group', attributes: null };
}

export function jcUser(u: SystemUserRecord): Record<string, unknown> {
  return { _id: u.id, id: u.id, username: u.username, email: u.email, firstname: u.firstName, lastname: u.lastName, created: u.createdAt };
}

/** JumpCloud v1 system user fields that muster keeps, with their core names. */
export const JC_USER_FIELDS: Record<string, string> = { username: 'username', email: 'email', firstname: 'firstName', lastname: 'lastName' };

/** JumpCloud v1 system user fields a listing can filter or sort on. */
export const JC_USER_QUERY_FIELDS: Record<string, UserQueryField> = {
  _id: 'id',
  username: 'username',
  email: 'email',
  firstname: 'firstName',
  lastname: 'lastName',
  created: 'createdAt',
};

/** A system user in JumpCloud's v1 shape (`Systemuserreturn`), with the fields muster keeps. */
export function jcSystemUser(u: SystemUserRecord): Record<string, unknown> {
  return {
    _id: u.id,
    username: u.username,
    email: u.email,
    firstname: u.firstName,
    lastname: u.lastName,
    organization: u.organizationId,
    created: u.createdAt,
  };
}

/** A v2 association to `id` of `type`. */
export function jcAssociation(type: 'system' | 'system_group' | 'user', id: string): Record<string, unknown> {
  return { attributes: null, to: { attributes: null, id, type } };
}

/** A v2 graph traversal result (memberof, users): a direct path of one hop. */
export function jcTraversal(type: 'system_group' | 'user', id: string): Record<string, unknown> {
  return { id, type, paths: [[jcAssociation(type, id)]], compiledAttributes: null };
}
