/**
 * The sampler's decisions (actors/sampler/) as decider specifications, each BatchSelected computed by hand:
 * the prompts a strategy draws for a small prompt set with known difficulties, and the tier allocation
 * (paper tiers, the reference rule 2·round_half_even(n·d)) of the batch.
 */
import { describe, expect, it } from 'vitest';
import { samplerActor } from '../../actors/sampler/samplerActor.ts';
import type { DareEvent } from '../../events/catalogue.ts';
import { resolveConfig } from '../../events/config.ts';
import { deciderSpec, ev } from '../support/deciderSpec.ts';
import { batchSelected, difficultyEstimated, epochStarted, promptsRegistered, rolloutCompleted, stepStarted, updateCompleted, updateRequested } from '../support/facts.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

function batch(e: DareEvent) {
  if (e.type !== 'BatchSelected') throw new Error(`expected BatchSelected, got ${e.type}`);
  return e.data;
}

describe('sampler decider', () => {
  it('Laplace, per-step cadence, paper tiers: the 4 prompts nearest d = 0.5 in order, G = (4, 8, 16) and hints on the hard one', () => {
    // logits −|1 − d − α|/τ with α = 0.5, τ = 1e-3: d = (0.1, 0.5, 0.95, 0.6) → (−400, 0, −450, −100). A Gumbel
    // draw's noise lies in (−3.7, 36.8): gaps of 50 and more fix the draw order, 1, 3, 0, 2, whatever the key.
    const config = resolveConfig({
      run: { batchSize: 4, stepsPerEpoch: 1, estimation: 'step' },
      sampler: { method: 'laplace', tiers: 'paper', hintFraction: 0.25 },
    });
    const d = [0.1, 0.5, 0.95, 0.6];
    deciderSpec(samplerActor, { config })
      .given([promptsRegistered(4, 0), epochStarted(0, 1, 4), stepStarted(1, 0)])
      .when(difficultyEstimated(1, 0, d, 'constant', 'StepStarted/1'))
      .then([
        ev('BatchSelected', {
          step: 1, epoch: 0, key: { seed: 1, step: 1, purpose: 'select' }, strategy: 'laplace',
          prompts: Uint32Array.of(1, 3, 0, 2),
          difficulty: f32([0.5, 0.6, 0.1, 0.95]),
          // d < 0.3 easy, d > 0.8 hard, else medium
          tier: Uint8Array.of(1, 1, 0, 2),
          rollouts: Uint16Array.of(8, 8, 4, 16),
          // round_half_even(16 · 0.25) = 4 hint rollouts for a hard prompt
          hints: Uint16Array.of(0, 0, 0, 4),
          filled: 0,
        }, 'BatchSelected/1', 'DifficultyEstimated/1'),
      ])
      .inPhase('waiting');
  });

  describe('per-epoch cadence', () => {
    const config = resolveConfig({ method: 'dare-reference', run: { batchSize: 4, stepsPerEpoch: 1 } });
    const spec = deciderSpec(samplerActor, { config });
    const d = [0.05, 0.1, 0.6, 0.95];
    const estimated = [promptsRegistered(4, 0), epochStarted(0, 1, 4), difficultyEstimated(1, 0, d, 'snis', 'EpochStarted/0')];

    it('reference tiers: the epoch\'s whole budget (μ·B = 4 = every prompt), G = 2·round_half_even(8·d), G = 0 dropped', () => {
      // 8·d = 0.4, 0.8, 4.8, 7.6 → G = 0 (prompt 0 dropped), 2, 10, 16; the order is the epoch plan's shuffle
      const G = new Map([[1, 2], [2, 10], [3, 16]]);
      spec
        .given(estimated)
        .when(stepStarted(1, 0, 'DifficultyEstimated/1'))
        .thenSatisfies(([e, ...rest]) => {
          expect(rest).toEqual([]);
          const b = batch(e);
          expect([...b.prompts].sort()).toEqual([1, 2, 3]);
          expect([...b.rollouts]).toEqual([...b.prompts].map((q) => G.get(q)));
          expect(b.difficulty).toEqual(f32([...b.prompts].map((q) => d[q])));
          expect([...b.tier]).toEqual([3, 3, 3]);
          expect([...b.hints]).toEqual([0, 0, 0]);
          expect(b).toMatchObject({ step: 1, epoch: 0, key: { seed: 1, step: 1, purpose: 'select' }, strategy: 'beta', filled: 0 });
          expect(e).toMatchObject({ id: 'BatchSelected/1', cause: 'StepStarted/1' });
        });
    });

    it('the estimate alone selects nothing (the step does); a step before any estimate is an error', () => {
      spec.given(estimated.slice(0, 2)).when(estimated[2]).thenNothing();
      spec.given(estimated.slice(0, 2)).when(stepStarted(1, 0)).thenThrows(/step 1 started before any DifficultyEstimated/);
    });
  });

  it('AdaRFT: the B nearest the target T, which moves by η·tanh(α(R̄ − β)) after the update', () => {
    const config = resolveConfig({ method: 'adarft', run: { batchSize: 2 } });
    const spec = deciderSpec(samplerActor, { config });
    const d = [0.1, 0.3, 0.6, 0.9];
    const step1 = [promptsRegistered(4, 0), epochStarted(0, 1, 8), difficultyEstimated(1, 0, d, 'previous-fr')];
    const row = (step: number, prompts: number[], difficulty: number[]) =>
      ev('BatchSelected', {
        step, epoch: 0, key: { seed: 1, step, purpose: 'select' }, strategy: 'adarft', prompts: Uint32Array.from(prompts), difficulty: f32(difficulty),
        tier: Uint8Array.of(3, 3), rollouts: Uint16Array.of(8, 8), hints: Uint16Array.of(0, 0), filled: 0,
      }, `BatchSelected/${step}`, `StepStarted/${step}`);
    // T0 = 0: the nearest are d = 0.1, then 0.3
    spec.given(step1).when(stepStarted(1, 0)).then([row(1, [0, 1], [0.1, 0.3])]);
    // the step's rewards: 7 of 8 correct, R̄ = 0.875 → T = 0 + 0.5·tanh(2·0.375) ≈ 0.318: nearest 0.3, then 0.1
    const step2 = [
      ...step1, stepStarted(1, 0), batchSelected(1, 0, [0, 1], { rollouts: [8, 8] }),
      rolloutCompleted(1, 0, [1, 1, 1, 1]), rolloutCompleted(1, 1, [1, 1, 1, 0]), updateRequested(1, [{ prompt: 0, rows: 4 }, { prompt: 1, rows: 4 }]), updateCompleted(1, 1),
    ];
    const o = spec.given(step2).when(stepStarted(2, 0)).then([row(2, [1, 0], [0.3, 0.1])]);
    expect(samplerActor.summary(o.state)).toMatchObject({ adarftTarget: 0.5 * Math.tanh(2 * (0.875 - 0.5)) });
  });

  it('staged: B = 3 from the moderate stage d ∈ (0, 1) — two prompts there, the third filled from the others', () => {
    const config = resolveConfig({ method: 'staged', run: { batchSize: 3 } });
    deciderSpec(samplerActor, { config })
      .given([promptsRegistered(4, 0), epochStarted(0, 1, 12), difficultyEstimated(1, 0, [0, 0.5, 1, 0.3], 'previous-fr')])
      .when(stepStarted(1, 0))
      .thenSatisfies(([e]) => {
        const b = batch(e);
        expect([...b.prompts.subarray(0, 2)].sort()).toEqual([1, 3]);
        expect([0, 2]).toContain(b.prompts[2]);
        expect(b.filled).toBe(1);
        expect([...b.rollouts]).toEqual([8, 8, 8]);
      });
  });
});
