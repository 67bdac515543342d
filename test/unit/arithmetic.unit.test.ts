import { describe, expect, it } from 'vitest';
import { ARITHMETIC_ALPHABET, ARITHMETIC_END_MARKER, arithmeticLevels, generateArithmetic } from '../../tasks/arithmetic.ts';
import { verifyArithmetic } from '../../tasks/verifiers/arithmetic.ts';

/** Independent evaluation: JavaScript's own precedence for + − × on the question text without "=". */
function evalQuestion(q: string): number {
  return Function(`"use strict"; return (${q.slice(0, -1)});`)() as number;
}

describe('arithmetic levels', () => {
  it('16 levels, numbered 4·(digits−1) + kind rank', () => {
    expect(arithmeticLevels).toHaveLength(16);
    arithmeticLevels.forEach((l, i) => expect(l.level).toBe(i + 1));
    // level 6 = 4·(2−1) + 2 → sub with 2 digits; level 16 = 4·3 + 4 → mix3 with 4 digits
    expect(arithmeticLevels[5]).toMatchObject({ kind: 'sub', digits: 2, terms: 2, category: 'sub-2d' });
    expect(arithmeticLevels[15]).toMatchObject({ kind: 'mix3', digits: 4, terms: 3, category: 'mix3-4d' });
  });
});

describe('generateArithmetic', () => {
  const rows = generateArithmetic({ seed: 7, count: 1600 });

  it('is deterministic: same seed ⇒ identical rows', () => {
    expect(generateArithmetic({ seed: 7, count: 1600 })).toEqual(rows);
  });

  it('different seeds ⇒ different rows', () => {
    const other = generateArithmetic({ seed: 8, count: 1600 });
    const same = other.filter((r, i) => r.question === rows[i].question).length;
    // identical questions can only happen by chance on the small levels (add-1d has 100 questions)
    expect(same).toBeLessThan(160);
  });

  it('a shorter run is a prefix of a longer one', () => {
    expect(generateArithmetic({ seed: 7, count: 37 })).toEqual(rows.slice(0, 37));
  });

  it('answers are correct (evaluated independently) and use the tiny model\'s format', () => {
    for (const r of rows) {
      expect(r.question).toMatch(/^\d+([+\-*]\d+){1,2}=$/);
      expect(r.answer).toMatch(/^-?\d+$/);
      expect(Number(r.answer)).toBe(evalQuestion(r.question));
      for (const ch of r.question + r.answer + ARITHMETIC_END_MARKER) expect(ARITHMETIC_ALPHABET).toContain(ch);
    }
  });

  it('rows match their level: operation, number of terms, operand digits', () => {
    for (const r of rows) {
      const lv = arithmeticLevels[(r.meta!.level as number) - 1];
      expect(r.category).toBe(lv.category);
      expect(r.meta).toEqual({ level: lv.level, digits: lv.digits, terms: lv.terms });
      const operands = r.question.slice(0, -1).split(/[+\-*]/);
      const ops = r.question.replace(/\d/g, '').slice(0, -1);
      expect(operands).toHaveLength(lv.terms);
      for (const x of operands) {
        if (lv.digits === 1) expect(x).toMatch(/^\d$/);
        else expect(x).toMatch(new RegExp(`^[1-9]\\d{${lv.digits - 1}}$`));
      }
      if (lv.kind === 'add') expect(ops).toBe('+');
      if (lv.kind === 'sub') expect(ops).toBe('-');
      if (lv.kind === 'mul') expect(ops).toBe('*');
      if (lv.kind === 'mix3') expect(ops).toMatch(/^[+\-*]{2}$/);
    }
  });

  it('ids are unique and stable, dataSource routes to the arithmetic verifier', () => {
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows[42]).toMatchObject({ id: 'arith:7:42', index: 42, dataSource: 'arithmetic' });
  });

  it('deals levels evenly: 1600 rows over 16 levels ⇒ exactly 100 each', () => {
    const counts = new Map<number, number>();
    for (const r of rows) counts.set(r.meta!.level as number, (counts.get(r.meta!.level as number) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(arithmeticLevels.map((l) => l.level));
    for (const c of counts.values()) expect(c).toBe(100);
  });

  it('restricts to the requested levels; 7 rows over 2 levels ⇒ 4 + 3', () => {
    const sub = generateArithmetic({ seed: 3, count: 7, levels: [1, 9] });
    const c1 = sub.filter((r) => r.meta!.level === 1).length;
    const c9 = sub.filter((r) => r.meta!.level === 9).length;
    expect(c1 + c9).toBe(7);
    expect([c1, c9].sort()).toEqual([3, 4]); // 3 full blocks of [1, 9] + one row of the 4th block
  });

  it('covers the operand range and both precedence cases of mix3', () => {
    const add1 = generateArithmetic({ seed: 11, count: 300, levels: [1] });
    const digits = new Set(add1.flatMap((r) => r.question.slice(0, -1).split('+')));
    expect(digits.size).toBe(10); // every operand 0..9 appears in 600 uniform draws
    const mix = generateArithmetic({ seed: 11, count: 300, levels: [4] });
    // "a+b*c" (× binds tighter) and "a*b+c" both occur
    expect(mix.some((r) => /^\d[+-]\d\*\d=$/.test(r.question))).toBe(true);
    expect(mix.some((r) => /^\d\*\d[+-]\d=$/.test(r.question))).toBe(true);
    // × binds tighter: a+b*c = a + (b·c), e.g. 3+4*5 = 3 + 20 = 23, not 7·5 = 35
    for (const r of mix.filter((x) => /^\d\+\d\*\d=$/.test(x.question))) {
      const [a, b, c] = r.question.slice(0, -1).split(/[+*]/).map(Number);
      expect(Number(r.answer)).toBe(a + b * c);
    }
  });

  it('rejects bad options', () => {
    expect(() => generateArithmetic({ seed: -1, count: 1 })).toThrow(/seed/);
    expect(() => generateArithmetic({ seed: 1, count: 1.5 })).toThrow(/count/);
    expect(() => generateArithmetic({ seed: 1, count: 1, levels: [17] })).toThrow(/level 17/);
    expect(() => generateArithmetic({ seed: 1, count: 1, levels: [] })).toThrow(/empty/);
  });
});

describe('verifyArithmetic', () => {
  const cases: Array<[string, string, 0 | 1, string | null]> = [
    ['19', '19', 1, '19'],
    ['19\n7+1=8', '19', 1, '19'],
    ['  19 because', '19', 1, '19'],
    ['-3', '-3', 1, '-3'],
    ['3', '-3', 0, '3'],
    ['019', '19', 1, '019'], // integers compare by value
    ['20', '19', 0, '20'],
    ['', '19', 0, null],
    ['\n19', '19', 0, null], // nothing before the end marker
    ['abc', '19', 0, null],
    ['19.5', '19', 0, '19.5'], // a decimal is not an integer answer
    ['12+7=19', '19', 0, '12'], // the first integer counts
  ];
  for (const [response, answer, reward, parsed] of cases) {
    it(`${JSON.stringify(response)} vs ${answer} → ${reward}`, () => {
      expect(verifyArithmetic(response, answer)).toEqual({ reward, parsed });
    });
  }
  it('rejects a non-integer answer', () => {
    expect(() => verifyArithmetic('1', 'x')).toThrow(/integer/);
  });
  it('scores every generated row 1 with its own answer and 0 with answer+1', () => {
    for (const r of generateArithmetic({ seed: 5, count: 200 })) {
      expect(verifyArithmetic(r.answer + ARITHMETIC_END_MARKER, r.answer).reward).toBe(1);
      expect(verifyArithmetic(String(Number(r.answer) + 1), r.answer).reward).toBe(0);
    }
  });
});
