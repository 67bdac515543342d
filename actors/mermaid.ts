/**
 * An actor's statechart as a mermaid state diagram (`dare machines --mermaid`): groups as composite states,
 * one arrow per (from, to, guard), labelled `Event, Event [guard]` (`[else]`: when the guards before it fail).
 *
 * Mermaid cannot draw an arrow between a state inside a composite state and one outside it: its layout
 * pulls such states out of their box. An edge into a group that does not hold its source points at the
 * group, and its label names the phase it enters (`paused --> active: StepStarted → selecting`); an edge
 * from a phase inside a group to a state outside leaves from the group (`active --> paused: estimating: …`).
 */
import type { ActorDef } from './actor.ts';
import { groupsOf, pathOf, topLevel, transitionsOf, type Chart } from './statechart.ts';

type AnyChart = Chart<any, string, string>;

export interface Arrow {
  from: string;
  to: string;
  guard: string | null;
  /** the group whose block holds the arrow (undefined: the top level) */
  scope: string | undefined;
  /** event types, with `→ phase` where the arrow enters a group, `phase: ` where it leaves one */
  events: string[];
}

/** The innermost group holding both nodes, neither of them itself (undefined: the top level). */
function commonGroup(chart: AnyChart, a: string, b: string): string | undefined {
  const [pa, pb] = [pathOf(chart, a), pathOf(chart, b)];
  let scope: string | undefined;
  for (let i = 0; i < pa.length - 1 && i < pb.length - 1 && pa[i] === pb[i]; i++) scope = pa[i];
  return scope;
}

/** `node`, or the group holding it that `scope` holds directly (what stands for it at that level). */
function drawnAs(chart: AnyChart, node: string, scope: string | undefined): string {
  const path = pathOf(chart, node);
  return scope === undefined ? path[0] : path[path.indexOf(scope) + 1];
}

/** The arrows as mermaid draws them: edges between the same two drawn states under the same guard are one arrow. */
export function arrowsOf(chart: AnyChart): Arrow[] {
  const arrows = new Map<string, Arrow>();
  for (const t of transitionsOf(chart)) {
    // '*' edges leave every phase: drawn from each top-level node
    for (const from of t.from === '*' ? topLevel(chart) : [t.from]) {
      if (from === t.to) continue;
      const scope = commonGroup(chart, from, t.to);
      const [f, to] = [drawnAs(chart, from, scope), drawnAs(chart, t.to, scope)];
      const label = `${f === from ? '' : `${from}: `}${t.type}${to === t.to ? '' : ` → ${t.to}`}`;
      const key = `${f}\u0000${to}\u0000${t.guard}`;
      let a = arrows.get(key);
      if (!a) arrows.set(key, (a = { from: f, to, guard: t.guard, scope, events: [] }));
      if (!a.events.includes(label)) a.events.push(label);
    }
  }
  return [...arrows.values()];
}

export function mermaidOf<S, P extends string, G extends string>(def: ActorDef<S, P, G>): string {
  const chart = def as unknown as AnyChart;
  const arrows = arrowsOf(chart);
  const children = new Map(groupsOf(chart));
  const onPath = pathOf(chart, def.initialPhase);
  const lines = ['stateDiagram-v2'];
  const block = (scope: string | undefined, nodes: readonly string[], indent: string) => {
    lines.push(`${indent}[*] --> ${nodes.find((n) => onPath.includes(n)) ?? nodes[0]}`);
    for (const n of nodes) {
      if (!children.has(n)) continue;
      lines.push(`${indent}state ${n} {`);
      block(n, children.get(n)!, `${indent}  `);
      lines.push(`${indent}}`);
    }
    for (const a of arrows) {
      if (a.scope === scope) lines.push(`${indent}${a.from} --> ${a.to}: ${a.events.join(', ')}${a.guard ? ` [${a.guard}]` : ''}`);
    }
  };
  block(undefined, topLevel(chart), '  ');
  return lines.join('\n');
}
