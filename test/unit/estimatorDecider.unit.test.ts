/**
 * The estimator's rounds (actors/estimator/) as decider specifications, each estimate computed by hand from
 * the spec (dare-reference §2, methods §4, §12): a dataset of 3 prompts whose buffer holds, after step 1,
 *   prompt 0: 4 rows, rewards 1 0 0 1, behaviour log-prob −1 each
 *   prompt 1: 1 row, reward 0, behaviour log-prob −2
 *   prompt 2: none.
 */
import { describe, expect, it } from 'vitest';
import { estimatorActor, JUDGE_SYSTEM } from '../../actors/estimator/estimatorActor.ts';
import { LabelSource } from '../../actors/shared/labels.ts';
import type { DareEvent } from '../../events/catalogue.ts';
import { resolveConfig, type RunConfig } from '../../events/config.ts';
import { seedOf } from '../../events/prng.ts';
import { deciderSpec, ev } from '../support/deciderSpec.ts';
import { epochStarted, promptsRegistered, rolloutCompleted, stepStarted, updateCompleted, updateRequested } from '../support/facts.ts';

// the reference's cold start and cadence (the dare preset's kernel cold start: coldStartBuffer.unit.test.ts)
const config = (over: object = {}): RunConfig => resolveConfig({ method: 'dare-reference', run: { stepsPerEpoch: 1, batchSize: 2 }, ...over });
const f32 = (xs: number[]) => Float32Array.from(xs);

const registered = [promptsRegistered(3, 0)];
const step1 = [
  ...registered, epochStarted(0, 1, 2), stepStarted(1, 0),
  rolloutCompleted(1, 0, [1, 0, 0, 1], { logprobs: [-1, -1, -1, -1] }), rolloutCompleted(1, 1, [0], { logprobs: [-2] }),
  updateRequested(1, [{ prompt: 0, rows: 4 }, { prompt: 1, rows: 1 }]), updateCompleted(1, 1),
];

function estimate(e: DareEvent) {
  if (e.type !== 'DifficultyEstimated') throw new Error(`expected DifficultyEstimated, got ${e.type}`);
  return e.data;
}

function estimated(step: number, epoch: number, method: string, difficulty: number[], source: number[], diagnostics: Record<string, number>, cause: string): DareEvent {
  return ev('DifficultyEstimated', {
    epoch, step, method, difficulty: f32(difficulty), source: Uint8Array.from(source), ess: new Float32Array(difficulty.length), key: null, diagnostics,
  }, `DifficultyEstimated/${step}`, cause);
}

describe('estimator decider', () => {
  describe('SNIS (dare)', () => {
    const spec = deciderSpec(estimatorActor, { config: config() });

    it('an empty buffer: the constant cold start d = 0.5 for every prompt, at once', () => {
      spec.given(registered).when(epochStarted(0, 1, 2)).then([estimated(1, 0, 'snis', [0.5, 0.5, 0.5], [0, 0, 0], { reference: 0 }, 'EpochStarted/0')]);
    });

    it('buffered rows: the round asks for their current log-probs', () => {
      spec
        .given(step1)
        .when(epochStarted(1, 2, 1))
        .then([ev('ScoreRequested', { epoch: 1, step: 2, groups: ['g/1/0', 'g/1/1'], rows: 5 }, 'ScoreRequested/2', 'EpochStarted/1')])
        .inPhase('idle');
    });

    const scoring = [...step1, epochStarted(1, 2, 1), ev('ScoreRequested', { epoch: 1, step: 2, groups: ['g/1/0', 'g/1/1'], rows: 5 }, 'ScoreRequested/2', 'EpochStarted/1')];
    const scored = (current: number[], cause = 'ScoreRequested/2') =>
      ev('ScoreCompleted', { groups: ['g/1/0', 'g/1/1'], rowOffsets: Uint32Array.of(0, 4, 5), current: Float64Array.from(current), policyVersion: 1 }, 'ScoreCompleted/2', cause);

    it('the log-probs in: SNIS where the ESS reaches 2, the raw rate below, the cold start without rows', () => {
      // prompt 0: ℓ = (0, 0, 0, ln 2) (clip 4 leaves them), weights ∝ (1, 1, 1, 2)/2: ESS = 2.5²/1.75 = 25/7 ≥ 2,
      //   success = (0.5 + 1)/2.5 = 0.6, d = 0.4; prompt 1: ℓ = −1, a single row, ESS 1 < 2: raw failure rate 1
      const l = [0, 0, 0, Math.LN2, -1];
      const mean = l.reduce((a, b) => a + b) / 5;
      const std = Math.sqrt(l.reduce((a, x) => a + (x - mean) ** 2, 0) / 4);
      spec
        .given(scoring)
        .when(scored([-1, -1, -1, -1 + Math.LN2, -3]))
        .thenSatisfies(([e, ...rest]) => {
          expect(rest).toEqual([]);
          expect(e).toMatchObject({ id: 'DifficultyEstimated/2', cause: 'ScoreCompleted/2' });
          const d = estimate(e);
          expect(d).toMatchObject({ epoch: 1, step: 2, method: 'snis', key: null });
          expect(d.difficulty).toEqual(f32([0.4, 1, 0.5]));
          expect([...d.source]).toEqual([LabelSource.Snis, LabelSource.FallbackRaw, LabelSource.ColdConstant]);
          expect(d.ess).toEqual(f32([25 / 7, 1, 0]));
          const { meanEss, meanAbsLogRatio, stdLogRatio, ...counts } = d.diagnostics;
          expect(counts).toEqual({ promptsInBuffer: 2, rows: 5, snisEstimated: 1, essFallback: 1, clippedPos: 0, clippedNeg: 0, clip: 4, essThreshold: 2 });
          expect(meanEss).toBeCloseTo((25 / 7 + 1) / 2, 12);
          expect(meanAbsLogRatio).toBeCloseTo((Math.LN2 + 1) / 5, 12);
          expect(stdLogRatio).toBeCloseTo(std, 12);
        })
        .inPhase('scoring');
    });

    it('a clip of 0.5 nats caps ℓ = ln 2: weights ∝ (1, 1, 1, e^0.5)', () => {
      const w = Math.exp(0.5);
      deciderSpec(estimatorActor, { config: config({ estimator: { clip: 0.5 } }) })
        .given(scoring)
        .when(scored([-1, -1, -1, -1 + Math.LN2, -3]))
        .thenSatisfies(([e]) => {
          const d = estimate(e);
          expect(d.difficulty[0]).toBeCloseTo(1 - (1 + w) / (3 + w), 6);
          expect(d.ess[0]).toBeCloseTo((3 + w) ** 2 / (3 + w * w), 5);
          expect(d.diagnostics).toMatchObject({ clippedPos: 1, clippedNeg: 1 });
        });
    });

    it('the dare preset: the prompts the buffer estimated are the TF-IDF kernel\'s reference, so a prompt never rolled out gets their prediction', () => {
      // texts "0", "1", "2" (no prompt rows here) have the same TF-IDF vector (digits fold to one token): every
      // cosine is 1, so b_q = the plain mean of the references' estimates (0.4 + 1)/2 = 0.7, the OLS fit has no
      // slope (α = 0, γ = 0.7), and prompt 2 gets 0.7 from the kernel (source cold-tfidf) instead of the constant
      deciderSpec(estimatorActor, { config: resolveConfig({ run: { stepsPerEpoch: 1, batchSize: 2, estimation: 'epoch' } }) })
        .given(scoring)
        .when(scored([-1, -1, -1, -1 + Math.LN2, -3]))
        .thenSatisfies(([e]) => {
          const d = estimate(e);
          expect(d.difficulty).toEqual(f32([0.4, 1, 0.7]));
          expect([...d.source]).toEqual([LabelSource.Snis, LabelSource.FallbackRaw, LabelSource.ColdTfidf]);
        });
    });

    it('a ScoreCompleted of another request is not this round\'s; one that does not cover the buffer is an error', () => {
      spec.given(scoring).when(scored([-1, -1, -1, -1, -3], 'ScoreRequested/9')).thenNothing();
      spec
        .given(scoring)
        .when(ev('ScoreCompleted', { groups: ['g/1/0', 'g/1/1'], rowOffsets: Uint32Array.of(0, 4, 4), current: Float64Array.of(-1, -1, -1, -1), policyVersion: 1 }, 'ScoreCompleted/2', 'ScoreRequested/2'))
        .thenThrows(/covers 4 rows, the buffer holds 5/);
    });
  });

  it('Previous-FR: the pooled raw failure rate of each buffered prompt, at once', () => {
    deciderSpec(estimatorActor, { config: config({ method: 'previous-fr' }) })
      .given(step1)
      .when(epochStarted(1, 2, 1))
      .then([estimated(2, 1, 'previous-fr', [0.5, 1, 0.5], [LabelSource.PreviousFr, LabelSource.PreviousFr, LabelSource.ColdConstant], { rows: 5 }, 'EpochStarted/1')]);
  });

  it('MoPPS: a Thompson sample for each prompt seen (2 of 3), the cold start for the other', () => {
    deciderSpec(estimatorActor, { config: config({ method: 'mopps' }) })
      .given(step1)
      .when(epochStarted(1, 2, 1))
      .thenSatisfies(([e]) => {
        const d = estimate(e);
        expect(d).toMatchObject({ step: 2, method: 'mopps', key: { seed: 1, step: 2, purpose: 'estimate' }, diagnostics: { covered: 2 } });
        expect([...d.source]).toEqual([LabelSource.Posterior, LabelSource.Posterior, LabelSource.ColdConstant]);
        expect(d.difficulty[2]).toBe(0.5);
        for (const x of d.difficulty.subarray(0, 2)) expect(x > 0 && x < 1).toBe(true);
      });
  });

  describe('LLM-judge and EDCO ask the policy itself', () => {
    it('judge: the round asks every prompt at T = 0.3, ≤ min(32, L_max) tokens; d = 1 − the first number in [0, 1] of the reply, 0.5 when none', () => {
      const spec = deciderSpec(estimatorActor, { config: config({ method: 'llm-judge' }) });
      const request = ev('SignalRequested', {
        epoch: 0, step: 1, kind: 'judge', prompts: Uint32Array.of(0, 1, 2), system: JUDGE_SYSTEM, temperature: 0.3, maxTokens: 8,
        seed: seedOf({ seed: 1, step: 1, purpose: 'judge' }),
      }, 'SignalRequested/1/judge', 'EpochStarted/0');
      spec.given(registered).when(epochStarted(0, 1, 2)).then([request]);
      const replies = ev('SignalCompleted', {
        step: 1, kind: 'judge', prompts: Uint32Array.of(0, 1, 2), texts: ['about 0.25', 'no idea', '70% or 1'], values: new Float32Array(0), policyVersion: 0,
      }, 'SignalCompleted/1/judge', 'SignalRequested/1/judge');
      spec
        .given([...registered, epochStarted(0, 1, 2), request])
        .when(replies)
        .then([estimated(1, 0, 'judge', [0.75, 0.5, 0], [LabelSource.Judge, LabelSource.Judge, LabelSource.Judge], { unparsed: 1 }, 'SignalCompleted/1/judge')]);
    });

    it('EDCO: the prefix entropies travel as the labels (source entropy, not failure rates)', () => {
      const spec = deciderSpec(estimatorActor, { config: config({ method: 'edco' }) });
      const request = ev('SignalRequested', {
        epoch: 0, step: 1, kind: 'entropy', prompts: Uint32Array.of(0, 1, 2), system: '', temperature: 0.6, maxTokens: 8,
        seed: seedOf({ seed: 1, step: 1, purpose: 'entropy' }),
      }, 'SignalRequested/1/entropy', 'EpochStarted/0');
      spec.given(registered).when(epochStarted(0, 1, 2)).then([request]);
      const values = ev('SignalCompleted', {
        step: 1, kind: 'entropy', prompts: Uint32Array.of(2, 0, 1), texts: [], values: f32([2, 1.5, 0.25]), policyVersion: 0,
      }, 'SignalCompleted/1/entropy', 'SignalRequested/1/entropy');
      spec
        .given([...registered, epochStarted(0, 1, 2), request])
        .when(values)
        .then([estimated(1, 0, 'entropy', [1.5, 0.25, 2], [LabelSource.Entropy, LabelSource.Entropy, LabelSource.Entropy], {}, 'SignalCompleted/1/entropy')]);
    });
  });
});
