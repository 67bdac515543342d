/**
 * Every actor's statechart as SVG, drawn from the same edges the xstate machines are built from
 * (actors/machine.ts). Phases sit on an ellipse in the order the actor lists them (lifecycle order), so
 * the main cycle reads clockwise; every (from, to) pair is one curved arrow whose tooltip names the event
 * types that take it. The page marks the current phase and the last transition by class names
 * (`data-state`, `data-edge` attributes), so the SVG itself never changes while a run goes on.
 */
import type { ActorDef } from '../../actors/actor.ts';

export interface ChartEdge {
  from: string;
  to: string;
  /** event types that take this edge */
  events: string[];
}

export interface Statechart {
  actor: string;
  description: string;
  phases: string[];
  initial: string;
  edges: ChartEdge[];
  svg: string;
}

/** Edges of an actor's statechart, one per (from, to) pair, self-loops left out (they do not move it). */
export function chartEdges(def: ActorDef<any, any>): ChartEdge[] {
  const byPair = new Map<string, ChartEdge>();
  for (const phase of def.phases as string[]) {
    const edges = { ...(def.edges['*'] ?? {}), ...(def.edges[phase] ?? {}) } as Record<string, unknown>;
    for (const [type, edge] of Object.entries(edges)) {
      const targets = typeof edge === 'string' ? [edge] : (edge as { targets: readonly string[] }).targets;
      for (const to of targets) {
        if (to === phase) continue;
        const key = `${phase}\u0000${to}`;
        let e = byPair.get(key);
        if (!e) byPair.set(key, (e = { from: phase, to, events: [] }));
        if (!e.events.includes(type)) e.events.push(type);
      }
    }
  }
  return [...byPair.values()];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const NODE_H = 26;
const CHAR_W = 7.2;

/** Node centres (px) on an ellipse (a row for up to three phases); `w`, `h` are the drawing's size. */
function place(widths: number[]): { w: number; h: number; at: Array<[number, number]> } {
  const n = widths.length;
  if (n <= 3) {
    // a row, with room between the boxes for the edge labels
    const GAP = 150;
    const at: Array<[number, number]> = [];
    let x = 20;
    for (const w of widths) {
      at.push([x + w / 2, 60]);
      x += w + GAP;
    }
    return { w: x - GAP + 20, h: 120, at };
  }
  const rx = 60 + 26 * n;
  const ry = 40 + 15 * n;
  const w = 2 * rx + 150;
  const h = 2 * ry + 60;
  // start at the top, clockwise
  return { w, h, at: Array.from({ length: n }, (_, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [w / 2 + rx * Math.cos(a), h / 2 + ry * Math.sin(a)] as [number, number];
  }) };
}

/** Where the segment from the centre of a box (half sizes hw, hh) towards (dx, dy) leaves it. */
function boxExit(hw: number, hh: number, dx: number, dy: number): [number, number] {
  const sx = dx === 0 ? Infinity : hw / Math.abs(dx);
  const sy = dy === 0 ? Infinity : hh / Math.abs(dy);
  const s = Math.min(sx, sy);
  return [dx * s, dy * s];
}

export function statechartOf(def: ActorDef<any, any>): Statechart {
  const phases = [...(def.phases as string[])];
  const edges = chartEdges(def);
  const half = new Map(phases.map((p) => [p, [(p.length * CHAR_W + 20) / 2, NODE_H / 2] as [number, number]]));
  const { w, h, at } = place(phases.map((p) => 2 * half.get(p)![0]));
  const pos = new Map(phases.map((p, i) => [p, at[i]]));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="statechart" data-actor="${esc(def.name)}" viewBox="0 0 ${Math.round(w)} ${Math.round(h)}" width="${Math.round(w)}" height="${Math.round(h)}" role="img" aria-label="${esc(def.name)} statechart">`);
  out.push(`<defs><marker id="arrow-${esc(def.name)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>`);
  const labelEdges = edges.length <= 12;
  for (const e of edges) {
    const [x1, y1] = pos.get(e.from)!;
    const [x2, y2] = pos.get(e.to)!;
    const dx = x2 - x1;
    const dy = y2 - y1;
    const len = Math.hypot(dx, dy) || 1;
    // bend every edge to its left: A→B and B→A become two distinct arcs
    const bend = Math.min(40, 0.18 * len);
    const cx = (x1 + x2) / 2 - (dy / len) * bend;
    const cy = (y1 + y2) / 2 + (dx / len) * bend;
    const [hw1, hh1] = half.get(e.from)!;
    const [hw2, hh2] = half.get(e.to)!;
    const [ox1, oy1] = boxExit(hw1, hh1, cx - x1, cy - y1);
    const [ox2, oy2] = boxExit(hw2 + 2, hh2 + 2, cx - x2, cy - y2);
    const d = `M${(x1 + ox1).toFixed(1)},${(y1 + oy1).toFixed(1)} Q${cx.toFixed(1)},${cy.toFixed(1)} ${(x2 + ox2).toFixed(1)},${(y2 + oy2).toFixed(1)}`;
    out.push(`<g class="edge" data-edge="${esc(e.from)}>${esc(e.to)}"><title>${esc(e.from)} → ${esc(e.to)}: ${esc(e.events.join(', '))}</title><path d="${d}" marker-end="url(#arrow-${esc(def.name)})"/>`);
    if (labelEdges) {
      // the label sits on the curve's midpoint (the quadratic's point at t = 1/2)
      const mx = 0.25 * (x1 + ox1) + 0.5 * cx + 0.25 * (x2 + ox2);
      const my = 0.25 * (y1 + oy1) + 0.5 * cy + 0.25 * (y2 + oy2);
      out.push(`<text x="${mx.toFixed(1)}" y="${(my - 3).toFixed(1)}" class="edge-label">${esc(e.events.join(', '))}</text>`);
    }
    out.push('</g>');
  }
  for (const p of phases) {
    const [x, y] = pos.get(p)!;
    const [hw, hh] = half.get(p)!;
    out.push(`<g class="state${p === def.initialPhase ? ' initial' : ''}" data-state="${esc(p)}"><rect x="${(x - hw).toFixed(1)}" y="${(y - hh).toFixed(1)}" width="${(2 * hw).toFixed(1)}" height="${2 * hh}" rx="8"/><text x="${x.toFixed(1)}" y="${(y + 4.5).toFixed(1)}">${esc(p)}</text></g>`);
  }
  out.push('</svg>');
  return { actor: def.name, description: def.description, phases, initial: def.initialPhase, edges, svg: out.join('') };
}
