import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './server-child.js';

/** A real `muster agent run` process with its own state dir (as test/support/processes.ts starts them). */
export interface RealAgent {
  systemId: string;
  stop(): Promise<void>;
}

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

/** Enrolls (`muster agent enroll`) and starts (`muster agent run`) one real agent. */
export async function startRealAgent(url: string, enrollmentKey: string): Promise<RealAgent> {
  const stateDir = mkdtempSync(join(tmpdir(), 'muster-bench-agent-'));
  const enrolled = await run(['agent', 'enroll', '--server', url, '--enrollment-key', enrollmentKey, '--state-dir', stateDir]);
  if (enrolled.code !== 0) throw new Error(`agent enroll failed (${enrolled.code}): ${enrolled.out}`);
  const systemId = /systemKey":"(\w+)"/.exec(readFileSync(join(stateDir, 'agent.conf'), 'utf8'))![1]!;
  const child: ChildProcess = spawn(process.execPath, [BIN, 'agent', 'run', '--state-dir', stateDir], { stdio: 'ignore' });
  return {
    systemId,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
