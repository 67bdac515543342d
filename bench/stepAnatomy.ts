/**
 * Where a sim step's time goes (`dare bench --only anatomy`; diagnostic figures, no targets): the
 * orchestration.msPerStep scenario (B = 512, G = 8, 10k prompts, DARE on the sim) run with the opt-in step
 * trace on (events/stepTrace.ts), and each steady-state step cut into the hops of its critical path, from
 * the session's StepStarted decision to the next one:
 *
 *   select     StepStarted decided → BatchSelected decided (append, commit, deliver, the sampler's draw)
 *   request    → RolloutRequested decided (the learner)
 *   dispatch   → the bridge starts the rollout
 *   rollout    → rollout events built (worker job + the bridge's checks, blob rows, events)
 *   blobs      → the rollout blobs committed
 *   encode     → the append request encoded
 *   toStore    → the store has decoded and validated it (NATS + decode + validation)
 *   commit     → committed and flushed (LMDB, fsync)
 *   deliver    → published and received by this process's consumers
 *   fold       → UpdateRequested decided (every hosted actor folds the step's completions, the learner decides)
 *   toBridge   → the bridge starts the update (append hop of one large event)
 *   update     → update applied (worker job + the bridge's rows)
 *   complete   → the next StepStarted decided (UpdateCompleted's hop, the session's decision)
 *
 * Medians over the steady-state steps that start no epoch; epoch steps (estimation: ScoreRequested →
 * ScoreCompleted → DifficultyEstimated) are reported by their extra time over the median step. GC pauses
 * come from a PerformanceObserver over the same window.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { startStepTrace, stopStepTrace, type StepMark } from '../events/stepTrace.ts';
import { median } from './efficiency/summary.ts';
import { round, runSimScenario, type SimOrchestrationOptions } from './orchestration.ts';

/** The hops of a step: name and the mark that ends it (searched for after the previous one). */
export const HOPS: ReadonlyArray<readonly [string, string]> = [
  ['select', 'decide:sampler:BatchSelected'],
  ['request', 'decide:learner:RolloutRequested'],
  ['dispatch', 'rollout:start'],
  ['rollout', 'rollout:write'],
  ['blobs', 'rollout:blobsPut'],
  ['encode', 'client:send'],
  ['toStore', 'srv:recv'],
  ['commit', 'srv:committed'],
  ['deliver', 'feed:'],
  ['fold', 'decide:learner:UpdateRequested'],
  ['toBridge', 'update:start'],
  ['update', 'update:applied'],
];
const STEP_MARK = 'decide:session:StepStarted';

export interface StepCut {
  /** ms from the step's StepStarted decision to the next one */
  stepMs: number;
  epoch: boolean;
  /** hop name -> ms, in HOPS order, then `complete` */
  hops: Map<string, number>;
}

/** Cut the marks of a run into steps and hops (steps whose marks are incomplete are left out). */
export function cutSteps(marks: readonly StepMark[]): StepCut[] {
  const starts: number[] = [];
  marks.forEach((m, i) => m[1].startsWith(STEP_MARK) && starts.push(i));
  const out: StepCut[] = [];
  for (let k = 0; k + 1 < starts.length; k++) {
    const lo = starts[k];
    const hi = starts[k + 1];
    const hops = new Map<string, number>();
    let at = lo;
    let ok = true;
    for (const [name, label] of HOPS) {
      let j = at + 1;
      while (j < hi && !marks[j][1].startsWith(label)) j++;
      if (j >= hi) {
        ok = false;
        break;
      }
      hops.set(name, marks[j][0] - marks[at][0]);
      at = j;
    }
    if (!ok) continue;
    hops.set('complete', marks[hi][0] - marks[at][0]);
    let epoch = false;
    for (let j = lo; j < hi; j++) if (marks[j][1].startsWith('decide:session:EpochStarted')) epoch = true;
    out.push({ stepMs: marks[hi][0] - marks[lo][0], epoch, hops });
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** `anatomy.*` figures of one traced sim run (see the header). */
export async function stepAnatomyBench(dir: string, o: SimOrchestrationOptions): Promise<Record<string, number>> {
  const gc: Array<[number, number, number]> = []; // start ms, duration ms, kind
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gc.push([e.startTime, e.duration, ((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0]);
  });
  obs.observe({ entryTypes: ['gc'] });
  startStepTrace();
  let marks: StepMark[];
  let run: Awaited<ReturnType<typeof runSimScenario>>;
  try {
    run = await runSimScenario(dir, 'anatomy-sim', o);
  } finally {
    marks = stopStepTrace();
    obs.disconnect();
  }
  const { w } = run;
  const steps = cutSteps(marks).slice(o.warmup);
  const plain = steps.filter((s) => !s.epoch);
  const epochs = steps.filter((s) => s.epoch);
  if (plain.length < 3) throw new Error(`anatomy: only ${plain.length} complete steady-state steps in the trace`);
  const t0 = Math.min(...marks.filter((m) => m[1].startsWith(STEP_MARK)).slice(o.warmup).map((m) => m[0]));
  const t1 = marks[marks.length - 1][0];
  let minor = 0;
  let major = 0;
  for (const [s, d, kind] of gc) {
    if (s < t0 || s > t1) continue;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor += d;
    else major += d;
  }
  const medianStep = median(plain.map((s) => s.stepMs));
  const figures: Record<string, number> = {
    'anatomy.steps': steps.length,
    'anatomy.stepMs.median': round(medianStep),
    'anatomy.stepMs.mean': round(mean(steps.map((s) => s.stepMs))),
    'anatomy.epochStepExtraMs': round(epochs.length ? median(epochs.map((s) => s.stepMs)) - medianStep : 0),
    'anatomy.gc.minorMsPerStep': round(minor / steps.length),
    'anatomy.gc.majorMsPerStep': round(major / steps.length),
    'anatomy.workerMsPerStep': round(w.workerMs),
  };
  for (const name of [...HOPS.map(([n]) => n), 'complete']) figures[`anatomy.hop.${name}`] = round(median(plain.map((s) => s.hops.get(name)!)));
  return figures;
}
