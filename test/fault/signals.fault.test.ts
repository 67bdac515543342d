/**
 * Ctrl-C and SIGTERM as a person or a scheduler sends them: to the whole process group of `dare run` (as a
 * terminal does), at moments drawn from a seeded Prng — during start-up, mid-step, and twice in a row. A
 * first signal stops the run at the end of the current step (the step's checkpoint and evaluation, then
 * RunStopped; exit 130 / 143); a second aborts at once (exit 130, a kill -9 in effect). `dare resume` after
 * each ends with the same training — the same picks, rollouts and updates — and the same weights as an
 * uninterrupted run; no rollout is lost or logged twice; `dare check` and replay --verify pass.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEvent } from '../../events/codec.ts';
import type { DareEvent } from '../../events/catalogue.ts';
import { Prng } from '../../events/prng.ts';
import { metricsOf } from '../../run/metrics.ts';
import { verifyLog } from '../../run/replay.ts';
import { dareSync, loggedEvents, withRunLog } from '../support/live.ts';
import { hasTorch, logHas, runStarted } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-signals-');
afterAll(cleanup);

const scenario = {
  method: 'dare',
  run: { steps: 16, batchSize: 64, stepsPerEpoch: 2, checkpointEvery: 4, evalEvery: 8, evalSize: 200, snapshotEvery: 400 },
  task: { source: 'sim', count: 1200, evalCount: 200, maxResponseTokens: 256 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { sigma: 0.5, bufferSize: 512 },
};
const FAULT_ENV = { DARE_FAULT_PAUSE: 'update:150' };
const TINY = {
  method: 'dare',
  run: { steps: 4, batchSize: 8, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 4, evalSize: 16 },
  task: { source: 'arithmetic', count: 64, evalCount: 16, maxResponseTokens: 6, levels: '1,2' },
  worker: { kind: 'tiny', device: 'cpu', lr: 0.0001, warmStartSteps: 20, warmStartLr: 0.001 },
  learner: { sigma: 0.5, bufferSize: 64, entropyCoeff: 0 },
};

interface Group {
  pid: number;
  exit: Promise<{ code: number | null; signal: string | null }>;
  stderr: () => string;
}

/** `dare ARGS` as the leader of its own process group, as a shell starts a foreground job. */
function startGroup(args: string[], env: Record<string, string> = FAULT_ENV): Group {
  const child = spawn(process.execPath, ['cli/dare.js', ...args], {
    env: { ...process.env, DARE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<{ code: number | null; signal: string | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return { pid: child.pid!, exit, stderr: () => err };
}

/** The signal to the whole group: the run, its workers and its nats-server, as the terminal's Ctrl-C. */
function signalGroup(g: Group, sig: 'SIGINT' | 'SIGTERM'): void {
  try {
    process.kill(-g.pid, sig);
  } catch {
    // the group is gone
  }
}

const lastSeq = (runDir: string) => {
  let n = 0;
  logHas(runDir, (l) => ((n = l.lastSeq()), false));
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The training itself, without what a stop adds (its checkpoint, evaluation, RunStopped) or lifecycle. */
const TRAINING = new Set(['EpochStarted', 'StepStarted', 'DifficultyEstimated', 'BatchSelected', 'RolloutRequested', 'RolloutCompleted', 'UpdateRequested', 'UpdateCompleted', 'ScoreRequested', 'ScoreCompleted']);
function training(runDir: string): Array<{ id: string; hex: string }> {
  return loggedEvents(runDir)
    .filter((e) => TRAINING.has(e.event.type))
    // a step a resume starts names the resume as its cause: compare what was decided, not why
    .map((e) => ({ id: e.event.id, hex: encodeEvent({ ...e.event, ts: 0, cause: null } as DareEvent).toString('hex') }));
}

describe('SIGINT and SIGTERM to the process group, then dare resume (sim)', () => {
  it('each stop ends its step with a checkpoint and an evaluation; the resumed run trains as an uninterrupted one', async () => {
    const sc = join(dir, 'sim.json');
    writeFileSync(sc, JSON.stringify(scenario));
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const a = startGroup(['run', sc, '--run-dir', runA]);
    expect((await a.exit).code, a.stderr().slice(-3000)).toBe(0);

    const prng = new Prng({ seed: 7, step: 0, purpose: 'signal-moments' });
    // what each round sends: start-up, mid-run at random moments, a second signal at once
    // ('loading': before the command has loaded; 'startup': it holds the run's lock, nothing logged yet)
    const plan: Array<{ sig: 'SIGINT' | 'SIGTERM'; when: 'loading' | 'startup' | 'random'; twice?: boolean }> = [
      { sig: 'SIGINT', when: 'loading' },
      { sig: 'SIGINT', when: 'startup' },
      { sig: 'SIGTERM', when: 'random' },
      { sig: 'SIGINT', when: 'random' },
      { sig: 'SIGINT', when: 'random', twice: true },
      { sig: 'SIGTERM', when: 'random' },
    ];
    const outcomes: string[] = [];
    for (const round of plan) {
      if (logHas(runB, 'RunCompleted')) break;
      const g = startGroup(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
      const before = lastSeq(runB);
      if (round.when === 'loading') await sleep(prng.nextInt(300));
      else if (round.when === 'startup') {
        for (let w = 0; w < 60_000 && !lockedBy(runB, g.pid); w += 20) await sleep(20);
        expect(lastSeq(runB), 'the start-up round came too late').toBe(before);
      } else {
        // a random moment after the round's first new event (start-up alone can outlast any delay)
        for (let w = 0; w < 60_000 && lastSeq(runB) <= before; w += 50) await sleep(50);
        await sleep(prng.nextInt(1500));
      }
      const stoppedBefore = countType(runB, 'RunStopped');
      signalGroup(g, round.sig);
      if (round.twice) {
        await sleep(100);
        signalGroup(g, 'SIGINT');
      }
      const { code, signal } = await g.exit;
      const end = `${round.sig}${round.twice ? '×2' : ''}@${round.when}`;
      // exit 128 + signal number, whether the run stopped or was aborted; never a crash. Before the command
      // has loaded (the first few hundred ms) the signal's default action ends it, as for any program;
      // from the lock on, a signal is a stop.
      if (signal !== null) {
        expect([round.when, signal], `${end}: ${g.stderr().slice(-2000)}`).toEqual(['loading', round.sig]);
        expect(lastSeq(runB), `${end}: killed by the signal after the run had logged`).toBe(before);
        outcomes.push(`${end}→${signal}`);
        continue;
      }
      if (round.twice) expect(code, end).toBe(130);
      else if (logHas(runB, 'RunCompleted')) expect([0, round.sig === 'SIGINT' ? 130 : 143], end).toContain(code);
      else {
        expect(code, `${end}: ${g.stderr().slice(-2000)}`).toBe(round.sig === 'SIGINT' ? 130 : 143);
        if (runStarted(runB) && lastSeq(runB) > 0) {
          // a stop: RunStopped last, after a checkpoint and an evaluation of the stopped weights
          const evs = loggedEvents(runB).map((e) => e.event);
          const last = evs.at(-1) as DareEvent & { data: { steps: number; policyVersion: number } };
          expect(last.type, end).toBe('RunStopped');
          expect(countType(runB, 'RunStopped')).toBe(stoppedBefore + 1);
          // (a stop before the first update has the initial weights: nothing to save)
          if (last.data.policyVersion > 0) expect(evs.some((e) => e.type === 'CheckpointSaved' && e.data.policyVersion === last.data.policyVersion), `${end}: checkpoint`).toBe(true);
          expect(evs.some((e) => e.type === 'EvalCompleted' && e.data.step === last.data.steps), `${end}: eval`).toBe(true);
          // and the log is whole
          const check = dareSync('check', runB, '--quick');
          expect(check.status, check.stdout + check.stderr).toBe(0);
        }
      }
      outcomes.push(`${end}→${code}`);
    }
    // finish it
    if (!logHas(runB, 'RunCompleted')) {
      const g = startGroup(runStarted(runB) ? ['resume', runB] : ['run', sc, '--run-dir', runB]);
      expect((await g.exit).code, g.stderr().slice(-3000)).toBe(0);
    }
    expect(outcomes.length, outcomes.join(' ')).toBe(plan.length);
    // the start-up round stopped the run it was starting (the round before it may have been killed while loading)
    expect(outcomes[1], outcomes.join(' ')).toBe('SIGINT@startup→130');
    expect(countType(runB, 'RunStopped'), outcomes.join(' ')).toBeGreaterThanOrEqual(3);

    // the same training and weights as the uninterrupted run
    const ta = training(runA);
    const tb = training(runB);
    expect(tb.map((e) => e.id)).toEqual(ta.map((e) => e.id));
    expect(tb.every((e, i) => e.hex === ta[i].hex)).toBe(true);
    const ma = withRunLog(runA, (l) => metricsOf(l.iterate(1)));
    withRunLog(runB, (l) => {
      const mb = metricsOf(l.iterate(1));
      expect(mb.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(mb.weightsSha256).toBe(ma.weightsSha256);
      expect(mb.accounting).toEqual(ma.accounting);
      expect(mb.duplicateGroups).toEqual([]);
      const v = verifyLog(l).mismatch;
      if (v && process.env.DARE_KEEP_FAILED) cpSync(runB, process.env.DARE_KEEP_FAILED, { recursive: true });
      expect(v, `${outcomes.join(' ')}: ${JSON.stringify(v)}`).toBeNull();
    });
    const check = dareSync('check', runB);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  }, 600_000);
});

describe.skipIf(!hasTorch())('Ctrl-C to the process group of a PyTorch (tiny) run', () => {
  it('reaches the run alone: the worker finishes the step with it (no KeyboardInterrupt), the run stops, resume completes it', async () => {
    const sc = join(dir, 'tiny.json');
    writeFileSync(sc, JSON.stringify(TINY));
    const runDir = join(dir, 'tiny', 'run');
    mkdirSync(join(dir, 'tiny'), { recursive: true });
    const g = startGroup(['run', sc, '--run-dir', runDir], { DARE_WORKER_FAULT_DELAY: 'rollout:300,update:300' });
    for (let w = 0; w < 240_000 && !logHas(runDir, 'RolloutRequested/2'); w += 50) await sleep(50);
    expect(logHas(runDir, 'RunCompleted')).toBe(false);
    signalGroup(g, 'SIGINT');
    const { code } = await g.exit;
    expect(code, g.stderr().slice(-3000)).toBe(130);
    expect(g.stderr()).not.toMatch(/KeyboardInterrupt|Traceback/);
    const evs = loggedEvents(runDir).map((e) => e.event);
    expect(evs.at(-1)?.type).toBe('RunStopped');
    expect(evs.some((e) => e.type === 'WorkerLost')).toBe(false); // the worker was not touched by the signal
    const r = startGroup(['resume', runDir]);
    expect((await r.exit).code, r.stderr().slice(-3000)).toBe(0);
    expect(logHas(runDir, 'RunCompleted')).toBe(true);
    withRunLog(runDir, (l) => expect(verifyLog(l).mismatch).toBeNull());
  }, 600_000);
});

/** DIR/run.lock names this process (it took the lock: its start-up is under way). */
function lockedBy(runDir: string, pid: number): boolean {
  try {
    return (JSON.parse(readFileSync(join(runDir, 'run.lock'), 'utf8')) as { pid: number }).pid === pid;
  } catch {
    return false;
  }
}

function countType(runDir: string, type: string): number {
  let n = 0;
  logHas(runDir, (log) => ((n = [...log.iterate(1)].filter((e) => e.event.type === type).length), false));
  return n;
}
