import { requireRole, type Actor } from '../access/index.js';
import { stampRequest, type AuditEvent, type AuditSink } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { MusterError, notFound } from '../errors.js';
import { AGENT_FACTS_PRODUCER } from './agent-facts.js';
import { Completions, type Outcome } from './completions.js';
import { GroupCommit } from './group-commit.js';
import { parseIngestQuery, type QueryEntity, type QueryInput } from './query.js';
import { PreparedEffects } from './prepared.js';
import { admit, type SubmitInput } from './submit.js';
import type {
  IngestCatalog,
  IngestCommandRecord,
  IngestDataStore,
  IngestFactset,
  IngestNode,
  IngestQueryResult,
  IngestQueueStore,
  IngestReport,
} from './types.js';
import type { WakeBus } from '../wake.js';

export interface IngestDeps {
  queue: IngestQueueStore;
  data: IngestDataStore;
  clock: Clock;
  /** Wakes other replicas' workers (PostgreSQL); undefined on a single node. */
  waker?: WakeBus | undefined;
  /** Finds an organization by slug, for reporters trusted by network or certificate. */
  organizationBySlug?: ((slug: string) => Promise<{ id: string } | undefined>) | undefined;
  /** Where dead-letter changes are audited (a submission's event is queued with its command). */
  audit?: AuditSink | undefined;
}

/** What a blocking submission learns. */
export interface WaitResult {
  processed: boolean;
  timedOut: boolean;
  error?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Ingest: commands are admitted (checked and durably queued), processed
 * asynchronously by IngestWorkers, and their data read back. Failures are
 * kept in the dead letter office.
 */
export class IngestService {
  readonly completions = new Completions();
  /** Effects worked out at submission, for this process's workers (prepared.ts). */
  readonly prepared = new PreparedEffects();
  private readonly localWake = new Set<() => void>();
  /**
   * Commands with the audit events of their submissions (none for an agent's
   * own facts): a reporter submits thousands a second, and each group's
   * events are written in the group's one transaction.
   */
  private readonly commits: GroupCommit<{ record: IngestCommandRecord; audit?: { event: AuditEvent; at: Date } }>;

  constructor(private readonly deps: IngestDeps) {
    this.commits = new GroupCommit(async (items) => {
      await deps.queue.enqueue(
        items.map((i) => i.record),
        items.flatMap((i) => (i.audit ? [i.audit] : [])),
      );
      // One wake-up per committed group, here and (through NOTIFY) on other replicas.
      this.ringLocal();
      deps.waker?.publish('ingest', '').catch(() => undefined);
    });
    deps.waker?.subscribe((topic) => {
      if (topic === 'ingest') this.ringLocal();
    });
  }

  /** Registers a worker wake-up (returns the unregister function). */
  onWork(listener: () => void): () => void {
    this.localWake.add(listener);
    return () => this.localWake.delete(listener);
  }

  private ringLocal(): void {
    for (const l of this.localWake) l();
  }

  /**
   * Whether `actor` may submit commands (FORBIDDEN if not), for a face to ask
   * before it reads a body: the authorization answer comes before any answer
   * about the body, and a refused caller's body is never read.
   */
  authorizeSubmit(actor: Actor): void {
    requireRole(actor, 'operator');
  }

  /**
   * Checks a command and queues it; resolves with its id only once it is
   * committed. INVALID_ARGUMENT for anything decidable at submission.
   */
  async submit(actor: Actor, input: SubmitInput): Promise<{ id: string }> {
    requireRole(actor, 'operator');
    const admitted = admit(actor.organizationId, input, this.deps.clock.now().toISOString());
    const { record } = admitted;
    // Stamped now with its request: the group may be committed in another request's turn.
    const event = stampRequest({
      ...this.event(actor, 'ingest.submit', record.id),
      details: { command: record.command, version: record.version, certname: record.certname },
    });
    return this.enqueue(admitted, { event, at: this.deps.clock.now() });
  }

  private event(actor: Actor, action: string, id: string): AuditEvent {
    return { organizationId: actor.organizationId, actor: actor.label, action, targetType: 'ingest_command', targetId: id };
  }

  /**
   * The agent's own facts, through the same queue as any reporter's: a
   * "replace facts" v5 for `certname`. Resolves once queued.
   */
  async submitFacts(
    organizationId: string,
    certname: string,
    facts: Record<string, unknown>,
    producerTimestamp: Date,
    producer = AGENT_FACTS_PRODUCER,
  ): Promise<{ id: string }> {
    const payload = JSON.stringify({ certname, environment: null, producer_timestamp: producerTimestamp.toISOString(), producer, values: facts });
    return this.enqueue(admit(organizationId, { command: 'replace facts', version: 5, certname, payload }, this.deps.clock.now().toISOString()));
  }

  private async enqueue(
    { record, parsed }: { record: IngestCommandRecord; parsed: unknown },
    audit?: { event: AuditEvent; at: Date },
  ): Promise<{ id: string }> {
    this.prepared.prepare(record, parsed);
    try {
      await this.commits.add(audit ? { record, audit } : { record });
    } catch (err) {
      this.prepared.drop(record.id);
      throw err;
    }
    return { id: record.id };
  }

  /**
   * The actor of a reporter trusted without an API key (loopback, or a client
   * certificate the TLS layer verified): an operator of organization `slug`.
   */
  async trustedReporter(slug: string, label: string): Promise<Actor> {
    const org = await this.deps.organizationBySlug?.(slug);
    if (!org) throw new MusterError('UNAUTHENTICATED', `no organization ${slug} for trusted reporters`);
    return { organizationId: org.id, role: 'operator', label };
  }

  /** Waits until the command is processed (done or discarded) or `ms` pass. */
  async waitFor(actor: Actor, id: string, ms: number): Promise<WaitResult> {
    const deadline = Date.now() + ms;
    for (;;) {
      const record = await this.getCommand(actor, id);
      if (record.state === 'done' || record.state === 'discarded') return result({ state: record.state, error: record.error });
      const left = deadline - Date.now();
      if (left <= 0) return { processed: false, timedOut: true };
      // In-process completion wakes at once; another replica's is seen by the re-read.
      const outcome = await this.completions.wait(id, Math.min(left, 500));
      if (outcome) return result(outcome);
    }
  }

  /** One command's state (its uuid from submission). */
  async getCommand(actor: Actor, id: string): Promise<IngestCommandRecord> {
    requireRole(actor, 'viewer');
    const record = UUID.test(id) ? await this.deps.queue.getCommand(actor.organizationId, id) : undefined;
    if (!record) throw notFound('ingest command', id);
    return record;
  }

  /** The dead letter office, newest first. */
  async listDiscarded(actor: Actor, limit = 100): Promise<IngestCommandRecord[]> {
    requireRole(actor, 'viewer');
    return this.deps.queue.listDiscarded(actor.organizationId, Math.min(Math.max(limit, 1), 1000));
  }

  /** Sends a discarded command back to the queue. */
  async retryDiscarded(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'operator');
    await this.getCommand(actor, id);
    if (!(await this.deps.queue.requeue(actor.organizationId, id, this.deps.clock.now().toISOString()))) {
      throw new MusterError('CONFLICT', `ingest command ${id} is not in the dead letter office`);
    }
    this.ringLocal();
    this.deps.waker?.publish('ingest', '').catch(() => undefined);
    await this.deps.audit?.record(this.event(actor, 'ingest.retry', id), this.deps.clock.now());
  }

  /** Deletes a discarded command. */
  async deleteDiscarded(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'operator');
    await this.getCommand(actor, id);
    if (!(await this.deps.queue.deleteDiscarded(actor.organizationId, id)))
      throw new MusterError('CONFLICT', `ingest command ${id} is not in the dead letter office`);
    await this.deps.audit?.record(this.event(actor, 'ingest.delete', id), this.deps.clock.now());
  }

  /** Commands by state. */
  async counts(actor: Actor): Promise<Record<string, number>> {
    requireRole(actor, 'viewer');
    return this.deps.queue.counts(actor.organizationId);
  }

  /** Nodes (certnames), active and deactivated, optionally one. */
  async nodes(actor: Actor, certname?: string): Promise<IngestNode[]> {
    requireRole(actor, 'viewer');
    return this.deps.data.nodes(actor.organizationId, certname);
  }

  /** Latest facts per certname. */
  async factsets(actor: Actor, certname?: string): Promise<IngestFactset[]> {
    requireRole(actor, 'viewer');
    return this.deps.data.factsets(actor.organizationId, certname);
  }

  /** The latest ingested facts of a system (by its certname, else its hostname); null when it has none. */
  async factsOfSystem(actor: Actor, systemId: string): Promise<{ certname: string; factset: IngestFactset | null }> {
    requireRole(actor, 'viewer');
    const certname = await this.deps.data.certnameOfSystem(actor.organizationId, systemId);
    if (certname === undefined) throw notFound('system', systemId);
    const sets = await this.deps.data.factsets(actor.organizationId, certname);
    return { certname, factset: sets[0] ?? null };
  }

  /** Stored reports, newest first. */
  async reports(actor: Actor, certname?: string): Promise<IngestReport[]> {
    requireRole(actor, 'viewer');
    return this.deps.data.reports(actor.organizationId, certname);
  }

  /**
   * A PuppetDB query over one entity, evaluated by the store in SQL (filter,
   * order, paging, counts). INVALID_ARGUMENT, with PuppetDB's message, for a
   * query outside the supported subset.
   */
  async query(actor: Actor, entity: QueryEntity, input: QueryInput): Promise<IngestQueryResult> {
    requireRole(actor, 'viewer');
    const query = parseIngestQuery(entity, input);
    const result = await this.deps.data.query(actor.organizationId, query);
    return query.extract && result.kind === 'rows' ? { ...result, fields: query.extract.fields } : result;
  }

  /** Latest catalog per certname. */
  async catalogs(actor: Actor, certname?: string): Promise<IngestCatalog[]> {
    requireRole(actor, 'viewer');
    return this.deps.data.catalogs(actor.organizationId, certname);
  }
}

function result(o: Outcome): WaitResult {
  return o.state === 'done' ? { processed: true, timedOut: false } : { processed: true, timedOut: false, error: o.error ?? 'the command failed' };
}
