/**
 * The resume test's loop (DESIGN §6): `dare run` killed with -9 at chosen moments — random ones (seeded), one
 * while an update is applied but not yet logged, one while a checkpoint file is written but not yet
 * registered — and resumed each time, until the run completes. The caller compares the result with an
 * uninterrupted run (runs.ts expectSameRun).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Prng } from '../../events/prng.ts';
import type { EventLog } from '../../store/eventLog.ts';
import { endedHow, logHas, runDare, runStarted, type DareProcess } from './runs.ts';

/**
 * The two runs the resume test compares: DIR/a/run, run uninterrupted now, and DIR/b/run, for killAndResume
 * (the same directory name: the run id derives from it); the scenario is written to DIR/sim.json.
 */
export async function uninterruptedRun(dir: string, scenario: object): Promise<{ scenarioFile: string; runA: string; runB: string }> {
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'), { recursive: true });
  const scenarioFile = join(dir, 'sim.json');
  writeFileSync(scenarioFile, JSON.stringify(scenario));
  const runA = join(dir, 'a', 'run');
  const a = runDare(['run', scenarioFile, '--run-dir', runA]);
  const code = await a.exit;
  expect(code, `the uninterrupted run failed:\n${a.stderr().slice(-4000)}`).toBe(0);
  return { scenarioFile, runA, runB: join(dir, 'b', 'run') };
}

export interface KillResumeOptions {
  scenarioFile: string;
  runDir: string;
  /** stop killing after this many kills (the run is then finished by one more resume) */
  maxKills: number;
  /** environment of every process (e.g. DARE_FAULT_PAUSE to widen the windows aimed at) */
  env?: Record<string, string>;
  /** PRNG seed of the random moments */
  seed?: number;
}

export interface KillResumeResult {
  kills: number;
  /** what each kill aimed at: 'update', 'checkpoint' or 'random' */
  moments: string[];
  /** every process's stderr */
  stderr: string[];
}

export async function killAndResume(o: KillResumeOptions): Promise<KillResumeResult> {
  const { scenarioFile: sc, runDir: runB } = o;
  const prng = new Prng({ seed: o.seed ?? 42, step: 0, purpose: 'kill-moments' });
  const stderr: string[] = [];
  const moments: string[] = [];
  let kills = 0;
  for (let round = 0; round < 30 && !logHas(runB, 'RunCompleted'); round++) {
    const p: DareProcess = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB], o.env);
    // which moment to aim at: an update in flight, a checkpoint being written, or a random time
    const aim = kills === 2 ? 'update' : kills === 4 ? 'checkpoint' : 'random';
    // A random moment counts from spawn in the first round (a kill in start-up), and after that from the
    // run's first new event: on a loaded machine start-up alone outlasts the delays, and every kill would
    // land before the resume had done anything.
    const before = lastSeqOf(runB);
    const delay = round === 0 ? 900 + prng.nextInt(1800) : prng.nextInt(1800);
    let deadline = round === 0 ? Date.now() + delay : Infinity;
    const killed = await p.killWhen(async () => {
      if (aim === 'update') return logHas(runB, (l) => openUpdate(l));
      if (aim === 'checkpoint') return checkpointBeingWritten(runB);
      if (deadline === Infinity && lastSeqOf(runB) > before) deadline = Date.now() + delay;
      return Date.now() >= deadline;
    }, aim === 'random' ? 60_000 : 20_000);
    stderr.push(p.stderr());
    if (!killed) {
      // it ended before the kill: only by completing the run; a resume that fails on its own is the bug
      const code = await p.exit;
      if (code !== 0) throw new Error(`round ${round} ended on its own, ${endedHow(p, code)}`);
    }
    if (killed) {
      kills++;
      moments.push(aim);
    }
    if (kills >= o.maxKills) break;
  }
  // finish the run
  if (!logHas(runB, 'RunCompleted')) {
    const last = runDare(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
    const code = await last.exit;
    if (code !== 0) throw new Error(`the final resume failed, ${endedHow(last, code)}`);
    stderr.push(last.stderr());
  }
  return { kills, moments, stderr };
}

/** The rollout chunks the processes logged ("request#chunk"), from their stderr: none may appear twice. */
export function loggedChunks(stderr: readonly string[]): string[] {
  return stderr
    .join('\n')
    .split('\n')
    .filter((l) => l.includes('"rollout chunk logged"'))
    .map((l) => {
      const o = JSON.parse(l) as { request: string; chunk: number };
      return `${o.request}#${o.chunk}`;
    });
}

/** An update requested and not yet completed (in pipelined mode the next step's events may follow it). */
function openUpdate(log: EventLog): boolean {
  const tail = log.tail(5).map((e) => e.event);
  const last = tail[tail.length - 1];
  if (last?.type === 'UpdateRequested') return true;
  const req = [...tail].reverse().find((e) => e.type === 'UpdateRequested');
  return req?.type === 'UpdateRequested' && !tail.some((e) => e.type === 'UpdateCompleted' && e.data.step === req.data.step);
}

function checkpointBeingWritten(runDir: string): boolean {
  return logHas(runDir, (log) => {
    const last = log.tail(1)[0]?.event;
    return last?.type === 'CheckpointRequested';
  });
}

/** The run's last seq (0 before its log exists). */
function lastSeqOf(runDir: string): number {
  let last = 0;
  logHas(runDir, (l) => ((last = l.lastSeq()), false));
  return last;
}
