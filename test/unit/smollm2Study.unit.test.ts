/** bench/efficiency/smollm2.ts: the figures it reads back from a run directory, against values worked by hand. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseStudyArgs, readMetrics, readRun, tables } from '../../bench/efficiency/smollm2.ts';

const HEAD = 'step,rollouts,successRate,meanLength,tierEasy,tierMedium,tierHard,evalAccuracy';
let dir = '';
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

function fakeRun(rows: string[], evalEvery = 2): string {
  dir = mkdtempSync(join(tmpdir(), 'smol-'));
  writeFileSync(join(dir, 'metrics.csv'), [HEAD, ...rows].join('\n') + '\n');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ run: { evalEvery } }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({
    completed: true,
    baseline: { accuracy: 0.25, byTier: { a: { accuracy: 0.5 } } },
    eval: { accuracy: 0.5, byTier: { a: { accuracy: 0.75 } } },
    seconds: { wall: 10, rollout: 2, update: 5, score: 1 },
  }));
  return dir;
}

describe('the SmolLM2 study report', () => {
  it('sums rollout tokens as rollouts × mean length and weights success by rollouts', () => {
    // step 1: 32 rollouts, 25 tokens, 1/4 right; step 2: 8 rollouts, 30 tokens, 1/2 right; step 3: 6 rollouts, 20 tokens, 0 right
    const d = fakeRun([
      '1,32,0.25,25,0,8,0,0.25',
      '2,8,0.5,30,1,1,0,0.375',
      '3,6,0,20,0,1,1,0.375',
    ]);
    const r = readRun(d, 'dare', 1);
    expect(r.rollouts).toBe(46);
    expect(r.rolloutTokens).toBe(32 * 25 + 8 * 30 + 6 * 20); // 1160
    expect(r.trainSuccess).toBeCloseTo((8 + 4 + 0) / 46, 12);
    expect(r.tiers).toEqual({ easy: 1, medium: 10, hard: 1 });
    // evals: the baseline at 0, step 2 (evalEvery 2), and the final eval at the last step, from summary.json
    expect(r.evalAt).toEqual({ 0: 0.25, 2: 0.375, 3: 0.5 });
    expect(r.byTierAfter).toEqual({ a: 0.75 });
  });

  it('reports the gain per 1k rollout tokens: (0.5 − 0.25) × 100 points / 1.16k tokens = 21.55', () => {
    const d = fakeRun(['1,32,0.25,25,0,8,0,0.25', '2,8,0.5,30,1,1,0,0.375', '3,6,0,20,0,1,1,0.375']);
    const text = tables([readRun(d, 'dare', 1)]);
    expect(text).toContain('| dare | 1 | 25.0 | 50.0 | 25.0 | 46 | 1160 | 21.55 | 26.1 | 1/10/1 |');
  });

  it('names the row of a malformed metrics file', () => {
    const d = fakeRun(['1,32,0.25,25,0,8,0,0.25', '2,8,0.5']);
    expect(() => readMetrics(join(d, 'metrics.csv'))).toThrow(/metrics\.csv: row 3 has 3 cells, the header 8/);
  });

  it('refuses a study without --out and bad seeds', () => {
    expect(() => parseStudyArgs([])).toThrow(/--out DIR is required/);
    expect(() => parseStudyArgs(['--out', '/tmp/x', '--seeds', '0'])).toThrow(/--seeds/);
    expect(parseStudyArgs(['--out', '/tmp/x']).arms).toEqual(['dare', 'grpo']);
  });
});
