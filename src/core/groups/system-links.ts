import type { AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { notFound } from '../errors.js';
import { isId } from '../ids.js';
import { authorizeOnSystem, callerLabel, type Caller, type SystemStore } from '../systems/index.js';

/** A membership change: add or remove. */
export type MembershipOp = 'add' | 'remove';

/** One kind of link between a system and something of its organization: a group's members, a user's bindings. */
export interface LinkKind {
  /** What the audit event's target is (`group`, `user`). */
  targetType: string;
  /** The audit action before `.add` / `.remove` (`group.member`, `user.binding`). */
  action: string;
}

/**
 * The rules every system link follows: a system may read and change only its
 * own links (UNAUTHENTICATED otherwise), a key needs `viewer` to read and
 * `operator` to change, the system must be of the caller's organization
 * (NOT_FOUND otherwise, as for a system of another), and every change is
 * audited with the system it names.
 */
export class SystemLinks {
  constructor(
    private readonly kind: LinkKind,
    private readonly systems: Pick<SystemStore, 'getSystem'>,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
  ) {}

  /** The organization a caller reads a system's links in, once the system is known to be there. */
  async forReading(caller: Caller, systemId: string): Promise<string> {
    const organizationId = authorizeOnSystem(caller, systemId, 'viewer');
    await this.requireSystem(organizationId, systemId);
    return organizationId;
  }

  /**
   * Adds or removes the link between `systemId` and what `find` resolves in
   * the caller's organization; `apply` writes it (idempotent).
   */
  async change(
    caller: Caller,
    systemId: string,
    op: MembershipOp,
    find: (organizationId: string) => Promise<{ id: string }>,
    apply: (targetId: string, systemId: string, op: MembershipOp) => Promise<void>,
  ): Promise<void> {
    const organizationId = authorizeOnSystem(caller, systemId, 'operator');
    const target = await find(organizationId);
    await this.requireSystem(organizationId, systemId);
    await apply(target.id, systemId, op);
    await this.audit.record(
      {
        organizationId,
        actor: callerLabel(caller),
        action: `${this.kind.action}.${op}`,
        targetType: this.kind.targetType,
        targetId: target.id,
        details: { system_id: systemId },
      },
      this.clock.now(),
    );
  }

  private async requireSystem(organizationId: string, systemId: string): Promise<void> {
    if (!isId(systemId) || !(await this.systems.getSystem(organizationId, systemId))) throw notFound('system', systemId);
  }
}
