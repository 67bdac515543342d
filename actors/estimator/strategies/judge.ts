/**
 * LLM-judge (methods §12): the round asks the policy, per prompt, for the probability it solves it
 * (SignalRequested, kind judge); each reply's first number in [0, 1] is the success estimate, an unparsed
 * reply none (judge.ts). Without prompts: the cold start.
 */
import { coldEstimate, estimated, openRound } from '../round.ts';
import { judgeLabels } from '../judge.ts';
import type { EstimatorStrategy } from '../strategy.ts';
import { signalRequest } from '../signal.ts';

export const judge: EstimatorStrategy<null> = {
  init: () => null,
  open: (s, ctx, cause) => (s.numPrompts > 0 ? [signalRequest('judge', s, ctx, cause)] : openRound(judge, s, ctx, cause)),
  estimate: (s, ctx, cause) => coldEstimate(s, ctx, cause),
  complete(s, { event: ev }, ctx) {
    if (ev.type !== 'SignalCompleted' || ev.data.kind !== 'judge' || !s.round || ev.data.step !== s.round.step) return [];
    const texts = new Array<string>(s.numPrompts).fill('');
    ev.data.prompts.forEach((q, i) => (texts[q] = ev.data.texts[i] ?? ''));
    const j = judgeLabels(texts);
    return [estimated(s, ctx, ev.id, j, { unparsed: j.unparsed }, null)];
  },
};
