/**
 * `dare drift`: for every step, the difficulty the estimator predicted for the prompts trained in that step
 * against what their fresh rollouts then showed — calibration error, bias and rank correlation, by source
 * and tier — with ESS and clip statistics; where the sim logged its oracle, the error against the true
 * failure rate too. One prompt's timeline is promptHistory.ts.
 */
import { labelSourceName } from '../actors/shared/labels.ts';
import { TIER_CODES, TIER_NAMES, type DareEvent, type Logged } from '../events/catalogue.ts';
import type { EventLog } from '../store/eventLog.ts';

export interface Calibration {
  n: number;
  /** mean |predicted d − realized failure rate| */
  mae: number;
  /** mean (predicted − realized): > 0 means prompts were thought harder than they were */
  bias: number;
  /** Spearman rank correlation of predicted and realized (NaN below 3 prompts) */
  spearman: number;
  /** mean |predicted − true failure rate| (sim oracle), NaN without oracle */
  oracleMae: number;
}

export interface DriftStep {
  step: number;
  estimateStep: number;
  overall: Calibration;
  bySource: Record<string, Calibration>;
  byTier: Record<string, Calibration>;
  ess: { mean: number; belowThreshold: number; estimated: number };
  clipped: { pos: number; neg: number };
}

/** One trained prompt of a step: predicted failure rate, the failure rate its fresh rollouts showed. */
export interface DriftPair {
  d: number;
  realized: number;
  oracle: number;
  source: string;
  tier: string;
}

function ranks(x: number[]): number[] {
  const idx = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(x.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k][1]] = avg;
    i = j + 1;
  }
  return r;
}

export function spearman(a: number[], b: number[]): number {
  if (a.length < 3) return NaN;
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) ** 2;
    vb += (rb[i] - mb) ** 2;
  }
  return va === 0 || vb === 0 ? NaN : num / Math.sqrt(va * vb);
}

export function calibration(pairs: DriftPair[]): Calibration {
  const n = pairs.length;
  if (n === 0) return { n: 0, mae: NaN, bias: NaN, spearman: NaN, oracleMae: NaN };
  let mae = 0;
  let bias = 0;
  let om = 0;
  let on = 0;
  for (const p of pairs) {
    mae += Math.abs(p.d - p.realized);
    bias += p.d - p.realized;
    if (!Number.isNaN(p.oracle)) {
      om += Math.abs(p.d - p.oracle);
      on++;
    }
  }
  return { n, mae: mae / n, bias: bias / n, spearman: spearman(pairs.map((p) => p.d), pairs.map((p) => p.realized)), oracleMae: on ? om / on : NaN };
}


function groupBy(pairs: DriftPair[], key: (p: DriftPair) => string): Record<string, Calibration> {
  const m = new Map<string, DriftPair[]>();
  for (const p of pairs) {
    const k = key(p);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(p);
  }
  return Object.fromEntries([...m].map(([k, v]) => [k, calibration(v)]));
}

/**
 * The per-step drift table as a fold over the log, in seq order (incremental: `dare report` and `dare serve`
 * feed it live events). A step's row is complete once the next BatchSelected arrives; `result()` also
 * includes the step still in progress without closing it.
 */
export class DriftFold {
  private latest: Extract<DareEvent, { type: 'DifficultyEstimated' }> | null = null;
  // the estimate the batch was selected with (a newer one may arrive before the step's rollouts are in)
  private estimate: Extract<DareEvent, { type: 'DifficultyEstimated' }> | null = null;
  private batch: Extract<DareEvent, { type: 'BatchSelected' }> | null = null;
  private pairs: DriftPair[] = [];
  private readonly position = new Map<number, number>();
  private readonly done: DriftStep[] = [];

  /** `onStep` sees each closed step's row with its (predicted, realized) pairs. */
  constructor(private readonly onStep?: (row: DriftStep, pairs: readonly DriftPair[]) => void) {}

  add({ event: e }: Logged): void {
    if (e.type === 'DifficultyEstimated') this.latest = e;
    else if (e.type === 'BatchSelected') {
      const row = this.row();
      if (row) {
        this.done.push(row);
        this.onStep?.(row, this.pairs);
      }
      this.batch = e;
      this.estimate = this.latest;
      this.pairs = [];
      this.position.clear();
      e.data.prompts.forEach((q, i) => this.position.set(q, i));
    } else if (e.type === 'RolloutCompleted' && this.batch && e.data.step === this.batch.data.step && e.data.purpose !== 'reference' && this.estimate) {
      const i = this.position.get(e.data.promptIndex);
      if (i === undefined) return;
      let fail = 0;
      for (const r of e.data.reward) if (!(r > 0)) fail++;
      this.pairs.push({
        d: this.batch.data.difficulty[i],
        realized: e.data.reward.length ? fail / e.data.reward.length : NaN,
        oracle: e.data.oracleSuccess === null ? NaN : 1 - e.data.oracleSuccess,
        source: labelSourceName(this.estimate.data.source[e.data.promptIndex]),
        tier: TIER_NAMES[this.batch.data.tier[i]] ?? String(this.batch.data.tier[i]),
      });
    }
  }

  /** Closed steps, then the open one (if it has pairs yet). */
  result(): DriftStep[] {
    const row = this.row();
    return row ? [...this.done, row] : [...this.done];
  }

  /** The open step's pairs so far (with its row), for folds that also want the raw pairs. */
  open(): { row: DriftStep; pairs: readonly DriftPair[] } | null {
    const row = this.row();
    return row ? { row, pairs: this.pairs } : null;
  }

  private row(): DriftStep | null {
    const { batch, estimate, pairs } = this;
    if (!batch || !estimate || pairs.length === 0) return null;
    const ess = estimate.data.ess;
    let sum = 0;
    let k = 0;
    let below = 0;
    const thr = typeof estimate.data.diagnostics.essThreshold === 'number' ? estimate.data.diagnostics.essThreshold : 2;
    for (let q = 0; q < ess.length; q++) {
      if (ess[q] > 0) {
        sum += ess[q];
        k++;
        if (ess[q] < thr) below++;
      }
    }
    return {
      step: batch.data.step,
      estimateStep: estimate.data.step,
      overall: calibration(pairs),
      bySource: groupBy(pairs, (p) => p.source),
      byTier: groupBy(pairs, (p) => p.tier),
      ess: { mean: k ? sum / k : NaN, belowThreshold: below, estimated: k },
      clipped: { pos: estimate.data.diagnostics.clippedPos ?? 0, neg: estimate.data.diagnostics.clippedNeg ?? 0 },
    };
  }
}

/** Per-step drift table of a run. */
export function driftOf(log: EventLog): DriftStep[] {
  const f = new DriftFold();
  for (const l of log.iterate(1)) f.add(l);
  return f.result();
}
