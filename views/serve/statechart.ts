/**
 * Every actor's statechart as SVG, drawn from the same chart the xstate machines are built from
 * (actors/statechart.ts). Phases sit on an ellipse in the order the actor lists them (lifecycle order), so
 * the main cycle reads clockwise; a group (compound state) is a box around its children, laid out beside
 * the phases it holds; every (from, to) pair is one curved arrow — from a group's box where the edge is
 * the group's — whose tooltip names the event types (and guards) that take it. The page marks the current
 * phase, the groups holding it and the last transition by class names (`data-state`, `data-group`,
 * `data-edge` attributes), so the SVG itself never changes while a run goes on.
 */
import type { ActorDef } from '../../actors/actor.ts';
import { ancestorsOf, groupsOf, topLevel, transitionsOf, type Chart } from '../../actors/statechart.ts';

export interface ChartEdge {
  /** a phase, or a group (an edge of the group: it leaves from every phase inside) */
  from: string;
  to: string;
  /** what takes this edge: event types, `Event [guard]` where a guard decides */
  events: string[];
}

export interface Statechart {
  actor: string;
  description: string;
  phases: string[];
  initial: string;
  /** compound states and their children */
  groups: Array<{ name: string; children: string[] }>;
  /** every phase's groups, innermost first (the page marks them with the current phase) */
  ancestors: Record<string, string[]>;
  edges: ChartEdge[];
  svg: string;
}

type AnyChart = Chart<any, string, string>;

/** Edges of an actor's statechart, one per (from, to) pair, self-loops left out (they do not move it). */
export function chartEdges(def: ActorDef<any, any, any>): ChartEdge[] {
  const chart = def as unknown as AnyChart;
  const byPair = new Map<string, ChartEdge>();
  for (const t of transitionsOf(chart)) {
    // '*' edges leave every phase (drawn from each top-level node)
    for (const from of t.from === '*' ? topLevel(chart) : [t.from]) {
      if (from === t.to) continue;
      const key = `${from}\u0000${t.to}`;
      let e = byPair.get(key);
      if (!e) byPair.set(key, (e = { from, to: t.to, events: [] }));
      const label = t.guard ? `${t.type} [${t.guard}]` : t.type;
      if (!e.events.includes(label)) e.events.push(label);
    }
  }
  return [...byPair.values()];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const NODE_H = 26;
const CHAR_W = 7.2;

/** Node centres (px) on an ellipse (a row for up to three phases); `w`, `h` are the drawing's size. */
function place(widths: number[], gap: number): { w: number; h: number; at: Array<[number, number]> } {
  const n = widths.length;
  if (n <= 3) {
    // a row, with room between the boxes for the edge labels
    const at: Array<[number, number]> = [];
    let x = 20;
    for (const w of widths) {
      at.push([x + w / 2, 60]);
      x += w + gap;
    }
    return { w: x - gap + 20, h: 120, at };
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

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A laid-out level: node centres and group boxes, relative to its own top-left corner. */
interface Layout {
  w: number;
  h: number;
  at: Map<string, [number, number]>;
  boxes: Map<string, Box>;
}

/** space inside a group's box around its children, and above them for its name */
const PAD = 12;
const TITLE = 16;
/** between the items of a level that holds groups */
const ITEM_GAP = 56;
const STACK_GAP = 44;

const leafHalf = (p: string): [number, number] => [(p.length * CHAR_W + 20) / 2, NODE_H / 2];

/**
 * Lay out `nodes` (the children of one group, or the top level). Phases only: the ellipse (or row) above.
 * With groups among them: left to right, each group as its box around its own layout, each run of phases
 * between them stacked in a column.
 */
function layout(nodes: readonly string[], children: Map<string, readonly string[]>, gap: number): Layout {
  if (nodes.every((n) => !children.has(n))) {
    const p = place(nodes.map((n) => 2 * leafHalf(n)[0]), gap);
    return { w: p.w, h: p.h, at: new Map(nodes.map((n, i) => [n, p.at[i]])), boxes: new Map() };
  }
  type Item = { group: string; inner: Layout; w: number; h: number } | { stack: string[]; w: number; h: number };
  const items: Item[] = [];
  for (const n of nodes) {
    if (children.has(n)) {
      const inner = layout(children.get(n)!, children, gap);
      items.push({ group: n, inner, w: inner.w + 2 * PAD, h: inner.h + 2 * PAD + TITLE });
      continue;
    }
    const last = items.at(-1);
    const stack = last && 'stack' in last ? last : (items.push({ stack: [], w: 0, h: -STACK_GAP }), items.at(-1) as Extract<Item, { stack: string[] }>);
    stack.stack.push(n);
    stack.w = Math.max(stack.w, 2 * leafHalf(n)[0]);
    stack.h += NODE_H + STACK_GAP;
  }
  const h = Math.max(...items.map((it) => it.h)) + 40;
  const out: Layout = { w: 0, h, at: new Map(), boxes: new Map() };
  let x = 20;
  for (const it of items) {
    const y = (h - it.h) / 2;
    if ('group' in it) {
      out.boxes.set(it.group, { x, y, w: it.w, h: it.h });
      const [dx, dy] = [x + PAD, y + PAD + TITLE];
      for (const [n, [cx, cy]] of it.inner.at) out.at.set(n, [cx + dx, cy + dy]);
      for (const [n, b] of it.inner.boxes) out.boxes.set(n, { ...b, x: b.x + dx, y: b.y + dy });
    } else {
      it.stack.forEach((n, i) => out.at.set(n, [x + it.w / 2, y + NODE_H / 2 + i * (NODE_H + STACK_GAP)]));
    }
    x += it.w + ITEM_GAP;
  }
  out.w = x - ITEM_GAP + 20;
  return out;
}

/** Where the segment from the centre of a box (half sizes hw, hh) towards (dx, dy) leaves it. */
function boxExit(hw: number, hh: number, dx: number, dy: number): [number, number] {
  const sx = dx === 0 ? Infinity : hw / Math.abs(dx);
  const sy = dy === 0 ? Infinity : hh / Math.abs(dy);
  const s = Math.min(sx, sy);
  return [dx * s, dy * s];
}

export function statechartOf(def: ActorDef<any, any, any>): Statechart {
  const chart = def as unknown as AnyChart;
  const phases = [...(def.phases as string[])];
  const groups = groupsOf(chart).map(([name, c]) => ({ name, children: [...c] }));
  const children = new Map(groups.map((g) => [g.name, g.children]));
  const edges = chartEdges(def);
  const labelEdges = edges.length <= 12;
  const { w, h, at, boxes } = layout(topLevel(chart), children, labelEdges ? 150 : 40);
  // every node an edge can start or end at: phases by their centre and half sizes, groups by their box
  const pos = new Map<string, [number, number]>(at);
  const half = new Map(phases.map((p) => [p, leafHalf(p)]));
  for (const [g, b] of boxes) {
    pos.set(g, [b.x + b.w / 2, b.y + b.h / 2]);
    half.set(g, [b.w / 2, b.h / 2]);
  }
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="statechart" data-actor="${esc(def.name)}" viewBox="0 0 ${Math.round(w)} ${Math.round(h)}" width="${Math.round(w)}" height="${Math.round(h)}" role="img" aria-label="${esc(def.name)} statechart">`);
  out.push(`<defs><marker id="arrow-${esc(def.name)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>`);
  // outer groups first, so the inner boxes are painted over them
  for (const g of [...groups].sort((a, b) => ancestorsOf(chart, a.name).length - ancestorsOf(chart, b.name).length)) {
    const b = boxes.get(g.name)!;
    out.push(`<g class="group" data-group="${esc(g.name)}"><rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.w.toFixed(1)}" height="${b.h.toFixed(1)}" rx="10"/><text x="${(b.x + 8).toFixed(1)}" y="${(b.y + 13).toFixed(1)}" class="group-label">${esc(g.name)}</text></g>`);
  }
  for (const e of edges) {
    // a group's end of an arrow is the point of its box facing the other end (a bend from its centre could
    // turn back into the box); a phase's end is where the bent arc leaves its box
    const end = (node: string, other: string): [number, number, number, number] => {
      const [x, y] = pos.get(node)!;
      if (!boxes.has(node)) return [x, y, ...half.get(node)!];
      const [ox, oy] = pos.get(other)!;
      const [ex, ey] = boxExit(half.get(node)![0], half.get(node)![1], ox - x, oy - y);
      return [x + ex, y + ey, 0, 0];
    };
    const [x1, y1, hw1, hh1] = end(e.from, e.to);
    const [x2, y2, hw2, hh2] = end(e.to, e.from);
    const dx = x2 - x1;
    const dy = y2 - y1;
    const len = Math.hypot(dx, dy) || 1;
    // bend every edge to its left: A→B and B→A become two distinct arcs
    const bend = Math.min(40, 0.18 * len);
    const cx = (x1 + x2) / 2 - (dy / len) * bend;
    const cy = (y1 + y2) / 2 + (dx / len) * bend;
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
  const ancestors = Object.fromEntries(phases.map((p) => [p, ancestorsOf(chart, p)]));
  return { actor: def.name, description: def.description, phases, initial: def.initialPhase, groups, ancestors, edges, svg: out.join('') };
}
