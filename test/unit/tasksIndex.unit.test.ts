import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateArithmetic, loadPromptSource, verifierFor } from '../../tasks/index.ts';
import { verlColumns, verlRow, writeParquet } from '../fixtures/tasks/miniParquet.ts';

describe('loadPromptSource', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dare-tasks-index-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('arithmetic: the generator\'s rows', async () => {
    const src = await loadPromptSource({ kind: 'arithmetic', seed: 4, count: 20, levels: [2, 3] });
    expect(src.rows).toEqual(generateArithmetic({ seed: 4, count: 20, levels: [2, 3] }));
    expect(src.duplicates).toBeUndefined();
  });

  it('jsonl and parquet: rows, and for parquet the duplicate report', async () => {
    const j = join(dir, 'p.jsonl');
    writeFileSync(j, '{"question":"q","answer":"1"}\n');
    expect((await loadPromptSource({ kind: 'jsonl', path: j, dataSource: 'toy' })).rows[0].id).toBe('toy:0');
    const p = join(dir, 'p.parquet');
    writeParquet(p, verlColumns(), [verlRow(0, 'q', '1'), verlRow(1, 'q', '2')]);
    const src = await loadPromptSource({ kind: 'parquet', path: p });
    expect(src.rows.map((r) => r.answer)).toEqual(['1', '2']);
    expect(src.duplicates?.duplicatedQuestions).toBe(1);
    expect(src.conflicts).toEqual([{ question: 'q', rows: [0, 1], answers: ['1', '2'] }]);
  });
});

describe('verifierFor', () => {
  it('routes arithmetic to the integer verifier and everything else to the math verifier', () => {
    // a bare integer answer: right for arithmetic, unboxed (0) for math
    expect(verifierFor('arithmetic')('19\n', '19').reward).toBe(1);
    expect(verifierFor('deepscaler_10240')('19\n', '19').reward).toBe(0);
    expect(verifierFor('deepscaler_10240')('so \\boxed{0.5}', '\\frac{1}{2}').reward).toBe(1);
    expect(verifierFor('some_other_source')('\\boxed{\\sqrt{8}}', '2\\sqrt{2}').reward).toBe(1);
  });
});
