/**
 * Set-up and probes shared by the tests that watch a `dare` run from outside while it goes (control, serve,
 * the browser dashboard, mid-run faults, resume): a sim scenario file, waiting for the run to be live, and
 * reading its log read-only (the run is the single writer).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { DareEvent, Logged } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { tempDir } from './tmp.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `probe` every 100 ms until it gives a value other than undefined/false; throws after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  for (let waited = 0; ; waited += 100) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (waited >= timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface SimScenario {
  method?: string;
  run?: Record<string, unknown>;
  task?: Record<string, unknown>;
  worker?: Record<string, unknown>;
  learner?: Record<string, unknown>;
}

/**
 * A short DARE run on the sim worker, each section merged over these defaults: 120 prompts, B = 16, evals of
 * 40 prompts, the replay mix σ = 0.5.
 */
export function simScenario(o: SimScenario = {}): SimScenario {
  return {
    method: o.method ?? 'dare',
    run: { steps: 6, batchSize: 16, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 3, evalSize: 40, ...o.run },
    task: { source: 'sim', count: 120, evalCount: 40, maxResponseTokens: 64, ...o.task },
    worker: { kind: 'sim', lr: 0.05, ...o.worker },
    learner: { sigma: 0.5, bufferSize: 64, ...o.learner },
  };
}

/** A temporary directory removed after the calling file's tests, with `scenario` written to NAME.json in it. */
export function testDir(prefix: string, scenarios: Record<string, object> = {}): { dir: string; file: (name: string) => string } {
  const { dir, cleanup } = tempDir(prefix);
  afterAll(cleanup);
  mkdirSync(dir, { recursive: true });
  for (const [name, sc] of Object.entries(scenarios)) writeFileSync(join(dir, `${name}.json`), JSON.stringify(sc));
  return { dir, file: (name) => join(dir, `${name}.json`) };
}

/** Wait until a started `dare run` is live: its NATS address written and its log created. */
export function untilLive(runDir: string, timeoutMs = 30_000): Promise<true> {
  return until('the run to start', () => existsSync(join(runDir, 'nats.json')) && existsSync(join(runDir, 'log', 'data.mdb')), timeoutMs);
}

/** `fn` over the run's log as it is now, opened read-only (closed again after). */
export function withRunLog<T>(runDir: string, fn: (log: EventLog) => T): T {
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    return fn(log);
  } finally {
    void log.close();
  }
}

/** Every logged event of the run, in order. */
export function loggedEvents(runDir: string): Logged[] {
  return withRunLog(runDir, (log) => [...log.iterate(1)]);
}

/** How many events of this type the run has logged. */
export function countLogged(runDir: string, type: DareEvent['type']): number {
  return loggedEvents(runDir).filter((e) => e.event.type === type).length;
}

/** `dare ARGS…` to its end (stdout and stderr as text). */
export function dareSync(...args: string[]) {
  return spawnSync(process.execPath, ['cli/dare.js', ...args], { encoding: 'utf8' });
}
