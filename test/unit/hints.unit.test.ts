import { describe, expect, it } from 'vitest';
import { Prng } from '../../events/prng.ts';
import {
  buildHintPrompt,
  chooseHintSource,
  extractSkeleton,
  HINT_CLOSING_BOXED,
  HINT_CLOSING_GSM8K,
  HINT_HEADER,
  HINT_SKELETON_LABEL,
  isGsm8kSource,
  scoreFragment,
  splitFragments,
} from '../../actors/learner/hints.ts';

const SOLUTION = [
  'Let x be the number of apples. Then 3x + 5 = 20.',
  'Subtract 5 from both sides: 3x = 15.',
  'So x = 5.',
  'We check: 3*5 + 5 = 20, which is correct.',
  'Therefore the answer is \\boxed{5}.',
].join('\n');

describe('fragment splitting', () => {
  it('splits per line and after . ! ? ; 。 ； followed by whitespace', () => {
    expect(splitFragments(SOLUTION)).toEqual([
      'Let x be the number of apples.', // line 1, split after ". "
      'Then 3x + 5 = 20.',
      'Subtract 5 from both sides: 3x = 15.',
      'So x = 5.',
      'We check: 3*5 + 5 = 20, which is correct.',
      'Therefore the answer is \\boxed{5}.',
    ]);
    // no whitespace after the punctuation ⇒ no split ("3.5" stays whole); \r counts as a line break
    expect(splitFragments('x = 3.5 here! And; y\r\nz? w')).toEqual(['x = 3.5 here!', 'And;', 'y', 'z?', 'w']);
    expect(splitFragments('设方程为 x + 1 = 4。 因此 x = 3 是方程的解。')).toEqual(['设方程为 x + 1 = 4。', '因此 x = 3 是方程的解。']);
    expect(splitFragments('  \n \n')).toEqual([]);
  });
});

describe('fragment score', () => {
  it('+2 per symbol, +2 per keyword, +1 for a digit', () => {
    // "Let x be the number of apples.": keyword "let" → 2; no symbol, no digit
    expect(scoreFragment('Let x be the number of apples.')).toBe(2);
    // "Then 3x + 5 = 20.": "=" 2 + "+" 2 + digit 1 = 5
    expect(scoreFragment('Then 3x + 5 = 20.')).toBe(5);
    // "Subtract 5 from both sides: 3x = 15.": "=" 2 + digit 1 = 3
    expect(scoreFragment('Subtract 5 from both sides: 3x = 15.')).toBe(3);
    // "We check: 3*5 + 5 = 20, which is correct.": "=" 2 + "+" 2 + "*" 2 + digit 1 = 7
    expect(scoreFragment('We check: 3*5 + 5 = 20, which is correct.')).toBe(7);
    // \frac contains no "/" etc.: "\frac" 2 + "=" 2 + keywords "hence" 2 + "simplify" 2 + digit 1 = 9
    expect(scoreFragment('Hence simplify y = \\frac{1}{2}')).toBe(9);
    // each symbol/keyword counts once, however often it occurs: "=" 2 + "thus" 2 = 4
    expect(scoreFragment('thus a = b = c, thus')).toBe(4);
  });
});

describe('reasoning skeleton', () => {
  it('keeps the 3 best fragments in original order (sample solution worked by hand)', () => {
    // kept fragments and scores: "Let x be the number of apples." 2, "Then 3x + 5 = 20." 5,
    // "Subtract 5 from both sides: 3x = 15." 3, "We check: 3*5 + 5 = 20, which is correct." 7;
    // dropped: "So x = 5." (9 chars < 12) and the \boxed line. Top 3 = 7, 5, 3 → original order:
    expect(extractSkeleton(SOLUTION)).toEqual([
      'Then 3x + 5 = 20.',
      'Subtract 5 from both sides: 3x = 15.',
      'We check: 3*5 + 5 = 20, which is correct.',
    ]);
    expect(extractSkeleton(SOLUTION, { maxSnippets: 1 })).toEqual(['We check: 3*5 + 5 = 20, which is correct.']);
    expect(extractSkeleton(SOLUTION, { maxSnippets: 10 })).toHaveLength(4);
    expect(extractSkeleton(SOLUTION, { maxSnippets: 0 })).toHaveLength(1); // at least one, as REF
  });

  it('ties go to the earlier fragment', () => {
    // both score "=" 2 + digit 1 = 3
    const text = 'First we get a = 1 here.\nSecond we get b = 2 there.';
    expect(extractSkeleton(text, { maxSnippets: 1 })).toEqual(['First we get a = 1 here.']);
  });

  it('collapses whitespace, drops short / \\boxed / #### / case-insensitive duplicates', () => {
    const text = [
      'Then   3x\t+ 5 = 20.', // collapsed to "Then 3x + 5 = 20."
      'THEN 3X + 5 = 20.', // duplicate ignoring case → dropped
      'a = 1 + 2', // 9 chars → dropped
      'The total is #### 42 apples', // contains #### → dropped
      'So the result: \\boxed{42} indeed', // contains \boxed → dropped
      'Consider the remaining cases now.', // "consider" 2
    ].join('\n');
    expect(extractSkeleton(text)).toEqual(['Then 3x + 5 = 20.', 'Consider the remaining cases now.']);
  });

  it('cuts fragments longer than 160 characters, right-trims, appends "..."; scores the full text', () => {
    const long = 'x'.repeat(159) + ' ' + 'y'.repeat(40) + ' = 7'; // 204 characters
    const [snip] = extractSkeleton(long);
    expect(snip).toBe('x'.repeat(159) + '...'); // first 160 = 159 x + " " → trimmed → + "..."
    // the "=" and the digit beyond the cut still counted: the long fragment (score 3) beats a shorter
    // one with score 2 placed earlier
    const [best] = extractSkeleton('Let us look at it.\n' + long, { maxSnippets: 1 });
    expect(best).toBe('x'.repeat(159) + '...');
  });

  it('counts characters as code points', () => {
    // 11 astral characters + "." = 12 code points (23 UTF-16 units): kept
    const frag = '𝑥'.repeat(11) + '.';
    expect(extractSkeleton(frag)).toEqual([frag]);
    expect(extractSkeleton('𝑥'.repeat(10) + '.')).toEqual([]); // 11 code points < 12
  });
});

describe('hint prompt', () => {
  it('question, blank line, header, numbered skeleton, closing line', () => {
    const text = buildHintPrompt('  How many apples?  ', ['Then 3x + 5 = 20.', 'We check: 3*5 + 5 = 20.'], 'deepscaler_10240');
    expect(text).toBe(
      ['How many apples?', '', HINT_HEADER, HINT_SKELETON_LABEL, '  1. Then 3x + 5 = 20.', '  2. We check: 3*5 + 5 = 20.', HINT_CLOSING_BOXED].join('\n'),
    );
    expect(HINT_CLOSING_BOXED).toContain('\\boxed{}');
  });
  it('no snippets ⇒ no skeleton lines; GSM8K sources close with ####', () => {
    expect(buildHintPrompt('Q?', [], 'openai/GSM8K')).toBe(['Q?', '', HINT_HEADER, HINT_CLOSING_GSM8K].join('\n'));
    expect(HINT_CLOSING_GSM8K).toContain('"####"');
    expect(isGsm8kSource('openai/gsm8k')).toBe(true);
    expect(isGsm8kSource('lighteval/MATH')).toBe(false);
  });
});

describe('choosing the source row', () => {
  it('only successful rows, deterministic per PRNG key, −1 when none succeeded', () => {
    const rewards = [0, 1, 0, 1, 1];
    const key = { seed: 7, step: 3, purpose: 'hint' };
    const a = chooseHintSource(rewards, new Prng(key).fork('12'));
    const b = chooseHintSource(rewards, new Prng(key).fork('12'));
    expect(a).toBe(b);
    expect([1, 3, 4]).toContain(a);
    expect(chooseHintSource([0, 0, 0], new Prng(key))).toBe(-1);
    expect(chooseHintSource([], new Prng(key))).toBe(-1);
  });
  it('is uniform over the successful rows', () => {
    const counts = new Map<number, number>();
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const c = chooseHintSource([0, 1, 0, 1, 1], new Prng({ seed: 1, step: i, purpose: 'hint' }));
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 3, 4]);
    // each expected N/3 = 1000, binomial sd = sqrt(3000·1/3·2/3) ≈ 25.8; allow ±5 sd
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(130);
  });
});
