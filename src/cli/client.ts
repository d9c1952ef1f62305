import type { ErrorBody } from '../api/native/index.js';
import { VERSION } from '../version.js';

/** A failure the CLI reports as `error: <message>` and exits with `exitCode` (1 failure, 2 usage or config). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage or config mistake: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, 2);
}

export const NO_KEY_MESSAGE = 'no API key: run `muster login` or set MUSTER_API_KEY';

/** A plain request gives up after this long; event streams have no limit. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Listings stop following next_cursor after this many pages, so a looping cursor cannot hang the CLI. */
const MAX_PAGES = 1000;

/** The native API over fetch, with failures turned into CliErrors carrying plain messages. */
export class ApiClient {
  readonly server: string;

  constructor(
    server: string,
    private readonly apiKey: string | undefined,
  ) {
    this.server = server.replace(/\/+$/, '');
  }

  /** Sends one request and returns the parsed JSON answer (text for text/plain, undefined for 204). */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.apiKey) throw usageError(NO_KEY_MESSAGE);
    const res = await this.raw(method, path, body, {}, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    const text = await this.read(res);
    if (!res.ok) throw new CliError(errorMessage(res.status, text));
    if (res.status === 204 || text === '') return undefined as T;
    if (!(res.headers.get('content-type') ?? '').includes('application/json')) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`the server at ${this.server} sent JSON that does not parse (${method} ${path})`);
    }
  }

  /** GETs a listing, following `next_cursor` (as `?cursor=`) until the last page. */
  async list<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const res = await this.request<{ items: T[]; next_cursor?: string | null }>('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
      items.push(...res.items);
      cursor = res.next_cursor;
      if (!cursor) return items;
    }
    throw new CliError(`${path}: more than ${MAX_PAGES} pages`);
  }

  /** Sends a request with the key and returns the response as is; only an unreachable server throws. */
  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(`${this.server}${path}`, {
        method,
        headers: {
          'user-agent': `muster-cli/${VERSION}`,
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  private async read(res: Response): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  private unreachable(err: unknown): CliError {
    const e = err as Error & { cause?: Error };
    if (e.name === 'TimeoutError') return new CliError(`the muster server at ${this.server} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    return new CliError(`cannot reach the muster server at ${this.server}: ${e.cause?.message ?? e.message}`);
  }
}

/** The message of a native error body: advice for 401, the request id for server errors. */
export function errorMessage(status: number, text: string): string {
  let error: Partial<ErrorBody['error']> | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    // not JSON (a proxy's page, say): described below
  }
  if (error?.message) {
    if (status === 401) return `${error.message} (check the API key: run \`muster login\` or set MUSTER_API_KEY)`;
    const withId = status >= 500 && error.request_id && !error.message.includes(error.request_id);
    return withId ? `${error.message} (request id ${error.request_id})` : error.message;
  }
  if (status === 401) return 'the server refused the API key: run `muster login` or set MUSTER_API_KEY';
  return `the server answered ${status}${text ? `: ${text.slice(0, 200).trim()}` : ''}`;
}
