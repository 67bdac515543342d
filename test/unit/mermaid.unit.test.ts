/**
 * `dare machines --mermaid`: groups become composite states, guards stay on the edges (`Event [guard]`),
 * and no arrow joins a state inside a composite to one outside it (mermaid's layout pulls such states out of
 * their box): it points at the composite and names the phase it enters.
 */
import { describe, expect, it } from 'vitest';
import { ACTORS } from '../../actors/index.ts';
import { mermaidOf } from '../../actors/mermaid.ts';
import { sessionActor } from '../../actors/session.ts';
import { transitionsOf, type Chart } from '../../actors/statechart.ts';

interface Parsed {
  /** composite -> the states that belong to its block (where each is first named); '' = the top level */
  blocks: Map<string, Set<string>>;
  /** composite -> its parent composite ('' = top level) */
  parent: Map<string, string>;
  arrows: Array<{ block: string; from: string; to: string; label: string; guard: string | null }>;
}

/** Read a mermaid state diagram's blocks and arrows back (the subset mermaidOf writes). */
function parse(text: string): Parsed {
  const lines = text.split('\n');
  expect(lines[0]).toBe('stateDiagram-v2');
  const out: Parsed = { blocks: new Map([['', new Set()]]), parent: new Map(), arrows: [] };
  const stack = [''];
  const seen = new Set<string>();
  const name = (state: string) => {
    if (!seen.has(state)) out.blocks.get(stack.at(-1)!)!.add(state);
    seen.add(state);
  };
  for (const line of lines.slice(1)) {
    const t = line.trim();
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^state (\w+) \{$/))) {
      name(m[1]);
      out.parent.set(m[1], stack.at(-1)!);
      out.blocks.set(m[1], new Set());
      stack.push(m[1]);
    } else if (t === '}') {
      stack.pop();
    } else if ((m = t.match(/^\[\*\] --> (\w+)$/))) {
      name(m[1]);
    } else if ((m = t.match(/^(\w+) --> (\w+): (.+?)(?: \[(\w+)\])?$/))) {
      name(m[1]);
      name(m[2]);
      out.arrows.push({ block: stack.at(-1)!, from: m[1], to: m[2], label: m[3], guard: m[4] ?? null });
    } else {
      throw new Error(`unexpected line: ${line}`);
    }
  }
  expect(stack).toEqual(['']);
  return out;
}

describe('mermaid export', () => {
  const session = parse(mermaidOf(sessionActor));

  it('the session: `active` a composite inside `open`, done and failed outside, guards on their edges', () => {
    expect(session.parent).toEqual(new Map([['open', ''], ['active', 'open']]));
    expect([...session.blocks.get('active')!].sort()).toEqual(['checkpointing', 'estimating', 'evaluating', 'rollingOut', 'selecting', 'starting', 'updating']);
    expect([...session.blocks.get('')!].sort()).toEqual(['done', 'failed', 'open']);
    expect([...session.blocks.get('open')!].sort()).toEqual(['active', 'paused', 'stopped']);
    const guarded = new Map(session.arrows.filter((a) => a.guard).map((a) => [a.guard, `${a.from} --> ${a.to}: ${a.label}`]));
    expect(Object.fromEntries(guarded)).toEqual({
      pausedAtBarrier: 'active --> paused: UpdateCompleted, CheckpointSaved, EvalCompleted, ControlApplied',
      heldBack: 'active --> paused: estimating: DifficultyEstimated',
      else: 'estimating --> selecting: DifficultyEstimated',
      stillPaused: 'stopped --> paused: RunResumed',
    });
    expect(mermaidOf(sessionActor)).toContain('  rollingOut --> updating: UpdateRequested\n');
  });

  it('the session: one edge into failed, one into done, each from `open`', () => {
    expect(session.arrows.filter((a) => a.to === 'failed')).toEqual([{ block: '', from: 'open', to: 'failed', label: 'RunFailed', guard: null }]);
    expect(session.arrows.filter((a) => a.to === 'done')).toEqual([{ block: '', from: 'open', to: 'done', label: 'RunCompleted', guard: null }]);
    // and every phase leaves for them only through `open`: no other arrow names RunFailed or RunCompleted
    expect(session.arrows.filter((a) => /RunFailed|RunCompleted/.test(a.label))).toHaveLength(2);
  });

  for (const def of ACTORS) {
    it(`${def.name}: every arrow joins two states of its own block; every branch of the chart is on an arrow`, () => {
      const p = parse(mermaidOf(def));
      for (const a of p.arrows) {
        for (const end of [a.from, a.to]) {
          const home = [...p.blocks].filter(([, members]) => members.has(end)).map(([b]) => b);
          expect(home, `${a.from} --> ${a.to} in block '${a.block}'`).toEqual([a.block]);
        }
      }
      for (const t of transitionsOf(def as unknown as Chart<unknown, string, string>)) {
        if (t.from === t.to) continue;
        const hit = p.arrows.some((a) =>
          a.guard === t.guard && a.label.split(', ').some((l) => l === t.type || l === `${t.type} → ${t.to}` || l === `${t.from}: ${t.type}` || l === `${t.from}: ${t.type} → ${t.to}`)
          && (a.to === t.to || a.label.includes(`→ ${t.to}`)));
        expect(hit, `${t.from} → ${t.to}: ${t.type}${t.guard ? ` [${t.guard}]` : ''}`).toBe(true);
      }
    });
  }

  it('an actor without groups: the flat diagram it always was', () => {
    const estimator = ACTORS.find((d) => d.name === 'estimator')!;
    expect(mermaidOf(estimator)).toBe('stateDiagram-v2\n  [*] --> idle\n  idle --> scoring: ScoreRequested\n  scoring --> idle: DifficultyEstimated');
  });
});
