/**
 * For the TensorBoard tests: a directory as TensorBoard's own reader sees it (test/support/read_tensorboard.py
 * over the project's venv: EventAccumulator and event_file_loader), and the scalars the log itself gives,
 * worked out from the events and metricsOf (not through run/tensorboard/scalars.ts).
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import type { EventOf, Logged } from '../../events/catalogue.ts';
import { metricsOf } from '../../run/metrics.ts';
import { venvPython } from './hf.ts';

export type Point = [step: number, wallTime: number, value: number | string];

export interface TensorboardView {
  file_version: number;
  files: string[];
  first_records: Array<{ file: string; file_version: string; wall_time: number }>;
  scalars: Record<string, Point[]>;
  records: number;
  reserialized_equal: number;
}

/** TensorBoard's reader over a log directory (fails, never skips, without the venv: make setup-venv). */
export function readWithTensorboard(dir: string): TensorboardView {
  const py = spawnSync(venvPython(), ['test/support/read_tensorboard.py', dir], { encoding: 'utf8' });
  expect(py.stderr, 'read_tensorboard.py wrote to stderr').toBe('');
  expect(py.status).toBe(0);
  return JSON.parse(py.stdout) as TensorboardView;
}

const f32 = (v: number) => (Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? Math.fround(v) : v > 0 ? 'Infinity' : '-Infinity');

/** Every scalar the log gives, tag -> points in step order (values as float32, as TensorBoard stores them). */
export function expectedScalars(events: Logged[]): Record<string, Point[]> {
  const m = metricsOf(events);
  const out: Record<string, Point[]> = {};
  const add = (tag: string, step: number, ts: number, v: number | null | undefined) => {
    if (v === null || v === undefined) return;
    (out[tag] ??= []).push([step, ts / 1000, f32(v)]);
  };
  const byId = new Map(events.map((l) => [l.event.id, l.event]));
  for (const row of m.steps) {
    if (row.step === 0) continue;
    const u = byId.get(`UpdateCompleted/${row.step}`) as EventOf<'UpdateCompleted'> | undefined;
    if (!u) continue;
    const columns: Array<[string, number | null]> = [
      ['train/reward', row.rewardMean], ['train/success_rate', row.successRate], ['train/mean_length', row.meanLength],
      ['train/prompts', row.prompts], ['train/rollouts', row.rollouts], ['train/trained_rows', row.trainedRows],
      ['train/fresh_groups', row.freshGroups], ['train/replay_groups', row.replayGroups], ['train/epoch', row.epoch],
      ['train/policy_version', row.policyVersion], ['tiers/easy', row.tierEasy], ['tiers/medium', row.tierMedium], ['tiers/hard', row.tierHard],
      ['update/loss', row.loss], ['update/clip_frac', row.clipFrac], ['update/kl', row.kl], ['update/entropy', row.entropy],
      ['update/grad_norm', row.gradNorm], ['update/tokens', u.data.tokens],
      ['update/logprob_parity_max', u.data.logprobParity?.maxAbs ?? null], ['update/logprob_parity_mean', u.data.logprobParity?.meanAbs ?? null],
      ['time/rollout', row.secondsRollout], ['time/update', row.secondsUpdate], ['time/step', row.secondsStep], ['estimator/mean_ess', row.meanEss],
      ...Object.entries(u.data.binLosses).map(([k, v]) => [`update/bin_loss/${k}`, v] as [string, number]),
    ];
    for (const [tag, v] of columns) add(tag, row.step, u.ts, v);
  }
  for (const l of events) {
    const e = l.event;
    if (e.type === 'EvalCompleted') {
      add('eval/accuracy', e.data.step, e.ts, e.data.accuracy);
      add('eval/oracle_accuracy', e.data.step, e.ts, e.data.oracleAccuracy);
      for (const [tier, t] of Object.entries(e.data.byTier)) {
        add(`eval/${tier}/accuracy`, e.data.step, e.ts, t.accuracy);
        add(`eval/${tier}/mean_length`, e.data.step, e.ts, t.meanLength);
        add(`eval/${tier}/count`, e.data.step, e.ts, t.count);
      }
    }
    if (e.type === 'DifficultyEstimated') {
      for (const [k, v] of Object.entries(e.data.diagnostics)) add(`estimator/${k}`, e.data.step, e.ts, v);
      const d = [...(e.data.difficulty as Float32Array)].filter(Number.isFinite);
      if (d.length) add('estimator/mean_difficulty', e.data.step, e.ts, d.reduce((a, b) => a + b, 0) / d.length);
      add('estimator/estimated', e.data.step, e.ts, d.length);
    }
  }
  for (const points of Object.values(out)) points.sort((a, b) => a[0] - b[0]);
  return out;
}

/** Points per tag sorted by step (a directory of several files reads in file order). */
export function byStep(scalars: Record<string, Point[]>): Record<string, Point[]> {
  return Object.fromEntries(Object.entries(scalars).map(([t, p]) => [t, [...p].sort((a, b) => a[0] - b[0])]));
}
