/**
 * Reading a JSON-lines rows file given on the command line (`dare estimate`, `dare select`): one parsed
 * object per non-blank line, a leading BOM tolerated, and every failure a UserError naming `FILE` or
 * `FILE:LINE`. The callers validate the rows' fields; what they share is here.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { UserError } from '../events/errors.ts';

/** A value as an error message shows it. */
export function describeValue(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

/** The problem with a row's `promptId` (a non-empty string or a finite number), or undefined when it is good. */
export function promptIdProblem(r: Record<string, unknown>): string | undefined {
  const id = r.promptId;
  if (id === undefined || id === null) return 'missing promptId';
  if (!(typeof id === 'string' && id !== '') && !(typeof id === 'number' && Number.isFinite(id))) {
    return `promptId: expected a non-empty string or a number, got ${describeValue(id)}`;
  }
  return undefined;
}

/**
 * Call `row` with each line's parsed value and its 1-based line number, in order; blank lines carry no row.
 * `row` throws a UserError for a bad row; reading stops there (a large file is not read to its end).
 */
export async function forEachJsonLine(file: string, row: (value: unknown, lineNo: number) => void): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (e as Error).message})`}`);
  }
  if (!info.isFile()) throw new UserError(`${file}: not a file`);
  let lineNo = 0;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let o: unknown;
      try {
        o = JSON.parse(lineNo === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line);
      } catch (e) {
        throw new UserError(`${file}:${lineNo}: invalid JSON (${(e as Error).message})`);
      }
      row(o, lineNo);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}:${lineNo + 1}: cannot read (${(e as Error).message})`);
  } finally {
    lines.close();
    stream.destroy();
  }
}
