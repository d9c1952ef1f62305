import { requireRole, type Actor } from '../access/index.js';
import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { invalid, MusterError, notFound } from '../errors.js';
import { isId, newId } from '../ids.js';
import type { Caller, SystemStore } from '../systems/index.js';
import type { GroupRecord, GroupStore } from './store.js';
import { SystemLinks, type MembershipOp } from './system-links.js';

export type { GroupRecord, GroupStore } from './store.js';
export { SystemLinks, type LinkKind, type MembershipOp } from './system-links.js';

function checkName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 100) throw invalid(field, 'must be 1–100 characters');
  // Names are used in selectors (group:NAME) and CLIs: no quotes or control characters.
  if (/["\\\p{Cc}]/u.test(value)) throw invalid(field, 'must not contain quotes, backslashes or control characters');
  return value.trim();
}

function checkDescription(value: unknown): string {
  if (typeof value !== 'string' || value.length > 4096) throw invalid('description', 'must be a string of at most 4096 characters');
  return value;
}

/** Groups: named sets of systems, by organization. */
export class GroupService {
  private readonly links: SystemLinks;

  constructor(
    private readonly store: GroupStore,
    systems: Pick<SystemStore, 'getSystem'>,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {
    this.links = new SystemLinks({ targetType: 'group', action: 'group.member' }, systems, audit, clock);
  }

  /** The organization's groups, by name. */
  async list(actor: Actor): Promise<GroupRecord[]> {
    requireRole(actor, 'viewer');
    return this.store.listGroups(actor.organizationId);
  }

  /** One group, by id or (case-insensitive) name. */
  async get(actor: Actor, ref: string): Promise<GroupRecord> {
    requireRole(actor, 'viewer');
    return this.find(actor.organizationId, ref);
  }

  /** Creates a group; CONFLICT when the name is taken. */
  async create(actor: Actor, input: { name: unknown; description?: unknown }): Promise<GroupRecord> {
    requireRole(actor, 'operator');
    const now = this.clock.now();
    const group: GroupRecord = {
      id: newId(),
      organizationId: actor.organizationId,
      name: checkName(input.name),
      description: input.description === undefined ? '' : checkDescription(input.description),
      createdAt: now.toISOString(),
    };
    if (!(await this.store.insertGroup(group))) throw new MusterError('CONFLICT', `a group named ${group.name} already exists`, { field: 'name' });
    await this.record(actor, 'group.create', group.id, { name: group.name });
    return group;
  }

  /** Renames a group or changes its description. */
  async update(actor: Actor, ref: string, input: { name?: unknown; description?: unknown }): Promise<GroupRecord> {
    requireRole(actor, 'operator');
    const group = await this.find(actor.organizationId, ref);
    const patch: { name?: string; description?: string } = {};
    if (input.name !== undefined) patch.name = checkName(input.name);
    if (input.description !== undefined) patch.description = checkDescription(input.description);
    const result = await this.store.updateGroup(actor.organizationId, group.id, patch);
    if (result === 'missing') throw notFound('group', ref);
    if (result === 'conflict') throw new MusterError('CONFLICT', `a group named ${patch.name} already exists`, { field: 'name' });
    await this.record(actor, 'group.update', group.id, patch);
    return { ...group, ...patch };
  }

  /** Deletes a group (its systems stay). */
  async remove(actor: Actor, ref: string): Promise<void> {
    requireRole(actor, 'operator');
    const group = await this.find(actor.organizationId, ref);
    if (!(await this.store.deleteGroup(actor.organizationId, group.id))) throw notFound('group', ref);
    await this.record(actor, 'group.delete', group.id, { name: group.name });
  }

  /** The ids of a group's member systems. */
  async members(actor: Actor, ref: string): Promise<string[]> {
    requireRole(actor, 'viewer');
    return this.store.memberIds((await this.find(actor.organizationId, ref)).id);
  }

  /**
   * Adds a system to a group or removes it. A system may change only its own
   * memberships (UNAUTHENTICATED otherwise); an operator any system's of the
   * organization. Idempotent.
   */
  async changeMember(caller: Caller, ref: string, systemId: unknown, op: MembershipOp): Promise<void> {
    if (typeof systemId !== 'string' || systemId === '') throw invalid('id', 'must be a system id');
    await this.links.change(
      caller,
      systemId,
      op,
      (organizationId) => this.find(organizationId, ref),
      (groupId, id) => (op === 'add' ? this.store.addMember(groupId, id) : this.store.removeMember(groupId, id)),
    );
  }

  /** The groups a system belongs to (a system may ask about itself). */
  async ofSystem(caller: Caller, systemId: string): Promise<GroupRecord[]> {
    await this.links.forReading(caller, systemId);
    return this.store.groupsOfSystem(systemId);
  }

  /** Group ids or names → ids, NOT_FOUND naming the first unknown one (for enrollment keys). */
  async resolveIds(organizationId: string, refs: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const ref of refs) ids.push((await this.find(organizationId, ref)).id);
    return [...new Set(ids)];
  }

  private async find(organizationId: string, ref: string): Promise<GroupRecord> {
    const group =
      (isId(ref) ? await this.store.getGroup(organizationId, ref) : undefined) ??
      (ref.length <= 100 ? await this.store.findGroupByName(organizationId, ref) : undefined);
    if (!group) throw notFound('group', ref);
    return group;
  }

  private async record(actor: Actor, action: string, id: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.record({ organizationId: actor.organizationId, actor: actor.label, action, targetType: 'group', targetId: id, details }, this.clock.now());
  }
}
