/**
 * verl-format Parquet prompt files (spec §13), read with hyparquet.
 *
 * Columns: `data_source: string`, `prompt: list<struct<content, role>>` (system + user messages),
 * `ability: string` (optional here; it becomes the SEC category), `reward_model: struct<ground_truth, style>`,
 * `extra_info: struct<answer, index: int, question, split>` (optional; without it the row number is the index).
 *
 * Duplicated questions are reported, never silently merged: the deepscaler file repeats some question texts,
 * sometimes with different answers, and which one is "right" is a data decision for the caller.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { SchemaTree } from 'hyparquet';
import type { PromptRow } from './promptRow.ts';

export interface DuplicateGroup {
  question: string;
  /** `index` of every row with this exact question text, in file order. */
  rows: number[];
}

export interface DuplicateReport {
  /** Distinct question texts occurring more than once (exact string comparison). */
  duplicatedQuestions: number;
  /** Rows beyond the first occurrence of each question: total rows − distinct questions. */
  extraRows: number;
  groups: DuplicateGroup[];
}

export interface AnswerConflict {
  question: string;
  /** `index` of every row with this question. */
  rows: number[];
  /** The ground truth of each of those rows, aligned with `rows`. */
  answers: string[];
}

export interface PromptFile {
  file: string;
  rows: PromptRow[];
  duplicates: DuplicateReport;
  /** Duplicated questions whose rows do not all carry the same ground-truth string. */
  conflicts: AnswerConflict[];
}

function child(node: SchemaTree | undefined, name: string): SchemaTree | undefined {
  return node?.children.find((c) => c.element.name === name);
}

function describeType(node: SchemaTree): string {
  const e = node.element;
  if (node.children.length > 0) return e.converted_type === 'LIST' ? 'list' : 'struct';
  return String(e.type);
}

/** Schema checks: every required column present with the type this loader reads. */
function checkSchema(file: string, root: SchemaTree): void {
  const fail = (col: string, what: string): never => {
    throw new Error(`${file}: column "${col}" ${what} (all rows)`);
  };
  const need = (parent: SchemaTree, path: string): SchemaTree => {
    const name = path.split('.').pop()!;
    const node = child(parent, name);
    if (node === undefined) return fail(path, 'is missing');
    return node;
  };
  const isString = (n: SchemaTree): boolean => n.children.length === 0 && n.element.type === 'BYTE_ARRAY';
  const expectString = (n: SchemaTree, path: string): void => {
    if (!isString(n)) fail(path, `has type ${describeType(n)}, expected string`);
  };

  expectString(need(root, 'data_source'), 'data_source');

  const prompt = need(root, 'prompt');
  if (prompt.element.converted_type !== 'LIST') fail('prompt', `has type ${describeType(prompt)}, expected list<struct<content, role>>`);
  const element = prompt.children[0]?.children[0];
  if (element === undefined || element.children.length === 0) fail('prompt', 'is not a list of structs');
  expectString(need(element!, 'prompt.element.content'), 'prompt.element.content');
  expectString(need(element!, 'prompt.element.role'), 'prompt.element.role');

  const rm = need(root, 'reward_model');
  if (rm.children.length === 0) fail('reward_model', `has type ${describeType(rm)}, expected struct<ground_truth, style>`);
  expectString(need(rm, 'reward_model.ground_truth'), 'reward_model.ground_truth');

  const ability = child(root, 'ability');
  if (ability !== undefined) expectString(ability, 'ability');
  const extra = child(root, 'extra_info');
  if (extra !== undefined) {
    if (extra.children.length === 0) fail('extra_info', `has type ${describeType(extra)}, expected struct`);
    const index = child(extra, 'index');
    if (index !== undefined && !(index.children.length === 0 && (index.element.type === 'INT64' || index.element.type === 'INT32'))) {
      fail('extra_info.index', `has type ${describeType(index)}, expected an integer`);
    }
  }
}

interface RawMessage {
  content?: unknown;
  role?: unknown;
}

function rowError(file: string, row: number, column: string, what: string): Error {
  return new Error(`${file}: row ${row}, column "${column}": ${what}`);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint') return `${v}n`;
  return JSON.stringify(v) ?? String(v);
}

/**
 * Load a verl prompt file. `id` = `${data_source}:${extra_info.index}`, `question` = the user message,
 * `system` = the system message, `answer` = `reward_model.ground_truth`, `category` = `ability` (or "default").
 * Throws an Error naming the file (and the row and column) on unreadable files, missing or mistyped columns,
 * rows without a user message or a ground truth, and repeated indices.
 */
export async function loadVerlParquet(file: string): Promise<PromptFile> {
  let raw: Array<Record<string, unknown>>;
  try {
    const buf = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buf);
    const schema = parquetSchema(metadata);
    checkSchema(file, schema);
    const present = new Set(schema.children.map((c) => c.element.name));
    const columns = ['data_source', 'prompt', 'ability', 'reward_model', 'extra_info'].filter((c) => present.has(c));
    raw = await parquetReadObjects({ file: buf, metadata, columns });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith(`${file}:`)) throw e;
    throw new Error(`${file}: cannot read as Parquet: ${msg}`, { cause: e });
  }

  const rows: PromptRow[] = [];
  const seenIndex = new Map<number, number>();
  for (let r = 0; r < raw.length; r++) {
    const rec = raw[r];
    const dataSource = rec.data_source;
    if (typeof dataSource !== 'string' || dataSource === '') throw rowError(file, r, 'data_source', `expected a non-empty string, got ${show(dataSource)}`);

    const prompt = rec.prompt;
    if (!Array.isArray(prompt)) throw rowError(file, r, 'prompt', `expected a list of messages, got ${show(prompt)}`);
    let question: string | undefined;
    let system: string | undefined;
    for (const m of prompt as Array<RawMessage | null>) {
      if (m === null || typeof m.content !== 'string' || typeof m.role !== 'string') {
        throw rowError(file, r, 'prompt', `message without string content/role: ${show(m)}`);
      }
      if (m.role === 'user') question = m.content; // the last user message is the question
      else if (m.role === 'system' && system === undefined) system = m.content;
    }
    if (question === undefined) throw rowError(file, r, 'prompt', 'no user message');

    const rm = rec.reward_model as { ground_truth?: unknown } | null | undefined;
    const answer = rm?.ground_truth;
    if (typeof answer !== 'string' || answer.trim() === '') {
      throw rowError(file, r, 'reward_model.ground_truth', `row has no answer (got ${show(answer)})`);
    }

    const extra = rec.extra_info as { index?: unknown; split?: unknown } | null | undefined;
    let index = r;
    if (extra?.index !== undefined && extra.index !== null) {
      const v = extra.index;
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw rowError(file, r, 'extra_info.index', `expected a non-negative integer, got ${show(v)}`);
      index = n;
    }
    const prev = seenIndex.get(index);
    if (prev !== undefined) throw rowError(file, r, 'extra_info.index', `index ${index} already used by row ${prev}`);
    seenIndex.set(index, r);

    const ability = rec.ability;
    const row: PromptRow = {
      id: `${dataSource}:${index}`,
      index,
      question,
      answer,
      dataSource,
      category: typeof ability === 'string' && ability !== '' ? ability : 'default',
    };
    if (system !== undefined) row.system = system;
    if (typeof extra?.split === 'string') row.meta = { split: extra.split };
    rows.push(row);
  }

  const { duplicates, conflicts } = findDuplicates(rows);
  return { file, rows, duplicates, conflicts };
}

/** Group rows by exact question text; report repeated questions and those with differing answers. */
export function findDuplicates(rows: readonly PromptRow[]): { duplicates: DuplicateReport; conflicts: AnswerConflict[] } {
  const byQuestion = new Map<string, PromptRow[]>();
  for (const row of rows) {
    const list = byQuestion.get(row.question);
    if (list === undefined) byQuestion.set(row.question, [row]);
    else list.push(row);
  }
  const groups: DuplicateGroup[] = [];
  const conflicts: AnswerConflict[] = [];
  for (const [question, list] of byQuestion) {
    if (list.length < 2) continue;
    groups.push({ question, rows: list.map((x) => x.index) });
    const answers = list.map((x) => x.answer);
    if (new Set(answers).size > 1) conflicts.push({ question, rows: list.map((x) => x.index), answers });
  }
  return {
    duplicates: { duplicatedQuestions: groups.length, extraRows: rows.length - byQuestion.size, groups },
    conflicts,
  };
}
