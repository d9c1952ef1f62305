export * from './events.js';
export * from './store.js';
export { DEFAULT_WEBHOOK_OPTIONS, WebhookService, type DeliveryPage, type WebhookOptions } from './service.js';
export { WebhookSources } from './sources.js';
export { DeliveryWorker, type AttemptResult, type DeliveryObserver, type DeliveryWorkerOptions } from './worker.js';
export { fetchSender, RESPONSE_BODY_MAX_BYTES, type SendResult, type WebhookSender } from './sender.js';
export { SUBSCRIBABLE_EVENTS, URL_MAX_LENGTH } from './validate.js';
