/**
 * An actor's statechart as data: its phases (the leaf states: what `phase` means everywhere, in folds,
 * snapshots and inspect), the groups that nest them (compound states), and the edges — per phase or group,
 * per event type, a target phase, possibly under a named guard. One pure transition, `nextPhase`, reads
 * them the way xstate does (the innermost state first; a group's edges apply to every phase inside it;
 * '*' last), so the fold and the xstate machine built from the same chart (machine.ts) always agree.
 */
import type { EventType, Logged } from '../events/catalogue.ts';

/** A condition on the state after evolve; its name labels the edge (`Event [name]`). */
export interface Guard<S> {
  name: string;
  holds(state: S, e: Logged): boolean;
}

/** One way an event moves the actor: to a phase, or to a phase when a guard holds. */
export type Branch<S, P extends string> = P | { target: P; guard: Guard<S> };

/**
 * Where an event moves the actor from a phase or group: branches tried in order, the first that applies
 * taken. When none applies the enclosing group's edges for the event are tried, and so on outwards; when
 * nothing applies the phase stays.
 */
export type Edge<S, P extends string> = Branch<S, P> | readonly Branch<S, P>[];

export interface Chart<S, P extends string, G extends string = never> {
  phases: readonly P[];
  initialPhase: P;
  /** compound states: each group's children (phases or groups), in drawing order; a node is in one group at most */
  groups?: Readonly<Partial<Record<G, readonly (P | G)[]>>>;
  /** phase or group -> event type -> edge; the key '*' holds edges that apply from every phase (tried last) */
  edges: Partial<Record<P | G | '*', Partial<Record<EventType, Edge<S, P>>>>>;
}

/** Any chart, as the generic readers below see it. */
type AnyChart = Chart<any, string, string>;

export interface NormalBranch<S> {
  target: string;
  guard?: Guard<S>;
}

export function branchesOf<S>(edge: Edge<S, string>): NormalBranch<S>[] {
  const list = (Array.isArray(edge) ? edge : [edge]) as Branch<S, string>[];
  return list.map((b) => (typeof b === 'string' ? { target: b } : b));
}

export function groupsOf(chart: AnyChart): Array<[string, readonly string[]]> {
  return Object.entries(chart.groups ?? {}) as Array<[string, readonly string[]]>;
}

/** The group holding `node` directly (undefined: a top-level node). */
export function parentOf(chart: AnyChart, node: string): string | undefined {
  return groupsOf(chart).find(([, children]) => children.includes(node))?.[0];
}

/** `node`'s groups, innermost first. */
export function ancestorsOf(chart: AnyChart, node: string): string[] {
  const out: string[] = [];
  for (let g = parentOf(chart, node); g !== undefined; g = parentOf(chart, g)) {
    if (out.includes(g) || g === node) throw new Error(`statechart: group ${g} contains itself`);
    out.push(g);
  }
  return out;
}

/** The path from the top level to `node`, e.g. ['open', 'active', 'rollingOut']. */
export function pathOf(chart: AnyChart, node: string): string[] {
  return [...ancestorsOf(chart, node).reverse(), node];
}

/** The nodes outside every group, in order: the groups that hold no one's children, then the loose phases. */
export function topLevel(chart: AnyChart): string[] {
  const nodes = [...groupsOf(chart).map(([g]) => g), ...chart.phases];
  return nodes.filter((n, i) => nodes.indexOf(n) === i && parentOf(chart, n) === undefined);
}

/** Every node (phase or group) in drawing order, each group before its children. */
export function nodesOf(chart: AnyChart): string[] {
  const children = new Map(groupsOf(chart));
  const walk = (n: string): string[] => [n, ...(children.get(n) ?? []).flatMap(walk)];
  return topLevel(chart).flatMap(walk);
}

export interface Transition {
  /** the phase or group whose edge it is ('*': every phase) */
  from: string;
  type: EventType;
  to: string;
  /** the guard's name; 'else' for an unguarded branch after guarded ones (taken when none of them holds) */
  guard: string | null;
}

/** Every branch of every edge, in chart order (the statechart's arrows before any merging). */
export function transitionsOf(chart: AnyChart): Transition[] {
  const out: Transition[] = [];
  for (const from of [...nodesOf(chart), '*']) {
    for (const [type, edge] of Object.entries(chart.edges[from] ?? {})) {
      const branches = branchesOf(edge as Edge<unknown, string>);
      branches.forEach((b, i) => {
        const guard = b.guard?.name ?? (branches.slice(0, i).some((x) => x.guard) ? 'else' : null);
        out.push({ from, type: type as EventType, to: b.target, guard });
      });
    }
  }
  return out;
}

/** The states whose edges an event is looked up in from `phase`, innermost first ('*' last). */
export function scopesOf(chart: AnyChart, phase: string): string[] {
  return [phase, ...ancestorsOf(chart, phase), '*'];
}

/** Does any scope of `phase` have an edge for `type` (could the event move the actor)? */
export function hasEdge(chart: AnyChart, phase: string, type: EventType): boolean {
  return scopesOf(chart, phase).some((scope) => chart.edges[scope]?.[type] !== undefined);
}

/** The phase an event moves the actor to from `phase` (the phase itself when no edge applies). */
export function nextPhase<S, P extends string, G extends string>(chart: Chart<S, P, G>, phase: P, state: S, e: Logged): P {
  const c = chart as unknown as AnyChart;
  for (const scope of scopesOf(c, phase)) {
    const edge = c.edges[scope]?.[e.event.type];
    if (edge === undefined) continue;
    for (const b of branchesOf<S>(edge)) if (!b.guard || b.guard.holds(state, e)) return b.target as P;
  }
  return phase;
}
