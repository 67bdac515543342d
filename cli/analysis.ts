/**
 * The analysis commands: replay (--verify, --set counterfactuals), drift, inspect, machines. All read the
 * run's log read-only; only `inspect --live` and control talk to a running run over NATS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTORS } from '../actors/index.ts';
import { foldOne, initialFolded, type Folded } from '../actors/actor.ts';
import { mermaidOf, machineOf, snapshotAt, step as machineStep } from '../actors/machine.ts';
import { foldBuffer, initBufferFold, type BufferFold } from '../actors/shared/bufferFold.ts';
import { connectNats } from '../bus/connect.ts';
import type { DareEvent, Logged } from '../events/catalogue.ts';
import { pack, samePayload, unpack } from '../events/codec.ts';
import { resolveConfig, type RunConfig } from '../events/config.ts';
import { subjectsFor } from '../events/subjects.ts';
import type { EventLog } from '../store/eventLog.ts';
import { driftOf, promptIndexOf, promptTimeline } from './drift.ts';
import { UserError } from './errors.ts';
import { toJsonSafe } from './format.ts';
import { loggedConfig, replayContext, verifyLog, DECISION_TYPES } from './replay.ts';
import type { AnyStateMachine } from 'xstate';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');

export function replayVerifyCommand(log: EventLog, json: boolean): number {
  const r = verifyLog(log);
  if (json) process.stdout.write(JSON.stringify(toJsonSafe(r)) + '\n');
  else if (r.mismatch) {
    const m = r.mismatch;
    process.stdout.write(`replay --verify: MISMATCH at seq ${m.seq} (${m.id}, actor ${m.actor}): ${m.reason}\n`);
    if (m.logged !== undefined) process.stdout.write(`  logged:     ${JSON.stringify(toJsonSafe(m.logged))}\n`);
    if (m.recomputed !== undefined) process.stdout.write(`  recomputed: ${JSON.stringify(toJsonSafe(m.recomputed))}\n`);
  } else {
    process.stdout.write(`replay --verify: ok — ${r.decisionsChecked} decisions recomputed identically over ${r.events} events\n`);
  }
  return r.mismatch ? 1 : 0;
}

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

export function printCounterfactual(r: CounterfactualResult, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(toJsonSafe(r)) + '\n');
    return;
  }
  const out = [`counterfactual replay with ${r.sets.join(' ')}: ${r.changedDecisions} estimator/sampler decisions change`];
  out.push(' step  selected  overlap  tier-changes  mean d (logged → counterfactual)');
  for (const s of r.steps) {
    out.push(`${String(s.step).padStart(5)}  ${String(s.selected).padStart(8)}  ${(100 * s.overlap).toFixed(1).padStart(6)}%  ${String(s.tierChanges).padStart(12)}  ${f3(s.meanD)} → ${f3(s.counterfactualMeanD)}`);
  }
  out.push('difficulty histogram of the last estimate (10 bins of d):');
  out.push(`  logged:         ${r.histogram.original.join(' ')}`);
  out.push(`  counterfactual: ${r.histogram.counterfactual.join(' ')}`);
  process.stdout.write(out.join('\n') + '\n');
}

export function driftCommand(log: EventLog, promptArg: string | undefined, json: boolean): void {
  if (promptArg !== undefined) {
    const q = promptIndexOf(log, promptArg);
    if (q === undefined) throw new UserError(`--prompt ${promptArg}: no such prompt id or index in this run`);
    const { config } = loggedConfig(log);
    let buf: BufferFold = initBufferFold(config);
    const tl = promptTimeline(log, q, (l) => {
      buf = foldBuffer(buf, l);
      return buf.lastEvictions;
    });
    if (json) for (const t of tl) process.stdout.write(JSON.stringify(toJsonSafe(t)) + '\n');
    else {
      const row = log.getPrompt(q) as { id?: string; question?: string } | undefined;
      process.stdout.write(`prompt ${q} ${row?.id ?? ''} ${JSON.stringify((row?.question ?? '').slice(0, 60))}\n`);
      for (const t of tl) process.stdout.write(`${String(t.seq).padStart(8)}  step ${String(t.step).padStart(4)}  ${t.kind.padEnd(9)} ${JSON.stringify(toJsonSafe(t.detail))}\n`);
    }
    return;
  }
  const steps = driftOf(log);
  if (json) {
    for (const s of steps) process.stdout.write(JSON.stringify(toJsonSafe(s)) + '\n');
    return;
  }
  const out = [' step  est@  prompts   MAE    bias   spearman  oracle-MAE  meanESS  ESS<thr  clip+/-   by source (n: MAE)'];
  for (const s of steps) {
    const src = Object.entries(s.bySource).map(([k, c]) => `${k} ${c.n}: ${f3(c.mae)}`).join(', ');
    out.push(
      `${String(s.step).padStart(5)}  ${String(s.estimateStep).padStart(4)}  ${String(s.overall.n).padStart(7)}  ${f3(s.overall.mae)}  ${f3(s.overall.bias).padStart(6)}  ${f3(s.overall.spearman).padStart(8)}  ${f3(s.overall.oracleMae).padStart(10)}  ${f3(s.ess.mean).padStart(7)}  ${String(s.ess.belowThreshold).padStart(7)}  ${s.clipped.pos}/${s.clipped.neg}   ${src}`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

export interface ActorView {
  actor: string;
  phase: string;
  machinePhase: string;
  seq: number;
  summary: Record<string, unknown>;
  recent: Array<[number, string, string, string]>;
}

/** Every actor's machine state at `at` (default: the end of the log), by the pure xstate transition(). */
export function inspectAt(log: EventLog, at?: number): ActorView[] {
  const { config } = loggedConfig(log);
  const until = at ?? log.lastSeq();
  const machines = ACTORS.map((d) => machineOf(d) as unknown as AnyStateMachine);
  let snaps = ACTORS.map((d, i) => snapshotAt(machines[i], d.initialPhase, d.initialState(config), 0, config));
  const folds = new Map(ACTORS.map((d) => [d.name, initialFolded(d, config)]));
  for (const l of log.iterate(1, until + 1)) {
    snaps = snaps.map((s, i) => machineStep(machines[i], s, l));
    for (const d of ACTORS) folds.set(d.name, foldOne(d, folds.get(d.name)!, l));
  }
  return ACTORS.map((d, i) => {
    const f = folds.get(d.name)!;
    return {
      actor: d.name,
      phase: f.phase,
      machinePhase: String(snaps[i].value),
      seq: f.seq,
      summary: d.summary(f.state),
      recent: f.recent.slice(-8),
    };
  });
}

export function printInspect(views: ActorView[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(toJsonSafe(views)) + '\n');
    return;
  }
  for (const v of views) {
    process.stdout.write(`${v.actor.padEnd(10)} ${v.machinePhase.padEnd(14)} @${v.seq}  ${JSON.stringify(toJsonSafe(v.summary))}\n`);
    for (const [seq, type, from, to] of v.recent) process.stdout.write(`${''.padEnd(12)}${String(seq).padStart(8)}  ${from} → ${to}  (${type})\n`);
  }
}

/** `inspect --live`: follow the run's inspection subject (NATS details from RUN_DIR/nats.json). */
export async function inspectLive(runDir: string, json: boolean, signal?: AbortSignal): Promise<void> {
  const file = join(runDir, 'nats.json');
  if (!existsSync(file)) throw new UserError(`${runDir}: no running run here (nats.json missing)`);
  const { url, token, run } = JSON.parse(readFileSync(file, 'utf8')) as { url: string; token: string; run: string };
  const nc = await connectNats({ url, token, name: 'inspect' });
  const sub = nc.subscribe(subjectsFor(run).inspect);
  signal?.addEventListener('abort', () => sub.unsubscribe());
  process.stdout.write(`following ${run} (ctrl-c to stop)\n`);
  for await (const m of sub) {
    const msg = unpack(m.data) as { actor: string; seq: number; event: string; from: string; to: string; summary: unknown };
    if (json) process.stdout.write(JSON.stringify(toJsonSafe(msg)) + '\n');
    else process.stdout.write(`${String(msg.seq).padStart(8)}  ${msg.actor.padEnd(10)} ${msg.from} → ${msg.to}  (${msg.event})  ${JSON.stringify(toJsonSafe(msg.summary))}\n`);
  }
  await nc.close();
}

/** Send pause / resume / stop to a running run. */
export async function sendControl(runDir: string, command: 'pause' | 'resume' | 'stop'): Promise<void> {
  const file = join(runDir, 'nats.json');
  if (!existsSync(file)) throw new UserError(`${runDir}: no running run here (nats.json missing)`);
  const { url, token, run } = JSON.parse(readFileSync(file, 'utf8')) as { url: string; token: string; run: string };
  const nc = await connectNats({ url, token, name: 'control' });
  try {
    const reply = unpack((await nc.request(subjectsFor(run).control, pack({ command, source: 'cli' }), { timeout: 10_000 })).data) as { ok: boolean; error?: string };
    if (!reply.ok) throw new UserError(`control ${command}: ${reply.error}`);
  } finally {
    await nc.close();
  }
}

export function machinesCommand(mermaid: boolean): void {
  for (const d of ACTORS) {
    if (mermaid) process.stdout.write(`%% ${d.name}: ${d.description}\n${mermaidOf(d)}\n\n`);
    else process.stdout.write(`${d.name}: ${d.phases.join(', ')} (initial ${d.initialPhase})\n`);
  }
}

export { DECISION_TYPES };
