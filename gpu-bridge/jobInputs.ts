/**
 * The checks of what a bridge job reads: prompt rows from the prompts database, group blobs from the log, the
 * verifier's reward, and the fields of a worker's result. Every fault is a BridgeInputError (`fail`) naming
 * the request and the field, so the bridge logs RunFailed with that reason instead of logging a bad fact.
 */
import type { PromptRow } from '../events/promptRow.ts';
import { decodeGroupBlob, type GroupBlob } from './blobs.ts';
import { fail, type BridgeLog, type BridgeTasks, type RowBytes } from './bridgeTypes.ts';

export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what}: expected an array in the worker's result`);
  return v;
}

export function finite(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : NaN;
  if (!Number.isFinite(n)) fail(`${what}: the worker returned ${String(v)}, not a finite number`);
  return n;
}

/**
 * The rows of a stored group blob as byte views, when the blob passes every check decodeGroupBlob makes
 * (else null: the caller lets decodeGroupBlob name the fault). The blob was unpacked from a copy of the
 * stored bytes (EventLog.getBlob), so its bins belong to this value alone and views of them stay valid.
 */
function storedRowBytes(value: unknown): RowBytes[] | null {
  if (!isMap(value) || !Array.isArray(value.rows)) return null;
  const out: RowBytes[] = new Array(value.rows.length);
  for (let i = 0; i < value.rows.length; i++) {
    const r = value.rows[i] as unknown;
    if (!isMap(r)) return null;
    const { promptTokens, tokens, logprobs, text, finish } = r;
    if (!(promptTokens instanceof Uint8Array) || !(tokens instanceof Uint8Array) || !(logprobs instanceof Uint8Array)) return null;
    if (promptTokens.byteLength % 4 !== 0 || tokens.byteLength % 4 !== 0 || logprobs.byteLength !== tokens.byteLength) return null;
    if (typeof text !== 'string' || (finish !== 'eos' && finish !== 'length')) return null;
    out[i] = { promptTokens, tokens, logprobs, finish };
  }
  return out;
}

/** A group's rows as checked byte views of its stored blob, read from the log (score and update jobs send bytes). */
export function storedGroupBytes(log: BridgeLog, key: string, where: string): RowBytes[] {
  const value = log.getBlob(key);
  const rows = storedRowBytes(value);
  if (!rows) {
    try {
      decodeGroupBlob(value, key);
    } catch (err) {
      fail(`${where}: ${(err as Error).message}`);
    }
    fail(`${where}: blob ${key}: malformed`);
  }
  return rows;
}

/** A group's rows from its blob (`cache`: groups already read by the same request). */
export function groupBlob(log: BridgeLog, key: string, where: string, cache?: Map<string, GroupBlob>): GroupBlob {
  const hit = cache?.get(key);
  if (hit) return hit;
  let g: GroupBlob;
  try {
    g = decodeGroupBlob(log.getBlob(key), key);
  } catch (err) {
    fail(`${where}: ${(err as Error).message}`);
  }
  cache?.set(key, g);
  return g;
}

/** A worker's sample as decodeRow checks it; its bins are still the worker's. */
export interface CheckedSample {
  promptTokens: Uint8Array;
  tokens: Uint8Array;
  logprobs: Uint8Array;
  text: string;
  finish: 'eos' | 'length';
}

/** A worker's sample checked as decodeRow checks it; null when a check fails (the caller lets decodeRow name the fault). */
export function checkSample(v: unknown): CheckedSample | null {
  if (!isMap(v)) return null;
  const { promptTokens, tokens, logprobs, text, finish } = v;
  if (!(promptTokens instanceof Uint8Array) || !(tokens instanceof Uint8Array) || !(logprobs instanceof Uint8Array)) return null;
  if (promptTokens.byteLength % 4 !== 0 || tokens.byteLength % 4 !== 0 || logprobs.byteLength !== tokens.byteLength) return null;
  if (typeof text !== 'string' || (finish !== 'eos' && finish !== 'length')) return null;
  return { promptTokens, tokens, logprobs, text, finish };
}

/** Prompt `index` of the prompts database; undefined when it has none (the sim's prompts need no row). */
export function promptRow(log: BridgeLog, index: number): PromptRow | undefined {
  const r = log.getPrompt(index);
  if (!isMap(r)) return undefined;
  if (typeof r.question !== 'string' || typeof r.answer !== 'string' || typeof r.dataSource !== 'string' || typeof r.category !== 'string') {
    fail(`prompt ${index}: malformed row in the prompts database (question, answer, dataSource and category must be strings)`);
  }
  return r as unknown as PromptRow;
}

export function requirePrompt(log: BridgeLog, index: number, where: string): PromptRow {
  const row = promptRow(log, index);
  if (!row) fail(`${where}: prompt index ${index} is not in the prompts database`);
  return row;
}

/** The verifier's reward of `text` for `row` (BridgeDeps.tasks). */
export function verifiedReward(tasks: BridgeTasks | undefined, row: PromptRow, text: string, where: string): number {
  try {
    if (!tasks) throw new Error('no verifier given to the bridge (BridgeDeps.tasks)');
    return tasks.reward(row.dataSource, text, row.answer);
  } catch (err) {
    fail(`${where}: verifier of ${row.dataSource}: ${(err as Error).message}`);
  }
}
