/**
 * The request the LLM-judge and EDCO estimators open their round with: the policy's own per-prompt signal
 * over the whole dataset (methods §12), answered by SignalCompleted.
 */
import { eventId, makeEvent, type DareEvent } from '../../events/catalogue.ts';
import { seedOf } from '../../events/prng.ts';
import type { DecideContext } from '../actor.ts';
import { roundVersion, type EstimatorState } from './strategy.ts';

/** LLM-judge (methods §12): the instruction sent before every question; the reply's first number in [0, 1] is read. */
export const JUDGE_SYSTEM = 'Estimate the probability (a number between 0 and 1) that you can solve the following problem correctly. Reply with the number only.';

export function signalRequest(kind: 'judge' | 'entropy', s: EstimatorState, ctx: DecideContext, cause: string): DareEvent {
  const cfg = ctx.config;
  const round = s.round!;
  const judge = kind === 'judge';
  const prompts = new Uint32Array(s.numPrompts);
  for (let q = 0; q < s.numPrompts; q++) prompts[q] = q;
  return makeEvent(
    'SignalRequested',
    {
      epoch: round.epoch, step: round.step, kind, prompts,
      // methods §12: judge T = 0.3, ≤ 32 tokens; entropy prefix T = 0.6, ≤ 64 tokens
      system: judge ? JUDGE_SYSTEM : '', temperature: judge ? 0.3 : 0.6, maxTokens: Math.min(judge ? 32 : 64, cfg.task.maxResponseTokens),
      seed: seedOf({ seed: cfg.run.seed, step: round.step, purpose: kind }),
      ...roundVersion(round),
    },
    { run: ctx.run, id: eventId('SignalRequested', round.step, kind), cause },
  );
}
