import Type, { type Static } from 'typebox';
import { Instant, Items, Nullable } from './common.js';

export const INGEST_STATES = ['queued', 'processing', 'done', 'discarded'] as const;

/** An ingest command (the payload only while queued or discarded). */
export const IngestCommand = Type.Object({
  id: Type.String({ description: 'The uuid its submission returned' }),
  command: Type.String({ description: 'e.g. replace facts' }),
  version: Type.Integer(),
  certname: Type.String(),
  producer_timestamp: Nullable(Instant),
  received_at: Instant,
  state: Type.Enum(INGEST_STATES),
  attempts: Type.Integer(),
  error: Nullable(Type.String()),
  diagnostics: Nullable(Type.String()),
  processed_at: Nullable(Instant),
  payload: Nullable(Type.String({ description: 'The JSON payload as text' })),
});
export type IngestCommand = Static<typeof IngestCommand>;
export const IngestCommandList = Items(IngestCommand);
export type IngestCommandList = Static<typeof IngestCommandList>;

export const DiscardedQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) });

/** A discarded command sent back to the queue. */
export const Requeued = Type.Object({ id: Type.String(), state: Type.Literal('queued') });
export type Requeued = Static<typeof Requeued>;

/** How many ingest commands are in each state. */
export const IngestCounts = Type.Record(Type.String(), Type.Integer(), { description: 'queued, processing, done, discarded' });
export type IngestCounts = Static<typeof IngestCounts>;

const Facts = Type.Record(Type.String(), Type.Unknown());

/** A system's latest ingested facts; the fields after `certname` are null when it has none. */
export const SystemFacts = Type.Object({
  certname: Type.String(),
  facts: Nullable(Facts),
  timestamp: Nullable(Instant),
  producer_timestamp: Nullable(Instant),
  deactivated: Nullable(Instant),
});
export type SystemFacts = Static<typeof SystemFacts>;

export const CertnameParams = Type.Object({ certname: Type.String({ maxLength: 255 }) });

/** A certname's latest facts; only `certname` and a null `facts` when it has none. */
export const CertnameFacts = Type.Object({
  certname: Type.String(),
  facts: Nullable(Facts),
  environment: Type.Optional(Nullable(Type.String())),
  timestamp: Type.Optional(Instant),
  producer_timestamp: Type.Optional(Instant),
  deactivated: Type.Optional(Nullable(Instant)),
});
export type CertnameFacts = Static<typeof CertnameFacts>;
