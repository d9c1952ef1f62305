import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentMessage, RunDeliver, Unversioned } from '../protocol/messages.js';
import { execute, failedResult, type Execution, type ExecResult } from './executor.js';
import { processStart } from './orphans.js';
import { OutputStreamer } from './output-streamer.js';
import { scriptEnvironment } from './script-env.js';
import type { Spool } from './spool.js';

export interface RunManagerOptions {
  spool: Spool;
  /** Parent of each run's work dir (`<state-dir>/work`). */
  workRoot: string;
  /** The agent's own environment, which scripts inherit (its PATH, HOME, USER, LOGNAME and SHELL win over the job's). */
  env: Record<string, string>;
  /** MUSTER_SYSTEM_ID and MUSTER_SERVER: set after the job's env, so a job cannot override them. */
  systemEnv: Record<string, string>;
  maxConcurrency: number;
  killGraceMs: number;
  outputCap: number;
  /** Sends to the server; false when disconnected (results stay spooled). */
  send: (message: Unversioned<AgentMessage>) => boolean;
  logger: Logger;
}

export const STOPPED_ERROR = 'the agent was stopped';

interface Running {
  execution: Execution | undefined;
  done: Promise<void>;
}

/**
 * Runs what the server delivers, at most `maxConcurrency` at once (the rest
 * wait in order), and at most once per run id: the spool remembers every run
 * id it has started, across reconnects and restarts, and a redelivery of one
 * only resends its result.
 */
export class RunManager {
  private readonly queue: RunDeliver[] = [];
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(private readonly o: RunManagerOptions) {}

  /** Runs queued or in progress: the server must not redeliver these. */
  activeRunIds(): string[] {
    return [...this.running.keys(), ...this.queue.map((r) => r.run_id)];
  }

  /** Accepts a delivered run: queues it, or answers from the spool when it was seen before. */
  deliver(run: RunDeliver): void {
    const log = this.o.logger.child({ run_id: run.run_id });
    if (this.stopping) {
      log.info('ignoring a delivery: the agent is stopping');
      return;
    }
    if (this.running.has(run.run_id) || this.queue.some((q) => q.run_id === run.run_id)) {
      log.debug('ignoring a redelivery of an active run');
      return;
    }
    const status = this.o.spool.status(run.run_id);
    if (status === 'finished') {
      this.sendResult(this.o.spool.result(run.run_id)!);
    } else if (status === 'started' || status === 'acked') {
      log.info({ status }, 'ignoring a redelivered run: it already ran here');
    } else {
      this.queue.push(run);
      this.pump();
    }
  }

  /** Stops a run: a queued one never starts, a running one has its process group killed. */
  cancel(runId: string): void {
    const queued = this.queue.findIndex((r) => r.run_id === runId);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.complete(failedResult(runId, 'cancelled', 'cancelled before it started'));
      return;
    }
    this.running.get(runId)?.execution?.stop('cancelled', 'cancelled while running; its process group was killed');
  }

  /** The server stored this run's result: drop it from the spool. */
  acknowledge(runId: string): void {
    if (this.running.has(runId) || this.queue.some((q) => q.run_id === runId)) {
      this.o.logger.warn({ run_id: runId }, 'ignoring an ack for a run that has not finished');
      return;
    }
    this.o.spool.acknowledge(runId);
  }

  /** Sends every spooled result the server has not acknowledged (after each connect). */
  resendResults(): void {
    for (const result of this.o.spool.pendingResults()) this.sendResult(result);
  }

  /**
   * Stops every running script (SIGTERM, then SIGKILL after the grace); their
   * results are spooled as cancelled and sent after the next connect. Queued
   * runs were never started or spooled, so the server delivers them again.
   */
  async stopAll(): Promise<void> {
    this.stopping = true;
    this.queue.length = 0;
    const waits = [...this.running.values()].map((r) => {
      r.execution?.stop('cancelled', STOPPED_ERROR);
      return r.done;
    });
    await Promise.all(waits);
  }

  private pump(): void {
    while (!this.stopping && this.running.size < this.o.maxConcurrency && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(run: RunDeliver): void {
    const log = this.o.logger.child({ run_id: run.run_id });
    const env = scriptEnvironment(this.o.env, run.env, { ...this.o.systemEnv, MUSTER_RUN_ID: run.run_id, MUSTER_JOB_ID: run.job_id });
    if (!env.ok) {
      log.warn({ error: env.error }, 'refusing a run whose environment changes how scripts run');
      this.complete(failedResult(run.run_id, 'failed_to_start', env.error));
      return;
    }
    try {
      this.o.spool.markStarted(run.run_id, run.job_id, new Date().toISOString());
    } catch (err) {
      // Without a durable record the agent could not promise to run it once; refuse it.
      log.error({ err }, 'cannot write to the spool');
      this.sendResult(failedResult(run.run_id, 'failed_to_start', `the agent cannot record the run on disk: ${(err as Error).message}`));
      return;
    }
    const streamer = new OutputStreamer(run.run_id, (m) => this.o.send(m));
    const copy = this.o.spool.outputWriter(run.run_id, (err) => log.warn({ err }, 'cannot copy output to the spool; a crash now would lose it'));
    const entry: Running = { execution: undefined, done: Promise.resolve() };
    this.running.set(run.run_id, entry);
    const execution = execute(run, {
      workDir: join(this.o.workRoot, run.run_id),
      env: env.env,
      killGraceMs: this.o.killGraceMs,
      outputCap: this.o.outputCap,
      // On disk first: whatever the server may have seen, a later agent process can still report.
      onOutput: (stream, data) => (copy.write(stream, data), streamer.push(stream, data)),
      onStarted: (at, pid) => {
        this.recordProcess(run.run_id, pid);
        this.o.send({ type: 'run.started', run_id: run.run_id, started_at: at });
      },
    });
    entry.execution = execution;
    entry.done = execution.done.then((result) => {
      streamer.end();
      copy.close();
      this.running.delete(run.run_id);
      this.complete(result);
      this.pump();
    });
  }

  /** Notes the script's process group in the spool, so that the next agent process can stop it if this one dies. */
  private recordProcess(runId: string, pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      this.o.spool.markProcess(runId, { pid, start: processStart(pid) ?? null });
    } catch (err) {
      this.o.logger.warn({ run_id: runId, err }, "cannot record the script's process in the spool; a crash now would leave it running");
    }
  }

  private complete(result: ExecResult): void {
    try {
      this.o.spool.finish(result);
    } catch (err) {
      this.o.logger.error({ run_id: result.run_id, err }, 'cannot spool a result; sending it without a copy on disk');
    }
    this.o.logger.info({ run_id: result.run_id, outcome: result.outcome, exit_code: result.exit_code }, 'run finished');
    this.sendResult(result);
  }

  private sendResult(result: ExecResult): void {
    this.o.send({ type: 'run.result', ...result });
  }
}
