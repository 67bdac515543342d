/**
 * The dashboard's statecharts are the actors' own charts (the ones the xstate machines and `dare machines
 * --mermaid` are built from): one arrow per (from, to) pair, labelled with its events and guards; groups
 * drawn as boxes around their children.
 */
import { describe, expect, it } from 'vitest';
import { ACTORS } from '../../actors/index.ts';
import { sessionActor } from '../../actors/session.ts';
import { transitionsOf, type Chart } from '../../actors/statechart.ts';
import { chartEdges, statechartOf } from '../../views/serve/statechart.ts';

/** x, y, width, height of the `<rect>` of the element with `attr="name"` in an SVG string */
function rectOf(svg: string, attr: string, name: string): [number, number, number, number] {
  const m = svg.match(new RegExp(`${attr}="${name}"><rect x="([\\d.]+)" y="([\\d.]+)" width="([\\d.]+)" height="([\\d.]+)"`));
  expect(m, `${attr}=${name}`).not.toBeNull();
  return [Number(m![1]), Number(m![2]), Number(m![3]), Number(m![4])];
}

describe('statecharts', () => {
  for (const def of ACTORS) {
    it(`${def.name}: every branch of the chart is on exactly one arrow, every phase and group drawn once`, () => {
      const edges = chartEdges(def);
      const chart = def as unknown as Chart<unknown, string, string>;
      for (const t of transitionsOf(chart)) {
        if (t.from === t.to) continue; // a self-loop does not move the actor
        const label = t.guard ? `${t.type} [${t.guard}]` : t.type;
        expect(edges.filter((e) => e.from === t.from && e.to === t.to && e.events.includes(label)), `${t.from} → ${t.to}: ${label}`).toHaveLength(1);
      }
      expect(new Set(edges.map((e) => `${e.from}>${e.to}`)).size).toBe(edges.length);
      const c = statechartOf(def);
      for (const p of def.phases as string[]) expect(c.svg.match(new RegExp(`data-state="${p}"`, 'g'))).toHaveLength(1);
      for (const g of c.groups) expect(c.svg.match(new RegExp(`data-group="${g.name}"`, 'g'))).toHaveLength(1);
      for (const e of edges) expect(c.svg).toContain(`data-edge="${e.from}>${e.to}"`);
      expect(c.svg).toContain(`class="state initial" data-state="${def.initialPhase}"`);
    });
  }

  it('the session: hierarchical — one arrow each into failed and done (from `open`), paused reached from `active`', () => {
    const edges = chartEdges(sessionActor);
    expect(edges.filter((e) => e.to === 'failed')).toEqual([{ from: 'open', to: 'failed', events: ['RunFailed'] }]);
    expect(edges.filter((e) => e.to === 'done')).toEqual([{ from: 'open', to: 'done', events: ['RunCompleted'] }]);
    expect(edges.filter((e) => e.to === 'paused')).toEqual([
      { from: 'active', to: 'paused', events: ['UpdateCompleted [pausedAtBarrier]', 'CheckpointSaved [pausedAtBarrier]', 'EvalCompleted [pausedAtBarrier]', 'ControlApplied [pausedAtBarrier]'] },
      { from: 'estimating', to: 'paused', events: ['DifficultyEstimated [heldBack]'] },
      { from: 'stopped', to: 'paused', events: ['RunResumed [stillPaused]'] },
    ]);
    expect(edges.filter((e) => e.to === 'stopped').map((e) => e.from)).toEqual(['active', 'paused', 'done']);
    expect(edges).toContainEqual({ from: 'rollingOut', to: 'updating', events: ['UpdateRequested'] });
    expect(edges).toContainEqual({ from: 'estimating', to: 'selecting', events: ['DifficultyEstimated [else]'] });
  });

  it('the session SVG: each group a box holding its children\'s boxes, the page told which groups hold each phase', () => {
    const c = statechartOf(sessionActor);
    expect(c.groups).toEqual([
      { name: 'open', children: ['active', 'paused', 'stopped'] },
      { name: 'active', children: ['starting', 'evaluating', 'estimating', 'selecting', 'rollingOut', 'updating', 'checkpointing'] },
    ]);
    expect(c.ancestors).toMatchObject({ rollingOut: ['active', 'open'], paused: ['open'], done: [], failed: [] });
    const inside = (inner: [number, number, number, number], outer: [number, number, number, number]) =>
      inner[0] >= outer[0] && inner[1] >= outer[1] && inner[0] + inner[2] <= outer[0] + outer[2] && inner[1] + inner[3] <= outer[1] + outer[3];
    const rect = (n: string) => (c.groups.some((g) => g.name === n) ? rectOf(c.svg, 'data-group', n) : rectOf(c.svg, 'data-state', n));
    for (const g of c.groups) for (const child of g.children) expect(inside(rect(child), rect(g.name)), `${child} in ${g.name}`).toBe(true);
    for (const out of ['done', 'failed']) expect(inside(rect(out), rect('open')), `${out} outside open`).toBe(false);
    const [, , w, h] = [0, 0, ...c.svg.match(/viewBox="0 0 (\d+) (\d+)"/)!.slice(1).map(Number)];
    for (const n of [...c.phases, ...c.groups.map((g) => g.name)]) {
      const [x, y, rw, rh] = rect(n);
      expect(x >= 0 && y >= 0 && x + rw <= w && y + rh <= h, `${n} in the drawing`).toBe(true);
    }
  });
});
