import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { isId, newId } from '../ids.js';
import { SystemLinks, type MembershipOp } from '../groups/index.js';
import type { Caller, SystemStore } from '../systems/index.js';
import { USER_QUERY_FIELDS, type SystemUserPatch, type SystemUserQuery, type SystemUserRecord, type SystemUserStore } from './store.js';

export type { SystemUserPatch, SystemUserQuery, SystemUserRecord, SystemUserStore, UserQueryField } from './store.js';
export { USER_QUERY_FIELDS } from './store.js';

const USERNAME = /^[a-z_][a-z0-9_.-]{0,31}$/;
const FIELDS = { username: 'username', email: 'email', firstName: 'first_name', lastName: 'last_name' } as const;

/** Validates user fields given in core names; `names` maps them to the caller's names for errors. */
function checkUser(input: Record<string, unknown>, names: Record<string, string>, creating: boolean): SystemUserPatch {
  const name = (k: string) => names[k] ?? k;
  const out: SystemUserPatch = {};
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(FIELDS, key)) throw invalid(name(key), 'is not a known field');
    if (key === 'username') {
      if (typeof value !== 'string' || !USERNAME.test(value))
        throw invalid(name(key), 'must be a POSIX user name: lower-case letters, digits, _.- (at most 32)');
      out.username = value;
    } else if (key === 'email') {
      if (typeof value !== 'string' || value.length > 254 || (value !== '' && !/^[^\s@]+@[^\s@]+$/.test(value)))
        throw invalid(name(key), 'must be an e-mail address');
      out.email = value;
    } else {
      if (typeof value !== 'string' || value.length > 100) throw invalid(name(key), 'must be a string of at most 100 characters');
      out[key as 'firstName' | 'lastName'] = value;
    }
  }
  if (creating && out.username === undefined) throw invalid(name('username'), 'is required');
  return out;
}

/** Paging as for systems (skip ≥ 0, 1 ≤ limit ≤ 1000), and only known fields (own names, never a prototype's). */
function checkUserQuery(query: SystemUserQuery): SystemUserQuery {
  if (!Number.isInteger(query.skip) || query.skip < 0) throw invalid('skip', 'must be a non-negative integer');
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 1000) throw invalid('limit', 'must be an integer from 1 to 1000');
  const known = (field: unknown) => (USER_QUERY_FIELDS as readonly unknown[]).includes(field);
  for (const f of query.filters) if (!known(f.field)) throw invalid('filter', `cannot filter on ${String(f.field)}`);
  for (const s of query.sort) if (!known(s.field)) throw invalid('sort', `cannot sort on ${String(s.field)}`);
  return query;
}

/** System users, and which systems they are bound to. */
export class SystemUserService {
  private readonly links: SystemLinks;

  constructor(
    private readonly store: SystemUserStore,
    systems: Pick<SystemStore, 'getSystem'>,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {
    this.links = new SystemLinks({ targetType: 'user', action: 'user.binding' }, systems, audit, clock);
  }

  /** The organization's system users, by username. */
  async list(actor: Actor): Promise<SystemUserRecord[]> {
    requireRole(actor, 'viewer');
    return this.store.listUsers(actor.organizationId);
  }

  /** A filtered, sorted page of the organization's users, with the total that match. */
  async query(actor: Actor, query: SystemUserQuery): Promise<{ total: number; items: SystemUserRecord[] }> {
    requireRole(actor, 'viewer');
    return this.store.queryUsers(actor.organizationId, checkUserQuery(query));
  }

  /** One system user. */
  async get(actor: Actor, id: string): Promise<SystemUserRecord> {
    requireRole(actor, 'viewer');
    return this.find(actor.organizationId, id);
  }

  /** Creates a user (fields in core names; `names` gives the caller's names for errors). CONFLICT on a taken username. */
  async create(actor: Actor, input: Record<string, unknown>, names: Record<string, string> = FIELDS): Promise<SystemUserRecord> {
    requireRole(actor, 'operator');
    const fields = checkUser(input, names, true);
    const user: SystemUserRecord = {
      id: newId(),
      organizationId: actor.organizationId,
      username: fields.username!,
      email: fields.email ?? '',
      firstName: fields.firstName ?? '',
      lastName: fields.lastName ?? '',
      createdAt: this.clock.now().toISOString(),
    };
    if (!(await this.store.insertUser(user)))
      throw new MusterError('CONFLICT', `a user named ${user.username} already exists`, { field: names.username ?? 'username' });
    await this.record(actor, 'user.create', user.id, { username: user.username });
    return user;
  }

  /** Changes a user's username, e-mail or names (CONFLICT on a taken username). */
  async update(actor: Actor, id: string, input: Record<string, unknown>, names: Record<string, string> = FIELDS): Promise<SystemUserRecord> {
    requireRole(actor, 'operator');
    const user = await this.find(actor.organizationId, id);
    const patch = checkUser(input, names, false);
    const result = await this.store.updateUser(actor.organizationId, id, patch);
    if (result === 'missing') throw notFound('user', id);
    if (result === 'conflict') throw new MusterError('CONFLICT', `a user named ${patch.username} already exists`, { field: names.username ?? 'username' });
    await this.record(actor, 'user.update', id, { ...patch });
    return { ...user, ...patch };
  }

  /** Deletes a user and its bindings; returns the user as it was. */
  async remove(actor: Actor, id: string): Promise<SystemUserRecord> {
    requireRole(actor, 'operator');
    const user = await this.find(actor.organizationId, id);
    if (!(await this.store.deleteUser(actor.organizationId, id))) throw notFound('user', id);
    await this.record(actor, 'user.delete', id, { username: user.username });
    return user;
  }

  /** The ids of the systems a user is bound to. */
  async systemsOf(actor: Actor, id: string): Promise<string[]> {
    requireRole(actor, 'viewer');
    return this.store.systemIdsOfUser((await this.find(actor.organizationId, id)).id);
  }

  /** The users bound to a system (a system may ask about itself). */
  async ofSystem(caller: Caller, systemId: string): Promise<SystemUserRecord[]> {
    await this.links.forReading(caller, systemId);
    return this.store.usersOfSystem(systemId);
  }

  /** Binds a user to a system or unbinds it; a system may change its own bindings only. Idempotent. */
  async changeBinding(caller: Caller, userId: unknown, systemId: string, op: MembershipOp): Promise<void> {
    if (typeof userId !== 'string') throw invalid('id', 'must be a user id');
    await this.links.change(
      caller,
      systemId,
      op,
      (organizationId) => this.find(organizationId, userId),
      (id, system) => (op === 'add' ? this.store.bind(id, system) : this.store.unbind(id, system)),
    );
  }

  private async find(organizationId: string, id: string): Promise<SystemUserRecord> {
    const user = isId(id) ? await this.store.getUser(organizationId, id) : undefined;
    if (!user) throw notFound('user', id);
    return user;
  }

  private async record(actor: Actor, action: string, id: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.record({ organizationId: actor.organizationId, actor: actor.label, action, targetType: 'user', targetId: id, details }, this.clock.now());
  }
}
