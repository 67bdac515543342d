/**
 * EDCO's entropy estimate (methods §12): the round asks the policy for each prompt's mean prefix entropy
 * (SignalRequested, kind entropy). The score travels as the label, source "entropy" — NOT a failure rate:
 * the sampler turns it into softmax logits (sampler.method entropy). Without prompts: the cold start.
 */
import { LabelSource } from '../../shared/labels.ts';
import { coldEstimate, estimated, openRound } from '../round.ts';
import type { EstimatorStrategy } from '../strategy.ts';
import { signalRequest } from '../signal.ts';

export const entropy: EstimatorStrategy<null> = {
  init: () => null,
  open: (s, ctx, cause) => (s.numPrompts > 0 ? [signalRequest('entropy', s, ctx, cause)] : openRound(entropy, s, ctx, cause)),
  estimate: (s, ctx, cause) => coldEstimate(s, ctx, cause),
  complete(s, { event: ev }, ctx) {
    if (ev.type !== 'SignalCompleted' || ev.data.kind !== 'entropy' || !s.round || ev.data.step !== s.round.step) return [];
    const score = new Float64Array(s.numPrompts);
    ev.data.prompts.forEach((q, i) => (score[q] = ev.data.values[i]));
    return [estimated(s, ctx, ev.id, { difficulty: score, source: new Uint8Array(s.numPrompts).fill(LabelSource.Entropy) }, {}, null)];
  },
};
