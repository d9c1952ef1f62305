import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What curl got: the status and the body, parsed when it is JSON. */
export interface CurlAnswer {
  status: number;
  body: any;
  text: string;
}

/**
 * Runs curl as JumpCloud's documentation writes its calls (`-X`, `-H
 * 'x-api-key: …'`, `-H 'Content-Type: application/json'`, `-d '…'`), so a test
 * sends exactly the bytes a copied example would. Adds only `--silent` and a
 * trailer with the status code.
 */
export async function curl(args: string[]): Promise<CurlAnswer> {
  const { stdout } = await run('curl', ['--silent', '--show-error', '--write-out', '\n%{http_code}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: Number(stdout.slice(cut + 1)), body, text };
}

/**
 * The headers JumpCloud's examples send with an API key. Content-Type goes
 * with a body only: an empty body sent as JSON is a separate matter, tested
 * where bodies are parsed.
 */
export function jumpcloudHeaders(apiKey: string, withBody = true): string[] {
  return ['-H', 'Accept: application/json', ...(withBody ? ['-H', 'Content-Type: application/json'] : []), '-H', `x-api-key: ${apiKey}`];
}
