import Type from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SystemUserQuery } from '../../../core/users/index.js';
import type { TypeBoxProvider } from '../../type-provider.js';
import { adminOf, type JumpCloudDeps } from '../context.js';
import { JC_USER_FIELDS, JC_USER_QUERY_FIELDS, jcSystemUser, toCoreFields } from '../inventory-views.js';
import { filters, paging, projection, sortKeys, V1ListQuery } from '../list-query.js';
import { refuseUnsupported, type Unsupported } from '../unsupported.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const OneQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1024 })) });
const OPS: Record<string, SystemUserQuery['filters'][number]['op']> = { $eq: 'eq', $ne: 'ne', $in: 'in', $regex: 'contains' };

const off = (why: string): Unsupported => ({ accepts: [false], why });
const none = (why: string): Unsupported => ({ accepts: [[]], why });
const blank = (why: string): Unsupported => ({ accepts: [''], why });
const ACCOUNTS = 'muster does not manage accounts on the systems';
const KEPT = 'muster keeps only username, email, firstname and lastname of a system user';

/**
 * JumpCloud's system user fields muster cannot honour, accepted only with the
 * value that asks for nothing (the one JumpCloud's clients send by default),
 * so that a client never believes a setting took effect when it did not.
 */
const UNSUPPORTED: Record<string, Unsupported> = {
  password: { accepts: [], why: 'muster does not manage passwords' },
  sudo: off(ACCOUNTS),
  passwordless_sudo: off(ACCOUNTS),
  enable_managed_uid: off(ACCOUNTS),
  ldap_binding_user: off(ACCOUNTS),
  samba_service_user: off(ACCOUNTS),
  externally_managed: off(ACCOUNTS),
  enable_user_portal_multifactor: off(ACCOUNTS),
  password_never_expires: off(ACCOUNTS),
  account_locked: off(ACCOUNTS),
  suspended: off(ACCOUNTS),
  allow_public_key: { accepts: [true], why: ACCOUNTS },
  activated: { accepts: [true], why: ACCOUNTS },
  unix_uid: { accepts: [null], why: ACCOUNTS },
  unix_guid: { accepts: [null], why: ACCOUNTS },
  public_key: blank(ACCOUNTS),
  ssh_keys: none(ACCOUNTS),
  tags: none(KEPT),
  attributes: none(KEPT),
  addresses: none(KEPT),
  phoneNumbers: none(KEPT),
  relationships: none(KEPT),
  ...Object.fromEntries(
    [
      'displayname',
      'middlename',
      'description',
      'location',
      'jobTitle',
      'department',
      'company',
      'costCenter',
      'employeeType',
      'employeeIdentifier',
      'alternateEmail',
      'manager',
    ].map((field) => [field, blank(KEPT)]),
  ),
};

/** A create or update body in core names, after refusing what muster cannot honour. */
function userInput(req: FastifyRequest): { patch: Record<string, unknown>; names: Record<string, string> } {
  const body = req.body ?? {};
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    refuseUnsupported(body, UNSUPPORTED);
    // Accepted above, so nothing of theirs remains to be stored.
    const kept = Object.fromEntries(Object.entries(body).filter(([k]) => !Object.hasOwn(UNSUPPORTED, k)));
    return toCoreFields(kept, JC_USER_FIELDS);
  }
  return toCoreFields(body, JC_USER_FIELDS);
}

/** /api/systemusers (v1): system users, the same ones as /v1/users and /api/v2/systems/{id}/users (API key). */
export function jumpcloudSystemUserRoutes(app: FastifyInstance, { core }: JumpCloudDeps): void {
  const api = app.withTypeProvider<TypeBoxProvider>();

  api.get('/systemusers', { schema: { querystring: V1ListQuery, hide: true } }, async (req) => {
    const q = req.query;
    const project = projection(q.fields);
    const page = await core.users.query(adminOf(req), {
      filters: filters(q.filter, JC_USER_QUERY_FIELDS, OPS),
      sort: sortKeys(q.sort, JC_USER_QUERY_FIELDS),
      ...paging(q, 10),
    });
    return { totalCount: page.total, results: page.items.map((u) => project(jcSystemUser(u))) };
  });

  api.post('/systemusers', { schema: { hide: true } }, async (req) => {
    const { patch, names } = userInput(req);
    return jcSystemUser(await core.users.create(adminOf(req), patch, names));
  });

  api.get('/systemusers/:id', { schema: { params: Params, querystring: OneQuery, hide: true } }, async (req) =>
    projection(req.query.fields)(jcSystemUser(await core.users.get(adminOf(req), req.params.id))),
  );

  api.put('/systemusers/:id', { schema: { params: Params, hide: true } }, async (req) => {
    const { patch, names } = userInput(req);
    return jcSystemUser(await core.users.update(adminOf(req), req.params.id, patch, names));
  });

  api.delete('/systemusers/:id', { schema: { params: Params, hide: true } }, async (req) => jcSystemUser(await core.users.remove(adminOf(req), req.params.id)));
}
