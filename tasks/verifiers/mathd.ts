/**
 * Hendrycks MATH / "mathd" answer normalisation, ported statement by statement from the reference grader
 * (rllm's `mathd_normalize_answer` / `_strip_string`, itself from the MATH repository), including its quirks:
 * a step that raises in Python (e.g. `\sqrt` at the very end, two `\text{ ` unit markers) makes the whole
 * normalisation fall back to the trimmed, `\text{}`-unwrapped answer, exactly as the Python `try/except` does.
 * Two answers match iff their normalised strings are identical.
 */

class NormaliseError extends Error {}

/** `\frac1b`, `\frac12`, `\frac1{72}` → braced forms; leaves `\frac{..}{..}` alone. */
function fixFracs(s: string): string {
  const parts = s.split('\\frac');
  let out = parts[0];
  for (const sub of parts.slice(1)) {
    out += '\\frac';
    if (sub.length === 0) throw new NormaliseError('\\frac at end'); // Python: substr[0] IndexError
    if (sub[0] === '{') {
      out += sub;
      continue;
    }
    if (sub.length < 2) return s; // Python returns the input unchanged here
    const a = sub[0];
    const b = sub[1];
    if (b !== '{') out += `{${a}}{${b}}${sub.slice(2)}`;
    else out += `{${a}}${b}${sub.slice(2)}`;
  }
  return out;
}

/** Python `str(int(x))` round-trip check: the canonical decimal spelling of an integer. */
const CANONICAL_INT = /^(0|-?[1-9]\d*)$/;

/** `a/b` with a, b canonical integers → `\frac{a}{b}`. */
function fixASlashB(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts;
  if (!CANONICAL_INT.test(a) || !CANONICAL_INT.test(b)) return s;
  return `\\frac{${a}}{${b}}`;
}

/** `\text{ ` only ever introduces units: keep what precedes it. */
function removeRightUnits(s: string): string {
  if (!s.includes('\\text{ ')) return s;
  const splits = s.split('\\text{ ');
  if (splits.length !== 2) throw new NormaliseError('several \\text{ unit markers'); // Python assert
  return splits[0];
}

/** `\sqrt3` → `\sqrt{3}`. */
function fixSqrt(s: string): string {
  if (!s.includes('\\sqrt')) return s;
  const splits = s.split('\\sqrt');
  let out = splits[0];
  for (const sp of splits.slice(1)) {
    if (sp.length === 0) throw new NormaliseError('\\sqrt at end'); // Python: split[0] IndexError
    out += sp[0] !== '{' ? `\\sqrt{${sp[0]}}${sp.slice(1)}` : `\\sqrt${sp}`;
  }
  return out;
}

function stripString(input: string): string {
  let s = input;
  s = s.replaceAll('\n', '');
  s = s.replaceAll('\\!', '');
  s = s.replaceAll('\\\\', '\\');
  s = s.replaceAll('tfrac', 'frac');
  s = s.replaceAll('dfrac', 'frac');
  s = s.replaceAll('\\left', '');
  s = s.replaceAll('\\right', '');
  s = s.replaceAll('^{\\circ}', '');
  s = s.replaceAll('^\\circ', '');
  s = s.replaceAll('\\$', '');
  s = removeRightUnits(s);
  s = s.replaceAll('\\%', '');
  s = s.replace(/ \./g, ' 0.');
  s = s.replaceAll('{.', '{0.');
  if (s.length === 0) return s;
  if (s[0] === '.') s = '0' + s;
  // "k = 5" → "5": only when there is exactly one "=" and what precedes it is at most 2 characters.
  const eq = s.split('=');
  if (eq.length === 2 && eq[0].length <= 2) s = eq[1];
  s = fixSqrt(s);
  s = s.replaceAll(' ', '');
  s = fixFracs(s);
  if (s === '0.5') s = '\\frac{1}{2}';
  s = fixASlashB(s);
  return s;
}

const TEXT_WRAPPER = /^\\text\{(.+?)\}$/;

/** mathd normal form of an answer (null stays null). */
export function mathdNormalize(answer: string | null): string | null {
  if (answer === null) return null;
  let a = answer.trim();
  const m = TEXT_WRAPPER.exec(a);
  if (m !== null) a = m[1].trim();
  try {
    return stripString(a);
  } catch (e) {
    if (e instanceof NormaliseError) return a;
    throw e;
  }
}

/** True iff both answers have the same mathd normal form. */
export function mathdEqual(given: string, groundTruth: string): boolean {
  return mathdNormalize(given) === mathdNormalize(groundTruth);
}
