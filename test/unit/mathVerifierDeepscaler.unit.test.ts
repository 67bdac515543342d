/**
 * The math verifier against every ground truth of the deepscaler prompt file (spec §13): a response that
 * boxes the ground truth must score 1 on all 10,240 rows, and one that boxes a different integer must score 0
 * on every row whose ground truth is an integer.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadVerlParquet } from '../../tasks/parquet.ts';
import type { PromptRow } from '../../tasks/promptRow.ts';
import { verifyMath } from '../../tasks/verifiers/math.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEEPSCALER = resolve(repoRoot, 'data/deepscaler.parquet');

describe('math verifier on every deepscaler row (data/deepscaler.parquet, shipped in the repository)', () => {
  let rows: PromptRow[] = [];
  beforeAll(async () => {
    rows = (await loadVerlParquet(DEEPSCALER)).rows;
  });

  it('rewards "… \\boxed{ground truth}" with 1 on all 10,240 rows', () => {
    expect(rows.length).toBe(10240);
    const failures: string[] = [];
    for (const row of rows) {
      const r = verifyMath(`Let me work it out step by step. ... \\boxed{${row.answer}}`, row.answer);
      if (r.reward !== 1) failures.push(`${row.id}: ${row.answer} (${r.verdict}, ${r.reason ?? ''})`);
    }
    expect(failures).toEqual([]);
  });

  it('rewards a wrong integer with 0 on every integer ground truth', () => {
    const ints = rows.filter((r) => /^-?\d+$/.test(r.answer));
    // spec §13 counts 6,697 purely numeric answers, decimals included; integers are a subset of them
    expect(ints.length).toBeGreaterThan(6000);
    expect(ints.length).toBeLessThanOrEqual(6697);
    const wrongly: string[] = [];
    for (const row of ints) {
      const wrong = (BigInt(row.answer) + 1n).toString();
      const r = verifyMath(`</think> \\boxed{${wrong}}`, row.answer);
      if (r.reward !== 0 || r.verdict !== 'different') wrongly.push(`${row.id}: ${row.answer} vs ${wrong}`);
    }
    expect(wrongly).toEqual([]);
  });
});
