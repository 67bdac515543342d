/**
 * DARE's estimator (dare-reference §2): the round asks the workers for the current policy's log-probs of the
 * buffered rows (ScoreRequested) and estimates when they arrive (ScoreCompleted): self-normalised importance
 * sampling per prompt, the raw stale rate where the ESS is below the threshold, the cold start for prompts
 * without buffered rows. An empty buffer: the cold start at once.
 */
import { eventId, makeEvent } from '../../../events/catalogue.ts';
import { assembleLabels, NO_LABEL } from '../../shared/labels.ts';
import { rowsForEstimation } from '../../shared/replayBuffer.ts';
import { coldEstimate, coldStart, estimated, referenceLabels } from '../round.ts';
import { snisEstimate } from '../snis.ts';
import { roundVersion, type EstimatorStrategy } from '../strategy.ts';

export const snis: EstimatorStrategy<null> = {
  init: () => null,
  estimate(s, ctx, cause) {
    const rows = rowsForEstimation(s.buffer.buffer);
    if (rows.promptIndex.length === 0) return coldEstimate(s, ctx, cause);
    const groups = s.buffer.buffer.groups.map((g) => g.groupId);
    return [
      makeEvent(
        'ScoreRequested',
        { epoch: s.round!.epoch, step: s.round!.step, groups, rows: rows.promptIndex.length, ...roundVersion(s.round) },
        { run: ctx.run, id: eventId('ScoreRequested', s.round!.step), cause },
      ),
    ];
  },
  complete(s, { event: ev }, ctx) {
    if (ev.type !== 'ScoreCompleted' || !s.round || ev.cause !== s.round.scoreRequest) return [];
    const cfg = ctx.config;
    const rows = rowsForEstimation(s.buffer.buffer);
    const groups = s.buffer.buffer.groups;
    if (ev.data.groups.length !== groups.length || ev.data.current.length !== rows.promptIndex.length) {
      throw new Error(`estimator: ScoreCompleted ${ev.id} covers ${ev.data.current.length} rows, the buffer holds ${rows.promptIndex.length}`);
    }
    const res = snisEstimate(
      { prompt: rows.promptIndex, behaviourLogProb: rows.behaviourSum, currentLogProb: ev.data.current, reward: rows.reward },
      { numPrompts: s.numPrompts, clip: cfg.estimator.clip, essThreshold: cfg.estimator.essThreshold },
    );
    const layer = { difficulty: res.difficulty, source: res.source };
    const a = assembleLabels(s.numPrompts, coldStart(s, ctx, layer), layer, referenceLabels(s));
    const ess = new Float64Array(s.numPrompts);
    for (let q = 0; q < s.numPrompts; q++) if (res.source[q] !== NO_LABEL) ess[q] = res.ess[q];
    return [estimated(s, ctx, ev.id, { ...a, ess }, { ...res.diagnostics } as unknown as Record<string, number>, null)];
  },
};
