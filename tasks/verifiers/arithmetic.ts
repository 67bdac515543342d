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
