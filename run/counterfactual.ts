/**
 * `dare replay --set`: the estimator and the sampler re-run with other settings over a run's recorded facts
 * (DESIGN §1.2), without NATS or workers, and how their decisions would have changed.
 */
import { ACTORS } from '../actors/index.ts';
import { foldOne, initialFolded, type Folded } from '../actors/actor.ts';
import type { DareEvent, Logged } from '../events/catalogue.ts';
import { samePayload } from '../events/codec.ts';
import { resolveConfig, type RunConfig } from '../events/config.ts';
import { UserError } from '../events/errors.ts';
import type { EventLog } from '../store/eventLog.ts';
import { loggedConfig, replayContext } from './replay.ts';

export interface CounterfactualStep {
  step: number;
  selected: number;
  counterfactualSelected: number;
  /** |original ∩ counterfactual| / |original| */
  overlap: number;
  /** prompts selected by both with a different tier */
  tierChanges: number;
  /** mean d of the selected prompts, original vs counterfactual */
  meanD: number;
  counterfactualMeanD: number;
}

export interface CounterfactualResult {
  sets: string[];
  steps: CounterfactualStep[];
  /** histogram (10 bins of d) of the last estimate, original vs counterfactual */
  histogram: { original: number[]; counterfactual: number[] };
  changedDecisions: number;
}

/** counts of d in 10 bins of width 0.1 (NaN: not counted) */
function histogram(d: ArrayLike<number>): number[] {
  const h = new Array(10).fill(0);
  for (let i = 0; i < d.length; i++) if (!Number.isNaN(d[i])) h[Math.min(9, Math.max(0, Math.floor(d[i] * 10)))]++;
  return h;
}

/**
 * Re-run the estimator and the sampler with other settings over the recorded facts: the counterfactual
 * actors fold the log's facts, but their own decisions replace the logged estimator/sampler decisions
 * (so the counterfactual sampler sees the counterfactual estimates). Every other actor folds the log as is.
 */
export function counterfactual(log: EventLog, sets: string[]): CounterfactualResult {
  const { run, config } = loggedConfig(log);
  let alt: RunConfig;
  try {
    alt = resolveConfig({ ...config }, sets);
  } catch (e) {
    throw new UserError(`--set: ${(e as Error).message}`);
  }
  const ctx = replayContext(log, run, alt);
  const defs = ACTORS.filter((d) => d.name === 'estimator' || d.name === 'sampler');
  const folds = new Map<string, Folded<any, any>>(defs.map((d) => [d.name, initialFolded(d, alt)]));
  const own = new Set(['ScoreRequested', 'DifficultyEstimated', 'BatchSelected']);
  const steps: CounterfactualStep[] = [];
  let lastOrig: Float32Array | null = null;
  let lastAlt: Float32Array | null = null;
  let changed = 0;
  const pendingAlt = new Map<string, DareEvent>();
  const feed = (l: Logged) => {
    const out: DareEvent[] = [];
    for (const d of defs) {
      const f = foldOne(d, folds.get(d.name)!, l);
      folds.set(d.name, f);
      out.push(...d.decide(f.state, l, ctx));
    }
    return out;
  };
  const process1 = (l: Logged) => {
    const produced = feed(l);
    for (const p of produced) pendingAlt.set(p.id, p);
  };
  for (const l of log.iterate(1)) {
    const e = l.event;
    if (own.has(e.type)) {
      // the counterfactual version of this decision (same id), if the counterfactual actors made one
      const altEv = pendingAlt.get(e.id);
      pendingAlt.delete(e.id);
      if (e.type === 'DifficultyEstimated') lastOrig = e.data.difficulty;
      if (e.type === 'BatchSelected' && altEv?.type === 'BatchSelected') {
        const a = new Set(altEv.data.prompts);
        let inter = 0;
        let tierChanges = 0;
        const altTier = new Map<number, number>();
        altEv.data.prompts.forEach((q, i) => altTier.set(q, altEv.data.tier[i]));
        e.data.prompts.forEach((q, i) => {
          if (a.has(q)) {
            inter++;
            if (altTier.get(q) !== e.data.tier[i]) tierChanges++;
          }
        });
        const mean = (x: Float32Array) => (x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN);
        steps.push({
          step: e.data.step, selected: e.data.prompts.length, counterfactualSelected: altEv.data.prompts.length,
          overlap: e.data.prompts.length ? inter / e.data.prompts.length : 1, tierChanges,
          meanD: mean(e.data.difficulty), counterfactualMeanD: mean(altEv.data.difficulty),
        });
      }
      if (altEv) {
        if (altEv.type === 'DifficultyEstimated') lastAlt = altEv.data.difficulty;
        if (!samePayload(altEv, e)) changed++;
        // the counterfactual actors fold their own decision in place of the logged one
        process1({ seq: l.seq, event: { ...altEv, ts: e.ts } as DareEvent });
      } else {
        process1(l);
      }
      continue;
    }
    process1(l);
  }
  return {
    sets,
    steps,
    histogram: { original: histogram(lastOrig ?? []), counterfactual: histogram(lastAlt ?? []) },
    changedDecisions: changed,
  };
}

