/**
 * Verifier for the arithmetic task: the response is correct iff the first integer it contains, before the end
 * marker, equals the answer. Integers are compared by value (BigInt), so `-0`/`0` and leading zeros agree;
 * anything else (a decimal, a missing number) is wrong.
 */
import { ARITHMETIC_END_MARKER } from '../arithmetic.ts';

export interface ArithmeticVerdict {
  reward: 0 | 1;
  /** The integer read from the response (as written), or null when there is none before the end marker. */
  parsed: string | null;
}

const FIRST_INTEGER = /-?\d+/;
const INTEGER = /^\s*-?\d+\s*$/;

export function verifyArithmetic(response: string, answer: string): ArithmeticVerdict {
  if (!INTEGER.test(answer)) throw new Error(`verifyArithmetic: answer must be an integer, got ${JSON.stringify(answer)}`);
  const end = response.indexOf(ARITHMETIC_END_MARKER);
  const head = end < 0 ? response : response.slice(0, end);
  const m = FIRST_INTEGER.exec(head);
  if (m === null) return { reward: 0, parsed: null };
  // A digit right after the match would be impossible (\d+ is greedy); a decimal point followed by digits
  // means the number is not an integer, which is wrong rather than "first integer = the part before the dot".
  const after = head.slice(m.index + m[0].length);
  if (/^\.\d/.test(after)) return { reward: 0, parsed: m[0] + after.match(/^\.\d+/)![0] };
  const reward = BigInt(m[0]) === BigInt(answer.trim()) ? 1 : 0;
  return { reward, parsed: m[0] };
}

const INTEGERS = /-?\d+/g;

/**
 * Verifier for chat-style arithmetic (`What is 12 + 7?`): correct iff the LAST integer of the response equals
 * the answer (a chat model restates the problem first: `12 + 7 = 19.`). Thousands separators between digits
 * (`1,234`) are removed first; a last number with a decimal part (`19.5`) is wrong; no number is wrong.
 */
export function verifyArithmeticChat(response: string, answer: string): ArithmeticVerdict {
  if (!INTEGER.test(answer)) throw new Error(`verifyArithmeticChat: answer must be an integer, got ${JSON.stringify(answer)}`);
  const text = response.replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  let last: RegExpExecArray | null = null;
  for (let m = INTEGERS.exec(text); m !== null; m = INTEGERS.exec(text)) last = m;
  INTEGERS.lastIndex = 0;
  if (last === null) return { reward: 0, parsed: null };
  const before = text.slice(0, last.index);
  if (/\d\.$/.test(before)) return { reward: 0, parsed: (before.match(/\d+\.$/)?.[0] ?? '') + last[0] };
  // `-` right after a digit is subtraction (`19-3`), not a sign
  const digits = last[0].startsWith('-') && /\d\s*$/.test(before) ? last[0].slice(1) : last[0];
  return { reward: BigInt(digits) === BigInt(answer.trim()) ? 1 : 0, parsed: digits };
}
