/**
 * `npx tsx bench/efficiency/run.ts --quick`: one seed of DARE and GRPO on the sim, each a real `dare run`
 * over a shared nats-server, must leave a results file whose summary and runs carry the named figures,
 * and a plot; a second invocation finds the runs done and only rewrites the report.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-efficiency-');
interface Done {
  status: number | null;
  stdout: string;
  stderr: string;
}
let first: Done;
let second: Done;

// asynchronous, so vitest's worker keeps answering while the study runs (spawnSync would block it a minute)
const run = () =>
  new Promise<Done>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/efficiency/run.ts', '--quick', '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });

beforeAll(async () => {
  first = await run();
  second = await run();
}, 300_000);
afterAll(cleanup);

describe('bench/efficiency --quick', () => {
  it('exits 0 and writes results.json, tables.md and a plot', () => {
    expect(first.status, String(first.stderr)).toBe(0);
    for (const f of ['results.json', 'tables.md', 'sim-uniform.svg', 'runs.jsonl']) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readFileSync(join(dir, 'sim-uniform.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });

  it('summarizes DARE and GRPO with the named figures', () => {
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(r.meta.quick).toBe(true);
    expect(typeof r.meta.simTarget).toBe('number');
    expect(r.summary.map((s: { arm: string }) => s.arm).sort()).toEqual(['dare', 'grpo']);
    for (const s of r.summary) {
      expect(s.worker).toBe('sim');
      expect(s.distribution).toBe('uniform');
      expect(s.seeds).toBe(1);
      for (const k of ['rolloutsToTarget', 'accuracyAtBudget', 'finalAccuracy', 'easyLength']) {
        expect(s[k], k).toMatchObject({ reached: expect.any(Number), seeds: 1 });
      }
      expect(s.rolloutsToTarget.median).toBeGreaterThan(0);
      // at the rollout budget where the run spent it (dare's quick run spends fewer rollouts per step than the
      // budget assumes: then it has no figure there, and says so)
      if (s.arm === 'grpo' || s.accuracyAtBudget.reached > 0) expect(s.accuracyAtBudget.median).toBeGreaterThan(0.5);
      else expect(s.accuracyAtBudget.median).toBeNull();
      expect(s.easyLength.median).toBeGreaterThan(0);
      expect(s.zeroVarianceShare).toBeGreaterThanOrEqual(0);
    }
    expect(r.summary.find((s: { arm: string }) => s.arm === 'grpo').speedupVsGrpo).toBe(1);
  });

  it('derives each run\'s curve and rollouts from its log', () => {
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(r.runs).toHaveLength(2);
    for (const run of r.runs) {
      const curve: Array<[number, number, number]> = run.figures.curve;
      // a baseline eval at step 0, then one per step (evalEvery 1)
      expect(curve[0][0]).toBe(0);
      expect(curve.at(-1)![0]).toBe(30);
      expect(curve.at(-1)![1]).toBe(run.figures.rollouts.generated);
      expect(run.figures.accuracyKind).toBe('oracle');
      expect(run.figures.completed).toBe(true);
    }
    // GRPO rolls out B·n = 64·8 per step; DARE replays half its groups from epoch 1 on
    const grpo = r.runs.find((x: { arm: string }) => x.arm === 'grpo');
    expect(grpo.figures.rollouts.generated).toBe(30 * 64 * 8);
  });

  it('does not rerun finished runs', () => {
    expect(second.status, String(second.stderr)).toBe(0);
    expect(String(second.stdout)).not.toMatch(/runs to do/);
    expect(readFileSync(join(dir, 'runs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
