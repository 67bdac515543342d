/** Chat-style arithmetic (task.arithmeticStyle = chat): the question text and the last-integer verifier. */
import { describe, expect, it } from 'vitest';
import { generateArithmetic, verifierFor, verifyArithmeticChat } from '../../tasks/index.ts';

describe('chat-style arithmetic prompts', () => {
  it('asks the same problems as the bare style, as questions, with their own data source', () => {
    const bare = generateArithmetic({ seed: 3, count: 40 });
    const chat = generateArithmetic({ seed: 3, count: 40, style: 'chat' });
    expect(chat.map((r) => r.answer)).toEqual(bare.map((r) => r.answer));
    chat.forEach((r, i) => {
      expect(r.dataSource).toBe('arithmetic-chat');
      // `12+7=` ↔ `What is 12 + 7?`
      expect(r.question).toBe(`What is ${bare[i].question.slice(0, -1).replace(/(\d)([+*-])/g, '$1 $2 ')}?`);
    });
    expect(() => generateArithmetic({ seed: 3, count: 1, style: 'spoken' as never })).toThrow(/style/);
  });
});

describe('verifyArithmeticChat', () => {
  const cases: Array<[string, string, 0 | 1, string | null]> = [
    ['12 + 7 = 19.', '19', 1, '19'],
    ['12 + 7 = 19', '19', 1, '19'],
    ['The answer is 19, since 12 + 7 = 19', '19', 1, '19'],
    ['12 + 7 = 18.', '19', 0, '18'],
    ['To add 12 and 7, we count up', '19', 0, '7'],
    ['3 - 8 = -5', '-5', 1, '-5'],
    ['20-1', '19', 0, '1'], // subtraction, not the number -1
    ['1,234 + 1 = 1,235', '1235', 1, '1235'],
    ['12 + 7 = 19.5', '19', 0, '19.5'],
    ['no number here', '19', 0, null],
    ['', '0', 0, null],
  ];
  it.each(cases)('%j against %s', (response, answer, reward, parsed) => {
    expect(verifyArithmeticChat(response, answer)).toEqual({ reward, parsed });
  });
  it('is what verifierFor routes arithmetic-chat rows to; a non-integer answer is an error', () => {
    expect(verifierFor('arithmetic-chat')('So 4 + 5 = 9.', '9').reward).toBe(1);
    expect(verifierFor('arithmetic')('So 4 + 5 = 9.', '9').reward).toBe(0); // bare: first integer
    expect(() => verifyArithmeticChat('1', '1.5')).toThrow(/answer must be an integer/);
  });
});
