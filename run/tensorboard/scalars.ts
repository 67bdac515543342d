/**
 * What a run's TensorBoard event files hold: one Event of scalars per logged UpdateCompleted (the step's
 * MetricsFold row and the update's own figures), EvalCompleted and DifficultyEstimated, at the training step
 * the event names, stamped with that event's `ts` (logged, never the clock of the writer). Each Event is a
 * function of its event and the metrics fold just after it, so the live writer (liveWriter.ts) and `dare
 * export --tensorboard` (export.ts) write the same bytes for the same log.
 *
 * Tags:
 *   train/reward, train/success_rate, train/mean_length, train/prompts, train/rollouts, train/trained_rows,
 *   train/fresh_groups, train/replay_groups, train/epoch, train/policy_version   (the step's fresh rollouts)
 *   tiers/easy, tiers/medium, tiers/hard        prompts selected per tier
 *   update/loss, update/clip_frac, update/kl, update/entropy, update/grad_norm, update/tokens,
 *   update/logprob_parity_max, update/logprob_parity_mean (where the worker reports them), update/bin_loss/<bin> (DARO)
 *   time/rollout, time/update, time/step        seconds
 *   estimator/mean_ess                          mean ESS of the estimate the step's selection used (SNIS)
 *   eval/accuracy, eval/oracle_accuracy (sim), eval/<tier>/accuracy, eval/<tier>/mean_length, eval/<tier>/count
 *   estimator/<diagnostic>                      the estimator's diagnostics (DifficultyEstimated), e.g.
 *                                               estimator/meanEss, estimator/essFallback;
 *   estimator/mean_difficulty, estimator/estimated   mean estimated failure rate over the prompts with one, and their count
 * A value that is null (no eval yet, no ESS) is left out; NaN and ±Infinity (a diverging loss) are written as
 * they are, as float32.
 */
import type { EventOf } from '../../events/catalogue.ts';
import type { MetricsFold, StepMetrics } from '../metrics.ts';
import type { ScalarEvent } from './eventFile.ts';

/** The events an Event of scalars comes from: one per step each (their ids are `<type>/<step>`). */
export const SCALAR_SOURCES = ['UpdateCompleted', 'EvalCompleted', 'DifficultyEstimated'] as const;
export type ScalarSource = (typeof SCALAR_SOURCES)[number];

/** An Event of scalars and the id of the logged event it comes from. */
export interface ScalarRecord extends ScalarEvent {
  source: ScalarSource;
  /** the source event's id, `<source>/<step>` */
  id: string;
}

type Values = ScalarEvent['values'];

function put(values: Values, tag: string, v: number | null | undefined): void {
  if (v !== null && v !== undefined) values.push([tag, v]);
}

const sorted = (o: Record<string, unknown>) => Object.keys(o).sort();

/** The step's scalars at its UpdateCompleted: its metrics row (MetricsFold) and the update's figures. */
export function trainScalars(row: StepMetrics, ev: EventOf<'UpdateCompleted'>): ScalarRecord {
  const v: Values = [];
  put(v, 'train/reward', row.rewardMean);
  put(v, 'train/success_rate', row.successRate);
  put(v, 'train/mean_length', row.meanLength);
  put(v, 'train/prompts', row.prompts);
  put(v, 'train/rollouts', row.rollouts);
  put(v, 'train/trained_rows', row.trainedRows);
  put(v, 'train/fresh_groups', row.freshGroups);
  put(v, 'train/replay_groups', row.replayGroups);
  put(v, 'train/epoch', row.epoch);
  put(v, 'train/policy_version', row.policyVersion);
  put(v, 'tiers/easy', row.tierEasy);
  put(v, 'tiers/medium', row.tierMedium);
  put(v, 'tiers/hard', row.tierHard);
  put(v, 'update/loss', row.loss);
  put(v, 'update/clip_frac', row.clipFrac);
  put(v, 'update/kl', row.kl);
  put(v, 'update/entropy', row.entropy);
  put(v, 'update/grad_norm', row.gradNorm);
  put(v, 'update/tokens', ev.data.tokens);
  put(v, 'update/logprob_parity_max', ev.data.logprobParity?.maxAbs);
  put(v, 'update/logprob_parity_mean', ev.data.logprobParity?.meanAbs);
  for (const k of sorted(ev.data.binLosses)) put(v, `update/bin_loss/${k}`, ev.data.binLosses[k]);
  put(v, 'time/rollout', row.secondsRollout);
  put(v, 'time/update', row.secondsUpdate);
  put(v, 'time/step', row.secondsStep);
  put(v, 'estimator/mean_ess', row.meanEss);
  return { source: 'UpdateCompleted', id: ev.id, step: ev.data.step, wallTime: ev.ts / 1000, values: v };
}

/** An evaluation's scalars: accuracy overall and per category of the eval set. */
export function evalScalars(ev: EventOf<'EvalCompleted'>): ScalarRecord {
  const v: Values = [];
  put(v, 'eval/accuracy', ev.data.accuracy);
  put(v, 'eval/oracle_accuracy', ev.data.oracleAccuracy);
  for (const tier of sorted(ev.data.byTier)) {
    const t = ev.data.byTier[tier];
    put(v, `eval/${tier}/accuracy`, t.accuracy);
    put(v, `eval/${tier}/mean_length`, t.meanLength);
    put(v, `eval/${tier}/count`, t.count);
  }
  return { source: 'EvalCompleted', id: ev.id, step: ev.data.step, wallTime: ev.ts / 1000, values: v };
}

/** An estimate's scalars: the estimator's diagnostics and the mean estimated failure rate. */
export function estimateScalars(ev: EventOf<'DifficultyEstimated'>): ScalarRecord {
  const v: Values = [];
  for (const k of sorted(ev.data.diagnostics)) if (k !== 'mean_difficulty' && k !== 'estimated') put(v, `estimator/${k}`, ev.data.diagnostics[k]);
  const d = ev.data.difficulty as ArrayLike<number>;
  let n = 0;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    if (Number.isFinite(d[i])) {
      n++;
      sum += d[i];
    }
  }
  if (n > 0) put(v, 'estimator/mean_difficulty', sum / n);
  put(v, 'estimator/estimated', n);
  return { source: 'DifficultyEstimated', id: ev.id, step: ev.data.step, wallTime: ev.ts / 1000, values: v };
}

/**
 * The Event of scalars a logged event gives, given the metrics fold just after it (`fold.add(l)` first), or
 * null: only the three sources give one, and an UpdateCompleted of step 0 none (metrics.csv lists steps ≥ 1).
 */
export function scalarRecordOf(e: { type: string }, fold: MetricsFold): ScalarRecord | null {
  const ev = e as EventOf<ScalarSource>;
  switch (ev.type) {
    case 'UpdateCompleted': {
      const row = ev.data.step > 0 ? fold.stepRow(ev.data.step) : undefined;
      return row ? trainScalars(row, ev) : null;
    }
    case 'EvalCompleted':
      return evalScalars(ev);
    case 'DifficultyEstimated':
      return estimateScalars(ev);
    default:
      return null;
  }
}

/**
 * Which source an Event of scalars read back from a file came from, by the tag each source always writes
 * (train/reward, eval/accuracy, estimator/estimated); null for an Event of none of ours.
 */
export function sourceOfValues(values: ReadonlyArray<[string, number]>): ScalarSource | null {
  const tags = new Set(values.map(([t]) => t));
  if (tags.has('train/reward')) return 'UpdateCompleted';
  if (tags.has('eval/accuracy')) return 'EvalCompleted';
  if (tags.has('estimator/estimated')) return 'DifficultyEstimated';
  return null;
}
