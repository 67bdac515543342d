/**
 * Runs actors live: each actor consumes the log over NATS in sequence order (its own ordered consumer),
 * folds every event with `foldOne` (the fold replay and inspect use) while its xstate machine follows the
 * transitions, and — from `decideFrom` on — proposes the events its decider returns, awaiting their
 * durability before it takes the next event. Snapshots of its state are written every `snapshotEvery`
 * events, only after its decisions for that prefix are durable, so a resume that restores a snapshot at
 * seq s and re-decides from s+1 misses nothing (re-proposed decisions carry the same ids and are
 * de-duplicated by the store). A snapshot carries the version of the actor's snapshot shape; one of
 * another version is not restored (restoreFolded), and the actor folds the log from the start instead.
 */
import { createActor, type Actor, type AnyStateMachine } from 'xstate';
import type { Consumer } from '../bus/logClient.ts';
import type { DareEvent, Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import { mark, stepTrace } from '../events/stepTrace.ts';
import { foldOne, type ActorDef, type DecideContext, type Folded } from './actor.ts';
import { leafOf, machineOf, primeEvolved, snapshotAt, type MachineContext } from './machine.ts';
import { hasEdge } from './statechart.ts';

/** What the host needs of the bus (LogClient satisfies it). */
export interface BusHandle {
  append(events: readonly DareEvent[]): Promise<unknown>;
  consume(from: number, handler: (e: Logged) => void | Promise<void>, opts?: { onError?: (e: unknown) => void }): Consumer;
}

export interface SnapshotStore {
  putSnapshot(name: string, seq: number, state: unknown): Promise<void>;
}

export interface InspectMessage {
  actor: string;
  seq: number;
  event: string;
  from: string;
  to: string;
  summary: Record<string, unknown>;
}

export interface HostedActorOptions<S, P extends string> {
  def: ActorDef<S, P>;
  config: RunConfig;
  ctx: DecideContext;
  bus: BusHandle;
  snapshots?: SnapshotStore;
  snapshotEvery?: number;
  /** restored state (from a snapshot), else the initial state at seq 0 */
  start?: Folded<S, P>;
  /** decisions are proposed for events with seq ≥ decideFrom (earlier ones are only folded) */
  decideFrom?: number;
  onTransition?: (m: InspectMessage) => void;
  onError?: (e: unknown) => void;
}

const NO_EVENTS: DareEvent[] = [];

export class HostedActor<S, P extends string> {
  readonly def: ActorDef<S, P>;
  readonly machine: AnyStateMachine;
  private readonly actor: Actor<AnyStateMachine>;
  private consumer: Consumer | null = null;
  private readonly opts: HostedActorOptions<S, P>;
  private sinceSnapshot = 0;
  private failed: unknown = null;
  /**
   * The fold — state, phase, seq of the last event folded and the recent transitions — kept by `foldOne`,
   * the very step replay and inspect fold with. The host sends the machine only the events that have an
   * edge from the current phase or a group holding it (any other event only folds and cannot move the phase),
   * primed with the state the fold computed, and checks that the machine lands in the fold's phase: the
   * machine, and the inspection API watching it, sees every transition while most events (RolloutCompleted)
   * skip xstate's machinery.
   */
  private folded: Folded<S, P>;

  constructor(opts: HostedActorOptions<S, P>) {
    this.opts = opts;
    this.def = opts.def;
    this.machine = machineOf(opts.def) as unknown as AnyStateMachine;
    const start = opts.start;
    this.actor = createActor(this.machine, {
      input: { config: opts.config, state: start?.state, seq: start?.seq ?? 0 },
      snapshot: start ? snapshotAt(this.machine, start.phase, start.state, start.seq, opts.config) : undefined,
    });
    this.actor.start();
    const ctx = this.actor.getSnapshot().context as MachineContext<S>;
    // a copy of the restored transitions: foldOne appends to the array it is given
    this.folded = start ? { ...start, recent: start.recent.slice() } : { state: ctx.state, phase: opts.def.initialPhase, seq: ctx.seq, recent: [] };
  }

  get phase(): P {
    return this.folded.phase;
  }

  get state(): S {
    return this.folded.state;
  }

  get seq(): number {
    return this.folded.seq;
  }

  /** the last transitions, [seq, event type, from, to] (the same list a snapshot carries) */
  get recent(): ReadonlyArray<[number, string, P, P]> {
    return this.folded.recent;
  }

  get error(): unknown {
    return this.failed;
  }

  /**
   * Fold one event and, from decideFrom on, propose this actor's decisions. Returns a promise only when there
   * is something to wait for (decisions to append, a snapshot to write): most events fold synchronously, and
   * the consumer goes on to the next one without a microtask turn.
   */
  handle(e: Logged): void | Promise<void> {
    if (this.failed) return;
    const from = this.folded.phase;
    if (e.seq <= this.folded.seq) return; // already folded (restored snapshot)
    const next = foldOne(this.def, this.folded, e);
    const type = e.event.type;
    if (hasEdge(this.def, from, type)) {
      primeEvolved(this.machine, e, next.state);
      this.actor.send({ type, logged: e });
      const value = leafOf(this.actor.getSnapshot().value);
      if (value !== next.phase) throw new Error(`${this.def.name}: the machine went to ${value} on ${type} (seq ${e.seq}), the fold to ${next.phase}`);
    }
    this.folded = next;
    if (next.phase !== from) {
      this.opts.onTransition?.({ actor: this.def.name, seq: e.seq, event: type, from, to: next.phase, summary: this.def.summary(next.state) });
    }
    const out = e.seq >= (this.opts.decideFrom ?? 1) ? this.def.decide(this.state, e, this.opts.ctx) : NO_EVENTS;
    const every = this.opts.snapshots ? (this.opts.snapshotEvery ?? 0) : 0;
    if (out.length === 0 && (every <= 0 || this.sinceSnapshot + 1 < every)) {
      if (every > 0) this.sinceSnapshot++;
      return;
    }
    return this.proposeAndSnapshot(out, e.seq);
  }

  /** The awaited part of handle: decisions durable first, then the snapshot of the state they follow from. */
  private async proposeAndSnapshot(out: DareEvent[], seq: number): Promise<void> {
    if (out.length) {
      if (stepTrace.on) mark(`decide:${this.def.name}:${out.map((x) => x.type).join(',')}`);
      await this.opts.bus.append(out);
      if (stepTrace.on) mark(`appended:${this.def.name}`);
    }
    if (this.opts.snapshots && this.opts.snapshotEvery && ++this.sinceSnapshot >= this.opts.snapshotEvery) {
      this.sinceSnapshot = 0;
      await this.opts.snapshots.putSnapshot(this.def.name, seq, {
        version: this.def.snapshotVersion ?? 1, state: this.def.snapshot(this.state), phase: this.phase, recent: this.folded.recent,
      });
    }
  }

  /** Consume the log from the event after the current state. */
  start(): void {
    const fail = (err: unknown) => {
      this.failed = err;
      this.opts.onError?.(err);
    };
    this.consumer = this.opts.bus.consume(this.seq + 1, (e) => {
      let r: void | Promise<void>;
      try {
        r = this.handle(e);
      } catch (err) {
        fail(err);
        return;
      }
      return r?.catch(fail);
    }, { onError: this.opts.onError });
  }

  /** Resolves when every event with seq < `seq` has been handled. */
  reached(seq: number): Promise<void> {
    return this.consumer ? this.consumer.reached(seq) : Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.actor.stop();
  }
}

/** A snapshot as HostedActor writes it (`version` absent in those written before snapshots had versions: 1). */
interface StoredSnapshot<P extends string> {
  version?: number;
  state: unknown;
  phase: P;
  recent?: Array<[number, string, P, P]>;
}

/**
 * Restore an actor's folded state from a snapshot written by HostedActor, or undefined when the snapshot
 * is not of this actor's current shape (another snapshot version, or a phase it no longer has): the
 * caller then folds the log from the start.
 */
export function restoreFolded<S, P extends string>(def: ActorDef<S, P>, snap: { seq: number; state: unknown }, config: RunConfig): Folded<S, P> | undefined {
  const x = snap.state as StoredSnapshot<P> | null;
  if (typeof x !== 'object' || x === null || (x.version ?? 1) !== (def.snapshotVersion ?? 1) || !def.phases.includes(x.phase)) return undefined;
  return { state: def.restore(x.state, config), phase: x.phase, seq: snap.seq, recent: x.recent ?? [] };
}
