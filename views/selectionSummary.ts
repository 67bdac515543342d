/**
 * What the difficulty-aware selection did in a run, folded from its log, for the closing lines of `dare run`
 * (and the README): in each half of the run, the prompts picked per tier and per label source (estimated
 * from the prompt's own rollouts, or a cold start), and the estimator's mean absolute error on the picked
 * prompts against what their fresh rollouts then showed (views/drift.ts).
 */
import { TIER_NAMES } from '../events/catalogue.ts';
import { EventLog } from '../store/eventLog.ts';
import { DriftFold } from './drift.ts';

export interface SelectionHalf {
  fromStep: number;
  toStep: number;
  tiers: { easy: number; medium: number; hard: number; none: number };
  /** picks whose estimate came from the prompt's rollouts, and from a cold start */
  estimated: number;
  cold: number;
  /** mean |estimate − realized failure rate| over the half's trained prompts (NaN: none) */
  mae: number;
}

export interface SelectionSummary {
  halves: SelectionHalf[];
}

/** Fold a run directory's log (read-only). */
export async function selectionSummary(runDir: string): Promise<SelectionSummary> {
  const rows: Array<{ step: number; bySource: Record<string, { n: number }>; mae: number; n: number }> = [];
  const drift = new DriftFold((r) => rows.push({ step: r.step, bySource: r.bySource, mae: r.overall.mae, n: r.overall.n }));
  const tiers = new Map<number, number[]>();
  let last = 0;
  const log = EventLog.open(`${runDir}/log`, { readOnly: true });
  try {
    for (const l of log.iterate(1)) {
      drift.add(l);
      const e = l.event;
      if (e.type === 'BatchSelected') {
        const c = [0, 0, 0, 0];
        for (const t of e.data.tier) c[t]++;
        tiers.set(e.data.step, c);
        last = Math.max(last, e.data.step);
      }
    }
    drift.result();
  } finally {
    await log.close();
  }
  const mid = Math.floor(last / 2);
  const halves: SelectionHalf[] = [
    [1, mid],
    [mid + 1, last],
  ].map(([a, b]) => {
    const t = [0, 0, 0, 0];
    for (const [s, c] of tiers) if (s >= a && s <= b) c.forEach((x, i) => (t[i] += x));
    let estimated = 0;
    let cold = 0;
    let err = 0;
    let n = 0;
    for (const r of rows) {
      if (r.step < a || r.step > b) continue;
      for (const [src, c] of Object.entries(r.bySource)) (src.startsWith('cold') ? (cold += c.n) : (estimated += c.n));
      if (Number.isFinite(r.mae) && r.n > 0) {
        err += r.mae * r.n;
        n += r.n;
      }
    }
    const [easy, medium, hard, none] = t;
    return { fromStep: a, toStep: b, tiers: { easy, medium, hard, none }, estimated, cold, mae: n ? err / n : NaN };
  });
  return { halves };
}

/** The closing lines: one per half of the run. */
export function selectionLines(s: SelectionSummary): string[] {
  const out = ['what the selection did (picks by tier; by estimate source; estimator error on the picks vs their rollouts):'];
  for (const h of s.halves) {
    if (h.toStep < h.fromStep) continue;
    const tiers = h.tiers.none && !(h.tiers.easy + h.tiers.medium + h.tiers.hard) ? `${h.tiers.none} without tiers` : `${TIER_NAMES[0]} ${h.tiers.easy}, ${TIER_NAMES[1]} ${h.tiers.medium}, ${TIER_NAMES[2]} ${h.tiers.hard}`;
    const all = h.estimated + h.cold;
    const share = all ? ` (${((100 * h.estimated) / all).toFixed(0)}% estimated)` : '';
    out.push(`  steps ${h.fromStep}-${h.toStep}: ${tiers}; ${h.estimated} estimated, ${h.cold} cold start${share}; MAE ${Number.isFinite(h.mae) ? h.mae.toFixed(3) : '-'}`);
  }
  return out;
}
