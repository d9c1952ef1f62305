import type { Socket } from 'node:net';
import type { Caller } from '../core/systems/index.js';

export type { Caller } from '../core/systems/index.js';

/** A request as resolvers read it; faces hand over their framework's request, which has these. */
export interface CredentialRequest {
  method: string;
  /** Path and query exactly as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The client address, after the server's proxy settings. */
  ip: string;
  /** The connection (TLS details for a client certificate). */
  socket: Socket;
}

/**
 * One way a request can say who sent it (an API key, a system's HTTP
 * Signature, a trusted PuppetDB reporter; next a console session, a
 * single-use ticket). `resolve` answers undefined when the request does not
 * present this kind of credential at all, and throws UNAUTHENTICATED when it
 * presents one that does not hold: a bad credential is never passed over for
 * the next resolver.
 */
export interface CallerResolver {
  /** Stable name, listed in each route's auth declaration (`api_key`, `system_signature`, …). */
  readonly name: string;
  resolve(req: CredentialRequest): Promise<Caller | undefined>;
}

/** The caller of the first resolver whose credential the request presents, or undefined when it presents none. */
export async function resolveCaller(req: CredentialRequest, resolvers: readonly CallerResolver[]): Promise<Caller | undefined> {
  for (const resolver of resolvers) {
    const caller = await resolver.resolve(req);
    if (caller) return caller;
  }
  return undefined;
}
