/**
 * `dare replay`: fold a run's log through the actors' pure reducers, without NATS or workers.
 *   verify          recompute every decision from the logged facts and compare it with the logged one (the
 *                   first mismatch is reported with its sequence number and both values)
 *   counterfactual  re-run the estimator and the sampler with other settings over the recorded facts and
 *                   compare their decisions with the logged ones
 */
import { foldOne, initialFolded, makeContext, type ActorDef, type DecideContext, type Folded, type PromptTable } from '../actors/actor.ts';
import type { DareEvent, EventType, Logged } from '../events/catalogue.ts';
import { encodeEvent } from '../events/codec.ts';
import { resolveLoggedConfig, type RunConfig } from '../events/config.ts';
import type { EventLog } from '../store/eventLog.ts';
import { ACTORS } from '../actors/index.ts';
import { UserError } from '../events/errors.ts';
import { promptTableOf, type PromptRowLike } from './promptSet.ts';

/** Events that are decisions of a pure actor (recomputable); everything else is an outside fact. */
export const DECISION_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'PromptsRegistered', 'EpochStarted', 'StepStarted', 'RunCompleted', 'RunStopped', 'ScoreRequested', 'DifficultyEstimated', 'BatchSelected',
  'RolloutRequested', 'UpdateRequested', 'CheckpointRequested', 'EvalRequested', 'SignalRequested',
]);

export function replayContext(log: EventLog, run: string, config: RunConfig): DecideContext {
  let table: PromptTable | undefined;
  return makeContext(run, config, {
    prompt: (i) => log.getPrompt(i) as never,
    blob: (k) => log.getBlob(k),
    promptTable: () => {
      if (table) return table;
      const seq = log.seqOf('PromptsRegistered');
      if (seq === undefined) return undefined;
      const reg = log.read(seq, seq + 1)[0].event as Extract<DareEvent, { type: 'PromptsRegistered' }>;
      const rows: PromptRowLike[] = [];
      for (const { row } of log.iteratePrompts()) rows.push(row as PromptRowLike);
      table = promptTableOf(rows, reg.data);
      return table;
    },
  });
}

/** The run's configuration as logged in RunStarted. */
export function loggedConfig(log: EventLog): { run: string; config: RunConfig } {
  const seq = log.seqOf('RunStarted');
  const first = seq === undefined ? undefined : log.read(seq, seq + 1)[0];
  if (!first || first.event.type !== 'RunStarted') throw new UserError('this log has no RunStarted event');
  return { run: first.event.run, config: resolveLoggedConfig(first.event.data.config) };
}

export type Folds = Map<string, Folded<any, any>>;

/** Fold the log (up to and including `until`) through every actor. */
export function foldLog(log: EventLog, config: RunConfig, until = Number.MAX_SAFE_INTEGER, each?: (e: Logged, folds: Folds) => void): Folds {
  const folds: Folds = new Map(ACTORS.map((d) => [d.name, initialFolded(d, config)]));
  for (const e of log.iterate(1, until + 1)) {
    for (const d of ACTORS) folds.set(d.name, foldOne(d, folds.get(d.name)!, e));
    each?.(e, folds);
  }
  return folds;
}

export interface Mismatch {
  seq: number;
  id: string;
  actor: string;
  reason: string;
  logged?: unknown;
  recomputed?: unknown;
}

export interface VerifyResult {
  events: number;
  decisionsChecked: number;
  mismatch: Mismatch | null;
}

function withoutTs(ev: DareEvent, ts: number): Buffer {
  return encodeEvent({ ...ev, ts } as DareEvent);
}

/** Compare two decisions field by field; the first differing field, for the report. */
function firstDifference(a: DareEvent, b: DareEvent): { field: string; logged: unknown; recomputed: unknown } {
  for (const k of ['type', 'cause'] as const) if (a[k] !== b[k]) return { field: k, logged: a[k], recomputed: b[k] };
  const da = a.data as Record<string, unknown>;
  const db = b.data as Record<string, unknown>;
  for (const k of new Set([...Object.keys(da), ...Object.keys(db)])) {
    const x = da[k];
    const y = db[k];
    const same = ArrayBuffer.isView(x) && ArrayBuffer.isView(y)
      ? Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength))
      : JSON.stringify(x) === JSON.stringify(y);
    if (!same) {
      const show = (v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>).slice(0, 16) : v);
      return { field: `data.${k}`, logged: show(x), recomputed: show(y) };
    }
  }
  return { field: '(encoding)', logged: null, recomputed: null };
}

/** Replay-verify: every logged decision is recomputed from the log's facts and must be identical. */
export function verifyLog(log: EventLog): VerifyResult {
  const { run, config } = loggedConfig(log);
  const ctx = replayContext(log, run, config);
  const completed = log.seqOf('RunCompleted') !== undefined;
  const produced = new Set<string>();
  let checked = 0;
  let events = 0;
  let mismatch: Mismatch | null = null;
  const folds: Folds = new Map(ACTORS.map((d) => [d.name, initialFolded(d, config)]));
  for (const e of log.iterate(1)) {
    events++;
    if (DECISION_TYPES.has(e.event.type) && !produced.has(e.event.id)) {
      mismatch = { seq: e.seq, id: e.event.id, actor: '?', reason: 'logged decision that no actor makes from the preceding log', logged: e.event.data };
      break;
    }
    for (const d of ACTORS as ActorDef<any, any>[]) {
      const f = foldOne(d, folds.get(d.name)!, e);
      folds.set(d.name, f);
      let outs: DareEvent[];
      try {
        outs = d.decide(f.state, e, ctx);
      } catch (err) {
        mismatch = { seq: e.seq, id: e.event.id, actor: d.name, reason: `decide failed: ${(err as Error).message}` };
        break;
      }
      for (const out of outs) {
        produced.add(out.id);
        const seq = log.seqOf(out.id);
        if (seq === undefined) {
          if (completed) mismatch = { seq: e.seq, id: out.id, actor: d.name, reason: 'decision missing from the log', recomputed: out.data };
          continue;
        }
        checked++;
        const logged = log.read(seq, seq + 1)[0].event;
        if (!withoutTs(out, logged.ts).equals(encodeEvent(logged))) {
          const diff = firstDifference(logged, out);
          mismatch = { seq, id: out.id, actor: d.name, reason: `recomputed decision differs in ${diff.field}`, logged: diff.logged, recomputed: diff.recomputed };
          break;
        }
      }
      if (mismatch) break;
    }
    if (mismatch) break;
  }
  return { events, decisionsChecked: checked, mismatch };
}
