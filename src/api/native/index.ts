/**
 * The native API's wire vocabulary: the TypeBox schema of every request and
 * answer under /v1, each with the TypeScript type of the same name. The
 * server validates and serializes with these schemas (and publishes them at
 * /docs); the CLI and the console read the same types, so a field renamed on
 * one side fails to compile on the other. It imports only its schema library
 * and the agent protocol (for the shells).
 */
export * from './audit.js';
export * from './common.js';
export * from './ingest.js';
export * from './inventory.js';
export * from './jobs.js';
export * from './keys.js';
export * from './organizations.js';
export * from './scripts.js';
export * from './triggers.js';
export * from './sessions.js';
export * from './webhooks.js';
