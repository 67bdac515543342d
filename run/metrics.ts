/**
 * Per-step metrics and the run summary, derived from the log alone (metrics.csv, summary.json, `dare log`
 * tools). Rollout accounting, per generated row, exactly one of:
 *   trained    part of an UpdateRequested
 *   buffered   generated for training but not yet in an update (waiting in a step accumulator)
 *   discarded  never trained (reference-set rollouts, filtered groups)
 *   inFlight   its step's update has not been requested yet (or the request is not logged)
 * so generated = trained + buffered + discarded + inFlight at every log position.
 */
import { rolloutCompletedId, type Logged } from '../events/catalogue.ts';

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
  stopped: boolean;
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

/** What a fold restored from a snapshot at seq `s` needs to know about the events up to `s`. */
export interface MetricsPrior {
  /** seq < `before` of the RolloutCompleted of `group` logged under the group's own completion id, if any */
  groupSeq(group: string, before: number): number | undefined;
  /** `ts` (ms) of the RolloutRequested / ScoreRequested / UpdateRequested with this id logged at seq ≤ s */
  requestTs(id: string): number | undefined;
}

/**
 * The completion id our bridge gives the RolloutCompleted of a group (events/catalogue.ts rolloutCompletedId,
 * for the bridge's groups `g/…`; undefined for a group named otherwise): two events of one group under this id would be one id,
 * which the store de-duplicates, so a restored fold finds an earlier such event by id.
 */
export function completionIdOfGroup(group: string): string | undefined {
  return group.startsWith('g/') ? rolloutCompletedId(group) : undefined;
}

const COMPLETED = 'RolloutCompleted';

/** id === completionIdOfGroup(group), without building that string (once per RolloutCompleted) */
function isOwnCompletionId(id: string, group: string): boolean {
  if (group.charCodeAt(0) !== 103 /* g */ || id.length !== COMPLETED.length + group.length - 1 || !id.startsWith(COMPLETED)) return false;
  for (let i = 1; i < group.length; i++) if (id.charCodeAt(COMPLETED.length + i - 1) !== group.charCodeAt(i)) return false;
  return true;
}

/** MetricsPrior from the log itself (two id look-ups and a read at most, per question). */
export function logPrior(log: { seqOf(id: string): number | undefined; read(from: number, to?: number): Logged[] }, seq: number): MetricsPrior {
  const at = (id: string | undefined, last: number): Logged | undefined => {
    const s = id === undefined ? undefined : log.seqOf(id);
    return s === undefined || s > last ? undefined : log.read(s, s + 1)[0];
  };
  return {
    groupSeq(group, before) {
      const l = at(completionIdOfGroup(group), before - 1);
      return l?.event.type === 'RolloutCompleted' && l.event.data.group === group ? l.seq : undefined;
    },
    requestTs(id) {
      const t = at(id, seq)?.event;
      return t?.type === 'RolloutRequested' || t?.type === 'ScoreRequested' || t?.type === 'UpdateRequested' ? t.ts : undefined;
    },
  };
}

const METRICS_STATE_VERSION = 2;

/** Every field of a step's row, the fold's running sums included (all numbers, a few nullable). */
const STEP_FIELDS = [
  ...(Object.keys(blank(0, 0)) as Array<keyof StepMetrics>), '_reward', '_ok', '_len', '_t0', '_tr', '_tu',
] as const;

/** The fold's scalars, in one object: a snapshot carries them flat and a restore takes back exactly these keys. */
interface FoldScalars {
  policyVersion: number;
  weights: string | null;
  completed: boolean;
  /** the run stopped (RunStopped) and was not resumed since */
  stopped: boolean;
  failed: string | null;
  events: number;
  lastEval: number | null;
  lastOracle: number | null;
  lastEss: number | null;
  firstTs: number;
  lastTs: number;
  secRollout: number;
  secScore: number;
  secUpdate: number;
}

const initialScalars = (): FoldScalars => ({
  policyVersion: 0, weights: null, completed: false, stopped: false, failed: null, events: 0, lastEval: null, lastOracle: null, lastEss: null,
  firstTs: 0, lastTs: 0, secRollout: 0, secScore: 0, secUpdate: 0,
});

export interface MetricsFoldState extends FoldScalars {
  v: number;
  steps: { n: number; cols: Record<string, Float64Array>; nulls: Record<string, Uint8Array> };
  duplicated: Array<[string, number]>;
  irregular: Array<[string, number]>;
  pendingRows: Array<[number, number]>;
  acc: Accounting;
  evals: RunMetrics['evals'];
}

/** The newest trained step (step > 0, finite loss) and the newest eval accuracy (see MetricsFold.progress). */
export interface ProgressView {
  lastTrained: StepMetrics | undefined;
  evalAccuracy: number | null;
}

/** Fold a log into metrics. Times come from the informational `ts` fields (never used in decisions). */
export class MetricsFold {
  private readonly steps = new Map<number, StepMetrics & { _reward: number; _ok: number; _len: number; _t0: number; _tr: number; _tu: number }>();
  /** group -> seq of its first RolloutCompleted; only kept by a fold without the log at hand (no prior) */
  private readonly groupsSeen = new Map<string, number>();
  /** groups seen more than once -> seq first seen (result() lists them in first-seen order; usually none) */
  private readonly duplicated = new Map<string, number>();
  /** groups first completed under an event id that is not their own completion id (none from our bridge) */
  private readonly irregular = new Map<string, number>();
  /** the log at hand (logPrior), if any: where a group's own completion is, and a restored fold's earlier requests */
  private prior: MetricsPrior | null;
  private readonly pendingRows = new Map<number, number>(); // step -> rows generated not yet trained
  private acc: Accounting = { generated: 0, trained: 0, buffered: 0, discarded: 0, inFlight: 0 };
  private evals: RunMetrics['evals'] = [];
  private sc: FoldScalars = initialScalars();
  private requestTs = new Map<string, number>();

  /** `prior`: the log being folded (logPrior), for a fold whose memory must not grow with the groups of a run */
  constructor(prior: MetricsPrior | null = null) {
    this.prior = prior;
  }

  private cur(step: number, epoch = 0) {
    let m = this.steps.get(step);
    if (!m) {
      m = { ...blank(step, epoch), _reward: 0, _ok: 0, _len: 0, _t0: 0, _tr: 0, _tu: 0 };
      this.steps.set(step, m);
    }
    return m;
  }

  add(l: Logged): void {
    const e = l.event;
    this.sc.events++;
    if (!this.sc.firstTs) this.sc.firstTs = e.ts;
    this.sc.lastTs = e.ts;
    switch (e.type) {
      case 'StepStarted': {
        const m = this.cur(e.data.step, e.data.epoch);
        m.epoch = e.data.epoch;
        m._t0 = e.ts;
        m.evalAccuracy = this.sc.lastEval;
        m.oracleAccuracy = this.sc.lastOracle;
        m.meanEss = this.sc.lastEss;
        break;
      }
      case 'DifficultyEstimated':
        this.sc.lastEss = typeof e.data.diagnostics.meanEss === 'number' ? e.data.diagnostics.meanEss : this.sc.lastEss;
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
        this.seeGroup(l.seq, e.id, e.data.group);
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
        const t0 = e.cause ? this.requestTsOf(e.cause) : undefined;
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
        this.sc.policyVersion = e.data.policyVersion;
        const t0 = e.cause ? this.requestTsOf(e.cause) : undefined;
        if (t0 !== undefined) {
          m._tu = e.ts - t0;
          this.sc.secUpdate += m._tu / 1000;
        }
        if (m._t0) m.secondsStep = (e.ts - m._t0) / 1000;
        m.secondsRollout = m._tr / 1000;
        m.secondsUpdate = m._tu / 1000;
        this.sc.secRollout += m._tr / 1000;
        break;
      }
      case 'ScoreCompleted': {
        const t0 = e.cause ? this.requestTsOf(e.cause) : undefined;
        if (t0 !== undefined) this.sc.secScore += (e.ts - t0) / 1000;
        break;
      }
      case 'EvalCompleted':
        this.sc.lastEval = e.data.accuracy;
        this.sc.lastOracle = e.data.oracleAccuracy;
        this.evals.push({ step: e.data.step, accuracy: e.data.accuracy, byTier: e.data.byTier, oracleAccuracy: e.data.oracleAccuracy });
        if (this.steps.has(e.data.step)) {
          const m = this.steps.get(e.data.step)!;
          m.evalAccuracy = e.data.accuracy;
          m.oracleAccuracy = e.data.oracleAccuracy;
        }
        break;
      case 'CheckpointSaved':
        this.sc.weights = e.data.sha256;
        break;
      case 'RunCompleted':
        this.sc.completed = true;
        this.sc.stopped = false;
        break;
      case 'RunStopped':
        this.sc.stopped = true;
        break;
      case 'RunExtended':
        this.sc.completed = false;
        break;
      case 'RunResumed':
        this.sc.stopped = false;
        break;
      case 'RunFailed':
        this.sc.failed = e.data.reason;
        break;
    }
  }

  private seeGroup(seq: number, id: string, group: string): void {
    const own = isOwnCompletionId(id, group);
    if (this.prior) {
      // With the log at hand only groups first completed under another id are remembered (none from our
      // bridge), so a long run's monitor does not hold every group id: a group's own completion id is in the
      // log at most once (the store de-duplicates ids), and the log says where.
      const first = this.irregular.get(group) ?? (own ? undefined : this.prior.groupSeq(group, seq));
      if (first === undefined) {
        if (!own) this.irregular.set(group, seq);
      } else if (!this.duplicated.has(group)) this.duplicated.set(group, first);
      return;
    }
    const first = this.groupsSeen.get(group);
    if (first === undefined) {
      this.groupsSeen.set(group, seq);
      if (!own) this.irregular.set(group, seq);
      return;
    }
    if (!this.duplicated.has(group)) this.duplicated.set(group, first);
  }

  /** Rollout groups this fold holds in memory to find duplicates (diagnostics: bounded when it has the log). */
  rememberedGroups(): number {
    return this.groupsSeen.size + this.irregular.size;
  }

  private requestTsOf(id: string): number | undefined {
    let ts = this.requestTs.get(id);
    if (ts === undefined && this.prior) {
      ts = this.prior.requestTs(id);
      if (ts !== undefined) this.requestTs.set(id, ts);
    }
    return ts;
  }

  /**
   * The fold's state after the events added so far, as plain data for a snapshot (events/codec.ts
   * packState). Its size grows with the steps and evaluations (the per-step table as one f8 column per
   * field: ~0.25 KB per step), not with the events: the groups seen and the request times are not in it —
   * a fold restored from it looks those up in the log (`logPrior`) — except groups first completed under an
   * irregular id and duplicated groups, both normally none.
   */
  snapshot(): MetricsFoldState {
    const rows = [...this.steps.values()];
    const cols: Record<string, Float64Array> = {};
    const nulls: Record<string, Uint8Array> = {};
    for (const k of STEP_FIELDS) {
      const col = new Float64Array(rows.length);
      let mask: Uint8Array | null = null;
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i][k];
        if (v === null) (mask ??= new Uint8Array(rows.length))[i] = 1;
        else col[i] = v;
      }
      cols[k] = col;
      if (mask) nulls[k] = mask;
    }
    return {
      v: METRICS_STATE_VERSION,
      steps: { n: rows.length, cols, nulls },
      duplicated: [...this.duplicated],
      irregular: [...this.irregular],
      pendingRows: [...this.pendingRows],
      acc: { ...this.acc },
      evals: this.evals,
      ...this.sc,
    };
  }

  /**
   * The fold as it was when `snapshot()` was taken at log position `seq`, to go on with the events after
   * it. `prior` answers, from the log, what the snapshot leaves out (`logPrior(log, seq)`). Throws on a
   * state of another version or shape (the caller then folds the whole log).
   */
  static restore(state: unknown, prior: MetricsPrior): MetricsFold {
    const x = state as MetricsFoldState;
    if (!x || x.v !== METRICS_STATE_VERSION || !x.steps || typeof x.steps.n !== 'number') throw new Error(`metrics snapshot: not version ${METRICS_STATE_VERSION}`);
    const f = new MetricsFold(prior);
    const { n, cols, nulls } = x.steps;
    for (const k of STEP_FIELDS) {
      if (!(cols[k] instanceof Float64Array) || cols[k].length !== n) throw new Error(`metrics snapshot: column ${k} missing or not ${n} long`);
    }
    for (let i = 0; i < n; i++) {
      const m = f.cur(cols.step[i], cols.epoch[i]) as unknown as Record<string, number | null>;
      for (const k of STEP_FIELDS) m[k] = nulls[k]?.[i] ? null : cols[k][i];
    }
    for (const [g, s] of x.duplicated) f.duplicated.set(g, s);
    for (const [g, s] of x.irregular) f.irregular.set(g, s);
    for (const [st, rows] of x.pendingRows) f.pendingRows.set(st, rows);
    f.acc = { ...x.acc };
    f.evals = x.evals;
    const sc = initialScalars() as unknown as Record<string, unknown>;
    for (const k of Object.keys(sc)) {
      if (!(k in x)) throw new Error(`metrics snapshot: field ${k} missing`);
      sc[k] = (x as unknown as Record<string, unknown>)[k];
    }
    f.sc = sc as unknown as FoldScalars;
    return f;
  }

  /**
   * What the progress line shows, without result()'s copy of every step (the runner asks at every update:
   * result() made that O(steps) per step, ~2 ms a step at step 300 of the sim and growing).
   */
  progress(): ProgressView {
    let last: StepMetrics | undefined;
    for (const m of this.steps.values()) if (m.step > 0 && Number.isFinite(m.loss) && (!last || m.step > last.step)) last = m;
    return { lastTrained: last, evalAccuracy: this.evals.length ? this.evals[this.evals.length - 1].accuracy : null };
  }

  /** One step's row as `result()` lists it (a copy; undefined before any event of the step), without result()'s copy of every step. */
  stepRow(step: number): StepMetrics | undefined {
    const m = this.steps.get(step);
    if (!m) return undefined;
    const { _reward, _ok, _len, _t0, _tr, _tu, ...row } = m;
    return row;
  }

  /** The rollout accounting at the current log position (a copy; cheaper than `result()`). */
  accounting(): Accounting {
    return { ...this.acc };
  }

  result(): RunMetrics {
    const wall = this.sc.lastTs && this.sc.firstTs ? (this.sc.lastTs - this.sc.firstTs) / 1000 : 0;
    return {
      steps: [...this.steps.values()].sort((a, b) => a.step - b.step).map(({ _reward, _ok, _len, _t0, _tr, _tu, ...m }) => m),
      accounting: { ...this.acc },
      // result() runs at every update: no pass over every group ever seen unless one was duplicated
      duplicateGroups: [...this.duplicated].sort((a, b) => a[1] - b[1]).map(([g]) => g),
      evals: this.evals,
      policyVersion: this.sc.policyVersion,
      weightsSha256: this.sc.weights,
      completed: this.sc.completed,
      stopped: this.sc.stopped,
      failed: this.sc.failed,
      events: this.sc.events,
      seconds: {
        wall,
        rollout: this.sc.secRollout,
        score: this.sc.secScore,
        update: this.sc.secUpdate,
        orchestration: Math.max(0, wall - this.sc.secRollout - this.sc.secScore - this.sc.secUpdate),
      },
      firstTs: this.sc.firstTs,
      lastTs: this.sc.lastTs,
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
