/** Helpers for tests that run `dare` as a real process and look at its run directory. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { encodeEvent } from '../../events/codec.ts';
import type { DareEvent } from '../../events/catalogue.ts';
import { expect } from 'vitest';
import { metricsOf } from '../../run/metrics.ts';
import { verifyLog } from '../../run/replay.ts';
import { EventLog } from '../../store/eventLog.ts';

export interface DareProcess {
  pid: number;
  /** the exit code; a process a signal ended reads 128 + the signal's number, as a shell says it */
  exit: Promise<number>;
  /** the signal that ended it (null: it exited) — set once `exit` resolved */
  signal(): NodeJS.Signals | null;
  stderr(): string;
  stdout(): string;
  /** SIGKILL the process once `pred` holds (polled) or after `timeoutMs`; false if it ended first. */
  killWhen(pred: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean>;
}

export function runDare(args: string[], env: Record<string, string> = {}): DareProcess {
  const child = spawn(process.execPath, ['cli/dare.js', ...args], {
    // JSON records on stderr: tests parse them ("rollout chunk logged", "monitor folds restored")
    env: { ...process.env, DARE_LOG_LEVEL: 'info', DARE_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  let ended = false;
  let endedBy: NodeJS.Signals | null = null;
  const exit = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = true;
      endedBy = signal;
      // a crash by a signal (SIGSEGV, SIGABRT) must not read like dare's own exit 1 for a user error
      resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0));
    }),
  );
  return {
    pid: child.pid!,
    exit,
    signal: () => endedBy,
    stderr: () => err,
    stdout: () => out,
    async killWhen(pred, timeoutMs) {
      const start = Date.now();
      while (!ended) {
        if (Date.now() - start >= timeoutMs || (await pred())) break;
        await new Promise((r) => setTimeout(r, 50)); // each look opens the log: see logHas
      }
      if (ended) return false;
      child.kill('SIGKILL');
      await exit;
      return true;
    },
  };
}

/**
 * How an ended process ended, in one short line for a failure message: its exit code or signal and the last
 * lines of its stderr (dare's own error line is the last). Short because CI shows only the tail of a run.
 */
export function endedHow(p: DareProcess, code: number, lines = 3): string {
  const how = p.signal() ? `killed by ${p.signal()}` : `exit ${code}`;
  const tail = p.stderr().trimEnd().split('\n').slice(-lines).join(' | ');
  return `${how}: ${tail.slice(-1500)}`;
}

/** Does the run's log hold an event with this id (or satisfy the predicate)? */
const warned = new Set<string>();

export function logHas(runDir: string, what: string | ((log: EventLog) => boolean)): boolean {
  if (!existsSync(join(runDir, 'log', 'data.mdb'))) return false;
  let log: EventLog;
  try {
    log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  } catch (e) {
    // still being created; anything else is said once (a kill test that misses its moments shows why)
    const msg = (e as Error).message;
    if (!/not initialised yet|no log here|empty \(0 bytes\)/.test(msg) && !warned.has(msg)) {
      warned.add(msg);
      console.warn(`logHas(${runDir}): cannot open the log: ${msg}`);
    }
    return false;
  }
  try {
    return typeof what === 'string' ? log.seqOf(what) !== undefined : what(log);
  } finally {
    void log.close();
  }
}

/** Events that a crash and resume add, and that never influence a decision. */
export const LIFECYCLE = new Set(['WorkerJoined', 'WorkerLost', 'RunResumed', 'ControlApplied']);

/** The log's content for comparing runs: every other event, encoded with ts = 0. */
export function comparableContent(runDir: string, order: 'log' | 'id' = 'log'): { ids: string[]; bytes: Buffer[] } {
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    const ids: string[] = [];
    const bytes: Buffer[] = [];
    for (const { event } of log.iterate(1)) {
      if (LIFECYCLE.has(event.type)) continue;
      ids.push(event.id);
      bytes.push(encodeEvent({ ...event, ts: 0 } as DareEvent));
    }
    if (order === 'id') {
      // pipelined mode: the content is the log's, the interleaving of an update with the next step is timing's
      const at = ids.map((_, i) => i).sort((x, y) => (ids[x] < ids[y] ? -1 : ids[x] > ids[y] ? 1 : 0));
      return { ids: at.map((i) => ids[i]), bytes: at.map((i) => bytes[i]) };
    }
    return { ids, bytes };
  } finally {
    void log.close();
  }
}

/** Is Debian's PyTorch importable (the tests of the real worker skip with this reason otherwise)? */
export function hasTorch(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The resume check: run B (crashed and resumed) holds the same content as run A (uninterrupted), ends
 * with the same weights, accounts for the same rollouts without duplicates, and replay-verifies.
 * Returns B's RunResumed count for further checks. `order` id: the same events in any order (pipelined mode).
 */
export function expectSameRun(runA: string, runB: string, order: 'log' | 'id' = 'log'): { resumes: number } {
  const ca = comparableContent(runA, order);
  const cb = comparableContent(runB, order);
  expect(cb.ids).toEqual(ca.ids);
  expect(cb.bytes.every((b, i) => b.equals(ca.bytes[i]))).toBe(true);
  const la = EventLog.open(join(runA, 'log'), { readOnly: true });
  const lb = EventLog.open(join(runB, 'log'), { readOnly: true });
  try {
    const ma = metricsOf(la.iterate(1));
    const mb = metricsOf(lb.iterate(1));
    expect(mb.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(mb.weightsSha256).toBe(ma.weightsSha256);
    expect(mb.accounting).toEqual(ma.accounting);
    expect(mb.duplicateGroups).toEqual([]);
    expect(verifyLog(lb).mismatch).toBeNull();
    return { resumes: [...lb.iterate(1)].filter((e) => e.event.type === 'RunResumed').length };
  } finally {
    void la.close();
    void lb.close();
  }
}

/**
 * Whether a killed `dare run` got far enough to be resumed (it wrote config.json). On a loaded machine a
 * kill can land before that; a user then starts the run again, and so do the kill tests.
 */
export function runStarted(runDir: string): boolean {
  return existsSync(join(runDir, 'config.json'));
}
