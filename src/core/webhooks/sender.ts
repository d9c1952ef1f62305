import { lookup } from 'node:dns/promises';
import { isPrivateAddress } from '../../lib/private-address.js';

/** What one POST got: a status and the start of the body, or why there was none. */
export interface SendResult {
  status: number | null;
  body: string | null;
  error: string | null;
  durationMs: number;
}

/** Posts a delivery; a port so tests and other transports can stand in for fetch. */
export type WebhookSender = (request: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }) => Promise<SendResult>;

/** The bytes of an answer's body the delivery log keeps. */
export const RESPONSE_BODY_MAX_BYTES = 1024;

/**
 * The default sender: fetch with a deadline over the whole exchange, no
 * redirects followed (a 3xx is an answer, and not a 2xx), and only the first
 * RESPONSE_BODY_MAX_BYTES of the answer read. With `allowPrivate` false, a
 * host that resolves to a loopback or private address is refused before
 * connecting (the address may still change between this lookup and fetch's
 * own: a DNS-rebinding window docs/webhooks.md names).
 */
export function fetchSender(allowPrivate: boolean): WebhookSender {
  return async ({ url, headers, body, timeoutMs }) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      if (!allowPrivate) await refusePrivate(new URL(url).hostname.replace(/^\[(.*)\]$/, '$1'));
      const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
      return { status: res.status, body: await readStart(res), error: null, durationMs: elapsed() };
    } catch (err) {
      const message = signal.aborted ? `no answer within ${timeoutMs} ms` : describe(err);
      return { status: null, body: null, error: message, durationMs: elapsed() };
    }
  };
}

async function refusePrivate(host: string): Promise<void> {
  const addresses = isPrivateAddress(host) ? [{ address: host }] : await lookup(host, { all: true });
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  if (bad)
    throw new Error(`${host} resolves to ${bad.address}, a loopback or private address, and this server refuses those (webhook_allow_private_addresses)`);
}

/** The first bytes of a body as text; the rest is not read. */
async function readStart(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_BODY_MAX_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts).subarray(0, RESPONSE_BODY_MAX_BYTES).toString('utf8');
}

/** fetch's errors say "fetch failed"; the cause says what happened (ECONNREFUSED, a bad certificate, …). */
function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message}: ${cause}` : (e.message ?? String(err));
}
