/**
 * Every actor as an xstate v5 machine: its phases are the machine's leaf states, nested in its groups
 * (compound states), its edges the transitions (by event type, guarded where the chart names a guard), and
 * its context is the reducer's state, updated by `evolve` on every event. A phase is the leaf (`leafOf`).
 * The live host runs these machines (so the xstate inspection API sees real states); replay and inspect
 * use the pure `transition()` of the same machine. No delayed transitions: time enters only as events.
 */
import { assign, setup, transition, initialTransition, type AnyStateMachine, type SnapshotFrom, type StateValue } from 'xstate';
import type { Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import type { ActorDef } from './actor.ts';
import { branchesOf, pathOf, topLevel, type Chart, type Edge } from './statechart.ts';

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
  const chart = def as unknown as Chart<S, string, string>;
  // every target by id from the root: a group's edge may lead into another group (paused → active.selecting)
  const targetOf = (node: string) => `#${def.name}.${pathOf(chart, node).join('.')}`;
  const transitionsOf = (scope: string) => {
    const on: Record<string, unknown[]> = {};
    for (const [type, edge] of Object.entries(chart.edges[scope] ?? {})) {
      on[type] = branchesOf<S>(edge as Edge<S, string>).map(({ target, guard }) => ({
        target: targetOf(target),
        ...(guard ? { guard: ({ context, event }: { context: MachineContext<S>; event: LogEvent }) => guard.holds(evolved(context, event), event.logged) } : {}),
        actions: fold,
      }));
    }
    return on;
  };
  const nodeOf = (node: string): Record<string, unknown> => {
    const children = (chart.groups as Record<string, readonly string[]> | undefined)?.[node];
    if (!children) return { on: transitionsOf(node) };
    return { initial: initialOf(children), states: Object.fromEntries(children.map((c) => [c, nodeOf(c)])), on: transitionsOf(node) };
  };
  // a group is entered at the child on the way to the initial phase (else its first): only the root's matters,
  // every edge targets a phase
  const initialOf = (children: readonly string[]) => children.find((c) => pathOf(chart, def.initialPhase).includes(c)) ?? children[0];
  const top = topLevel(chart);
  // the root: the '*' edges, and any other event only folds (xstate takes an event to the root when no inner
  // state has an edge for it, or when every guard of the inner edges fails)
  const rootOn: Record<string, unknown> = { ...transitionsOf('*'), '*': { actions: fold } };
  for (const [type, list] of Object.entries(rootOn)) if (type !== '*' && Array.isArray(list)) list.push({ actions: fold });
  const machine = setup({
    types: {} as { context: MachineContext<S>; events: LogEvent; input: { config: RunConfig; state?: S; seq?: number } },
  }).createMachine({
    id: def.name,
    initial: initialOf(top),
    context: ({ input }) => ({ state: input.state ?? def.initialState(input.config), seq: input.seq ?? 0 }),
    states: Object.fromEntries(top.map((n) => [n, nodeOf(n)])) as never,
    on: rootOn as never,
  });
  primers.set(machine, (logged, state) => evolvedCache.set(logged, state));
  return machine;
}

export type ActorMachine = AnyStateMachine;

/** The phase (leaf state) of a machine's state value: `{ open: { active: 'rollingOut' } }` → 'rollingOut'. */
export function leafOf(value: StateValue): string {
  let v = value;
  while (typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length !== 1) throw new Error(`leafOf: not one active state: ${JSON.stringify(value)}`);
    v = v[keys[0]] as StateValue;
  }
  return v;
}

/** The state value of the leaf `phase` of `machine` (its path through the groups). */
function valueAt(machine: AnyStateMachine, phase: string): StateValue {
  const find = (states: Record<string, { states: Record<string, unknown> }>): string[] | null => {
    for (const [key, node] of Object.entries(states)) {
      if (key === phase && Object.keys(node.states).length === 0) return [key];
      const below = find(node.states as never);
      if (below) return [key, ...below];
    }
    return null;
  };
  const path = find(machine.root.states as never);
  if (!path) throw new Error(`${machine.id}: no phase ${phase}`);
  return path.reduceRight<StateValue>((inner, key) => (inner === '' ? key : { [key]: inner }), '');
}

/** A machine snapshot positioned at `phase` with the given reducer state (restore from a log snapshot). */
export function snapshotAt<S>(machine: AnyStateMachine, phase: string, state: S, seq: number, config: RunConfig): SnapshotFrom<AnyStateMachine> {
  const [initial] = initialTransition(machine, { config, state, seq });
  return machine.resolveState({ value: valueAt(machine, phase), context: { ...(initial.context as MachineContext<S>), state, seq } });
}

/** Pure step: the machine snapshot after one committed event. */
export function step(machine: AnyStateMachine, snap: SnapshotFrom<AnyStateMachine>, logged: Logged): SnapshotFrom<AnyStateMachine> {
  const [next] = transition(machine, snap, { type: logged.event.type, logged });
  return next;
}
