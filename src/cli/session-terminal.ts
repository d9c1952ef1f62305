import WebSocket from 'ws';
import type { AttachControl } from '../api/native/index.js';
import { CliError } from './client.js';

export interface TerminalStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** How an attached session ended, as the CLI reports it. */
export interface TerminalEnd {
  /** The shell's exit status when it exited; 1 for any other end. */
  exitCode: number;
  message: string;
}

/**
 * Attaches this terminal to a session: stdin in raw mode goes to the shell
 * byte for byte (Ctrl-C included), the shell's output to stdout, window
 * resizes follow; when the session ends the terminal is restored and the
 * reason printed. Resolves with the shell's exit status.
 */
export function attachTerminal(
  server: string,
  apiKey: string,
  sessionId: string,
  io: TerminalStreams = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<TerminalEnd> {
  const url = `${server.replace(/\/+$/, '').replace(/^http/, 'ws')}/v1/sessions/${encodeURIComponent(sessionId)}/attach`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${apiKey}` } });
  const raw = io.stdin.isTTY === true;
  let exit: Extract<AttachControl, { type: 'exit' }> | undefined;
  let failure: string | undefined;
  const onInput = (data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
  };
  const onResize = () => {
    if (ws.readyState === ws.OPEN && io.stdout.columns && io.stdout.rows)
      ws.send(JSON.stringify({ type: 'resize', cols: io.stdout.columns, rows: io.stdout.rows }));
  };
  const restore = () => {
    io.stdin.off('data', onInput);
    io.stdout.off('resize', onResize);
    if (raw) io.stdin.setRawMode(false);
    io.stdin.pause();
  };
  return new Promise<TerminalEnd>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      reject(new CliError(`the server refused to attach to session ${sessionId} (HTTP ${res.statusCode})`));
    });
    ws.on('error', (err) => (failure ??= err.message));
    ws.on('open', () => {
      if (raw) io.stdin.setRawMode(true);
      io.stdin.on('data', onInput);
      io.stdin.resume();
      io.stdout.on('resize', onResize);
      onResize();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return void io.stdout.write(data);
      const m = JSON.parse(data.toString()) as AttachControl | { type: 'error'; code: string; message: string };
      if (m.type === 'notice') io.stderr.write(`\r\nmuster: ${m.message}\r\n`);
      if (m.type === 'exit') exit = m;
      if (m.type === 'error') failure = m.message;
    });
    ws.on('close', () => {
      restore();
      if (exit) {
        const status = exit.reason === 'exited' && exit.exit_code !== null ? exit.exit_code : 1;
        resolve({
          exitCode: status,
          message: exit.reason === 'exited' ? `session ${sessionId} ended: ${exit.message}` : `session ${sessionId} ended (${exit.reason}): ${exit.message}`,
        });
      } else if (failure) reject(new CliError(`session ${sessionId}: ${failure}`));
      else resolve({ exitCode: 1, message: `session ${sessionId}: the connection to the server closed` });
    });
  });
}
