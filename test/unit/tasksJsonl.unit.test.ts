import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJsonlPrompts, parseJsonlPrompts } from '../../tasks/jsonl.ts';

const F = 'prompts.jsonl';

describe('parseJsonlPrompts', () => {
  it('maps records, applies defaults, skips blank lines', () => {
    const text = [
      '{"question": "1+1=", "answer": "2"}',
      '',
      '{"id": "q-b", "question": "Area of a unit circle?", "answer": "\\\\pi", "dataSource": "mathy", "category": "geometry", "system": "Be brief.", "meta": {"level": 3, "tag": "x"}}',
      '{"question": "2*3=", "answer": 6}',
    ].join('\n');
    expect(parseJsonlPrompts(text, F, { dataSource: 'toy' })).toEqual([
      { id: 'toy:0', index: 0, question: '1+1=', answer: '2', dataSource: 'toy', category: 'default' },
      { id: 'q-b', index: 1, question: 'Area of a unit circle?', answer: '\\pi', dataSource: 'mathy', category: 'geometry', system: 'Be brief.', meta: { level: 3, tag: 'x' } },
      { id: 'toy:2', index: 2, question: '2*3=', answer: '6', dataSource: 'toy', category: 'default' },
    ]);
    expect(parseJsonlPrompts('{"question":"q","answer":"a"}\n', F)[0].dataSource).toBe('jsonl');
  });

  it('a bad line gives an error naming the file and the 1-based line', () => {
    const text = '{"question": "a", "answer": "1"}\n\n{"question": "b", "answer": }\n';
    expect(() => parseJsonlPrompts(text, F)).toThrow(/^prompts\.jsonl:3: invalid JSON/);
  });

  it('rejects missing or mistyped fields, non-objects, repeated ids', () => {
    expect(() => parseJsonlPrompts('{"question":"a","answer":"1"}\n{"answer":"2"}', F)).toThrow('prompts.jsonl:2: field "question" must be a non-empty string');
    expect(() => parseJsonlPrompts('{"question":"a"}', F)).toThrow('prompts.jsonl:1: field "answer"');
    expect(() => parseJsonlPrompts('{"question":"a","answer":""}', F)).toThrow('prompts.jsonl:1: field "answer"');
    expect(() => parseJsonlPrompts('[1,2]', F)).toThrow('prompts.jsonl:1: expected a JSON object');
    expect(() => parseJsonlPrompts('{"question":"a","answer":"1","category":7}', F)).toThrow('prompts.jsonl:1: field "category"');
    expect(() => parseJsonlPrompts('{"question":"a","answer":"1","meta":{"k":[1]}}', F)).toThrow('prompts.jsonl:1: meta.k');
    expect(() => parseJsonlPrompts('{"id":"x","question":"a","answer":"1"}\n{"id":"x","question":"b","answer":"2"}', F)).toThrow(
      'prompts.jsonl:2: id "x" already used on line 1',
    );
  });
});

describe('loadJsonlPrompts', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dare-tasks-jsonl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file; errors name the file path', async () => {
    const p = join(dir, 'a.jsonl');
    writeFileSync(p, '{"question":"3+4=","answer":"7","category":"add-1d"}\n{"question":"5-9=","answer":"-4"}\n');
    const rows = await loadJsonlPrompts(p, { dataSource: 'arithmetic' });
    expect(rows.map((r) => [r.id, r.question, r.answer, r.category])).toEqual([
      ['arithmetic:0', '3+4=', '7', 'add-1d'],
      ['arithmetic:1', '5-9=', '-4', 'default'],
    ]);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"question":"3+4=","answer":"7"}\nnot json\n');
    await expect(loadJsonlPrompts(bad)).rejects.toThrow(`${bad}:2: invalid JSON`);
    await expect(loadJsonlPrompts(join(dir, 'nope.jsonl'))).rejects.toThrow(`${join(dir, 'nope.jsonl')}: cannot read`);
  });
});
