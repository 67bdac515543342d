/**
 * Runs actors live: each actor consumes the log over NATS in sequence order (its own ordered consumer),
 * folds every event through its xstate machine, and — from `decideFrom` on — proposes the events its
 * decider returns, awaiting their durability before it takes the next event. Snapshots of its state are
 * written every `snapshotEvery` events, only after its decisions for that prefix are durable, so a resume
 * that restores a snapshot at seq s and re-decides from s+1 misses nothing (re-proposed decisions carry
 * the same ids and are de-duplicated by the store).
 */
import { createActor, type Actor, type AnyStateMachine, type InspectionEvent } from 'xstate';
import type { Consumer } from '../bus/logClient.ts';
import type { DareEvent, Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import { mark, stepTrace } from '../events/stepTrace.ts';
import type { ActorDef, DecideContext, Folded } from './actor.ts';
import { machineOf, primeEvolved, snapshotAt, type LogEvent, type MachineContext } from './machine.ts';

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
  readonly recent: Array<[number, string, string, string]> = [];
  /**
   * The folded state and the seq of the last event folded. The host folds every event itself (one evolve
   * per event) and sends the machine only the events that have an edge from its current phase: any other
   * event only folds (the '*' transition) and cannot move the phase, so the machine — and the inspection
   * API watching it — sees every transition while most events (RolloutCompleted) skip xstate's machinery.
   */
  private folded: { state: S; seq: number };

  constructor(opts: HostedActorOptions<S, P>) {
    this.opts = opts;
    this.def = opts.def;
    this.machine = machineOf(opts.def) as unknown as AnyStateMachine;
    const start = opts.start;
    this.actor = createActor(this.machine, {
      input: { config: opts.config, state: start?.state, seq: start?.seq ?? 0 },
      snapshot: start ? snapshotAt(this.machine, start.phase, start.state, start.seq, opts.config) : undefined,
      inspect: (ie: InspectionEvent) => this.inspect(ie),
    });
    if (start) this.recent.push(...start.recent);
    this.actor.start();
    const ctx = this.actor.getSnapshot().context as MachineContext<S>;
    this.folded = { state: ctx.state, seq: ctx.seq };
  }

  private lastValue: string | null = null;

  private inspect(ie: InspectionEvent): void {
    if (ie.type !== '@xstate.snapshot') return;
    const snap = ie.snapshot as { value?: unknown; context?: MachineContext<S> };
    const value = String(snap.value);
    const ev = (ie.event as LogEvent | undefined)?.logged;
    if (this.lastValue !== null && value !== this.lastValue && ev) {
      const m: InspectMessage = {
        actor: this.def.name, seq: ev.seq, event: ev.event.type, from: this.lastValue, to: value,
        summary: snap.context ? this.def.summary(snap.context.state) : {},
      };
      this.recent.push([m.seq, m.event, m.from, m.to]);
      if (this.recent.length > 20) this.recent.shift();
      this.opts.onTransition?.(m);
    }
    this.lastValue = value;
  }

  get phase(): P {
    return this.actor.getSnapshot().value as P;
  }

  get state(): S {
    return this.folded.state;
  }

  get seq(): number {
    return this.folded.seq;
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
    if (e.seq <= this.seq) return; // already folded (restored snapshot)
    const state = this.def.evolve(this.folded.state, e);
    const type = e.event.type;
    const phase = this.phase;
    if (this.def.edges[phase]?.[type] !== undefined || this.def.edges['*']?.[type] !== undefined) {
      primeEvolved(this.machine, e, state);
      this.actor.send({ type, logged: e });
    }
    this.folded = { state, seq: e.seq };
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
        state: this.def.snapshot(this.state), phase: this.phase, recent: this.recent,
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

/** Restore an actor's folded state from a snapshot written by HostedActor. */
export function restoreFolded<S, P extends string>(def: ActorDef<S, P>, snap: { seq: number; state: unknown }, config: RunConfig): Folded<S, P> {
  const x = snap.state as { state: unknown; phase: P; recent: Array<[number, string, P, P]> };
  return { state: def.restore(x.state, config), phase: x.phase, seq: snap.seq, recent: x.recent ?? [] };
}
