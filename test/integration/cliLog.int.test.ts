/** `dare log` and the CLI's exit-code contract (DESIGN §11), run as a real process. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { stepEvent } from '../support/events.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-cli-');

function dare(...args: string[]) {
  return spawnSync(process.execPath, ['cli/dare.js', ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  const log = EventLog.open(join(dir, 'log'));
  await log.append([
    stepEvent('cli', 1),
    makeEvent('EvalCompleted', {
      step: 1, policyVersion: 1, accuracy: 0.5, byTier: { easy: { accuracy: 1, meanLength: 3, count: 2 } }, oracleAccuracy: null,
    }, { run: 'cli', id: 'EvalCompleted/1', cause: 'StepStarted/1', ts: 0 }),
    stepEvent('cli', 2),
    makeEvent('ScoreCompleted', {
      groups: ['g/1'], rowOffsets: new Uint32Array([0, 2]), current: new Float64Array([-1.5, -Infinity]), policyVersion: 1,
    }, { run: 'cli', id: 'ScoreCompleted/1', ts: 0 }),
  ]);
  await log.close();
});
afterAll(cleanup);

describe('dare log', () => {
  it('prints one line per event', () => {
    const r = dare('log', dir);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(4);
    expect(lines[1]).toMatch(/^\s+2\s+EvalCompleted\s+EvalCompleted\/1 <- StepStarted\/1 .*accuracy=0.5/);
    expect(lines[3]).toMatch(/current=f8\[2\]\(-1\.50,-Infinity\)/);
  });

  it('--json prints one JSON object per line; --type, --from and --limit filter', () => {
    const all = dare('log', dir, '--json');
    const objs = all.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objs.map((o) => o.seq)).toEqual([1, 2, 3, 4]);
    expect(objs[3].data.current).toEqual([-1.5, null]);
    const steps = dare('log', dir, '--json', '--type', 'StepStarted');
    expect(steps.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([1, 3]);
    const some = dare('log', dir, '--json', '--from', '2', '--limit', '2');
    expect(some.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([2, 3]);
  });

  it('user errors exit 1 with one line naming what is at fault', () => {
    const missing = dare('log', join(dir, 'nope'));
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/nope: not a run directory/);
    expect(missing.stderr.trim().split('\n').length).toBe(1);
    const badType = dare('log', dir, '--type', 'Nope');
    expect(badType.status).toBe(1);
    expect(badType.stderr).toMatch(/Nope/);
    const badFrom = dare('log', dir, '--from', '-2');
    expect(badFrom.status).toBe(1);
    const unknown = dare('frobnicate');
    expect(unknown.status).toBe(1);
    const badGroup = dare('bench', '--only', 'log,nope');
    expect(badGroup.status).toBe(1);
    expect(badGroup.stderr.trim()).toBe('dare: --only: unknown group nope (groups: log, algorithms, sim, tiny, pipeline, replay, ceiling, anatomy)');
    const badMethod = dare('bench', '--only', 'sim', '--method', 'nope');
    expect(badMethod.status).toBe(1);
    expect(badMethod.stderr.trim()).toMatch(/^dare: --method: unknown preset nope \(presets: dare, .*knapsack.*\)$/);
  });

  it('every command has --help', () => {
    for (const cmd of ['run', 'resume', 'replay', 'drift', 'inspect', 'log', 'estimate', 'report', 'serve', 'bench', 'machines', 'control', 'bridge']) {
      const r = dare(cmd, '--help');
      expect(r.status, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`Usage: dare ${cmd}`));
    }
  }, 240_000); // 13 processes one after another: minutes on a loaded 2-core machine
});

describe('scenario files', () => {
  it('deepscaler-hf needs a local model directory and says so', () => {
    const r = dare('run', 'scenarios/deepscaler-hf.json', '--run-dir', join(dir, 'hf'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/deepscaler-hf\.json: worker\.model: the hf worker needs --set worker\.model=DIR/);
  });

  it('a bad scenario key is a user error naming the key', () => {
    const r = dare('run', 'scenarios/sim-smoke.json', '--run-dir', join(dir, 'bad'), '--set', 'sampler.kapa=3');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sampler\.kapa/);
  });
});
