export { ingestDataStore } from './data-store.js';
export { discardFiles } from './discard-files.js';
export { ingestQueueStore } from './queue-store.js';
