import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractBoxed, gradeAnswer, normalizeForEquivalence, verifyMath } from '../../tasks/verifiers/math.ts';
import { mathdNormalize } from '../../tasks/verifiers/mathd.ts';
import { parseExpr, evaluate, valuesEqual, rat } from '../../tasks/verifiers/casLite.ts';

const boxed = (answer: string): string => `Some reasoning... so the answer is \\boxed{${answer}}.`;

type Verdict = 'equal' | 'different' | 'undecided';

/**
 * [model answer, ground truth, expected verdict, why]. Expected verdicts come from the rules of spec §12 and,
 * where the CAS decides, from the value worked out by hand in the comment.
 */
const TABLE: Array<[string, string, Verdict, string]> = [
  // --- equal through mathd normalisation
  ['0.5', '\\frac{1}{2}', 'equal', 'mathd rewrites the string "0.5" to \\frac{1}{2}'],
  ['\\dfrac{3}{4}', '3/4', 'equal', 'dfrac→frac, and 3/4→\\frac{3}{4}'],
  ['10\\%', '10', 'equal', '\\% removed'],
  ['x=5', '5', 'equal', 'short "x=" prefix dropped'],
  ['5^\\circ', '5', 'equal', '^\\circ removed'],
  ['\\$20', '20', 'equal', '\\$ removed'],
  ['\\frac12', '\\frac{1}{2}', 'equal', '\\frac12 → \\frac{1}{2}'],
  ['\\sqrt2', '\\sqrt{2}', 'equal', '\\sqrt2 → \\sqrt{2}'],
  ['.5', '\\frac{1}{2}', 'equal', '.5 → 0.5 → \\frac{1}{2}'],
  ['7 \\text{ cm}', '7', 'equal', 'units after "\\text{ " dropped'],
  ['\\left( 1, 2 \\right)', '(1,2)', 'equal', '\\left/\\right and spaces removed'],
  ['\\text{Monday}', 'Monday', 'equal', '\\text{} wrapper removed'],
  // --- equal through the equivalence check
  ['1,000', '1000', 'equal', 'thousands comma stripped'],
  ['2.0', '2', 'equal', 'integer-valued decimal → 2'],
  ['\\sqrt{8}', '2\\sqrt{2}', 'equal', '√8 = 2.8284271247… = 2·1.4142135623…'],
  ['\\pi/2', '\\frac{\\pi}{2}', 'equal', 'both 1.5707963267…'],
  ['\\frac{1}{\\sqrt{2}}', '\\frac{\\sqrt{2}}{2}', 'equal', 'both 0.7071067811…'],
  ['\\frac{1}{\\sqrt{3}}', '\\frac{\\sqrt{3}}{3}', 'equal', 'both 0.5773502691…'],
  ['(x-1)(x+1)', 'x^2-1', 'equal', 'at x=13/10: (3/10)(23/10) = 69/100 = 169/100 − 1, exact at all 5 points'],
  ['\\frac{x+1}{2}', '(x+1)/2', 'equal', 'the numerator group is kept together (pylatexenc would not)'],
  ['2\\frac{1}{2}', '\\frac{5}{2}', 'equal', 'mixed number 2 + 1/2 = 5/2'],
  ['-2.5', '-2\\frac{1}{2}', 'equal', '−(2 + 1/2) = −5/2 = −2.5'],
  ['0.28', '\\frac{7}{25}', 'equal', '28/100 = 7/25 exactly'],
  ['1.5\\times 10^{-3}', '0.0015', 'equal', '(3/2)·(1/1000) = 3/2000 = 15/10000'],
  ['16.\\overline{6}', '\\frac{50}{3}', 'equal', '(166 − 16)/9 = 150/9 = 50/3'],
  ['\\sqrt[3]{16}', '2\\sqrt[3]{2}', 'equal', '16^(1/3) = 2.5198420997… = 2·1.2599210498…'],
  ['3\\sqrt{3}', '\\sqrt{27}', 'equal', 'both 5.1961524227…'],
  ['y = 2x+3', '3+2x', 'equal', '"y=" dropped; 2x+3 = 3+2x at every point'],
  ['\\{2, 1\\}', '\\{1,2\\}', 'equal', 'sets compared as multisets'],
  ['\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}', '\\begin{pmatrix} 1/2 \\\\ 2 \\end{pmatrix}', 'equal', 'element-wise 1/2, 2'],
  ['[-1.0, \\infty)', '[-1,\\infty)', 'equal', 'interval element-wise: −1.0 = −1, ∞ = ∞, same brackets'],
  ['1214_{8}', '1214_8', 'equal', 'same base-8 numeral (= 652)'],
  ['0.718266253869969', '\\frac{232}{323}', 'equal', '232/323 rounds to this 15-digit float, as sympy\'s Float compare'],
  ['\\frac{2\\sqrt{3}}{3}', '\\frac{2}{\\sqrt{3}}', 'equal', 'both 1.1547005383…'],
  // --- different
  ['(2,1)', '(1,2)', 'different', 'tuples are ordered: 2 ≠ 1'],
  ['3.5', '3', 'different', 'integer ground truth vs non-integer literal'],
  ['\\frac{2}{4}', '\\frac{1}{2}', 'different', 'two fraction literals must match literally (unreduced)'],
  ['(1,2]', '[1,2]', 'different', 'interval brackets differ'],
  ['1.4142', '\\sqrt{2}', 'different', '|1.4142 − 1.41421356| = 1.4e-5 > 1e-10'],
  ['0.3333', '\\frac{1}{3}', 'different', '3333/10000 ≠ 1/3 and they differ as float64 too'],
  ['2x', 'x^2', 'different', 'at x = 13/10: 26/10 ≠ 169/100'],
  ['\\sqrt{4}', '2', 'different', 'integer ground truth needs an integer literal (reference rule)'],
  ['\\binom{5}{2}', '10', 'different', 'same rule: 10 is an integer literal, \\binom{5}{2} is not'],
  ['5', '(5,6)', 'different', '1 element vs 2'],
  ['-5', '5', 'different', '−5 ≠ 5'],
  ['x-y', 'x+y', 'different', 'at x=13/10, y=17/9: x−y = −53/90 ≠ x+y'],
  ['8:6', '4:3', 'different', 'ratio terms compared one by one: 8 ≠ 4'],
  ['\\frac{\\pi}{3}', '60', 'different', 'integer ground truth vs non-integer'],
  ['\\sqrt[4]{8}', '\\sqrt[5]{8}', 'different', '8^(1/4) = 1.68179… ≠ 8^(1/5) = 1.51571…'],
  // --- undecided (reward 0, and said so)
  ['\\text{Tuesday}', '\\text{Monday}', 'undecided', 'words are not expressions (more than 2 letters)'],
  ['\\pm 4', '\\pm 3', 'undecided', '\\pm is not supported'],
  ['c+b+a', 'a+b+c', 'undecided', 'three variables: beyond the ≤ 2 letters the checker evaluates'],
  ['x \\le 4', 'x \\le 3', 'undecided', 'inequalities are not parsed'],
];

describe('math verifier: hand-written table', () => {
  it('has at least 40 pairs', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(40);
  });
  for (const [answer, gt, verdict, why] of TABLE) {
    it(`${answer}  vs  ${gt}  → ${verdict} (${why})`, () => {
      const r = verifyMath(boxed(answer), gt);
      expect(r.extracted).toBe(answer);
      expect(r.verdict).toBe(verdict);
      expect(r.reward).toBe(verdict === 'equal' ? 1 : 0);
      if (verdict === 'undecided') expect(r.reason).toBeTruthy();
    });
  }
});

describe('answer extraction', () => {
  it('takes the content of the last box', () => {
    const text = 'First \\boxed{3}, then on reflection \\boxed{5}';
    expect(extractBoxed(text)).toBe('5');
    expect(verifyMath(text, '5').reward).toBe(1);
    expect(verifyMath(text, '3').reward).toBe(0);
  });

  it('matches nested braces', () => {
    const r = verifyMath('so \\boxed{\\frac{1}{\\sqrt{2}}} done', '\\frac{\\sqrt{2}}{2}');
    expect(r.extracted).toBe('\\frac{1}{\\sqrt{2}}');
    expect(r.reward).toBe(1);
  });

  it('no box ⇒ reward 0, extracted null', () => {
    const r = verifyMath('The answer is 5.', '5');
    expect(r).toMatchObject({ reward: 0, verdict: 'different', extracted: null });
  });

  it('empty box ⇒ 0 (the prompt\'s own empty \\boxed{} never scores)', () => {
    expect(verifyMath('\\boxed{}', '5')).toMatchObject({ reward: 0, extracted: '' });
  });

  it('unbalanced box ⇒ no answer', () => {
    expect(extractBoxed('\\boxed{\\frac{1}{2}')).toBeNull();
  });

  it('falls back to \\fbox, and reads \\boxed without braces', () => {
    expect(extractBoxed('answer: \\fbox{7}')).toBe('7');
    expect(extractBoxed('$\\boxed 5$ and more')).toBe('5');
    expect(verifyMath('so $\\boxed 12$', '12').reward).toBe(1);
  });

  it('extracts a boxed ground truth', () => {
    expect(verifyMath(boxed('7'), 'the answer is \\boxed{7}').reward).toBe(1);
  });
});

describe('</think> handling', () => {
  const text = '<think>maybe \\boxed{4}</think> Final: \\boxed{5}';
  it('optional (default): only the part after </think> is graded', () => {
    expect(verifyMath(text, '5').reward).toBe(1);
    expect(verifyMath(text, '4').reward).toBe(0);
    expect(verifyMath('<think>x = \\boxed{4}</think> I am done.', '4')).toMatchObject({ reward: 0, extracted: null });
  });
  it('optional: a response without </think> is graded whole', () => {
    expect(verifyMath(boxed('5'), '5').reward).toBe(1);
  });
  it('required: no </think> is a format error', () => {
    expect(verifyMath(boxed('5'), '5', { think: 'required' })).toMatchObject({ reward: 0, extracted: null });
    expect(verifyMath(text, '5', { think: 'required' }).reward).toBe(1);
  });
  it('ignore: the whole text, last box wins', () => {
    expect(verifyMath('\\boxed{4}</think> I am done.', '4', { think: 'ignore' }).reward).toBe(1);
  });
});

describe('mathd normalisation (port of the reference, values checked against the Python original)', () => {
  const cases: Array<[string, string]> = [
    ['\\frac12', '\\frac{1}{2}'],
    ['\\frac1{72}', '\\frac{1}{72}'],
    ['\\sqrt2', '\\sqrt{2}'],
    ['.5', '\\frac{1}{2}'],
    ['5 \\text{ cm}', '5'],
    ['k = 3', '3'],
    ['abc = 5', 'abc=5'], // left side longer than 2 characters is kept
    ['3/4', '\\frac{3}{4}'],
    ['03/4', '03/4'], // not canonical integers: left alone
    ['10^{\\circ}', '10'],
    ['\\\\frac{1}{2}', '\\frac{1}{2}'],
    // Python raises inside _fix_sqrt / _remove_right_units: the trimmed input comes back unchanged
    ['2\\sqrt', '2\\sqrt'],
    ['x \\text{ a} \\text{ b}', 'x \\text{ a} \\text{ b}'],
  ];
  for (const [input, out] of cases) {
    it(`${input} → ${out}`, () => expect(mathdNormalize(input)).toBe(out));
  }
});

describe('equivalence normalisation and CAS-lite', () => {
  it('normalises like the reference _normalize (units, or/and, million, outer braces)', () => {
    expect(normalizeForEquivalence('5 \\text{ meters}')).toBe('5');
    expect(normalizeForEquivalence('2 or 3')).toBe('2 , 3');
    expect(normalizeForEquivalence('{7}')).toBe('7');
    expect(normalizeForEquivalence('3 million')).toBe('3 *10^6');
    expect(normalizeForEquivalence('\\[ 52 \\]')).toBe('52');
  });

  it('evaluates exactly over the rationals', () => {
    // 1/3 + 1/6 = 2/6 + 1/6 = 1/2
    const v = evaluate(parseExpr('\\frac{1}{3}+\\frac{1}{6}').expr, new Map());
    expect(v).toEqual({ k: 'rat', n: 1n, d: 2n });
    // 2^{10} = 1024; (4/9)^{3/2} = (2/3)^3 = 8/27
    expect(evaluate(parseExpr('2^{10}').expr, new Map())).toEqual({ k: 'rat', n: 1024n, d: 1n });
    expect(evaluate(parseExpr('(4/9)^{3/2}').expr, new Map())).toEqual({ k: 'rat', n: 8n, d: 27n });
    // 5! / 3! = 120 / 6 = 20
    expect(evaluate(parseExpr('\\frac{5!}{3!}').expr, new Map())).toEqual({ k: 'rat', n: 20n, d: 1n });
  });

  it('parses implicit multiplication and precedence like sympy', () => {
    // 1/2x = (1/2)·x (sympy's implicit multiplication): at x = 4 → 2
    const p = parseExpr('1/2x');
    expect(evaluate(p.expr, new Map([['x', rat(4n, 1n)]]))).toEqual({ k: 'rat', n: 2n, d: 1n });
    // -x^2 = −(x²): at x = 3 → −9
    expect(evaluate(parseExpr('-x^2').expr, new Map([['x', rat(3n, 1n)]]))).toEqual({ k: 'rat', n: -9n, d: 1n });
  });

  it('float tolerance: sqrt(2)·sqrt(2) equals 2, 2 + 1e-6 does not', () => {
    const two = rat(2n, 1n);
    const prod = evaluate(parseExpr('\\sqrt{2}\\cdot\\sqrt{2}').expr, new Map());
    expect(prod.k).toBe('real');
    expect(valuesEqual(prod, two)).toBe(true);
    expect(valuesEqual({ k: 'real', x: 2 + 1e-6 }, two)).toBe(false);
  });

  it('reports what it cannot decide', () => {
    expect(gradeAnswer('\\emptyset', '\\varnothing')).toMatchObject({ reward: 0, verdict: 'undecided' });
  });
});

describe('robustness', () => {
  const TOKENS = ['1', '2', '0', '12', '3.5', '.', 'x', 'y', 'e', '\\pi', '\\frac', '\\sqrt', '[3]', '{', '}', '(', ')', '[', ']',
    '^', '_', '+', '-', '*', '/', '\\cdot', ',', ':', '=', '\\le', '\\infty', '!', '\\binom', '|', '\\left(', '\\right)',
    '\\{', '\\}', '\\text{', 'cm', '\\%', ' ', '\\overline', '\\boxed{', '\\\\', '&', '\\begin{pmatrix}', '\\end{pmatrix}',
    '\\sin', '\\log_', '\\lfloor', '\\rfloor', '1e5', '</think>', '\\circ', '10^{', '999999999', '^{-1}'];
  const latexish = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 20 }).map((t) => t.join(''));

  it('never throws on garbage, and reward is 1 exactly when the verdict is equal', () => {
    fc.assert(
      fc.property(latexish, latexish, (a, b) => {
        const r = verifyMath(`\\boxed{${a}}`, b);
        expect(r.reward).toBe(r.verdict === 'equal' ? 1 : 0);
      }),
      { numRuns: 500, seed: 20240501 },
    );
  });

  it('stays bounded on pathological answers', () => {
    expect(verifyMath(`\\boxed{${'('.repeat(400)}1/3${')'.repeat(400)}}`, '1/2').verdict).toBe('different');
    expect(verifyMath('\\boxed{10^{10^{10}}}', '10.5').verdict).toBe('undecided'); // 10^(10^10) overflows
    expect(verifyMath(`\\boxed{${'x'.repeat(2000)}}`, 'x').verdict).toBe('undecided'); // too long to parse
    // C(x,1000) and C(x,999) only ever meet at the value 0 on small integers: no verdict of equality
    expect(verifyMath('\\boxed{\\binom{x}{1000}}', '\\binom{x}{999}').verdict).toBe('undecided');
    // integer fallback for integer-only expressions: n! = n·(n−1)! at n = 7, 4, 12, 5, 9
    expect(verifyMath('\\boxed{n \\cdot (n-1)!}', 'n!').verdict).toBe('equal');
  });
});
