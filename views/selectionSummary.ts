/**
 * What the difficulty-aware selection did in a run, folded from its log, for the closing lines of `dare run`
 * (and the README): in each half of the run, the prompts picked per tier and per label source (estimated
 * from the prompt's own rollouts, or a cold start), the estimator's mean absolute error on the picked
 * prompts against what their fresh rollouts then showed (views/drift.ts), and the eval accuracy at the
 * half's end, so the error reads next to the accuracy.
 */
import { TIER_NAMES, type Logged } from '../events/catalogue.ts';
import { EventLog } from '../store/eventLog.ts';
import { DriftFold } from './drift.ts';

export interface SelectionHalf {
  fromStep: number;
  toStep: number;
  /** prompts selected per tier code (BatchSelected.tier: easy, medium, hard, none) */
  tiers: { easy: number; medium: number; hard: number; none: number };
  /** trained prompts whose estimate came from their own rollouts, and from a cold start (cold-*) */
  estimated: number;
  cold: number;
  /** mean |estimate − realized failure rate| over the half's trained prompts (NaN: none) */
  mae: number;
  /** eval accuracy of the last evaluation at or before the half's end (NaN: none) */
  accuracy: number;
}

export interface SelectionSummary {
  halves: SelectionHalf[];
}

/** The fold: feed a log's events in seq order, then `result()`. */
export class SelectionFold {
  private readonly drift = new DriftFold();
  private readonly tiers = new Map<number, number[]>();
  private readonly evals: Array<[number, number]> = [];
  private last = 0;

  add(l: Logged): void {
    this.drift.add(l);
    const e = l.event;
    if (e.type === 'BatchSelected') {
      const c = [0, 0, 0, 0];
      for (const t of e.data.tier) c[t]++;
      this.tiers.set(e.data.step, c);
      this.last = Math.max(this.last, e.data.step);
    } else if (e.type === 'EvalCompleted') this.evals.push([e.data.step, e.data.accuracy]);
  }

  /** Steps 1..⌊last/2⌋ and the rest (the second half is where the estimates should steer). */
  result(): SelectionSummary {
    const rows = this.drift.result();
    const mid = Math.floor(this.last / 2);
    const halves = [
      [1, mid],
      [mid + 1, this.last],
    ].map(([a, b]): SelectionHalf => {
      const t = [0, 0, 0, 0];
      for (const [s, c] of this.tiers) if (s >= a && s <= b) c.forEach((x, i) => (t[i] += x));
      let estimated = 0;
      let cold = 0;
      let err = 0;
      let n = 0;
      for (const r of rows) {
        if (r.step < a || r.step > b) continue;
        for (const [src, c] of Object.entries(r.bySource)) {
          if (src.startsWith('cold')) cold += c.n;
          else estimated += c.n;
        }
        // the step's MAE weighted by its prompts: the half's mean over prompts
        if (r.overall.n > 0) {
          err += r.overall.mae * r.overall.n;
          n += r.overall.n;
        }
      }
      let accuracy = NaN;
      for (const [s, acc] of this.evals) if (s <= b) accuracy = acc;
      const [easy, medium, hard, none] = t;
      return { fromStep: a, toStep: b, tiers: { easy, medium, hard, none }, estimated, cold, mae: n ? err / n : NaN, accuracy };
    });
    return { halves: halves.filter((h) => h.toStep >= h.fromStep) };
  }
}

/** Fold a run directory's log (read-only). */
export async function selectionSummary(runDir: string): Promise<SelectionSummary> {
  const fold = new SelectionFold();
  const log = EventLog.open(`${runDir}/log`, { readOnly: true });
  try {
    for (const l of log.iterate(1)) fold.add(l);
  } finally {
    await log.close();
  }
  return fold.result();
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');

/** The closing lines: one per half of the run. */
export function selectionLines(s: SelectionSummary): string[] {
  const out = ['what the selection did (prompts picked per tier; trained prompts by estimate source; estimator error vs their rollouts; eval accuracy):'];
  for (const h of s.halves) {
    const tiered = h.tiers.easy + h.tiers.medium + h.tiers.hard;
    const tiers = h.tiers.none && !tiered ? `${h.tiers.none} picked, no tiers` : `${TIER_NAMES[0]} ${h.tiers.easy}, ${TIER_NAMES[1]} ${h.tiers.medium}, ${TIER_NAMES[2]} ${h.tiers.hard}`;
    const all = h.estimated + h.cold;
    const share = all ? ` (${((100 * h.estimated) / all).toFixed(0)}% estimated)` : '';
    const mae = Number.isFinite(h.mae) ? h.mae.toFixed(3) : '-';
    out.push(`  steps ${h.fromStep}-${h.toStep}: ${tiers}; ${h.estimated} from estimates, ${h.cold} from the cold start${share}; estimator MAE ${mae}; accuracy ${pct(h.accuracy)}`);
  }
  return out;
}
