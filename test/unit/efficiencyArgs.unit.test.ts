/** bench/efficiency/run.ts's arguments: `--set` makes a variant of the study, which must name its own --out. */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../bench/efficiency/run.ts';

describe('bench/efficiency arguments', () => {
  it('collects repeated --set K=V for every run of the invocation', () => {
    const a = parseArgs(['--only', 'sim', '--set', 'worker.simOptimizer=sgd', '--set', 'worker.lr=0.5', '--out', '/tmp/eff-sgd']);
    expect(a.sets).toEqual(['worker.simOptimizer=sgd', 'worker.lr=0.5']);
    expect(a.out).toBe('/tmp/eff-sgd');
    expect(parseArgs([]).sets).toEqual([]);
  });

  it('refuses a --set without KEY=VALUE, and a variant without its own --out (it would mix with the study)', () => {
    expect(() => parseArgs(['--set', 'worker.lr', '--out', '/tmp/x'])).toThrow(/KEY=VALUE/);
    expect(() => parseArgs(['--set'])).toThrow(/KEY=VALUE/);
    expect(() => parseArgs(['--set', 'worker.lr=0.5'])).toThrow(/own --out/);
  });

  it('an own --out keeps the report there (docs/ and BENCHMARKS.md are written from the study\'s default ledger only)', () => {
    expect(parseArgs(['--arms', 'dare', '--out', '/tmp/eff-x']).ownOut).toBe(true);
    expect(parseArgs(['--arms', 'dare']).ownOut).toBe(false);
  });

  it('--seeds S,... runs only those seeds; a seed that is not a non-negative integer is refused', () => {
    expect(parseArgs(['--seeds', '1,2,3']).seeds).toEqual([1, 2, 3]);
    expect(parseArgs([]).seeds).toBeUndefined();
    expect(() => parseArgs(['--seeds', '1,x'])).toThrow(/--seeds/);
    expect(() => parseArgs(['--seeds', '-1'])).toThrow(/--seeds/);
  });
});
