import { CliError } from './client.js';

/** The parts of a terminal's input stream `readSecret` uses (a fake one in tests). */
export interface SecretInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/**
 * Asks for a secret on a terminal without echoing it: raw mode, one key at a
 * time, Enter ends, Backspace erases, Ctrl-C cancels (exit 130), Ctrl-D on an
 * empty line gives up. The prompt and the closing newline go to `output`.
 */
export function readSecret(prompt: string, input: SecretInput = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (!input.isTTY || !input.setRawMode) return Promise.reject(new CliError('cannot ask for the key: not a terminal', 2));
  output.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  return new Promise<string>((resolve, reject) => {
    let secret = '';
    const finish = (error?: CliError) => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(secret);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CliError('cancelled', 130));
        if (ch === '\u0004') return secret === '' ? finish(new CliError('no key given', 2)) : finish();
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else if (ch >= ' ') secret += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
