/**
 * Per-step metrics and the run summary, derived from the log alone (metrics.csv, summary.json, `dare log`
 * tools). Rollout accounting, per generated row, exactly one of:
 *   trained    part of an UpdateRequested
 *   buffered   generated for training but not yet in an update (waiting in a step accumulator)
 *   discarded  never trained (reference-set rollouts, filtered groups)
 *   inFlight   its step's update has not been requested yet (or the request is not logged)
 * so generated = trained + buffered + discarded + inFlight at every log position.
 */
import type { Logged } from '../events/catalogue.ts';

export interface StepMetrics {
  step: number;
  epoch: number;
  policyVersion: number;
  prompts: number;
  rollouts: number;
  rewardMean: number;
  successRate: number;
  meanLength: number;
  tierEasy: number;
  tierMedium: number;
  tierHard: number;
  freshGroups: number;
  replayGroups: number;
  trainedRows: number;
  loss: number;
  clipFrac: number;
  kl: number;
  entropy: number;
  gradNorm: number;
  evalAccuracy: number | null;
  oracleAccuracy: number | null;
  meanEss: number | null;
  secondsRollout: number;
  secondsUpdate: number;
  secondsStep: number;
}

export interface Accounting {
  generated: number;
  trained: number;
  buffered: number;
  discarded: number;
  inFlight: number;
}

export interface RunMetrics {
  steps: StepMetrics[];
  accounting: Accounting;
  /** rollout groups completed more than once (must be 0) */
  duplicateGroups: string[];
  evals: Array<{ step: number; accuracy: number; byTier: Record<string, { accuracy: number; meanLength: number; count: number }>; oracleAccuracy: number | null }>;
  policyVersion: number;
  weightsSha256: string | null;
  completed: boolean;
  failed: string | null;
  events: number;
  seconds: { wall: number; rollout: number; score: number; update: number; orchestration: number };
  firstTs: number;
  lastTs: number;
}

function blank(step: number, epoch: number): StepMetrics {
  return {
    step, epoch, policyVersion: 0, prompts: 0, rollouts: 0, rewardMean: 0, successRate: 0, meanLength: 0, tierEasy: 0, tierMedium: 0, tierHard: 0,
    freshGroups: 0, replayGroups: 0, trainedRows: 0, loss: NaN, clipFrac: NaN, kl: NaN, entropy: NaN, gradNorm: NaN, evalAccuracy: null,
    oracleAccuracy: null, meanEss: null, secondsRollout: 0, secondsUpdate: 0, secondsStep: 0,
  };
}

/** Fold a log into metrics. Times come from the informational `ts` fields (never used in decisions). */
export class MetricsFold {
  private readonly steps = new Map<number, StepMetrics & { _reward: number; _ok: number; _len: number; _t0: number; _tr: number; _tu: number }>();
  private readonly groupsSeen = new Map<string, number>();
  /** groups seen more than once (result() lists them in first-seen order; usually none) */
  private readonly duplicated = new Set<string>();
  private readonly pendingRows = new Map<number, number>(); // step -> rows generated not yet trained
  private acc: Accounting = { generated: 0, trained: 0, buffered: 0, discarded: 0, inFlight: 0 };
  private evals: RunMetrics['evals'] = [];
  private policyVersion = 0;
  private weights: string | null = null;
  private completed = false;
  private failed: string | null = null;
  private events = 0;
  private lastEval: number | null = null;
  private lastOracle: number | null = null;
  private lastEss: number | null = null;
  private firstTs = 0;
  private lastTs = 0;
  private secRollout = 0;
  private secScore = 0;
  private secUpdate = 0;
  private requestTs = new Map<string, number>();

  private cur(step: number, epoch = 0) {
    let m = this.steps.get(step);
    if (!m) {
      m = { ...blank(step, epoch), _reward: 0, _ok: 0, _len: 0, _t0: 0, _tr: 0, _tu: 0 };
      this.steps.set(step, m);
    }
    return m;
  }

  add({ event: e }: Logged): void {
    this.events++;
    if (!this.firstTs) this.firstTs = e.ts;
    this.lastTs = e.ts;
    switch (e.type) {
      case 'StepStarted': {
        const m = this.cur(e.data.step, e.data.epoch);
        m.epoch = e.data.epoch;
        m._t0 = e.ts;
        m.evalAccuracy = this.lastEval;
        m.oracleAccuracy = this.lastOracle;
        m.meanEss = this.lastEss;
        break;
      }
      case 'DifficultyEstimated':
        this.lastEss = typeof e.data.diagnostics.meanEss === 'number' ? e.data.diagnostics.meanEss : this.lastEss;
        break;
      case 'BatchSelected': {
        const m = this.cur(e.data.step, e.data.epoch);
        m.prompts = e.data.prompts.length;
        for (const t of e.data.tier) {
          if (t === 0) m.tierEasy++;
          else if (t === 2) m.tierHard++;
          else m.tierMedium++;
        }
        break;
      }
      case 'RolloutRequested':
      case 'ScoreRequested':
      case 'UpdateRequested':
        this.requestTs.set(e.id, e.ts);
        break;
    }
    switch (e.type) {
      case 'RolloutCompleted': {
        const n = e.data.reward.length;
        this.acc.generated += n;
        const seen = (this.groupsSeen.get(e.data.group) ?? 0) + 1;
        this.groupsSeen.set(e.data.group, seen);
        if (seen > 1) this.duplicated.add(e.data.group);
        if (e.data.purpose === 'reference') {
          this.acc.discarded += n;
          break;
        }
        this.acc.inFlight += n;
        this.pendingRows.set(e.data.step, (this.pendingRows.get(e.data.step) ?? 0) + n);
        const m = this.cur(e.data.step);
        m.rollouts += n;
        for (let i = 0; i < n; i++) {
          m._reward += e.data.reward[i];
          if (e.data.reward[i] > 0) m._ok++;
          m._len += e.data.length[i];
        }
        m.rewardMean = m._reward / m.rollouts;
        m.successRate = m._ok / m.rollouts;
        m.meanLength = m._len / m.rollouts;
        const t0 = e.cause ? this.requestTs.get(e.cause) : undefined;
        if (t0 !== undefined) m._tr = Math.max(m._tr, e.ts - t0);
        break;
      }
      case 'UpdateRequested': {
        const m = this.cur(e.data.step);
        m.freshGroups = e.data.freshGroups;
        m.replayGroups = e.data.groups.length - e.data.freshGroups;
        m.trainedRows = e.data.rowGroup.length;
        // the step's fresh rows leave "in flight": those of the kept fresh groups are trained, the rest (groups
        // dropped by dynamic sampling) discarded
        const fresh = this.pendingRows.get(e.data.step) ?? 0;
        this.pendingRows.delete(e.data.step);
        let trained = 0;
        for (let r = 0; r < e.data.rowGroup.length; r++) if (e.data.rowGroup[r] < e.data.freshGroups) trained++;
        this.acc.inFlight -= fresh;
        this.acc.trained += trained;
        this.acc.discarded += fresh - trained;
        break;
      }
      case 'UpdateCompleted': {
        const m = this.cur(e.data.step);
        Object.assign(m, { policyVersion: e.data.policyVersion, loss: e.data.loss, clipFrac: e.data.clipFrac, kl: e.data.kl, entropy: e.data.entropy, gradNorm: e.data.gradNorm });
        this.policyVersion = e.data.policyVersion;
        const t0 = e.cause ? this.requestTs.get(e.cause) : undefined;
        if (t0 !== undefined) {
          m._tu = e.ts - t0;
          this.secUpdate += m._tu / 1000;
        }
        if (m._t0) m.secondsStep = (e.ts - m._t0) / 1000;
        m.secondsRollout = m._tr / 1000;
        m.secondsUpdate = m._tu / 1000;
        this.secRollout += m._tr / 1000;
        break;
      }
      case 'ScoreCompleted': {
        const t0 = e.cause ? this.requestTs.get(e.cause) : undefined;
        if (t0 !== undefined) this.secScore += (e.ts - t0) / 1000;
        break;
      }
      case 'EvalCompleted':
        this.lastEval = e.data.accuracy;
        this.lastOracle = e.data.oracleAccuracy;
        this.evals.push({ step: e.data.step, accuracy: e.data.accuracy, byTier: e.data.byTier, oracleAccuracy: e.data.oracleAccuracy });
        if (this.steps.has(e.data.step)) {
          const m = this.steps.get(e.data.step)!;
          m.evalAccuracy = e.data.accuracy;
          m.oracleAccuracy = e.data.oracleAccuracy;
        }
        break;
      case 'CheckpointSaved':
        this.weights = e.data.sha256;
        break;
      case 'RunCompleted':
        this.completed = true;
        break;
      case 'RunFailed':
        this.failed = e.data.reason;
        break;
    }
  }

  /** The rollout accounting at the current log position (a copy; cheaper than `result()`). */
  accounting(): Accounting {
    return { ...this.acc };
  }

  result(): RunMetrics {
    const wall = this.lastTs && this.firstTs ? (this.lastTs - this.firstTs) / 1000 : 0;
    return {
      steps: [...this.steps.values()].sort((a, b) => a.step - b.step).map(({ _reward, _ok, _len, _t0, _tr, _tu, ...m }) => m),
      accounting: { ...this.acc },
      // result() runs at every update: no pass over every group ever seen unless one was duplicated
      duplicateGroups: this.duplicated.size ? [...this.groupsSeen.keys()].filter((g) => this.duplicated.has(g)) : [],
      evals: this.evals,
      policyVersion: this.policyVersion,
      weightsSha256: this.weights,
      completed: this.completed,
      failed: this.failed,
      events: this.events,
      seconds: {
        wall,
        rollout: this.secRollout,
        score: this.secScore,
        update: this.secUpdate,
        orchestration: Math.max(0, wall - this.secRollout - this.secScore - this.secUpdate),
      },
      firstTs: this.firstTs,
      lastTs: this.lastTs,
    };
  }
}

export function metricsOf(events: Iterable<Logged>): RunMetrics {
  const f = new MetricsFold();
  for (const e of events) f.add(e);
  return f.result();
}

const CSV_COLUMNS: Array<keyof StepMetrics> = [
  'step', 'epoch', 'policyVersion', 'prompts', 'rollouts', 'rewardMean', 'successRate', 'meanLength', 'tierEasy', 'tierMedium', 'tierHard',
  'freshGroups', 'replayGroups', 'trainedRows', 'loss', 'clipFrac', 'kl', 'entropy', 'gradNorm', 'evalAccuracy', 'oracleAccuracy', 'meanEss',
  'secondsRollout', 'secondsUpdate', 'secondsStep',
];

export function metricsCsv(steps: StepMetrics[]): string {
  const fmt = (v: unknown) => (v === null || (typeof v === 'number' && !Number.isFinite(v)) ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(6) : String(v));
  return [CSV_COLUMNS.join(','), ...steps.filter((s) => s.step > 0).map((s) => CSV_COLUMNS.map((c) => fmt(s[c])).join(','))].join('\n') + '\n';
}
