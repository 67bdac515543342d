/**
 * The learner's decisions (actors/learner/learnerActor.ts) as decider specifications, computed by hand from
 * the spec (dare-reference §7, §8; methods §1): the baseline evaluation, a batch's rollout request (with a hint
 * built from a buffered correct response), the update request of a step's rollouts — paper shaping, GRPO
 * advantages, clip bounds per tier — the checkpoint and evaluation cadence, and DAPO's dynamic-sampling refill.
 */
import { describe, expect, it } from 'vitest';
import { learnerActor } from '../../actors/learner/learnerActor.ts';
import { resolveConfig } from '../../events/config.ts';
import { seedOf } from '../../events/prng.ts';
import { deciderSpec, ev } from '../support/deciderSpec.ts';
import {
  batchSelected, checkpointRequested, checkpointSaved, difficultyEstimated, epochStarted, evalCompleted, evalRequested, promptsRegistered, rolloutCompleted,
  stepStarted, updateCompleted, updateRequested,
} from '../support/facts.ts';

// DARE's defaults (paper tiers, shaping and clip; L_max = 8 tokens), batch 2, a checkpoint and an evaluation after every update
// every group shaped (learner.shapingGroups = all): the hand values below include the flat groups' length terms
const config = resolveConfig({ run: { batchSize: 2, stepsPerEpoch: 4, evalSize: 2, checkpointEvery: 1, evalEvery: 1 }, learner: { shapingGroups: 'all' } });
const spec = deciderSpec(learnerActor, { config });

const start = [promptsRegistered(4, 3), evalRequested(0, 0, [4, 5], 'PromptsRegistered'), evalCompleted(0, 0), epochStarted(0, 1, 8), difficultyEstimated(1, 0, [0.1, 0.9, 0.5, 0.5])];
const rolloutSeed = (step: number, purpose: string) => seedOf({ seed: 1, step, purpose });

function rolloutRequested(step: number, prompts: number[], rollouts: number[], hints: number[], hintSources: string[]) {
  return ev('RolloutRequested', {
    step, purpose: 'train', prompts: Uint32Array.from(prompts), rollouts: Uint16Array.from(rollouts), hints: Uint16Array.from(hints), hintSources,
    temperature: 1, maxTokens: 8, seed: rolloutSeed(step, 'rollout'),
  }, `RolloutRequested/${step}`, `BatchSelected/${step}`);
}

/** GRPO advantage of each row of one group: (S − mean) / (unbiased std + 1e-6). */
function grpo(scores: number[]): number[] {
  const mean = scores.reduce((a, b) => a + b) / scores.length;
  const std = Math.sqrt(scores.reduce((a, x) => a + (x - mean) ** 2, 0) / (scores.length - 1));
  return scores.map((x) => (x - mean) / (std + 1e-6));
}

describe('learner decider', () => {
  it('prompts registered: the baseline evaluation over the first min(evalCount, evalSize) held-out prompts', () => {
    spec.given([]).when(promptsRegistered(4, 3)).then([evalRequested(0, 0, [4, 5], 'PromptsRegistered')]);
  });

  it('a batch selected: its rollouts requested as selected, the seed keyed (run seed, step, "rollout")', () => {
    const batch = batchSelected(1, 0, [0, 1], { tier: [0, 2], rollouts: [4, 16] });
    spec.given([...start, stepStarted(1, 0)]).when(batch).then([rolloutRequested(1, [0, 1], [4, 16], [0, 0], ['', ''])]).inPhase('idle');
  });

  it('hints: from a buffered correct response of the same prompt (its only one: row 1 of g/1/1); none buffered, plain rollouts', () => {
    const step1 = [
      ...start, stepStarted(1, 0), batchSelected(1, 0, [0, 1]), rolloutCompleted(1, 0, [0, 0]), rolloutCompleted(1, 1, [0, 1]),
      updateRequested(1, [{ prompt: 0, rows: 2 }, { prompt: 1, rows: 2 }]), updateCompleted(1, 1),
    ];
    spec
      .given([...step1, stepStarted(2, 0)])
      .when(batchSelected(2, 0, [1, 0], { tier: [2, 2], rollouts: [16, 16], hints: [8, 8] }))
      .then([rolloutRequested(2, [1, 0], [16, 16], [8, 0], ['g/1/1#1', ''])]);
  });

  describe('the update request once the step\'s last group is in', () => {
    // prompt 0 easy (d = 0.1): rewards 1 0, lengths 4 8; prompt 1 hard (d = 0.9): rewards 0 0, lengths 8 2
    const rolling = [
      ...start, stepStarted(1, 0), batchSelected(1, 0, [0, 1], { difficulty: [0.1, 0.9], tier: [0, 2], rollouts: [2, 2] }),
      rolloutRequested(1, [0, 1], [2, 2], [0, 0], ['', '']), rolloutCompleted(1, 0, [1, 0], { lengths: [4, 8] }),
    ];
    const last = rolloutCompleted(1, 1, [0, 0], { lengths: [8, 2] });

    it('paper shaping (λ = 1e-4 per full-length response), GRPO advantages, ε⁺ = 0.28 for the easy rows; no replay in epoch 0', () => {
      // correct easy row: 1 − 1e-4·4/8; wrong hard rows: 0 + 1e-4·8/8 and 0 + 1e-4·2/8
      const shaped = [1 - 1e-4 * (4 / 8), 0, 1e-4 * (8 / 8), 1e-4 * (2 / 8)];
      const advantage = [...grpo(shaped.slice(0, 2)), ...grpo(shaped.slice(2))];
      spec
        .given(rolling)
        .when(last)
        .then([
          ev('UpdateRequested', {
            step: 1, policyVersion: 0, key: { seed: 1, step: 1, purpose: 'replay' }, groups: ['g/1/0', 'g/1/1'], freshGroups: 2,
            rowGroup: Uint32Array.of(0, 0, 1, 1), rowIndex: Uint16Array.of(0, 1, 0, 1),
            rawReward: Float32Array.of(1, 0, 0, 0), shapedReward: Float32Array.from(shaped), advantage: Float32Array.from(advantage),
            clipLo: Float32Array.of(0.8, 0.8, 0.8, 0.8), clipHi: Float32Array.of(1.28, 1.28, 1.2, 1.2),
            weight: Float32Array.of(1, 1, 1, 1), bin: Int32Array.of(-1, -1, -1, -1),
            aggregation: 'token-mean', lConst: 8, entropyCoeff: 0.001, klCoeff: 0, maskTruncated: false,
          }, 'UpdateRequested/1', 'RolloutCompleted/1/1'),
        ]);
      // the advantages by hand: group 0 (0.99995, 0) → ±0.499975/(0.499975·√2 + 1e-6); group 1 → ±3.75e-5/(3.75e-5·√2 + 1e-6)
      expect(advantage[0]).toBeCloseTo(0.499975 / (0.499975 * Math.SQRT2 + 1e-6), 12);
      expect(advantage[2]).toBeCloseTo(3.75e-5 / (3.75e-5 * Math.SQRT2 + 1e-6), 12);
    });

    it('before the last group: nothing; a group of another step: nothing', () => {
      spec.given(rolling.slice(0, -1)).when(rolling[rolling.length - 1]).thenNothing();
      spec.given(rolling).when(rolloutCompleted(2, 1, [0, 0])).thenNothing();
    });
  });

  it('after the update: a checkpoint (every update), then the evaluation (every step) once it is saved', () => {
    const updated = [...start, stepStarted(1, 0), batchSelected(1, 0, [0, 1]), updateRequested(1, [{ prompt: 0, rows: 2 }, { prompt: 1, rows: 2 }])];
    spec.given(updated).when(updateCompleted(1, 1)).then([checkpointRequested(1, 'UpdateCompleted/1')]);
    spec
      .given([...updated, updateCompleted(1, 1), checkpointRequested(1, 'UpdateCompleted/1')])
      .when(checkpointSaved(1))
      .then([evalRequested(1, 1, [4, 5], 'CheckpointSaved/1')]);
  });

  it('DAPO: every group zero-variance, so the refill rolls out ⌈(B − kept)·requested / max(1, kept)⌉ = 4 new prompts, all not yet rolled out', () => {
    const dapo = deciderSpec(learnerActor, { config: resolveConfig({ method: 'dapo', run: { batchSize: 2 } }) });
    const rolling = [promptsRegistered(6, 0), epochStarted(0, 1, 8), difficultyEstimated(1, 0, new Array(6).fill(0.5)), stepStarted(1, 0), batchSelected(1, 0, [0, 1]), rolloutCompleted(1, 0, [1, 1])];
    dapo
      .given(rolling)
      .when(rolloutCompleted(1, 1, [0, 0]))
      .thenSatisfies(([e, ...rest]) => {
        expect(rest).toEqual([]);
        expect(e).toMatchObject({ type: 'RolloutRequested', id: 'RolloutRequested/1/refill1', cause: 'RolloutCompleted/1/1' });
        if (e.type !== 'RolloutRequested') return;
        expect([...e.data.prompts].sort()).toEqual([2, 3, 4, 5]);
        expect(e.data).toMatchObject({ step: 1, purpose: 'refill', hintSources: ['', '', '', ''], seed: rolloutSeed(1, 'refill/1') });
        expect([...e.data.rollouts]).toEqual([8, 8, 8, 8]);
        expect([...e.data.hints]).toEqual([0, 0, 0, 0]);
      });
  });
});
