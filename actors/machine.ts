/**
 * Every actor as an xstate v5 machine: its phases are the machine's states, its edges the transitions
 * (labelled by event type), and its context is the reducer's state, updated by `evolve` on every event.
 * The live host runs these machines (so the xstate inspection API sees real states); replay and inspect
 * use the pure `transition()` of the same machine. No delayed transitions: time enters only as events.
 */
import { assign, setup, transition, initialTransition, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import type { Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import type { ActorDef } from './actor.ts';

export interface MachineContext<S> {
  state: S;
  seq: number;
}

export interface LogEvent {
  type: string;
  logged: Logged;
}

/** How to hand a machine the post-evolve state of an event its host has already folded (see primeEvolved). */
const primers = new WeakMap<object, (logged: Logged, state: unknown) => void>();

/**
 * Give `machine` the state `evolve` returns for `logged` before sending it that event, so the machine
 * uses it instead of evolving again (HostedActor folds every event itself and sends only those that can
 * move the phase, so the machine's own context may be behind).
 */
export function primeEvolved(machine: object, logged: Logged, state: unknown): void {
  const prime = primers.get(machine);
  if (!prime) throw new Error('primeEvolved: not a machine made by machineOf');
  prime(logged, state);
}

export function machineOf<S, P extends string>(def: ActorDef<S, P>) {
  // post-evolve state of an event, shared between a guard and the action of the same transition; one
  // cache per machine: the actors hosted in one process are handed the same Logged objects
  const evolvedCache = new WeakMap<Logged, unknown>();
  const evolved = (ctx: MachineContext<S>, e: LogEvent): S => {
    let s = evolvedCache.get(e.logged) as S | undefined;
    if (s === undefined) {
      s = def.evolve(ctx.state, e.logged);
      evolvedCache.set(e.logged, s);
    }
    return s;
  };
  const fold = assign(({ context, event }: { context: MachineContext<S>; event: LogEvent }) => {
    const state = evolved(context, event);
    evolvedCache.delete(event.logged);
    return { state, seq: event.logged.seq };
  });
  const states: Record<string, { on: Record<string, unknown> }> = {};
  for (const phase of def.phases) {
    const on: Record<string, unknown> = {};
    const edges = { ...(def.edges['*'] ?? {}), ...(def.edges[phase] ?? {}) } as Record<string, unknown>;
    for (const [type, edge] of Object.entries(edges)) {
      if (typeof edge === 'string') on[type] = { target: edge, actions: fold };
      else {
        const e = edge as { targets: readonly P[]; pick: (s: S, l: Logged, from: P) => P };
        on[type] = e.targets.map((target) => ({
          target,
          guard: ({ context, event }: { context: MachineContext<S>; event: LogEvent }) => e.pick(evolved(context, event), event.logged, phase) === target,
          actions: fold,
        }));
      }
    }
    on['*'] = { actions: fold };
    states[phase] = { on };
  }
  const machine = setup({
    types: {} as { context: MachineContext<S>; events: LogEvent; input: { config: RunConfig; state?: S; seq?: number } },
  }).createMachine({
    id: def.name,
    initial: def.initialPhase,
    context: ({ input }) => ({ state: input.state ?? def.initialState(input.config), seq: input.seq ?? 0 }),
    states: states as never,
  });
  primers.set(machine, (logged, state) => evolvedCache.set(logged, state));
  return machine;
}

export type ActorMachine = AnyStateMachine;

/** A machine snapshot positioned at `phase` with the given reducer state (restore from a log snapshot). */
export function snapshotAt<S>(machine: AnyStateMachine, phase: string, state: S, seq: number, config: RunConfig): SnapshotFrom<AnyStateMachine> {
  const [initial] = initialTransition(machine, { config, state, seq });
  return machine.resolveState({ value: phase, context: { ...(initial.context as MachineContext<S>), state, seq } });
}

/** Pure step: the machine snapshot after one committed event. */
export function step(machine: AnyStateMachine, snap: SnapshotFrom<AnyStateMachine>, logged: Logged): SnapshotFrom<AnyStateMachine> {
  const [next] = transition(machine, snap, { type: logged.event.type, logged });
  return next;
}

/** Mermaid state diagram of an actor's statechart (`dare machines --mermaid`). */
export function mermaidOf<S, P extends string>(def: ActorDef<S, P>): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${def.initialPhase}`];
  const seen = new Set<string>();
  for (const phase of def.phases) {
    const edges = { ...(def.edges['*'] ?? {}), ...(def.edges[phase] ?? {}) } as Record<string, unknown>;
    for (const [type, edge] of Object.entries(edges)) {
      const targets = typeof edge === 'string' ? [edge] : (edge as { targets: readonly string[] }).targets;
      for (const t of targets) {
        if (t === phase && typeof edge !== 'string') continue;
        const line = `  ${phase} --> ${t}: ${type}`;
        if (!seen.has(line)) {
          seen.add(line);
          lines.push(line);
        }
      }
    }
  }
  return lines.join('\n');
}
