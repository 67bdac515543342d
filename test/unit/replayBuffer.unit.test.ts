import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bufferFromJSON,
  bufferSize,
  bufferToJSON,
  evolve,
  groupsOfPrompt,
  initBuffer,
  referenceCapacity,
  rowsForEstimation,
  type BufferConfig,
  type BufferFact,
  type BufferJSON,
  type BufferState,
  type Eviction,
  type RolloutGroup,
} from '../../actors/shared/replayBuffer.ts';
import { packState, unpackState } from '../../events/codec.ts';

let uid = 0;
function group(promptIndex: number, step: number, rewards: readonly number[], id?: string): RolloutGroup {
  const n = rewards.length;
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  return {
    promptIndex,
    groupId: id ?? `p${promptIndex}s${step}#${uid++}`,
    step,
    behaviourLogprobSum: Float64Array.from(rewards.map((_, i) => -10 - i - promptIndex / 10)),
    rewards: Float64Array.from(rewards),
    lengths: Uint32Array.from(rewards.map((_, i) => 100 + i)),
    blobKey: `blob/${promptIndex}/${step}`,
    realizedSuccess: mean,
  };
}

function fold(state: BufferState, facts: BufferFact[]): { state: BufferState; evictions: Eviction[] } {
  const evictions: Eviction[] = [];
  for (const f of facts) {
    const r = evolve(state, f);
    state = r.state;
    evictions.push(...r.evictions);
  }
  return { state, evictions };
}

const ids = (s: BufferState) => s.groups.map((g) => g.groupId);

describe('paper semantics: per-prompt FIFO (P = 2) + global cap (C = 5)', () => {
  const cfg: BufferConfig = { semantics: 'paper', perPromptCapacity: 2, globalCapacity: 5 };

  it('evicts the prompt’s own oldest group beyond P, then the globally oldest beyond C', () => {
    let s = initBuffer(cfg);
    const a1 = group(0, 1, [1, 0], 'A1');
    const a2 = group(0, 2, [1, 1], 'A2');
    const a3 = group(0, 3, [0, 0], 'A3');
    let r = fold(s, [a1, a2].map((g) => ({ kind: 'added', group: g })));
    expect(r.evictions).toEqual([]);
    r = fold(r.state, [{ kind: 'added', group: a3 }]);
    // prompt 0 now has A1 A2 A3 > P = 2 → its oldest, A1, goes
    expect(r.evictions).toEqual([{ groupId: 'A1', promptIndex: 0, step: 1, seq: 0, reason: 'prompt-capacity' }]);
    expect(ids(r.state)).toEqual(['A2', 'A3']);
    s = r.state;
    r = fold(s, ['B1', 'C1', 'D1'].map((id, i) => ({ kind: 'added', group: group(i + 1, 4, [1, 0], id) })));
    expect(r.evictions).toEqual([]);
    expect(ids(r.state)).toEqual(['A2', 'A3', 'B1', 'C1', 'D1']); // 5 = C
    r = fold(r.state, [{ kind: 'added', group: group(9, 5, [0, 1], 'E1') }]);
    // 6 > C = 5 → the globally oldest, A2 (seq 1), goes
    expect(r.evictions.map((e) => [e.groupId, e.reason])).toEqual([['A2', 'global-capacity']]);
    expect(ids(r.state)).toEqual(['A3', 'B1', 'C1', 'D1', 'E1']);
    // pruned is a no-op in paper mode
    const p = evolve(r.state, { kind: 'pruned', step: 6 });
    expect(p.evictions).toEqual([]);
    expect(p.state).toBe(r.state);
  });

  it('property: never more than C groups in total nor P per prompt; added = kept + evicted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 60 }),
        (P, C, prompts) => {
          let s = initBuffer({ semantics: 'paper', perPromptCapacity: P, globalCapacity: C });
          const evicted: string[] = [];
          prompts.forEach((p, i) => {
            const r = evolve(s, { kind: 'added', group: group(p, i, [1, 0], `g${i}`) });
            s = r.state;
            evicted.push(...r.evictions.map((e) => e.groupId));
            expect(bufferSize(s)).toBeLessThanOrEqual(C);
            for (let q = 0; q <= 6; q++) expect(groupsOfPrompt(s, q).length).toBeLessThanOrEqual(P);
          });
          expect([...ids(s), ...evicted].sort()).toEqual(prompts.map((_, i) => `g${i}`).sort());
          // kept groups are in insertion order
          const seqs = s.groups.map((g) => g.seq);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        },
      ),
    );
  });
});

describe('reference semantics (spec §1): one latest group per prompt, FIFO to K = bufferSize − ⌊σB⌋', () => {
  // bufferSize 6, σ = 0.5, B = 4 ⇒ K = 6 − ⌊0.5·4⌋ = 6 − 2 = 4
  const cfg: BufferConfig = { semantics: 'reference', bufferSize: 6, sigma: 0.5, batchSize: 4, keepZeroOneGroups: false };

  it('K by hand', () => {
    expect(referenceCapacity(cfg as { bufferSize: number; sigma: number; batchSize: number })).toBe(4);
    expect(referenceCapacity({ bufferSize: 10, sigma: 0.3, batchSize: 5 })).toBe(9); // 10 − ⌊1.5⌋ = 9
  });

  it('non-IS: drops all-0 / all-1 groups, defers dedup to the prune, and evicts oldest-first', () => {
    let s = initBuffer(cfg);
    // step 1 fresh: p0 [1,0], p1 [1,1] (all correct), p2 [0,0] (all wrong), p3 [1,0]
    let r = fold(s, [
      { kind: 'added', group: group(0, 1, [1, 0], 'p0@1') },
      { kind: 'added', group: group(1, 1, [1, 1], 'p1@1') },
      { kind: 'added', group: group(2, 1, [0, 0], 'p2@1') },
      { kind: 'added', group: group(3, 1, [1, 0], 'p3@1') },
    ]);
    expect(r.evictions).toEqual([]); // added never evicts in reference mode
    // prune at step 2: mean 1 and mean 0 groups go
    r = fold(r.state, [{ kind: 'pruned', step: 2 }]);
    expect(r.evictions.map((e) => [e.groupId, e.reason])).toEqual([
      ['p1@1', 'zero-one'],
      ['p2@1', 'zero-one'],
    ]);
    expect(ids(r.state)).toEqual(['p0@1', 'p3@1']);
    // step 2 fresh: p0 re-rolled, p4, p5, p6 → 6 groups, p0 twice until the next prune
    r = fold(r.state, [
      { kind: 'added', group: group(0, 2, [0, 1], 'p0@2') },
      { kind: 'added', group: group(4, 2, [0, 1], 'p4@2') },
      { kind: 'added', group: group(5, 2, [1, 0], 'p5@2') },
      { kind: 'added', group: group(6, 2, [1, 0], 'p6@2') },
    ]);
    expect(ids(r.state)).toEqual(['p0@1', 'p3@1', 'p0@2', 'p4@2', 'p5@2', 'p6@2']);
    expect(groupsOfPrompt(r.state, 0).map((g) => g.groupId)).toEqual(['p0@1', 'p0@2']);
    s = r.state;
    // the estimator sees both p0 groups before the prune (SNIS pools them, as REF)
    const rows = rowsForEstimation(s);
    expect(Array.from(rows.promptIndex)).toEqual([0, 0, 3, 3, 0, 0, 4, 4, 5, 5, 6, 6]);
    // prune at step 3: dedup drops p0@1 (superseded); 5 groups > K = 4 → the oldest, p3@1, goes.
    // p0's new group survives although p0 was first inserted before p3: the re-rolled prompt moved to newest.
    r = fold(s, [{ kind: 'pruned', step: 3 }]);
    expect(r.evictions.map((e) => [e.groupId, e.reason])).toEqual([
      ['p0@1', 'superseded'],
      ['p3@1', 'global-capacity'],
    ]);
    expect(ids(r.state)).toEqual(['p0@2', 'p4@2', 'p5@2', 'p6@2']);
  });

  it('IS mode keeps all-0 / all-1 groups (needed for SNIS)', () => {
    const s = initBuffer({ ...cfg, keepZeroOneGroups: true });
    const r = fold(s, [
      { kind: 'added', group: group(1, 1, [1, 1], 'all1') },
      { kind: 'added', group: group(2, 1, [0, 0], 'all0') },
      { kind: 'pruned', step: 2 },
    ]);
    expect(r.evictions).toEqual([]);
    expect(ids(r.state)).toEqual(['all1', 'all0']);
  });

  it('FIFO trim keeps the newest K in insertion order', () => {
    const s = initBuffer({ ...cfg, keepZeroOneGroups: true });
    const facts: BufferFact[] = [0, 1, 2, 3, 4, 5, 6].map((p) => ({ kind: 'added', group: group(p, 1, [1, 0], `q${p}`) }));
    const r = fold(s, [...facts, { kind: 'pruned', step: 2 }]);
    // 7 groups, K = 4 → q0, q1, q2 evicted, oldest first
    expect(r.evictions.map((e) => e.groupId)).toEqual(['q0', 'q1', 'q2']);
    expect(ids(r.state)).toEqual(['q3', 'q4', 'q5', 'q6']);
  });

  it('K ≤ 0 empties the buffer at the prune', () => {
    // bufferSize 2, σ = 0.5, B = 4 ⇒ K = 2 − 2 = 0
    const s = initBuffer({ semantics: 'reference', bufferSize: 2, sigma: 0.5, batchSize: 4, keepZeroOneGroups: true });
    const r = fold(s, [
      { kind: 'added', group: group(0, 1, [1, 0]) },
      { kind: 'added', group: group(1, 1, [1, 0]) },
      { kind: 'pruned', step: 2 },
    ]);
    expect(bufferSize(r.state)).toBe(0);
    expect(r.evictions.map((e) => e.reason)).toEqual(['global-capacity', 'global-capacity']);
  });

  it('property: after every prune, ≤ max(K, 0) groups, one per prompt, the newest of each kept prompt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.constantFrom([1, 0], [1, 1], [0, 0], [0, 1, 1])), { maxLength: 6 }), { maxLength: 8 }),
        (bufferSize_, keep01, steps) => {
          const c: BufferConfig = { semantics: 'reference', bufferSize: bufferSize_, sigma: 0.5, batchSize: 4, keepZeroOneGroups: keep01 };
          const K = Math.max(0, bufferSize_ - 2);
          let s = initBuffer(c);
          let n = 0;
          steps.forEach((fresh, t) => {
            const before = s;
            s = evolve(s, { kind: 'pruned', step: t }).state;
            expect(bufferSize(s)).toBeLessThanOrEqual(K);
            // every kept group is its prompt's newest (largest seq) before the prune
            for (const g of s.groups) {
              const newest = Math.max(...groupsOfPrompt(before, g.promptIndex).map((x) => x.seq));
              expect(g.seq).toBe(newest);
            }
            const prompts = s.groups.map((g) => g.promptIndex);
            expect(new Set(prompts).size).toBe(prompts.length);
            if (!keep01) for (const g of s.groups) expect(g.realizedSuccess > 0 && g.realizedSuccess < 1).toBe(true);
            for (const [p, rw] of fresh) s = evolve(s, { kind: 'added', group: group(p, t, rw, `x${n++}`) }).state;
            expect(bufferSize(s)).toBeLessThanOrEqual(K + fresh.length);
          });
        },
      ),
    );
  });
});

describe('purity, validation and estimation rows', () => {
  const cfg: BufferConfig = { semantics: 'paper', perPromptCapacity: 1, globalCapacity: 2 };

  it('evolve does not modify its input state', () => {
    const s0 = fold(initBuffer(cfg), [
      { kind: 'added', group: group(0, 1, [1, 0], 'a') },
      { kind: 'added', group: group(1, 1, [1, 0], 'b') },
    ]).state;
    Object.freeze(s0);
    Object.freeze(s0.groups);
    const r = evolve(s0, { kind: 'added', group: group(0, 2, [0, 1], 'c') });
    expect(ids(s0)).toEqual(['a', 'b']);
    expect(ids(r.state)).toEqual(['b', 'c']);
    expect(s0.nextSeq).toBe(2);
  });

  it('rejects malformed groups and duplicate ids, naming the group and field', () => {
    const s = initBuffer(cfg);
    const g = group(0, 1, [1, 0], 'bad');
    expect(() => evolve(s, { kind: 'added', group: { ...g, lengths: Uint32Array.from([1]) } })).toThrow(/group bad: rows disagree/);
    expect(() => evolve(s, { kind: 'added', group: { ...g, behaviourLogprobSum: Float64Array.from([0, Number.NaN]) } })).toThrow(/behaviourLogprobSum\[1\]/);
    expect(() => evolve(s, { kind: 'added', group: { ...g, realizedSuccess: 2 } })).toThrow(/realizedSuccess/);
    expect(() => evolve(s, { kind: 'added', group: { ...g, rewards: new Float64Array(0), behaviourLogprobSum: new Float64Array(0), lengths: new Uint32Array(0) } })).toThrow(/at least one row/);
    const s1 = evolve(s, { kind: 'added', group: g }).state;
    expect(() => evolve(s1, { kind: 'added', group: g })).toThrow(/already in the buffer/);
    expect(() => initBuffer({ semantics: 'paper', perPromptCapacity: 0, globalCapacity: 2 })).toThrow(/perPromptCapacity/);
    expect(() => initBuffer({ semantics: 'reference', bufferSize: 4, sigma: 2, batchSize: 4, keepZeroOneGroups: true })).toThrow(/sigma/);
  });

  it('rowsForEstimation flattens rows in buffer order as typed arrays', () => {
    const a = group(5, 1, [1, 0, 1], 'a');
    const b = group(7, 1, [0, 1], 'b');
    const s = fold(initBuffer({ semantics: 'paper', perPromptCapacity: 2, globalCapacity: 4 }), [
      { kind: 'added', group: a },
      { kind: 'added', group: b },
    ]).state;
    const rows = rowsForEstimation(s);
    expect(rows.promptIndex).toBeInstanceOf(Uint32Array);
    expect(rows.behaviourSum).toBeInstanceOf(Float64Array);
    expect(Array.from(rows.promptIndex)).toEqual([5, 5, 5, 7, 7]);
    expect(Array.from(rows.reward)).toEqual([1, 0, 1, 0, 1]);
    expect(Array.from(rows.behaviourSum)).toEqual([...a.behaviourLogprobSum, ...b.behaviourLogprobSum]);
    expect(Array.from(rows.groupIndex)).toEqual([0, 0, 0, 1, 1]);
  });
});

describe('serialisation', () => {
  it('serialise → the snapshot codec → deserialise gives equal state and equal future behaviour; older number-array snapshots restore the same', () => {
    for (const cfg of [
      { semantics: 'reference', bufferSize: 5, sigma: 0.5, batchSize: 4, keepZeroOneGroups: false },
      { semantics: 'paper', perPromptCapacity: 2, globalCapacity: 4 },
    ] as BufferConfig[]) {
      const history: BufferFact[] = [
        { kind: 'added', group: group(0, 1, [1, 0]) },
        { kind: 'added', group: group(1, 1, [1, 1]) },
        { kind: 'added', group: group(2, 1, [0, 1, 1]) },
        { kind: 'pruned', step: 2 },
        { kind: 'added', group: group(0, 2, [0, 1]) },
        { kind: 'added', group: group(0, 2, [1, 0]) },
      ];
      const s = fold(initBuffer(cfg), history).state;
      const restored = bufferFromJSON(unpackState(packState(bufferToJSON(s))) as BufferJSON);
      expect(bufferToJSON(restored)).toEqual(bufferToJSON(s));
      expect(restored.groups[0].behaviourLogprobSum).toBeInstanceOf(Float64Array);
      expect(restored.groups[0].lengths).toBeInstanceOf(Uint32Array);
      // snapshots written before typed arrays were kept held number arrays (JSON text of today's form)
      const older = bufferFromJSON(JSON.parse(JSON.stringify(bufferToJSON(s), (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v))));
      expect(bufferToJSON(older)).toEqual(bufferToJSON(s));
      const future: BufferFact[] = [
        { kind: 'added', group: group(3, 3, [1, 0], 'f1') },
        { kind: 'pruned', step: 3 },
        { kind: 'added', group: group(0, 3, [0, 1], 'f2') },
        { kind: 'added', group: group(4, 3, [1, 0], 'f3') },
        { kind: 'pruned', step: 4 },
      ];
      const a = fold(s, future);
      const b = fold(restored, future);
      expect(b.evictions).toEqual(a.evictions);
      expect(bufferToJSON(b.state)).toEqual(bufferToJSON(a.state));
      expect(rowsForEstimation(b.state)).toEqual(rowsForEstimation(a.state));
    }
  });

  it('rejects corrupt snapshots', () => {
    const s = fold(initBuffer({ semantics: 'paper', perPromptCapacity: 2, globalCapacity: 4 }), [
      { kind: 'added', group: group(0, 1, [1, 0], 'a') },
      { kind: 'added', group: group(1, 1, [1, 0], 'b') },
    ]).state;
    const j = bufferToJSON(s);
    expect(() => bufferFromJSON({ ...j, version: 2 as 1 })).toThrow(/version/);
    expect(() => bufferFromJSON({ ...j, groups: [j.groups[1], j.groups[0]] })).toThrow(/out of order/);
    expect(() => bufferFromJSON({ ...j, nextSeq: 1 })).toThrow(/nextSeq/);
    expect(() => bufferFromJSON({ ...j, groups: [j.groups[0], { ...j.groups[1], groupId: 'a' }] })).toThrow(/appears twice/);
  });
});
