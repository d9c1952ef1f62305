import { invalid } from '../errors.js';
import { isPrivateAddress } from '../../lib/private-address.js';
import { WEBHOOK_EVENTS, type WebhookEventName } from './events.js';

/** The longest URL a webhook may have. */
export const URL_MAX_LENGTH = 2048;
const DESCRIPTION_MAX_LENGTH = 500;
/** Events a subscription can list (`ping` is sent by hand to any webhook). */
export const SUBSCRIBABLE_EVENTS = WEBHOOK_EVENTS.filter((e) => e !== 'ping');

/**
 * A webhook's URL: http or https, no credentials in it (they would show in
 * every listing and log), and, when private addresses are refused, not a
 * literal loopback or private address (names are checked when sending).
 */
export function checkUrl(value: unknown, allowPrivate: boolean): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid('url', 'must be an http or https URL');
  if (value.length > URL_MAX_LENGTH) throw invalid('url', `must be at most ${URL_MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('url', `is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('url', `must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username !== '' || url.password !== '') throw invalid('url', 'must not hold credentials: verify the signature instead');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivate && isPrivateAddress(host))
    throw invalid('url', `${host} is a loopback or private address, and this server refuses those (webhook_allow_private_addresses)`);
  return url.toString();
}

/** A subscription's events: at least one, each a known name, without repeats. */
export function checkEvents(value: unknown): WebhookEventName[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('events', `must list at least one of ${SUBSCRIBABLE_EVENTS.join(', ')}`);
  for (const e of value) {
    if (typeof e !== 'string' || !(SUBSCRIBABLE_EVENTS as readonly string[]).includes(e))
      throw invalid('events', `unknown event ${JSON.stringify(e)}: the events are ${SUBSCRIBABLE_EVENTS.join(', ')}`);
  }
  return [...new Set(value as WebhookEventName[])];
}

export function checkDescription(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > DESCRIPTION_MAX_LENGTH)
    throw invalid('description', `must be text of at most ${DESCRIPTION_MAX_LENGTH} characters`);
  return value;
}

export function checkEnabled(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw invalid('enabled', 'must be true or false');
  return value;
}
