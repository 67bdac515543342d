/**
 * Previous-FR (methods §12): each buffered prompt's pooled raw failure rate, no importance correction; the
 * cold start for the others, the reference set's measured prompts outranking both.
 */
import { assembleLabels } from '../../shared/labels.ts';
import { rowsForEstimation } from '../../shared/replayBuffer.ts';
import { coldEstimate, coldStart, estimated, referenceLabels } from '../round.ts';
import { pooledRawEstimate } from '../snis.ts';
import type { EstimatorStrategy } from '../strategy.ts';

export const previousFr: EstimatorStrategy<null> = {
  init: () => null,
  estimate(s, ctx, cause) {
    const rows = rowsForEstimation(s.buffer.buffer);
    if (rows.promptIndex.length === 0) return coldEstimate(s, ctx, cause);
    const raw = pooledRawEstimate({ prompt: rows.promptIndex, reward: rows.reward }, s.numPrompts);
    const layer = { difficulty: raw.difficulty, source: raw.source };
    const a = assembleLabels(s.numPrompts, coldStart(s, ctx, layer), layer, referenceLabels(s));
    return [estimated(s, ctx, cause, a, { rows: rows.promptIndex.length }, null)];
  },
};
