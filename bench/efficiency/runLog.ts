/**
 * One run of the efficiency study, read back from its log (the single source of truth): the accuracy-vs-
 * rollouts curve, the rollout accounting, the response length on easy prompts, and what explains the
 * curve — tier counts, how many fresh groups carried no signal (all rows equal), the difficulty of what
 * the sampler picked, and the estimator's error (views/drift.ts).
 */
import { MetricsFold } from '../../run/metrics.ts';
import { DriftFold } from '../../views/drift.ts';
import type { Logged } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import { EventLog } from '../../store/eventLog.ts';
import type { CurvePoint } from './summary.ts';

export interface RunCurvePoint extends CurvePoint {
  step: number;
}

export interface RunFigures {
  /** (rollouts generated up to and including the evaluated step, accuracy); step 0 = the baseline eval. */
  curve: RunCurvePoint[];
  /** Which accuracy the curve holds: the sim's oracle expected accuracy, or greedy eval accuracy. */
  accuracyKind: 'oracle' | 'eval';
  steps: number;
  completed: boolean;
  rollouts: { generated: number; trained: number; discarded: number };
  /**
   * Mean response length (tokens) of the fresh training rollouts of easy prompts (success ≥ 1 − dEasy:
   * the sim's true pass rate at generation time, else the group's realized success) over the last quarter
   * of the steps; null when there were none.
   */
  easyLength: number | null;
  easyRows: number;
  /** Prompts selected per tier over the run (BatchSelected; "none" = tiers off). */
  tiers: { easy: number; medium: number; hard: number; none: number };
  /** Fraction of fresh training groups whose rows all had the same reward (no GRPO signal). */
  zeroVarianceShare: number;
  /** Mean true failure rate of the fresh training prompts (sim only, else null). */
  selectedDifficulty: number | null;
  /** Mean |estimated − realized failure| of trained prompts, and against the sim's truth (NaN: none). */
  estimatorMae: number | null;
  estimatorOracleMae: number | null;
  /** Share of selected prompts whose estimate was the cold start (never estimated from rollouts). */
  coldStartShare: number | null;
  wallSeconds: number;
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Fold a finished run's log into its figures. `config` is the run's resolved configuration. */
export function figuresOf(events: Iterable<Logged>, config: RunConfig): RunFigures {
  const metrics = new MetricsFold();
  const maes: number[] = [];
  const oracleMaes: number[] = [];
  let coldPicked = 0;
  let picked = 0;
  const drift = new DriftFold((row) => {
    if (Number.isFinite(row.overall.mae)) maes.push(row.overall.mae);
    if (Number.isFinite(row.overall.oracleMae)) oracleMaes.push(row.overall.oracleMae);
    for (const [src, c] of Object.entries(row.bySource)) {
      picked += c.n;
      if (src.startsWith('cold')) coldPicked += c.n;
    }
  });
  const perStep = new Map<number, number>();
  const evals: Array<{ step: number; accuracy: number }> = [];
  const tiers = { easy: 0, medium: 0, hard: 0, none: 0 };
  const easyByStep = new Map<number, { len: number; rows: number }>();
  let groups = 0;
  let flat = 0;
  const trueD: number[] = [];
  const easyMin = 1 - config.sampler.dEasy;
  let oracle = false;

  for (const l of events) {
    metrics.add(l);
    drift.add(l);
    const e = l.event;
    if (e.type === 'RolloutCompleted') {
      const d = e.data;
      perStep.set(d.step, (perStep.get(d.step) ?? 0) + d.reward.length);
      if (d.purpose !== 'train' || d.reward.length === 0) continue;
      let ok = 0;
      let len = 0;
      for (let i = 0; i < d.reward.length; i++) {
        if (d.reward[i] > 0) ok++;
        len += d.length[i];
      }
      groups++;
      if (d.reward.every((r) => r === d.reward[0])) flat++;
      const success = d.oracleSuccess ?? ok / d.reward.length;
      if (d.oracleSuccess !== null) trueD.push(1 - d.oracleSuccess);
      if (success >= easyMin) {
        const s = easyByStep.get(d.step) ?? { len: 0, rows: 0 };
        s.len += len;
        s.rows += d.reward.length;
        easyByStep.set(d.step, s);
      }
    } else if (e.type === 'BatchSelected') {
      for (const t of e.data.tier) {
        if (t === 0) tiers.easy++;
        else if (t === 1) tiers.medium++;
        else if (t === 2) tiers.hard++;
        else tiers.none++;
      }
    } else if (e.type === 'EvalCompleted') {
      oracle = e.data.oracleAccuracy !== null;
      evals.push({ step: e.data.step, accuracy: e.data.oracleAccuracy ?? e.data.accuracy });
    }
  }
  const m = metrics.result();
  drift.result();
  // cumulative rollouts generated through each step (reference and refill rollouts count where logged)
  const steps = [...perStep.keys()].sort((a, b) => a - b);
  const through = (s: number) => steps.filter((k) => k <= s).reduce((a, k) => a + perStep.get(k)!, 0);
  const curve = evals.map((v) => ({ step: v.step, rollouts: through(v.step), accuracy: v.accuracy }));
  const lastStep = m.steps.length ? m.steps[m.steps.length - 1].step : 0;
  const fromStep = Math.floor((3 * lastStep) / 4) + 1;
  let easyLen = 0;
  let easyRows = 0;
  for (const [s, v] of easyByStep) {
    if (s >= fromStep) {
      easyLen += v.len;
      easyRows += v.rows;
    }
  }
  return {
    curve,
    accuracyKind: oracle ? 'oracle' : 'eval',
    steps: lastStep,
    completed: m.completed,
    rollouts: { generated: m.accounting.generated, trained: m.accounting.trained, discarded: m.accounting.discarded },
    easyLength: easyRows ? easyLen / easyRows : null,
    easyRows,
    tiers,
    zeroVarianceShare: groups ? flat / groups : 0,
    selectedDifficulty: mean(trueD),
    estimatorMae: mean(maes),
    estimatorOracleMae: mean(oracleMaes),
    coldStartShare: picked ? coldPicked / picked : null,
    wallSeconds: m.seconds.wall,
  };
}

/** Open a run directory's log read-only and fold it. */
export async function figuresOfRun(runDir: string, config: RunConfig): Promise<RunFigures> {
  const log = EventLog.open(`${runDir}/log`, { readOnly: true });
  try {
    return figuresOf(log.iterate(1), config);
  } finally {
    await log.close();
  }
}
