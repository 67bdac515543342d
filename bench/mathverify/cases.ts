/**
 * math-verify against the project's verifier (tasks/verifiers/math.ts + casLite.ts): writes the cases and the
 * TypeScript verdicts as JSONL; agreement.py adds math-verify's verdicts and prints the figures.
 *
 *   npx tsx bench/mathverify/cases.ts [PARQUET] [--sample N] > /tmp/mv-cases.jsonl
 *   .venv/bin/python bench/mathverify/agreement.py /tmp/mv-cases.jsonl
 *
 * Cases: for N DeepScaleR rows (a seeded sample of ../shared/data/deepscaler.parquet), the ground truth
 * boxed (`\boxed{gt}`: must be correct) and a perturbed one (the first integer of gt plus one, or `gt+1`
 * when it has none: must be wrong), and where gt has a \frac the same with \dfrac (must be correct); then the hand-written adversarial cases below, each with the verdict a
 * careful grader gives (equivalent forms, units and text, \boxed{} nesting and placement).
 */
import { loadVerlParquet } from '../../tasks/parquet.ts';
import { verifyMath } from '../../tasks/verifiers/math.ts';
import { Prng } from '../../events/prng.ts';

interface Case {
  set: string;
  response: string;
  answer: string;
  expected: boolean | null;
  note?: string;
}

const ADVERSARIAL: Array<[string, string, boolean, string]> = [
  // equivalent forms
  ['\\boxed{0.5}', '\\frac{1}{2}', true, 'decimal vs fraction'],
  ['\\boxed{\\dfrac{1}{2}}', '\\frac{1}{2}', true, 'dfrac'],
  ['\\boxed{1/2}', '\\frac{1}{2}', true, 'slash fraction'],
  ['\\boxed{\\frac{2}{4}}', '\\frac{1}{2}', true, 'unreduced fraction'],
  ['\\boxed{3\\sqrt{2}}', '\\sqrt{18}', true, 'surd simplified'],
  ['\\boxed{\\sqrt{2}/2}', '\\frac{\\sqrt{2}}{2}', true, 'surd over 2'],
  ['\\boxed{\\frac{1}{\\sqrt{2}}}', '\\frac{\\sqrt{2}}{2}', true, 'rationalised'],
  ['\\boxed{(x+1)^2}', 'x^2+2x+1', true, 'factored polynomial'],
  ['\\boxed{2\\pi}', '2\\pi', true, 'pi'],
  ['\\boxed{6.283185307}', '2\\pi', false, 'pi as a decimal (graders differ; exact: no)'],
  ['\\boxed{1000}', '10^3', true, 'power of ten'],
  ['\\boxed{1,000}', '1000', true, 'thousands comma'],
  ['\\boxed{x = 5}', '5', true, 'x = 5'],
  ['\\boxed{5.0}', '5', true, 'integer-valued decimal'],
  ['\\boxed{-\\frac{3}{4}}', '-0.75', true, 'negative fraction vs decimal'],
  ['\\boxed{\\frac{-3}{4}}', '-\\frac{3}{4}', true, 'sign inside'],
  ['\\boxed{(1,2)}', '(1, 2)', true, 'tuple spacing'],
  ['\\boxed{(2,1)}', '(1,2)', false, 'tuple order'],
  ['\\boxed{[0,1)}', '[0,1)', true, 'interval'],
  ['\\boxed{(0,1]}', '[0,1)', false, 'interval brackets'],
  ['\\boxed{\\{1,2,3\\}}', '\\{3,2,1\\}', true, 'set order'],
  ['\\boxed{2, 3}', '3, 2', true, 'list of roots, any order'],
  ['\\boxed{\\sqrt[3]{2}}', '2^{1/3}', true, 'cube root'],
  ['\\boxed{\\sqrt[4]{2}}', '\\sqrt[5]{2}', false, 'different roots'],
  ['\\boxed{\\frac{\\pi}{3}}', '60^\\circ', false, 'radians vs degrees (strict)'],
  ['\\boxed{e^{2}}', 'e^2', true, 'braced exponent'],
  ['\\boxed{\\binom{5}{2}}', '10', true, 'binomial'],
  ['\\boxed{4!}', '24', true, 'factorial'],
  ['\\boxed{0.333}', '\\frac{1}{3}', false, 'truncated decimal'],
  ['\\boxed{0.\\overline{3}}', '\\frac{1}{3}', true, 'repeating decimal'],
  // units and text
  ['\\boxed{5\\text{ cm}}', '5', true, 'unit text'],
  ['\\boxed{5 \\mathrm{~cm}}', '5', true, 'mathrm unit'],
  ['\\boxed{\\$5}', '5', true, 'dollar sign'],
  ['\\boxed{5\\%}', '5', true, 'percent'],
  ['\\boxed{30^\\circ}', '30', true, 'degree sign'],
  ['\\boxed{\\text{5 apples}}', '5', true, 'number in text'],
  ['\\boxed{\\text{(C)}}', '\\text{(C)}', true, 'multiple-choice letter'],
  ['\\boxed{C}', '\\text{(C)}', true, 'letter without parentheses'],
  ['\\boxed{\\text{five}}', '5', false, 'number word (strict)'],
  // boxed nesting and placement
  ['\\boxed{\\boxed{3}}', '3', true, 'box in a box'],
  ['\\boxed{\\frac{\\sqrt{3}}{2}}', '\\frac{\\sqrt{3}}{2}', true, 'nested braces'],
  ['First \\boxed{2}, then corrected: \\boxed{3}', '3', true, 'last box wins'],
  ['First \\boxed{3}, then corrected: \\boxed{2}', '3', false, 'last box wins (wrong)'],
  ['The answer is \\fbox{7}.', '7', true, 'fbox'],
  ['The answer is $\\boxed 7$.', '7', true, 'boxed without braces'],
  ['The answer is 7.', '7', false, 'no box (strict: box required)'],
  ['<think>maybe \\boxed{2}</think> so \\boxed{3}', '3', true, 'after think'],
  ['\\boxed{3', '3', false, 'unclosed box'],
  ['\\boxed{}', '3', false, 'empty box'],
  ['\\boxed{\\infty}', '\\infty', true, 'infinity'],
  ['\\boxed{x^2-1}', '(x-1)(x+1)', true, 'difference of squares'],
  ['\\boxed{x^2+1}', '(x-1)(x+1)', false, 'wrong polynomial'],
  ['\\boxed{a+b}', 'b+a', true, 'commuted symbols'],
  ['\\boxed{1214_8}', '652', true, 'base-8 numeral'],
  ['\\boxed{2 \\times 10^{3}}', '2000', true, 'scientific'],
  ['\\boxed{y=2x+1}', 'y=2x+1', true, 'equation'],
  ['\\boxed{x \\geq 2}', 'x \\ge 2', true, 'inequality'],
  ['\\boxed{\\pm 2}', '\\pm 2', true, 'plus-minus'],
  ['\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', true, 'column vector'],
];

function perturb(gt: string): string {
  const m = /\d+/.exec(gt);
  if (!m) return `${gt}+1`;
  return gt.slice(0, m.index) + String(BigInt(m[0]) + 1n) + gt.slice(m.index + m[0].length);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? '../shared/data/deepscaler.parquet';
  const si = args.indexOf('--sample');
  const sample = si >= 0 ? Number(args[si + 1]) : 2000;
  const rows = (await loadVerlParquet(file)).rows;
  const idx = rows.map((_, i) => i);
  new Prng({ seed: 16, step: 0, purpose: 'bench/mathverify' }).shuffle(idx);
  const cases: Case[] = [];
  for (const i of idx.slice(0, Math.min(sample, rows.length))) {
    const gt = rows[i].answer;
    cases.push({ set: 'deepscaler-gold', response: `The answer is $\\boxed{${gt}}$.`, answer: gt, expected: true });
    cases.push({ set: 'deepscaler-perturbed', response: `The answer is $\\boxed{${perturb(gt)}}$.`, answer: gt, expected: false });
    // the same value written another way: \dfrac for \frac (only rows that have one)
    if (gt.includes('\\frac')) {
      cases.push({ set: 'deepscaler-dfrac', response: `The answer is $\\boxed{${gt.replaceAll('\\frac', '\\dfrac')}}$.`, answer: gt, expected: true });
    }
  }
  for (const [response, answer, expected, note] of ADVERSARIAL) cases.push({ set: 'adversarial', response, answer, expected, note });
  for (const c of cases) {
    const v = verifyMath(c.response, c.answer);
    process.stdout.write(JSON.stringify({ ...c, ts: v.reward === 1, tsVerdict: v.verdict }) + '\n');
  }
}

void main();
