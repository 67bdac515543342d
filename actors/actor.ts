/**
 * What an actor is (emmett-style decider + a statechart):
 *   initialState(config)      its state before any event
 *   evolve(state, logged)     the pure fold of one committed event
 *   decide(state, logged, c)  the events it proposes in reaction to that event, from the state AFTER evolve;
 *                             pure: every random draw comes from ctx.prng(step, purpose), keyed by the run seed
 *   phases, groups, edges     its statechart: the phases, how they nest, which events move it (statechart.ts)
 * Actors never import each other; they only exchange events. Decisions carry deterministic ids, so a
 * decision proposed twice (after a crash, on resume) is de-duplicated by the store.
 */
import type { DareEvent, Logged } from '../events/catalogue.ts';
import { Prng } from '../events/prng.ts';
import type { RunConfig } from '../events/config.ts';
import { nextPhase, type Chart } from './statechart.ts';

export type ActorName = 'session' | 'prompts' | 'buffer' | 'estimator' | 'sampler' | 'learner';

export interface DecideContext {
  run: string;
  config: RunConfig;
  /** the PRNG stream of a decision: key (run seed, step, purpose) */
  prng(step: number, purpose: string): Prng;
  /** prompt rows by index (the prompts database); actors that need text (hints) read through this */
  prompt(index: number): { id: string; question: string; answer: string; category: string } | undefined;
  /** a stored blob (rollout texts and tokens) */
  blob(key: string): unknown;
  /** what the run's prompt source holds (written to the prompts database before RunStarted) */
  promptTable(): PromptTable | undefined;
}

/** The registered prompt set, as PromptsRegistered announces it. */
export interface PromptTable {
  count: number;
  evalCount: number;
  contentHash: string;
  source: string;
  categories: string[];
  categoryOf: Uint16Array;
  conflicts: number;
}

/** An actor: its statechart (phases, groups, edges: statechart.ts) and its decider. */
export interface ActorDef<S, P extends string = string, G extends string = never> extends Chart<S, P, G> {
  name: ActorName;
  description: string;
  initialState(config: RunConfig): S;
  evolve(state: S, e: Logged): S;
  decide(state: S, e: Logged, ctx: DecideContext): DareEvent[];
  /** a short JSON-safe summary of the state for `dare inspect` */
  summary(state: S): Record<string, unknown>;
  /** state -> MessagePack-able snapshot and back (typed arrays allowed: the snapshot codec handles them) */
  snapshot(state: S): unknown;
  restore(snap: unknown, config: RunConfig): S;
  /**
   * Version of the snapshot's shape (absent: 1); raise it whenever `snapshot` changes shape. A stored
   * snapshot of another version is never restored: the actor is rebuilt by folding the log from its start
   * (correctness never depends on snapshots, DESIGN §3).
   */
  snapshotVersion?: number;
}

/** State of an actor as folded by the pure path: its reducer state plus its statechart phase. */
export interface Folded<S, P extends string = string> {
  state: S;
  phase: P;
  /** sequence number of the last event folded */
  seq: number;
  /** the last transitions (for inspect): [seq, event type, from, to] */
  recent: Array<[number, string, P, P]>;
}

const RECENT = 20;

export function initialFolded<S, P extends string>(def: ActorDef<S, P>, config: RunConfig): Folded<S, P> {
  return { state: def.initialState(config), phase: def.initialPhase, seq: 0, recent: [] };
}

/** Fold one event into an actor (pure apart from reusing the recent-transitions array). */
export function foldOne<S, P extends string>(def: ActorDef<S, P>, f: Folded<S, P>, e: Logged): Folded<S, P> {
  const state = def.evolve(f.state, e);
  const phase = nextPhase(def, f.phase, state, e);
  if (phase !== f.phase) {
    f.recent.push([e.seq, e.event.type, f.phase, phase]);
    if (f.recent.length > RECENT) f.recent.shift();
  }
  return { state, phase, seq: e.seq, recent: f.recent };
}

export function makeContext(
  run: string,
  config: RunConfig,
  io: Pick<DecideContext, 'prompt' | 'blob' | 'promptTable'>,
): DecideContext {
  return {
    run,
    config,
    prng: (step, purpose) => new Prng({ seed: config.run.seed, step, purpose }),
    ...io,
  };
}
