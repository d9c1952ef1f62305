import { describe, expect, it } from 'vitest';
import type { RunWithOutput } from '../api/native/index.js';
import { jobProgress, progressText, runHeader, runReport, summary, verdict } from './run-report.js';

const run = (over: Partial<RunWithOutput> = {}): RunWithOutput => ({
  id: 'r1',
  job_id: 'j1',
  system_id: 's1',
  hostname: 'web-1',
  state: 'succeeded',
  exit_code: 0,
  signal: null,
  reason: null,
  stdout_truncated: false,
  stderr_truncated: false,
  created_at: '2026-11-23T11:59:00Z',
  delivered_at: null,
  started_at: null,
  finished_at: '2026-11-23T12:00:00Z',
  stdout: 'hello\n',
  stderr: '',
  ...over,
});

describe('verdict', () => {
  it('names the exit code, a timeout, or the state and its reason', () => {
    expect(verdict(run())).toBe('exit code 0');
    expect(verdict(run({ state: 'failed', exit_code: 3, reason: 'exited with code 3' }))).toBe('exit code 3');
    expect(verdict(run({ state: 'timed_out', exit_code: null }))).toBe('timed out');
    expect(verdict(run({ state: 'timed_out', exit_code: null, reason: 'killed after 2 s' }))).toBe('timed out: killed after 2 s');
    expect(verdict(run({ state: 'undeliverable', exit_code: null, reason: 'the system stayed offline' }))).toBe('undeliverable: the system stayed offline');
    expect(verdict(run({ state: 'failed', exit_code: null, signal: 'SIGKILL' }))).toBe('failed: killed by SIGKILL');
    expect(verdict(run({ state: 'lost', exit_code: null }))).toBe('lost');
  });
});

describe('run reports', () => {
  it('heads each system with its hostname and id', () => {
    expect(runHeader(run())).toBe('── web-1 (s1) ──');
  });

  it('ends output with a newline and notes truncation on stderr only', () => {
    expect(runReport(run({ stdout: 'no newline', stderr: 'warn' }))).toEqual({
      header: '── web-1 (s1) ──',
      stdout: 'no newline\n',
      stderr: 'warn\n',
      footer: 'exit code 0',
    });
    expect(runReport(run({ stdout: '', stdout_truncated: true, stderr: 'e\n' })).stderr).toBe('[stdout truncated: only its end was kept]\ne\n');
    expect(runReport(run({ stdout: '' })).stdout).toBe('');
  });

  it('counts progress and sums up', () => {
    const counts = { pending: 1, running: 2, succeeded: 4, failed: 1, timed_out: 2 };
    expect(jobProgress({ total: 10, counts })).toEqual({ done: 7, failed: 3 });
    expect(progressText(3, 10, 1)).toBe('3/10 done, 1 failed');
    expect(progressText(3, 10, 0)).toBe('3/10 done');
    expect(summary({ id: 'j1', total: 3, counts: { succeeded: 2, failed: 1 } })).toBe('2 succeeded, 1 failed (job j1)');
    expect(summary({ id: 'j1', total: 2, counts: { succeeded: 1, cancelled: 1 }, stopped_reason: 'more than max_errors (0)' })).toBe(
      '1 succeeded, 1 failed (job j1) — more than max_errors (0)',
    );
  });
});
