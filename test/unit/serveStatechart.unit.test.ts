/** The dashboard's statecharts are the actors' own edges (the ones `dare machines --mermaid` prints). */
import { describe, expect, it } from 'vitest';
import { ACTORS } from '../../actors/index.ts';
import { mermaidOf } from '../../actors/machine.ts';
import { chartEdges, statechartOf } from '../../views/serve/statechart.ts';

describe('statecharts', () => {
  for (const def of ACTORS) {
    it(`${def.name}: one arrow per (from, to) pair of the mermaid export, labelled with its events`, () => {
      const fromMermaid = new Map<string, Set<string>>();
      for (const m of mermaidOf(def).matchAll(/^ {2}(\w+) --> (\w+): (\w+)$/gm)) {
        if (m[1] === m[2]) continue;
        const k = `${m[1]}>${m[2]}`;
        if (!fromMermaid.has(k)) fromMermaid.set(k, new Set());
        fromMermaid.get(k)!.add(m[3]);
      }
      const edges = chartEdges(def);
      expect(new Map(edges.map((e) => [`${e.from}>${e.to}`, new Set(e.events)]))).toEqual(fromMermaid);
      const chart = statechartOf(def);
      for (const p of def.phases as string[]) expect(chart.svg.match(new RegExp(`data-state="${p}"`, 'g'))).toHaveLength(1);
      for (const e of edges) expect(chart.svg).toContain(`data-edge="${e.from}>${e.to}"`);
      expect(chart.svg).toContain(`class="state initial" data-state="${def.initialPhase}"`);
    });
  }

  it('the session cycle: rollingOut → updating on UpdateRequested', () => {
    const session = ACTORS.find((d) => d.name === 'session')!;
    expect(chartEdges(session)).toContainEqual({ from: 'rollingOut', to: 'updating', events: ['UpdateRequested'] });
  });
});
