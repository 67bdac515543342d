/**
 * The report's series: one incremental fold over a run log, shared by `dare report` (from LMDB) and
 * `dare serve` (live events).
 *
 * API:
 *   const f = new ReportFold();
 *   f.apply(logged);            // every Logged event, in seq order, once
 *   const d = f.data();         // ReportData: plain JSON (NaN -> null); a snapshot, the fold carries on
 *   reportDataOf(log.iterate(1))
 *
 * It reuses MetricsFold (per-step metrics, accounting, evals, time) and DriftFold (calibration, ESS, oracle
 * error) and adds what neither keeps: per-step score time and accounting, training success per tier, tier
 * counts with "none", the estimated-difficulty histogram per estimate, and a reliability table per source.
 * Times come from the informational `ts` fields.
 */
import { TIER_CODES, TIER_NAMES, type Logged } from '../../events/catalogue.ts';
import { DriftFold, type DriftPair, type DriftStep } from '../drift.ts';
import { MetricsFold, type Accounting } from '../../run/metrics.ts';

export type TierName = (typeof TIER_NAMES)[number];

/** Bins of the estimated-difficulty heat map over [0, 1]. */
export const DIFFICULTY_BINS = 20;
/** Bins of the reliability table (estimated failure rate) over [0, 1]. */
export const RELIABILITY_BINS = 10;

type Series = (number | null)[];

export interface ReportData {
  run: {
    id: string;
    scenario: string;
    method: string;
    seed: number | null;
    stepsPlanned: number | null;
    /** steps whose update completed */
    stepsDone: number;
    policyVersion: number;
    completed: boolean;
    failed: string | null;
    events: number;
    lastSeq: number;
    /** the sim worker ran it: oracle series are meaningful */
    sim: boolean;
    /** what ran the policy: the configured worker kind and model, the device and dtype the first worker reported */
    worker: { kind: string | null; model: string | null; device: string | null; dtype: string | null };
    wallSeconds: number;
    seconds: { rollout: number; score: number; update: number; other: number };
    accounting: Accounting;
  };
  /** training steps (>= 1) that have started; every per-step series below is aligned with it */
  step: number[];
  /** mean raw reward of the step's fresh training rollouts */
  reward: Series;
  /** fraction of the step's training rollouts with reward > 0, overall and per sampler tier */
  success: { all: Series; byTier: Record<TierName, Series> };
  /** mean response length (tokens) */
  length: Series;
  update: { loss: Series; clipFrac: Series; kl: Series; entropy: Series; gradNorm: Series };
  /** seconds per step: rollout (longest group), score, update, the rest of the step */
  time: { rollout: Series; score: Series; update: Series; other: Series };
  /** cumulative rollout rows at the end of each step */
  rollouts: { generated: number[]; trained: number[]; discarded: number[] };
  /** prompts selected per tier */
  tiers: Record<TierName, number[]>;
  /** held-out evaluation; byTier is keyed by the eval's category (the task's tiers) */
  eval: { step: number[]; accuracy: Series; oracleAccuracy: Series; byTier: Record<string, { accuracy: Series; meanLength: Series }> };
  /** counts[i][b]: prompts whose estimate at step[i] fell in [edges[b], edges[b+1]) (the last bin is closed) */
  difficulty: { edges: number[]; step: number[]; counts: number[][] };
  calibration: {
    step: number[];
    /** mean |estimated − realized failure rate| of the step's trained prompts */
    mae: Series;
    bias: Series;
    /** mean |estimated − true failure rate| (sim oracle) */
    oracleMae: Series;
    maeBySource: Record<string, Series>;
    /** over the whole run: mean realized failure rate per estimated-difficulty bin, per label source */
    reliability: { centers: number[]; bySource: Record<string, { realized: Series; n: number[] }> };
  };
  ess: { step: number[]; mean: Series; belowThreshold: number[] };
}

const num = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

interface StepExtra {
  score: number;
  acc: Accounting | null;
  tiers: number[];
  ok: number[];
  n: number[];
}

export class ReportFold {
  private readonly metrics = new MetricsFold();
  private readonly drift: DriftFold;
  private readonly extra = new Map<number, StepExtra>();
  private readonly tierOf = new Map<number, Map<number, number>>();
  private readonly scoreAt = new Map<string, { ts: number; step: number }>();
  private readonly hist = new Map<number, number[]>();
  /** source -> per bin [sum realized, count], closed drift steps only */
  private readonly rel = new Map<string, Array<[number, number]>>();
  private run = { id: '', scenario: '', method: '', seed: null as number | null, stepsPlanned: null as number | null };
  private sim = false;
  private worker: ReportData['run']['worker'] = { kind: null, model: null, device: null, dtype: null };
  private step = 0;
  private lastSeq = 0;

  constructor() {
    this.drift = new DriftFold((_, pairs) => this.addReliability(this.rel, pairs));
  }

  apply(l: Logged): void {
    this.metrics.add(l);
    this.drift.add(l);
    this.lastSeq = l.seq;
    const e = l.event;
    switch (e.type) {
      case 'RunStarted': {
        const cfg = e.data.config as { run?: { steps?: unknown }; worker?: { kind?: unknown; model?: unknown } };
        this.run = {
          id: e.run,
          scenario: e.data.scenario,
          method: e.data.method,
          seed: e.data.seed,
          stepsPlanned: typeof cfg.run?.steps === 'number' ? cfg.run.steps : null,
        };
        if (cfg.worker?.kind === 'sim') this.sim = true;
        const kind = typeof cfg.worker?.kind === 'string' ? cfg.worker.kind : null;
        // worker.model is read by the hf worker only (it stays in the config of every other kind)
        const model = kind === 'hf' && typeof cfg.worker?.model === 'string' && cfg.worker.model ? cfg.worker.model : null;
        this.worker = { ...this.worker, kind, model };
        break;
      }
      case 'WorkerJoined':
        if (e.data.kind === 'sim') this.sim = true;
        if (this.worker.device === null) this.worker = { ...this.worker, kind: this.worker.kind ?? e.data.kind, device: e.data.device, dtype: e.data.dtype };
        break;
      case 'StepStarted':
        this.step = e.data.step;
        this.cur(e.data.step);
        break;
      case 'BatchSelected': {
        const x = this.cur(e.data.step);
        const m = new Map<number, number>();
        e.data.prompts.forEach((q, i) => {
          const t = Math.min(e.data.tier[i], TIER_CODES.none);
          x.tiers[t]++;
          m.set(q, t);
        });
        this.tierOf.set(e.data.step, m);
        // rollouts of older steps no longer arrive once a later batch is out (at most one step of lag)
        for (const s of this.tierOf.keys()) if (s < e.data.step - 2) this.tierOf.delete(s);
        break;
      }
      case 'RolloutCompleted': {
        if (e.data.purpose !== 'reference') {
          const t = this.tierOf.get(e.data.step)?.get(e.data.promptIndex);
          if (t !== undefined) {
            const x = this.cur(e.data.step);
            for (const r of e.data.reward) {
              x.n[t]++;
              if (r > 0) x.ok[t]++;
            }
          }
        }
        this.cur(this.step).acc = this.metrics.accounting();
        break;
      }
      case 'UpdateRequested':
        this.cur(this.step).acc = this.metrics.accounting();
        break;
      case 'ScoreRequested':
        this.scoreAt.set(e.id, { ts: e.ts, step: e.data.step });
        break;
      case 'ScoreCompleted': {
        const t0 = e.cause ? this.scoreAt.get(e.cause) : undefined;
        if (t0) {
          this.cur(t0.step).score += (e.ts - t0.ts) / 1000;
          this.scoreAt.delete(e.cause!);
        }
        break;
      }
      case 'DifficultyEstimated': {
        const h = new Array<number>(DIFFICULTY_BINS).fill(0);
        for (const d of e.data.difficulty) {
          if (!Number.isFinite(d)) continue;
          h[Math.min(DIFFICULTY_BINS - 1, Math.max(0, Math.floor(d * DIFFICULTY_BINS)))]++;
        }
        this.hist.set(e.data.step, h); // a later estimate of the same step replaces the earlier one
        break;
      }
      case 'RolloutRequested':
      case 'UpdateCompleted':
      case 'EvalCompleted':
      case 'RunCompleted':
      case 'RunFailed':
        break;
    }
  }

  data(): ReportData {
    const m = this.metrics.result();
    const steps = m.steps.filter((s) => s.step > 0);
    const ex = steps.map((s) => this.extra.get(s.step) ?? this.blank());
    // accounting carried forward over steps that generated nothing yet
    let acc: Accounting = { generated: 0, trained: 0, buffered: 0, discarded: 0, inFlight: 0 };
    const accs = ex.map((x) => (acc = x.acc ?? acc));
    const scoreTotal = ex.reduce((a, x) => a + x.score, 0);
    const drift = this.drift.result();
    const rel = new Map([...this.rel].map(([k, v]) => [k, v.map(([a, b]) => [a, b] as [number, number])]));
    const open = this.drift.open();
    if (open) this.addReliability(rel, open.pairs);
    const sources = [...new Set(drift.flatMap((d) => Object.keys(d.bySource)))].sort();
    const evalCats = [...new Set(m.evals.flatMap((v) => Object.keys(v.byTier)))].sort();
    const histSteps = [...this.hist.keys()].sort((a, b) => a - b);
    const perTier = <T>(f: (x: StepExtra, t: number) => T): Record<TierName, T[]> =>
      Object.fromEntries(TIER_NAMES.map((name, t) => [name, ex.map((x) => f(x, t))])) as Record<TierName, T[]>;
    return {
      run: {
        ...this.run,
        stepsDone: steps.filter((s) => Number.isFinite(s.loss)).length,
        policyVersion: m.policyVersion,
        completed: m.completed,
        failed: m.failed,
        events: m.events,
        lastSeq: this.lastSeq,
        sim: this.sim,
        worker: this.worker,
        wallSeconds: m.seconds.wall,
        seconds: { rollout: m.seconds.rollout, score: scoreTotal, update: m.seconds.update, other: Math.max(0, m.seconds.wall - m.seconds.rollout - scoreTotal - m.seconds.update) },
        accounting: m.accounting,
      },
      step: steps.map((s) => s.step),
      reward: steps.map((s) => (s.rollouts ? num(s.rewardMean) : null)),
      success: { all: steps.map((s) => (s.rollouts ? num(s.successRate) : null)), byTier: perTier((x, t) => (x.n[t] ? x.ok[t] / x.n[t] : null)) },
      length: steps.map((s) => (s.rollouts ? num(s.meanLength) : null)),
      update: {
        loss: steps.map((s) => num(s.loss)),
        clipFrac: steps.map((s) => num(s.clipFrac)),
        kl: steps.map((s) => num(s.kl)),
        entropy: steps.map((s) => num(s.entropy)),
        gradNorm: steps.map((s) => num(s.gradNorm)),
      },
      time: {
        rollout: steps.map((s) => (s.secondsStep ? s.secondsRollout : null)),
        score: steps.map((s, i) => (s.secondsStep ? ex[i].score : null)),
        update: steps.map((s) => (s.secondsStep ? s.secondsUpdate : null)),
        other: steps.map((s, i) => (s.secondsStep ? r6(Math.max(0, s.secondsStep - s.secondsRollout - ex[i].score - s.secondsUpdate)) : null)),
      },
      rollouts: { generated: accs.map((a) => a.generated), trained: accs.map((a) => a.trained), discarded: accs.map((a) => a.discarded) },
      tiers: perTier((x, t) => x.tiers[t]),
      eval: {
        step: m.evals.map((v) => v.step),
        accuracy: m.evals.map((v) => num(v.accuracy)),
        oracleAccuracy: m.evals.map((v) => num(v.oracleAccuracy)),
        byTier: Object.fromEntries(evalCats.map((c) => [c, { accuracy: m.evals.map((v) => num(v.byTier[c]?.accuracy)), meanLength: m.evals.map((v) => num(v.byTier[c]?.meanLength)) }])),
      },
      difficulty: {
        edges: Array.from({ length: DIFFICULTY_BINS + 1 }, (_, b) => b / DIFFICULTY_BINS),
        step: histSteps,
        counts: histSteps.map((s) => [...this.hist.get(s)!]),
      },
      calibration: {
        step: drift.map((d) => d.step),
        mae: drift.map((d) => num(d.overall.mae)),
        bias: drift.map((d) => num(d.overall.bias)),
        oracleMae: drift.map((d) => num(d.overall.oracleMae)),
        maeBySource: Object.fromEntries(sources.map((k) => [k, drift.map((d: DriftStep) => num(d.bySource[k]?.mae))])),
        reliability: {
          centers: Array.from({ length: RELIABILITY_BINS }, (_, b) => (b + 0.5) / RELIABILITY_BINS),
          bySource: Object.fromEntries(
            [...rel].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, bins]) => [k, { realized: bins.map(([s, n]) => (n ? s / n : null)), n: bins.map(([, n]) => n) }]),
          ),
        },
      },
      ess: { step: drift.map((d) => d.step), mean: drift.map((d) => num(d.ess.mean)), belowThreshold: drift.map((d) => d.ess.belowThreshold) },
    };
  }

  private cur(step: number): StepExtra {
    let x = this.extra.get(step);
    if (!x) {
      x = this.blank();
      this.extra.set(step, x);
    }
    return x;
  }

  private blank(): StepExtra {
    return { score: 0, acc: null, tiers: [0, 0, 0, 0], ok: [0, 0, 0, 0], n: [0, 0, 0, 0] };
  }

  private addReliability(into: Map<string, Array<[number, number]>>, pairs: readonly DriftPair[]): void {
    for (const p of pairs) {
      if (!Number.isFinite(p.d) || !Number.isFinite(p.realized)) continue;
      let bins = into.get(p.source);
      if (!bins) {
        bins = Array.from({ length: RELIABILITY_BINS }, () => [0, 0] as [number, number]);
        into.set(p.source, bins);
      }
      const b = bins[Math.min(RELIABILITY_BINS - 1, Math.max(0, Math.floor(p.d * RELIABILITY_BINS)))];
      b[0] += p.realized;
      b[1]++;
    }
  }
}

/** Fold a whole log (or any ordered run of events) into report data. */
export function reportDataOf(events: Iterable<Logged>): ReportData {
  const f = new ReportFold();
  for (const l of events) f.apply(l);
  return f.data();
}
