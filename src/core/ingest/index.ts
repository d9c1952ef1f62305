export { AGENT_FACTS_PRODUCER, agentFactValues } from './agent-facts.js';
export { COMMAND_NAMES, COMMANDS, isCommandName, type CommandName } from './commands.js';
export { IngestService, type IngestDeps, type WaitResult } from './service.js';
export type { SubmitInput } from './submit.js';
export type * from './types.js';
export { DEFAULT_WORKER_OPTIONS, IngestWorkers, type IngestObserver, type IngestOutcome, type WorkerOptions } from './workers.js';
export { WireFormatError, toEffect } from './wire.js';
export {
  ENTITY_FIELDS,
  QUERY_ENTITIES,
  fieldType,
  parseIngestQuery,
  type FieldType,
  type IngestQuery,
  type QueryEntity,
  type QueryExpr,
  type QueryInput,
} from './query.js';
