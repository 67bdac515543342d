/**
 * JSONL prompt files: one JSON object per line,
 *   {"id"?: string, "question": string, "answer": string | number, "dataSource"?: string,
 *    "category"?: string, "system"?: string, "meta"?: {[k]: string | number}}.
 * Blank lines are skipped. Defaults: dataSource = the `dataSource` option, else "jsonl"; id =
 * `${dataSource}:${index}` with index = position among the records (0-based); category = "default".
 * Every error names the file and the 1-based line number.
 */
import { readFile } from 'node:fs/promises';
import type { PromptRow } from './promptRow.ts';

export interface JsonlOptions {
  /** dataSource for records that do not carry one (default "jsonl"). */
  dataSource?: string;
}

function lineError(file: string, line: number, what: string): Error {
  return new Error(`${file}:${line}: ${what}`);
}

function optionalString(rec: Record<string, unknown>, key: string, file: string, line: number): string | undefined {
  const v = rec[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw lineError(file, line, `field "${key}" must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** Parse JSONL text (`file` is only used in error messages). */
export function parseJsonlPrompts(text: string, file: string, opts: JsonlOptions = {}): PromptRow[] {
  const rows: PromptRow[] = [];
  const idLine = new Map<string, number>();
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const lineNo = k + 1;
    const src = lines[k].trim();
    if (src === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(src);
    } catch (e) {
      throw lineError(file, lineNo, `invalid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw lineError(file, lineNo, 'expected a JSON object');
    const o = rec as Record<string, unknown>;
    const question = o.question;
    if (typeof question !== 'string' || question.trim() === '') throw lineError(file, lineNo, `field "question" must be a non-empty string, got ${JSON.stringify(question)}`);
    let answer = o.answer;
    if (typeof answer === 'number' && Number.isFinite(answer)) answer = String(answer);
    if (typeof answer !== 'string' || answer.trim() === '') throw lineError(file, lineNo, `field "answer" must be a non-empty string or a number, got ${JSON.stringify(answer)}`);
    const dataSource = optionalString(o, 'dataSource', file, lineNo) ?? opts.dataSource ?? 'jsonl';
    const index = rows.length;
    const id = optionalString(o, 'id', file, lineNo) ?? `${dataSource}:${index}`;
    const prev = idLine.get(id);
    if (prev !== undefined) throw lineError(file, lineNo, `id "${id}" already used on line ${prev}`);
    idLine.set(id, lineNo);
    const row: PromptRow = { id, index, question, answer, dataSource, category: optionalString(o, 'category', file, lineNo) ?? 'default' };
    const system = optionalString(o, 'system', file, lineNo);
    if (system !== undefined) row.system = system;
    if (o.meta !== undefined && o.meta !== null) {
      if (typeof o.meta !== 'object' || Array.isArray(o.meta)) throw lineError(file, lineNo, 'field "meta" must be an object');
      const meta: Record<string, string | number> = {};
      for (const [key, v] of Object.entries(o.meta as Record<string, unknown>)) {
        if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) throw lineError(file, lineNo, `meta.${key} must be a string or a finite number`);
        meta[key] = v;
      }
      row.meta = meta;
    }
    rows.push(row);
  }
  return rows;
}

/** Read and parse a JSONL prompt file. */
export async function loadJsonlPrompts(file: string, opts: JsonlOptions = {}): Promise<PromptRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  return parseJsonlPrompts(text, file, opts);
}
