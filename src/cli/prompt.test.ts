import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from './client.js';
import { readSecret, type SecretInput } from './prompt.js';

/** A terminal's input as seen by readSecret: key presses arrive as data events. */
class FakeTty extends EventEmitter implements SecretInput {
  isTTY = true;
  raw: boolean[] = [];
  setRawMode(mode: boolean) {
    this.raw.push(mode);
  }
  setEncoding() {}
  resume() {}
  pause() {}
  type(...chunks: string[]) {
    for (const c of chunks) this.emit('data', c);
  }
}

function output(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('readSecret', () => {
  it('reads keys without echoing them, honours backspace, and restores the terminal', async () => {
    const tty = new FakeTty();
    const out = output();
    const secret = readSecret('API key: ', tty, out.stream);
    tty.type('mk_', 'abx', '\u007f', 'c\r');
    expect(await secret).toBe('mk_abc');
    await new Promise((r) => setImmediate(r));
    expect(out.text()).toBe('API key: \n');
    expect(tty.raw).toEqual([true, false]);
    expect(tty.listenerCount('data')).toBe(0);
  });

  it('cancels on Ctrl-C (exit 130) and gives up on Ctrl-D with nothing typed', async () => {
    const tty = new FakeTty();
    const cancelled = readSecret('key: ', tty, output().stream);
    tty.type('ab\u0003');
    await expect(cancelled).rejects.toMatchObject({ exitCode: 130 });
    const empty = readSecret('key: ', tty, output().stream);
    tty.type('\u0004');
    await expect(empty).rejects.toMatchObject({ exitCode: 2 });
    expect(tty.raw).toEqual([true, false, true, false]);
  });

  it('refuses when the input is not a terminal', async () => {
    const tty = new FakeTty();
    tty.isTTY = false;
    await expect(readSecret('key: ', tty, output().stream)).rejects.toBeInstanceOf(CliError);
  });
});
