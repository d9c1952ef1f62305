import type { AuditEvent } from '../audit/index.js';
import type { CommandName } from './commands.js';
import type { IngestQuery, QueryEntity } from './query.js';

/** The states of an ingest command. */
export type CommandState = 'queued' | 'processing' | 'done' | 'discarded';

/** One queued command, as stored. */
export interface IngestCommandRecord {
  id: string;
  organizationId: string;
  command: CommandName;
  version: number;
  certname: string;
  producerTimestamp: string | null;
  /** The JSON payload as text; null once processed. */
  payload: string | null;
  receivedAt: string;
  state: CommandState;
  attempts: number;
  availableAt: string;
  leaseUntil: string | null;
  error: string | null;
  diagnostics: string | null;
  processedAt: string | null;
}

/**
 * One resource of a catalog, ready to store: its structured parts already
 * serialized, so that effects carry text rather than the parsed payload
 * (a batch's effects outlive several awaits; parsed trees held that long were
 * promoted to the old generation and raised peak RSS).
 */
export interface CatalogResource {
  type: string;
  title: string;
  exported: boolean;
  file: string | null;
  line: number | null;
  tagsText: string;
  parametersText: string;
}

/** What one successfully validated command changes; the store applies it idempotently. */
export type IngestEffect =
  | {
      kind: 'facts';
      certname: string;
      environment: string | null;
      producer: string | null;
      producerTimestamp: string;
      valuesText: string;
      hash: string;
      receivedAt: string;
    }
  | {
      kind: 'catalog';
      certname: string;
      environment: string | null;
      producerTimestamp: string;
      hash: string;
      bodyText: string;
      resources: CatalogResource[];
      receivedAt: string;
    }
  | {
      kind: 'report';
      certname: string;
      hash: string;
      producerTimestamp: string;
      endTime: string;
      environment: string | null;
      status: string | null;
      noop: boolean | null;
      noopPending: boolean | null;
      correctiveChange: boolean | null;
      cachedCatalogStatus: string | null;
      jobId: string | null;
      bodyText: string;
      receivedAt: string;
    }
  | { kind: 'deactivate'; certname: string; producerTimestamp: string }
  | { kind: 'expiration'; certname: string; producerTimestamp: string; facts: boolean }
  | { kind: 'inputs'; certname: string; producerTimestamp: string; catalogUuid: string | null; inputs: unknown[] };

/** A processed command: its effect (applied with its completion, in one transaction). */
export interface Completion {
  id: string;
  organizationId: string;
  effect: IngestEffect;
}

/** A node (certname) as the store keeps it. */
export interface IngestNode {
  certname: string;
  deactivated: string | null;
  expireFacts: boolean;
  factsEnvironment: string | null;
  factsProducer: string | null;
  factsTimestamp: string | null;
  factsProducerTimestamp: string | null;
  factsHash: string | null;
  catalogTimestamp: string | null;
  catalogProducerTimestamp: string | null;
  catalogEnvironment: string | null;
  reportTimestamp: string | null;
  reportProducerTimestamp: string | null;
  reportEnvironment: string | null;
  latestReportHash: string | null;
  latestReportStatus: string | null;
  latestReportNoop: boolean | null;
  latestReportNoopPending: boolean | null;
  latestReportCorrectiveChange: boolean | null;
  latestReportJobId: string | null;
  cachedCatalogStatus: string | null;
}

export interface IngestFactset {
  certname: string;
  environment: string | null;
  producer: string | null;
  timestamp: string;
  producerTimestamp: string;
  hash: string;
  values: Record<string, unknown>;
  deactivated: string | null;
}

export interface IngestReport {
  hash: string;
  certname: string;
  receivedAt: string;
  body: Record<string, unknown>;
  latest: boolean;
}

export interface IngestCatalog {
  certname: string;
  hash: string;
  receivedAt: string;
  body: Record<string, unknown>;
}

/** What a claim asks for. */
export interface ClaimRequest {
  /** Commands at most. */
  limit: number;
  now: string;
  leaseUntil: string;
  /**
   * Stops before the payloads pass this many bytes in all (but always takes
   * one), so a batch of big catalogs holds no more memory than a batch of
   * small facts.
   */
  maxBytes?: number;
  /** The payloads the caller already holds, which are then not read. */
  inMemory?: (id: string) => string | undefined;
}

/** Storage of the queue: durable enqueue, leased claims, completion with effects, the dead letter office. */
export interface IngestQueueStore {
  /** Inserts the commands, and the audit events of their submissions, in one committed transaction. */
  enqueue(commands: IngestCommandRecord[], audits?: ReadonlyArray<{ event: AuditEvent; at: Date }>): Promise<void>;
  /**
   * Claims up to `limit` commands that are queued and due, or whose lease has
   * expired, skipping certnames that another worker holds; sets their lease and
   * counts the attempt.
   */
  claim(request: ClaimRequest): Promise<IngestCommandRecord[]>;
  /** Deletes processed (done) commands processed before `before`; returns how many. */
  pruneDone(before: string): Promise<number>;
  /** Single node at start: nobody else holds leases, so every claim in progress is released at once. */
  releaseLeases(): Promise<number>;
  /**
   * Applies the effects and marks the commands done, all in one transaction;
   * with `claimNext`, also claims the next batch in it (one commit, not two)
   * and returns it.
   */
  complete(completions: Completion[], at: string, claimNext?: ClaimRequest): Promise<IngestCommandRecord[]>;
  /** Puts a command back in the queue after a failure, due at `availableAt`. */
  retryLater(id: string, error: string, availableAt: string): Promise<void>;
  /** Moves a command to the dead letter office. */
  discard(id: string, error: string, diagnostics: string, at: string): Promise<void>;
  getCommand(organizationId: string, id: string): Promise<IngestCommandRecord | undefined>;
  listDiscarded(organizationId: string, limit: number): Promise<IngestCommandRecord[]>;
  /** A discarded command back to the queue, attempts reset; false when it is not discarded. */
  requeue(organizationId: string, id: string, at: string): Promise<boolean>;
  deleteDiscarded(organizationId: string, id: string): Promise<boolean>;
  /** Counts by state, for the benchmark and health. */
  counts(organizationId: string): Promise<Record<CommandState, number>>;
}

/** Reads of the ingested data. */
export interface IngestDataStore {
  nodes(organizationId: string, certname?: string): Promise<IngestNode[]>;
  factsets(organizationId: string, certname?: string): Promise<IngestFactset[]>;
  reports(organizationId: string, certname?: string): Promise<IngestReport[]>;
  catalogs(organizationId: string, certname?: string): Promise<IngestCatalog[]>;
  /** The certname a system answers to (its certname, else its hostname); undefined when there is no such system. */
  certnameOfSystem(organizationId: string, systemId: string): Promise<string | undefined>;
  /** Evaluates a parsed query in the database: filter, order, paging and counts in SQL. */
  query(organizationId: string, query: IngestQuery): Promise<IngestQueryResult>;
}

/** One top-level fact of one certname's latest facts. */
export interface IngestFactRow {
  certname: string;
  name: string;
  value: unknown;
  environment: string | null;
}

/** One leaf of one certname's structured facts, with its path from the fact's name. */
export interface IngestFactContentRow {
  certname: string;
  environment: string | null;
  path: Array<string | number>;
  name: string;
  value: unknown;
}

/** One resource of one certname's latest catalog. */
export interface IngestResourceRow {
  certname: string;
  resource: string;
  type: string;
  title: string;
  tags: unknown;
  exported: boolean;
  file: string | null;
  line: number | null;
  parameters: unknown;
  environment: string | null;
}

/** The row type of each queryable entity. */
export interface QueryRows {
  nodes: IngestNode;
  factsets: IngestFactset;
  facts: IngestFactRow;
  'fact-contents': IngestFactContentRow;
  reports: IngestReport;
  resources: IngestResourceRow;
  catalogs: IngestCatalog;
}

/**
 * A query's answer: the entity's rows (one page; `fields` when `extract`
 * keeps only some), or counts for `extract` with `count`.
 */
export type IngestQueryResult =
  | { [E in QueryEntity]: { kind: 'rows'; entity: E; rows: Array<QueryRows[E]>; fields?: string[] } }[QueryEntity]
  | { kind: 'counts'; rows: Array<Record<string, unknown>> };

/** Keeps dead letters as files beside the database (PuppetDB's layout). */
export interface DiscardWriter {
  write(command: IngestCommandRecord, error: string, diagnostics: string, at: string): Promise<void>;
}
