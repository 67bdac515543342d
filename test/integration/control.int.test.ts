/**
 * Control and live inspection of a running run over its NATS subjects: `dare control DIR pause` stops the
 * session at the next step boundary (the log shows it), `resume` lets it go on, `stop` ends the process's run
 * after the step's checkpoint and evaluation (RunStopped) and `dare resume` goes on from the next step;
 * `dare inspect DIR --live` prints the actors' state transitions as they happen. `dare machines --mermaid`
 * exports every statechart.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLog } from '../../run/replay.ts';
import { countLogged, dareSync as dare, simScenario, sleep, testDir, until, untilLive, withRunLog } from '../support/live.ts';
import { runDare } from '../support/runs.ts';

const { dir, file } = testDir('dare-control-', {
  sim: simScenario({
    run: { steps: 400, batchSize: 32, checkpointEvery: 100, evalEvery: 100, evalSize: 100 },
    task: { count: 500, evalCount: 100 },
    learner: { bufferSize: 128 },
  }),
});
const steps = (runDir: string) => countLogged(runDir, 'StepStarted');

describe('control and live inspection', () => {
  it('pause holds the run at a step boundary, resume continues, stop ends it; --live shows transitions', async () => {
    const runDir = join(dir, 'run');
    const p = runDare(['run', file('sim'), '--run-dir', runDir], { DARE_FAULT_PAUSE: 'update:40' });
    await untilLive(runDir, 60_000);
    await until('three steps', () => steps(runDir) >= 3, 60_000);

    // live inspection: transitions stream in while the run goes
    const live = spawn(process.execPath, ['cli/dare.js', 'inspect', runDir, '--live', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let liveOut = '';
    live.stdout.setEncoding('utf8').on('data', (d: string) => (liveOut += d));
    // wait for the process to start (seconds on a loaded machine), then for transitions to stream in
    const jsonLines = () => liveOut.split('\n').filter((l) => l.startsWith('{'));
    for (let waited = 0; waited < 30_000 && jsonLines().length < 8; waited += 100) await sleep(100);
    live.kill('SIGTERM');
    const transitions = jsonLines().map((l) => JSON.parse(l) as { actor: string; from: string; to: string });
    expect(transitions.length).toBeGreaterThan(3);
    expect(transitions.some((t) => t.actor === 'session')).toBe(true);

    // a second live view sees the control command as it is applied
    const live2 = spawn(process.execPath, ['cli/dare.js', 'inspect', runDir, '--live', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let live2Out = '';
    live2.stdout.setEncoding('utf8').on('data', (d: string) => (live2Out += d));
    for (let waited = 0; waited < 30_000 && !live2Out.includes('following'); waited += 100) await sleep(100);
    const pause = dare('control', runDir, 'pause');
    expect(pause.status, pause.stderr).toBe(0);
    for (let waited = 0; waited < 10_000 && !live2Out.includes('"actor":"control"'); waited += 100) await sleep(100);
    live2.kill('SIGTERM');
    expect(live2Out).toMatch(/"actor":"control".*"to":"pause"/);
    await sleep(800); // the step in flight finishes
    const held = steps(runDir);
    await sleep(1200);
    expect(steps(runDir)).toBe(held); // no new step while paused

    expect(dare('control', runDir, 'resume').status).toBe(0);
    await sleep(1000);
    expect(steps(runDir)).toBeGreaterThan(held);

    expect(dare('control', runDir, 'stop').status).toBe(0);
    expect(await p.exit).toBe(0);
    let stoppedAt = 0;
    withRunLog(runDir, (log) => {
      const evs = [...log.iterate(1)].map((e) => e.event);
      const controls = evs.filter((e) => e.type === 'ControlApplied').map((e) => (e as { data: { command: string } }).data.command);
      expect(controls).toEqual(['pause', 'resume', 'stop']);
      // a stop ends the process's run, not the run: RunStopped after the step's checkpoint and evaluation
      const last = evs.at(-1) as { type: string; data: { steps: number; policyVersion: number } };
      expect(last.type).toBe('RunStopped');
      stoppedAt = last.data.steps;
      expect(stoppedAt).toBe(steps(runDir));
      expect(stoppedAt).toBeLessThan(400); // stopped early
      expect(evs.some((e) => e.type === 'CheckpointSaved' && (e as { data: { policyVersion: number } }).data.policyVersion === last.data.policyVersion)).toBe(true);
      expect(evs.some((e) => e.type === 'EvalCompleted' && (e as { data: { step: number } }).data.step === stoppedAt)).toBe(true);
      // the control events are facts: every decision around them replays identically
      expect(verifyLog(log).mismatch).toBeNull();
    });
    // the run is stopped: control says no run is running
    const late = dare('control', runDir, 'pause');
    expect(late.status).toBe(1);
    expect(late.stderr).toMatch(/no running run/);

    // `dare resume` goes on with the next step (not the stopped one again), until stopped a second time
    const r = runDare(['resume', runDir], { DARE_FAULT_PAUSE: 'update:40' });
    await untilLive(runDir, 60_000);
    await until('two more steps', () => steps(runDir) >= stoppedAt + 2, 60_000);
    expect(dare('control', runDir, 'stop').status).toBe(0);
    expect(await r.exit).toBe(0);
    withRunLog(runDir, (log) => {
      const evs = [...log.iterate(1)].map((e) => e.event);
      const resumedAt = evs.findIndex((e) => e.type === 'RunResumed');
      const started = evs.slice(resumedAt).filter((e) => e.type === 'StepStarted').map((e) => (e as { data: { step: number } }).data.step);
      expect(started[0]).toBe(stoppedAt + 1);
      expect(evs.filter((e) => e.type === 'RunStopped')).toHaveLength(2);
      expect(evs.at(-1)?.type).toBe('RunStopped');
      expect(evs.some((e) => e.type === 'RunCompleted')).toBe(false);
      expect(verifyLog(log).mismatch).toBeNull();
    });
  }, 180_000);

  it('exports every actor statechart as Mermaid', () => {
    const r = dare('machines', '--mermaid');
    expect(r.status).toBe(0);
    for (const a of ['session', 'prompts', 'buffer', 'estimator', 'sampler', 'learner']) expect(r.stdout).toContain(`%% ${a}:`);
    expect(r.stdout).toContain('rollingOut --> updating: UpdateRequested');
    expect(r.stdout.match(/stateDiagram-v2/g)?.length).toBe(6);
  });
});
