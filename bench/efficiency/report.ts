/**
 * From the per-run figures to the study's result: per (worker, distribution, arm) the median and spread
 * across seeds of rollouts-to-target, accuracy at the budget and easy-prompt length, the ratio to GRPO,
 * the analysis columns, the markdown tables and the plots.
 */
import type { Arm, StudyPlan } from './grid.ts';
import { lineChartSvg, type Series } from './plot.ts';
import type { RunFigures } from './runLog.ts';
import { accuracyAtBudget, median, medianCurve, rolloutsToTarget, spread, type Spread } from './summary.ts';

export interface RunRecord {
  worker: 'sim' | 'tiny';
  arm: string;
  method: string;
  sets: string[];
  distribution: string;
  seed: number;
  runDir: string;
  figures: RunFigures;
  /** Why the run did not complete (its figures cover the steps it did). */
  error?: string;
}

export interface ArmSummary {
  worker: 'sim' | 'tiny';
  distribution: string;
  arm: string;
  note?: string;
  seeds: number;
  /** Runs that did not complete, and the first one's reason. */
  failed: number;
  failure?: string;
  target: number;
  budget: number;
  rolloutsToTarget: Spread;
  accuracyAtBudget: Spread;
  finalAccuracy: Spread;
  easyLength: Spread;
  /** GRPO's median rollouts-to-target ÷ this arm's (> 1: fewer rollouts than GRPO); null when either is missing. */
  speedupVsGrpo: number | null;
  /** Means across seeds of the analysis figures. */
  rolloutsPerStep: number;
  zeroVarianceShare: number;
  selectedDifficulty: number | null;
  estimatorMae: number | null;
  estimatorOracleMae: number | null;
  coldStartShare: number | null;
  tiers: { easy: number; medium: number; hard: number; none: number };
}

function meanOf(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export function summarize(records: RunRecord[], plan: StudyPlan, arms: Arm[]): ArmSummary[] {
  const out: ArmSummary[] = [];
  const cells = new Map<string, RunRecord[]>();
  for (const r of records) {
    const k = `${r.worker}|${r.distribution}|${r.arm}`;
    cells.set(k, [...(cells.get(k) ?? []), r]);
  }
  const order = (r: string) => {
    const i = arms.findIndex((a) => a.id === r);
    return i < 0 ? 1e9 : i;
  };
  const keys = [...cells.keys()].sort((a, b) => {
    const [wa, da, ra] = a.split('|');
    const [wb, db, rb] = b.split('|');
    return wa !== wb ? (wa < wb ? -1 : 1) : da !== db ? (da < db ? -1 : 1) : order(ra) - order(rb);
  });
  for (const k of keys) {
    const rs = cells.get(k)!.sort((a, b) => a.seed - b.seed);
    const { worker, distribution, arm } = rs[0];
    const target = worker === 'sim' ? plan.simTarget : plan.tinyTarget;
    const budget = worker === 'sim' ? plan.simBudget : plan.tinyBudget;
    const toTarget = rs.map((r) => rolloutsToTarget(r.figures.curve, target));
    out.push({
      worker, distribution, arm, note: arms.find((a) => a.id === arm)?.note, seeds: rs.length, target, budget,
      failed: rs.filter((r) => r.error).length,
      ...(rs.find((r) => r.error) ? { failure: `seed ${rs.find((r) => r.error)!.seed} at step ${rs.find((r) => r.error)!.figures.steps}: ${rs.find((r) => r.error)!.error}` } : {}),
      rolloutsToTarget: spread(toTarget),
      accuracyAtBudget: spread(rs.map((r) => accuracyAtBudget(r.figures.curve, budget))),
      finalAccuracy: spread(rs.map((r) => r.figures.curve.at(-1)?.accuracy ?? null)),
      easyLength: spread(rs.map((r) => r.figures.easyLength)),
      speedupVsGrpo: null,
      rolloutsPerStep: meanOf(rs.map((r) => r.figures.rollouts.generated / Math.max(1, r.figures.steps))) ?? 0,
      zeroVarianceShare: meanOf(rs.map((r) => r.figures.zeroVarianceShare)) ?? 0,
      selectedDifficulty: meanOf(rs.map((r) => r.figures.selectedDifficulty)),
      estimatorMae: meanOf(rs.map((r) => r.figures.estimatorMae)),
      estimatorOracleMae: meanOf(rs.map((r) => r.figures.estimatorOracleMae)),
      coldStartShare: meanOf(rs.map((r) => r.figures.coldStartShare)),
      tiers: {
        easy: meanOf(rs.map((r) => r.figures.tiers.easy)) ?? 0,
        medium: meanOf(rs.map((r) => r.figures.tiers.medium)) ?? 0,
        hard: meanOf(rs.map((r) => r.figures.tiers.hard)) ?? 0,
        none: meanOf(rs.map((r) => r.figures.tiers.none)) ?? 0,
      },
    });
  }
  for (const s of out) {
    const g = out.find((o) => o.worker === s.worker && o.distribution === s.distribution && o.arm === 'grpo');
    const a = s.rolloutsToTarget.median;
    const b = g?.rolloutsToTarget.median;
    s.speedupVsGrpo = a && b ? b / a : null;
  }
  return out;
}

function k(v: number | null): string {
  if (v === null) return '–';
  return v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0);
}

function pct(v: number | null): string {
  return v === null ? '–' : (100 * v).toFixed(1);
}

function spreadCell(s: Spread, f: (v: number | null) => string, beyond: string): string {
  if (s.reached === 0) return `not reached (${beyond})`;
  const med = s.median === null ? `>${beyond}` : f(s.median);
  const hi = s.max === null ? `>${beyond}` : f(s.max);
  const miss = s.reached < s.seeds ? `, ${s.seeds - s.reached}/${s.seeds} not reached` : '';
  return `${med} (${f(s.min)}–${hi}${miss})`;
}

/** The markdown table of one (worker, distribution). */
export function markdownTable(rows: ArmSummary[], lastRollouts: (r: ArmSummary) => number): string {
  const head = [
    '| method | rollouts to target: median (min–max) | × vs GRPO | accuracy % at budget | final accuracy % | easy-prompt length (tokens) | rollouts/step | zero-var. groups % | true d of picks | estimator MAE (vs truth) | cold-start picks % | tiers e/m/h |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const body = rows.map((r) => {
    const x = r.speedupVsGrpo === null ? '–' : `${r.speedupVsGrpo.toFixed(2)}×`;
    const est = r.estimatorMae === null ? '–' : `${r.estimatorMae.toFixed(3)}${r.estimatorOracleMae !== null ? ` (${r.estimatorOracleMae.toFixed(3)})` : ''}`;
    const tiers = r.tiers.none > 0 && r.tiers.easy + r.tiers.medium + r.tiers.hard === 0 ? 'off' : `${r.tiers.easy.toFixed(0)}/${r.tiers.medium.toFixed(0)}/${r.tiers.hard.toFixed(0)}`;
    const name = r.failed ? `${r.arm} (${r.failed}/${r.seeds} runs stopped early: ${r.failure})` : r.arm;
    return `| ${name} | ${spreadCell(r.rolloutsToTarget, k, k(lastRollouts(r)))} | ${x} | ${spreadCell(r.accuracyAtBudget, pct, 'budget')} | ${spreadCell(r.finalAccuracy, pct, '–')} | ${spreadCell(r.easyLength, (v) => (v === null ? '–' : v.toFixed(1)), '–')} | ${r.rolloutsPerStep.toFixed(0)} | ${(100 * r.zeroVarianceShare).toFixed(0)} | ${r.selectedDifficulty === null ? '–' : r.selectedDifficulty.toFixed(2)} | ${est} | ${r.coldStartShare === null ? '–' : (100 * r.coldStartShare).toFixed(0)} | ${tiers} |`;
  });
  return [...head, ...body].join('\n');
}

/**
 * Rollouts-to-target at several targets, median (min–max) and the ratio to GRPO's median: how much the
 * headline ratio depends on where the target line is drawn.
 */
export function sensitivityTable(records: RunRecord[], worker: string, distribution: string, arms: Arm[], targets: number[], relative = false): string {
  const rs = records.filter((r) => r.worker === worker && r.distribution === distribution);
  const ids = arms.map((a) => a.id).filter((id) => rs.some((r) => r.arm === id));
  // relative: the target is the seed's own baseline (step-0 accuracy) plus t
  const goal = (r: RunRecord, t: number) => (relative ? (r.figures.curve[0]?.accuracy ?? 0) + t : t);
  const at = (id: string, t: number) => spread(rs.filter((r) => r.arm === id).sort((a, b) => a.seed - b.seed).map((r) => rolloutsToTarget(r.figures.curve, goal(r, t))));
  const head = [`| method | ${targets.map((t) => `to ${relative ? `baseline + ${t}` : t}: median (min–max), × vs GRPO`).join(' | ')} |`, `|---|${targets.map(() => '---|').join('')}`];
  const body = ids.map((id) => {
    const cells = targets.map((t) => {
      const s = at(id, t);
      const g = at('grpo', t).median;
      const x = s.median && g ? ` ${(g / s.median).toFixed(2)}×` : '';
      return `${spreadCell(s, k, 'run')}${x}`;
    });
    return `| ${id} | ${cells.join(' | ')} |`;
  });
  return [...head, ...body].join('\n');
}

/** Accuracy of each seed's runs at a rollout budget and at the last common step, paired by seed. */
export function pairedTable(records: RunRecord[], worker: string, distribution: string, arms: Arm[], budget: number): string {
  const rs = records.filter((r) => r.worker === worker && r.distribution === distribution);
  const ids = arms.map((a) => a.id).filter((id) => rs.some((r) => r.arm === id));
  const seeds = [...new Set(rs.map((r) => r.seed))].sort((a, b) => a - b);
  const steps = Math.min(...rs.map((r) => r.figures.curve.at(-1)?.step ?? 0));
  const cell = (r: RunRecord | undefined) => {
    if (!r) return '–';
    const a = accuracyAtBudget(r.figures.curve, budget);
    const s = r.figures.curve.find((p) => p.step === steps)?.accuracy ?? null;
    return `${pct(r.figures.curve[0]?.accuracy ?? null)} / ${pct(a)} / ${pct(s)}`;
  };
  const head = [`| seed | ${ids.map((id) => `${id}: baseline / at ${budget} rollouts / at step ${steps} (%)`).join(' | ')} |`, `|---|${ids.map(() => '---|').join('')}`];
  const body = seeds.map((sd) => `| ${sd} | ${ids.map((id) => cell(rs.find((r) => r.arm === id && r.seed === sd))).join(' | ')} |`);
  return [...head, ...body].join('\n');
}

/** Median curve per arm of one (worker, distribution), on a grid of 60 rollout counts. */
export function curvesOf(records: RunRecord[], worker: string, distribution: string, arms: Arm[], xCap = Infinity): Series[] {
  const rs = records.filter((r) => r.worker === worker && r.distribution === distribution);
  const xMax = Math.min(xCap, Math.max(0, ...rs.map((r) => r.figures.curve.at(-1)?.rollouts ?? 0)));
  const grid = Array.from({ length: 61 }, (_, i) => Math.round((i * xMax) / 60));
  return arms
    .filter((a) => rs.some((r) => r.arm === a.id))
    .map((a) => ({ name: a.id, points: medianCurve(rs.filter((r) => r.arm === a.id).map((r) => r.figures.curve), grid) }));
}

/**
 * The chart of one (worker, distribution). The x axis stops at twice GRPO's rollouts (dynamic-sampling
 * methods spend several times more; their full curves are in results.json).
 */
export function plotSvg(records: RunRecord[], worker: 'sim' | 'tiny', distribution: string, arms: Arm[], target: number): string {
  const grpo = records.filter((r) => r.worker === worker && r.distribution === distribution && r.arm === 'grpo');
  const xCap = grpo.length ? 2 * Math.max(...grpo.map((r) => r.figures.curve.at(-1)?.rollouts ?? 0)) : Infinity;
  const series = curvesOf(records, worker, distribution, arms, xCap);
  const what = worker === 'sim' ? `sim, ${distribution} difficulties: oracle expected accuracy` : `tiny arithmetic worker, ${distribution}: greedy eval accuracy`;
  return lineChartSvg({
    title: `${what} (median of seeds)`,
    xLabel: 'rollouts generated',
    yLabel: worker === 'sim' ? 'expected accuracy (oracle)' : 'eval accuracy',
    series,
    target,
    highlight: ['grpo', 'dare'],
  });
}

export { median };
