import { AuditService, requestStampingSink, type AuditStore } from './audit/index.js';
import type { Clock } from './clock.js';
import { AttributeService, hasVariableSupport, type AttributeStore } from './attributes/index.js';
import { agentFactValues, IngestService, type IngestDataStore, type IngestQueueStore } from './ingest/index.js';
import type { WakeBus } from './wake.js';
import { CommandService, TriggerService, type CommandResultStore, type ErrorSink, type ReplayGuard, type TriggerStore } from './commands/index.js';
import { GroupService, type GroupStore } from './groups/index.js';
import { StreamWakeup, JobEvents, JobService, RunLifecycle, TransitionSink, type JobLimits, type JobStore, type RunNotifier } from './jobs/index.js';
import { KeyService, type KeyStore } from './keys/index.js';
import { NumberService, type NumberStore } from './numbers/index.js';
import { OrganizationService, type OrganizationStore } from './organizations/index.js';
import { ScriptService, type ScriptStore } from './scripts/index.js';
import { NO_SESSION_LINK, SessionService, type SessionLimits, type SessionLink, type SessionStore } from './sessions/index.js';
import { SystemService, type SystemStore } from './systems/index.js';
import { SystemUserService, type SystemUserStore } from './users/index.js';
import { WebhookService, WebhookSources, type WebhookOptions, type WebhookStore } from './webhooks/index.js';

/** Everything core needs from storage: one narrow interface per concept. */
export interface CoreStores {
  organizations: OrganizationStore;
  keys: KeyStore;
  systems: SystemStore;
  jobs: JobStore;
  scripts: ScriptStore;
  audit: AuditStore;
  triggers: TriggerStore;
  commandResults: CommandResultStore;
  replay: ReplayGuard;
  groups: GroupStore;
  users: SystemUserStore;
  ingestQueue: IngestQueueStore;
  ingestData: IngestDataStore;
  sessions: SessionStore;
  attributes: AttributeStore;
  numbers: NumberStore;
  webhooks: WebhookStore;
}

export interface CoreDeps {
  stores: CoreStores;
  clock: Clock;
  notifier: RunNotifier;
  limits: JobLimits;
  /** Seconds after a run's timeout before a run on a vanished agent counts as lost. */
  lostGraceS?: number;
  /** Where failures that must not fail their caller go (a run-on-enroll launch). */
  onBackgroundError?: ErrorSink;
  /** Wakes ingest workers on other replicas (PostgreSQL LISTEN/NOTIFY). */
  ingestWaker?: WakeBus | undefined;
  /** The agents' shells (the hub), asked when a session opens; none by default. */
  sessionLink?: () => SessionLink | undefined;
  sessionLimits?: SessionLimits;
  /** Outbound webhooks' limits and retry window. */
  webhookOptions?: WebhookOptions;
}

/**
 * The core of one server process, wired by its composition root: a service
 * per concept, the run lifecycle the hub drives, the job event stream, and
 * the sinks that tell the rest of the process what changed (transitions,
 * stream wake-ups). Faces and the hub reach storage only through it; the CLI
 * and the agent never load it (they speak HTTP and the agent protocol).
 */
export interface Core {
  organizations: OrganizationService;
  keys: KeyService;
  systems: SystemService;
  groups: GroupService;
  users: SystemUserService;
  jobs: JobService;
  scripts: ScriptService;
  commands: CommandService;
  triggers: TriggerService;
  runs: RunLifecycle;
  events: JobEvents;
  /** Wakes live streams on this replica (the sweeper and hub also ring it). */
  streamWakeup: StreamWakeup;
  /** Every run and job transition this replica commits, for whoever subscribes (streams, webhooks, counters). */
  transitions: TransitionSink;
  /** PuppetDB-style commands, facts, catalogs and reports. */
  ingest: IngestService;
  /** Interactive shells on systems. */
  sessions: SessionService;
  /** Integer ids for faces whose clients expect numbers. */
  numbers: NumberService;
  /** Custom attributes, script jobs by name with per-system variables, output capture. */
  attributes: AttributeService;
  /** Outbound webhooks: subscriptions, the outbox, the delivery log. */
  webhooks: WebhookService;
  /** Feeds webhook events to the outbox (transitions, enrollments and deletions here; dead letters from the ingest workers). */
  webhookEvents: WebhookSources;
  /** The audit log's readers and the auth.failed recorder. */
  audit: AuditService;
}

/** Builds the core from its dependencies. */
export function createCore(deps: CoreDeps): Core {
  const { clock } = deps;
  // Every service writes its audit events through one sink that adds the request they came through.
  const stores = { ...deps.stores, audit: requestStampingSink(deps.stores.audit) };
  const groups = new GroupService(stores.groups, stores.systems, stores.audit, clock);
  const keys = new KeyService(stores.keys, stores.audit, clock, (org, refs) => groups.resolveIds(org, refs));
  const streamWakeup = new StreamWakeup();
  const transitions = new TransitionSink(deps.onBackgroundError);
  // Commands launch through jobs and scripts, and run-on-enroll listens to enrollments.
  const systems = new SystemService(stores.systems, keys, stores.audit, clock);
  const jobs = new JobService(stores.jobs, stores.systems, stores.audit, deps.notifier, clock, deps.limits, transitions);
  const scripts = new ScriptService(stores.scripts, stores.audit, clock, deps.limits, jobs);
  const commands = new CommandService(scripts, stores.scripts, stores.systems, stores.commandResults, stores.audit, clock, deps.onBackgroundError);
  // A run-on-enroll script with variable support gets the new device's own variables.
  systems.onEnrolled((system) =>
    commands.systemEnrolled(system, (actor, script, systemId) =>
      hasVariableSupport(script) ? attributes.variables(actor, [systemId]) : Promise.resolve(undefined),
    ),
  );
  const ingest = new IngestService({
    queue: stores.ingestQueue,
    data: stores.ingestData,
    clock,
    waker: deps.ingestWaker,
    organizationBySlug: (slug) => stores.organizations.findOrganizationBySlug(slug),
    audit: stores.audit,
  });
  // The agent's own facts take the same path as a reporter's: durable, ordered, queryable, and feeding fact: selectors.
  systems.onFactsReported(async (system, facts) => {
    await ingest.submitFacts(system.organizationId, system.certname ?? system.hostname, agentFactValues(facts), clock.now());
  });
  const numbers = new NumberService(stores.numbers);
  const attributes = new AttributeService(stores.attributes, stores.systems, systems, groups, scripts, jobs, numbers, stores.audit, clock, (err, context) =>
    deps.onBackgroundError?.(err, context),
  );
  transitions.subscribe((batch) => attributes.captureEnded(batch));
  const webhooks = new WebhookService(stores.webhooks, stores.audit, clock, deps.webhookOptions);
  const webhookEvents = new WebhookSources(webhooks, stores.jobs, (err, context) => deps.onBackgroundError?.(err, context));
  transitions.subscribe(webhookEvents.transitions);
  systems.onEnrolled(async (system) => webhookEvents.systemEnrolled(system));
  systems.onRemoved((_id, system) => webhookEvents.systemDeleted(system, clock.now()));
  return {
    webhooks,
    webhookEvents,
    audit: new AuditService(deps.stores.audit, stores.audit, clock),
    numbers,
    attributes,
    streamWakeup,
    transitions,
    events: new JobEvents(stores.jobs, streamWakeup, transitions),
    keys,
    organizations: new OrganizationService(stores.organizations, keys, stores.audit, clock),
    systems,
    groups,
    users: new SystemUserService(stores.users, stores.systems, stores.audit, clock),
    jobs,
    scripts,
    commands,
    triggers: new TriggerService(stores.triggers, stores.scripts, scripts, stores.replay, stores.audit, clock),
    runs: new RunLifecycle(stores.jobs, clock, deps.limits.outputBytes, deps.notifier, deps.lostGraceS, streamWakeup, transitions),
    ingest,
    sessions: new SessionService(stores.sessions, systems, stores.audit, clock, () => deps.sessionLink?.() ?? NO_SESSION_LINK, deps.sessionLimits),
  };
}

export type { Actor, Role } from './access/index.js';
export type { WakeBus } from './wake.js';
export { MusterError, isMusterError, type ErrorCode, ERROR_CODES } from './errors.js';
