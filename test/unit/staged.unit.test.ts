import { describe, expect, it } from 'vitest';
import {
  advance,
  initStaged,
  inStage,
  skipEmptyStages,
  stageFilter,
  stagePool,
  validateStages,
  type Stage,
  type StagedState,
} from '../../actors/shared/staged.ts';

// A two-stage schedule like the paper's: stage 1 on d ∈ (0, 1) until plateau, stage 2 on d ≥ 0.8 with a
// longer cap, truncated rows masked and no entropy bonus.
const stages: Stage[] = [
  {
    name: 'L2',
    filter: { dMin: 0, dMax: 1, includeMin: false, includeMax: false },
    maxResponseTokens: 16384,
    maskTruncated: false,
    entropyCoeff: 0.001,
    transition: { kind: 'plateau', metric: 'eval/accuracy' }, // W = 5, δ = 0.005, P = 3
  },
  {
    name: 'L3',
    filter: { dMin: 0.8, dMax: 1, includeMin: true, includeMax: true },
    maxResponseTokens: 24576,
    maskTruncated: true,
    entropyCoeff: 0,
    transition: { kind: 'steps', n: 2 },
  },
];

function feed(s: StagedState, values: number[], metric = 'eval/accuracy') {
  const results = [];
  for (const value of values) {
    const r = advance(stages, s, { kind: 'metric', metric, value });
    results.push(r);
    s = r.state;
  }
  return { state: s, results };
}

describe('stage filters', () => {
  it('honours the include flags at both ends', () => {
    const open = stages[0].filter;
    expect(inStage(open, 0)).toBe(false); // d = 0 (always solved) excluded by includeMin = false
    expect(inStage(open, 1)).toBe(false);
    expect(inStage(open, 0.5)).toBe(true);
    const closed = stages[1].filter;
    expect(inStage(closed, 0.8)).toBe(true);
    expect(inStage(closed, 1)).toBe(true);
    expect(inStage(closed, 0.79)).toBe(false);
  });
  it('stageFilter / stagePool use the current stage', () => {
    const s = initStaged(stages);
    const d = Float64Array.from([0, 0.5, 0.9, 1]);
    expect(stageFilter(stages, s)(0.5)).toBe(true);
    expect(Array.from(stagePool(stages, s, d))).toEqual([1, 2]);
    expect(Array.from(stagePool(stages, { ...s, stage: 1 }, d))).toEqual([2, 3]);
  });
});

describe('plateau transition (W = 5, δ = 0.005, P = 3)', () => {
  it('advances after 3 consecutive evaluations whose moving average does not beat the best by > δ', () => {
    const s0 = initStaged(stages);
    // evaluations 1..5: 0.1 0.2 0.3 0.4 0.5 → first full window, MA = 1.5/5 = 0.3 = best
    // e6 0.5: MA(0.2..0.5,0.5) = 1.9/5 = 0.38, +0.08 > δ → best 0.38, stall 0
    // e7 0.5: MA = 2.2/5 = 0.44 → best, e8 0.5: MA = 2.4/5 = 0.48 → best, e9 0.5: MA = 2.5/5 = 0.5 → best
    // e10 0.52: MA = 2.52/5 = 0.504, +0.004 < δ → stall 1
    // e11 0.5: MA = 0.504 → stall 2; e12 0.5: MA = 0.504 → stall 3 = P → advance
    const { state, results } = feed(s0, [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5, 0.5, 0.52, 0.5, 0.5]);
    expect(results.slice(0, 4).every((r) => r.state.bestAverage === null)).toBe(true);
    expect(results[4].state.bestAverage).toBeCloseTo(0.3, 12);
    expect(results[8].state.bestAverage).toBeCloseTo(0.5, 12);
    expect(results[9].state.stall).toBe(1);
    expect(results[9].state.bestAverage).toBeCloseTo(0.5, 12); // 0.504 did not become best
    expect(results[10].state.stall).toBe(2);
    expect(results.slice(0, 11).some((r) => r.advanced)).toBe(false);
    expect(results[11].advanced).toBe(true);
    expect(results[11].reason).toBe('plateau');
    expect(state).toEqual({ stage: 1, stepsInStage: 0, recent: [], bestAverage: null, stall: 0, finished: false });
  });

  it('an improvement > δ resets the stall count', () => {
    const s0 = initStaged(stages);
    // window of 0.5s (best 0.5), two stalls, then 0.6: MA = (0.5·4 + 0.6)/5 = 0.52, +0.02 > δ → reset
    const { results } = feed(s0, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6]);
    expect(results[6].state.stall).toBe(2);
    expect(results[7].state.stall).toBe(0);
    expect(results[7].state.bestAverage).toBeCloseTo(0.52, 12);
  });

  it('ignores other metrics and step observations for a plateau stage (besides counting steps)', () => {
    const s0 = initStaged(stages);
    const { state } = feed(s0, [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], 'train/loss');
    expect(state).toEqual(s0);
    const r = advance(stages, s0, { kind: 'step' });
    expect(r.state.stepsInStage).toBe(1);
    expect(r.advanced).toBe(false);
  });

  it('direction "min": smaller is better', () => {
    const minStages: Stage[] = [{ ...stages[0], transition: { kind: 'plateau', metric: 'loss', window: 1, patience: 1, direction: 'min' } }, stages[1]];
    let s = initStaged(minStages);
    s = advance(minStages, s, { kind: 'metric', metric: 'loss', value: 1 }).state; // best 1
    const down = advance(minStages, s, { kind: 'metric', metric: 'loss', value: 0.9 }); // improved by 0.1
    expect(down.advanced).toBe(false);
    const flat = advance(minStages, down.state, { kind: 'metric', metric: 'loss', value: 0.898 }); // 0.002 < δ
    expect(flat.advanced).toBe(true);
  });
});

describe('steps transition, empty pool, end of schedule', () => {
  it('advances after n steps; the last stage’s transition marks the schedule finished', () => {
    let s: StagedState = { stage: 1, stepsInStage: 0, recent: [], bestAverage: null, stall: 0, finished: false };
    let r = advance(stages, s, { kind: 'step' });
    expect(r.state.stepsInStage).toBe(1);
    expect(r.state.finished).toBe(false);
    r = advance(stages, r.state, { kind: 'step' });
    expect(r.advanced).toBe(false); // no stage after the last
    expect(r.reason).toBe('steps');
    expect(r.state.finished).toBe(true);
    expect(r.state.stage).toBe(1);
    s = r.state;
    expect(advance(stages, s, { kind: 'step' }).state).toBe(s); // finished: no-op
  });

  it('an empty pool advances immediately with reason "empty-pool"', () => {
    const r = advance(stages, initStaged(stages), { kind: 'pool', size: 0 });
    expect(r.advanced).toBe(true);
    expect(r.reason).toBe('empty-pool');
    expect(r.state.stage).toBe(1);
    expect(advance(stages, initStaged(stages), { kind: 'pool', size: 3 }).advanced).toBe(false);
  });

  it('skipEmptyStages walks past every empty stage and reports each transition', () => {
    // all prompts solved (d = 0): stage 1 (0,1) is empty, stage 2 [0.8,1] is empty → finished
    const out = skipEmptyStages(stages, initStaged(stages), Float64Array.from([0, 0, 0]));
    expect(out.transitions).toEqual([
      { from: 0, to: 1, reason: 'empty-pool' },
      { from: 1, to: 1, reason: 'empty-pool' },
    ]);
    expect(out.state.finished).toBe(true);
    // a non-empty first pool: nothing happens
    const stay = skipEmptyStages(stages, initStaged(stages), Float64Array.from([0.5]));
    expect(stay.transitions).toEqual([]);
    expect(stay.state.stage).toBe(0);
  });

  it('state is plain JSON', () => {
    const { state } = feed(initStaged(stages), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe('validation', () => {
  it('rejects empty schedules and bad fields, naming the stage', () => {
    expect(() => validateStages([])).toThrow(/at least one stage/);
    expect(() => validateStages([{ ...stages[1], filter: { dMin: 0.9, dMax: 0.8, includeMin: true, includeMax: true } }])).toThrow(/stages\[0\] \(L3\).*dMin/);
    expect(() => validateStages([{ ...stages[1], transition: { kind: 'steps', n: 0 } }])).toThrow(/transition.n/);
    expect(() => validateStages([{ ...stages[0], transition: { kind: 'plateau', metric: 'm', window: 0 } }])).toThrow(/window/);
    expect(() => advance(stages, initStaged(stages), { kind: 'metric', metric: 'eval/accuracy', value: Number.NaN })).toThrow(/not finite/);
  });
});
