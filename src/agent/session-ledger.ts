import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { processStart, sessionMembers } from './orphans.js';

/** One live shell as written down: its pid (its process group's and terminal session's id) and start time. */
interface ShellRecord {
  pid: number;
  start: string | null;
}

/**
 * The shells of live sessions, one small file each under
 * `<state-dir>/sessions`, so that an agent process that died without ending
 * them (SIGKILL, a crash) has them hung up by the next one: a shell that
 * traps SIGHUP, or a `nohup` job, would otherwise run on with nobody
 * attached. A record whose pid now names another process (its start time
 * differs) is left alone.
 */
export class SessionLedger {
  constructor(private readonly dir: string) {}

  record(sessionId: string, pid: number): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const entry: ShellRecord = { pid, start: processStart(pid) ?? null };
    // Not fsynced: losing the record in a power cut loses the shell with it.
    writeFileAtomic(join(this.dir, sessionId), JSON.stringify(entry), 0o600, { sync: false });
  }

  forget(sessionId: string): void {
    rmSync(join(this.dir, sessionId), { force: true });
  }

  /** Hangs up every shell a previous agent process left (with `hangUp`), and forgets them all; returns how many were still there. */
  reapLeftovers(hangUp: (pid: number) => void): number {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0;
    }
    let reaped = 0;
    for (const name of names) {
      try {
        const entry = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as ShellRecord;
        const now = processStart(entry.pid);
        // Leader alive with its start time: ours. Leader gone but its terminal session alive: ours too, as
        // the kernel gives no new process a pid that is still some session's id.
        if ((now !== undefined && now === entry.start) || (now === undefined && sessionMembers(entry.pid).length > 0)) {
          hangUp(entry.pid);
          reaped++;
        }
      } catch {
        // A torn or foreign file: nothing to reap.
      }
      rmSync(join(this.dir, name), { force: true });
    }
    return reaped;
  }
}
