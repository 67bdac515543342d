import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDuplicates, loadVerlParquet, type PromptFile } from '../../tasks/parquet.ts';
import { gradeAnswer } from '../../tasks/verifiers/math.ts';
import { verlColumns, verlRow, writeParquet } from '../fixtures/tasks/miniParquet.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEEPSCALER = resolve(repoRoot, 'data/deepscaler.parquet');

describe('deepscaler.parquet (data/deepscaler.parquet, shipped in the repository)', () => {
  let f: PromptFile;
  beforeAll(async () => {
    f = await loadVerlParquet(DEEPSCALER);
  });

  it('has 10,240 rows with unique ids and index = row number', () => {
    expect(f.rows).toHaveLength(10240);
    expect(new Set(f.rows.map((r) => r.id)).size).toBe(10240);
    f.rows.forEach((r, i) => expect(r.index).toBe(i));
  });

  it('maps row 0 field by field', () => {
    expect(f.rows[0]).toEqual({
      id: 'deepscaler_10240:0',
      index: 0,
      question:
        'Calculate the limit of the function:\n\\[ \\lim _{x \\rightarrow \\frac{\\pi}{3}} \\frac{1-2 \\cos x}{\\sin (\\pi-3 x)} \\]',
      answer: '-\\frac{\\sqrt{3}}{3}',
      dataSource: 'deepscaler_10240',
      category: 'math',
      system: "Let's think step by step and output the final answer within \\boxed{}. ",
      meta: { split: 'train' },
    });
  });

  it('every row: one data source, category math, the same system prompt', () => {
    expect(new Set(f.rows.map((r) => r.dataSource))).toEqual(new Set(['deepscaler_10240']));
    expect(new Set(f.rows.map((r) => r.category))).toEqual(new Set(['math']));
    expect(new Set(f.rows.map((r) => r.system)).size).toBe(1);
  });

  it('reports the duplicates of spec §13: 93 texts, 122 extra rows, 34 with conflicting answers', () => {
    expect(f.duplicates.duplicatedQuestions).toBe(93);
    expect(f.duplicates.extraRows).toBe(122);
    // extra rows = Σ (group size − 1) over the duplicated groups
    expect(f.duplicates.groups.reduce((s, g) => s + g.rows.length - 1, 0)).toBe(122);
    expect(f.conflicts).toHaveLength(34);
    expect(f.conflicts[0]).toEqual({ question: 'Find the square root of $\\dfrac{9!}{126}$.', rows: [149, 775], answers: ['12.648', '12\\sqrt{10}'] });
    for (const c of f.conflicts) {
      expect(new Set(c.answers).size).toBeGreaterThan(1);
      c.rows.forEach((idx, k) => expect(f.rows[idx].answer).toBe(c.answers[k]));
    }
  });

  it('explains the counts: exact text, and 2 of the 34 conflicts are notation only', () => {
    // Comparing trimmed texts merges 26 more pairs (questions differing only by surrounding whitespace).
    const trimmed = findDuplicates(f.rows.map((r) => ({ ...r, question: r.question.trim() })));
    expect(trimmed.duplicates.duplicatedQuestions).toBe(119);
    expect(trimmed.duplicates.extraRows).toBe(148);
    expect(trimmed.conflicts).toHaveLength(35);
    // 2√61 vs √244 and √40 vs 2√10 are the same number; the 32 other conflicts are genuinely different.
    const notational = f.conflicts.filter((c) => c.answers.every((a) => gradeAnswer(a, c.answers[0]).reward === 1));
    expect(notational).toHaveLength(2);
  });
});

describe('verl Parquet loader on small fixtures', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dare-tasks-parquet-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps fields and reports duplicates and conflicts', async () => {
    const p = join(dir, 'ok.parquet');
    writeParquet(p, verlColumns(), [
      verlRow(0, 'What is 1+1?', '2'),
      verlRow(1, 'What is 2+2?', '4'),
      verlRow(2, 'What is 1+1?', '3'), // same question, different answer
      verlRow(3, 'What is 2+2?', '4'), // same question, same answer
      verlRow(4, 'What is 1+1?', '2'),
    ]);
    const f = await loadVerlParquet(p);
    expect(f.rows.map((r) => r.id)).toEqual(['toy_source:0', 'toy_source:1', 'toy_source:2', 'toy_source:3', 'toy_source:4']);
    expect(f.rows[1]).toEqual({
      id: 'toy_source:1',
      index: 1,
      question: 'What is 2+2?',
      answer: '4',
      dataSource: 'toy_source',
      category: 'math',
      system: 'Think step by step, answer in \\boxed{}. ',
      meta: { split: 'train' },
    });
    // 2 duplicated texts; 5 rows − 2 distinct = 3 extra rows
    expect(f.duplicates).toEqual({
      duplicatedQuestions: 2,
      extraRows: 3,
      groups: [
        { question: 'What is 1+1?', rows: [0, 2, 4] },
        { question: 'What is 2+2?', rows: [1, 3] },
      ],
    });
    expect(f.conflicts).toEqual([{ question: 'What is 1+1?', rows: [0, 2, 4], answers: ['2', '3', '2'] }]);
  });

  it('without extra_info the row number is the index', async () => {
    const p = join(dir, 'noextra.parquet');
    writeParquet(p, verlColumns({ drop: ['extra_info'] }), [verlRow(5, 'a', '1'), verlRow(9, 'b', '2')]);
    const f = await loadVerlParquet(p);
    expect(f.rows.map((r) => [r.id, r.index])).toEqual([['toy_source:0', 0], ['toy_source:1', 1]]);
  });

  it('missing column → error naming the file and the column', async () => {
    const p = join(dir, 'no_reward_model.parquet');
    writeParquet(p, verlColumns({ drop: ['reward_model'] }), [verlRow(0, 'q', '1')]);
    await expect(loadVerlParquet(p)).rejects.toThrow(`${p}: column "reward_model" is missing`);
    const q = join(dir, 'no_ground_truth.parquet');
    writeParquet(q, verlColumns({ drop: ['reward_model.ground_truth'] }), [verlRow(0, 'q', '1')]);
    await expect(loadVerlParquet(q)).rejects.toThrow(`${q}: column "reward_model.ground_truth" is missing`);
  });

  it('wrong type → error naming the file, the column and the type', async () => {
    const p = join(dir, 'int_answer.parquet');
    writeParquet(p, verlColumns({ groundTruthType: 'INT64' }), [verlRow(0, 'q', 1)]);
    await expect(loadVerlParquet(p)).rejects.toThrow(`${p}: column "reward_model.ground_truth" has type INT64, expected string`);
  });

  it('row without an answer → error naming the file, the row and the column', async () => {
    const p = join(dir, 'null_answer.parquet');
    writeParquet(p, verlColumns(), [verlRow(0, 'q0', '1'), verlRow(1, 'q1', null)]);
    await expect(loadVerlParquet(p)).rejects.toThrow(`${p}: row 1, column "reward_model.ground_truth": row has no answer`);
  });

  it('row without a user message, repeated index → errors naming the row', async () => {
    const p = join(dir, 'no_user.parquet');
    writeParquet(p, verlColumns(), [verlRow(0, 'q0', '1'), { ...verlRow(1, 'q1', '1'), prompt: [{ content: 'sys', role: 'system' }] }]);
    await expect(loadVerlParquet(p)).rejects.toThrow(`${p}: row 1, column "prompt": no user message`);
    const q = join(dir, 'dup_index.parquet');
    writeParquet(q, verlColumns(), [verlRow(3, 'q0', '1'), verlRow(3, 'q1', '2')]);
    await expect(loadVerlParquet(q)).rejects.toThrow(`${q}: row 1, column "extra_info.index": index 3 already used by row 0`);
  });

  it('corrupt or absent file → error naming the file', async () => {
    const good = join(dir, 'good.parquet');
    writeParquet(good, verlColumns(), [verlRow(0, 'q', '1')]);
    const truncated = join(dir, 'truncated.parquet');
    const bytes = readFileSync(good);
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 20)); // footer gone
    await expect(loadVerlParquet(truncated)).rejects.toThrow(`${truncated}: cannot read as Parquet`);
    const text = join(dir, 'text.parquet');
    writeFileSync(text, 'this is not parquet at all\n');
    await expect(loadVerlParquet(text)).rejects.toThrow(`${text}: cannot read as Parquet`);
    const missing = join(dir, 'missing.parquet');
    await expect(loadVerlParquet(missing)).rejects.toThrow(`${missing}: cannot read as Parquet`);
  });
});
