/**
 * The rollout-group blob (DESIGN §3): what the log's `blobs` database holds under a group id
 * (`g/<step>/<promptIndex>`, actors/cadence.ts groupId). RolloutCompleted carries only the small facts
 * (reward, length, log-prob sum); the rows themselves live here, so score and update jobs — and a resumed
 * run re-applying logged updates — read them back without regenerating anything.
 *
 * Stored form (standard MessagePack, readable from Python; docs/log-format.md):
 *   { rows: [{ promptTokens: bin i4, tokens: bin i4, logprobs: bin f4, text: str, finish: "eos"|"length" }] }
 * Typed arrays are `bin` of their little-endian bytes (events/bin.ts; the host is little-endian).
 * `tokens` excludes the prompt and includes the EOS token when finish = "eos"; `logprobs` has one entry per
 * token: the behaviour policy's per-token log-probs (nats) at the rollout temperature.
 */
import { fromBytes, toBytes } from '../events/bin.ts';

export type Finish = 'eos' | 'length';

/** One sampled response, decoded. */
export interface RolloutRow {
  promptTokens: Int32Array;
  tokens: Int32Array;
  /** per-token behaviour log-probs (nats), one per entry of `tokens` */
  logprobs: Float32Array;
  text: string;
  finish: Finish;
}

export interface GroupBlob {
  rows: RolloutRow[];
}

/** What `putBlobs` stores for a group: plain maps with Uint8Array views of the typed arrays' bytes. */
export interface StoredGroupBlob {
  rows: Array<{ promptTokens: Uint8Array; tokens: Uint8Array; logprobs: Uint8Array; text: string; finish: Finish }>;
}

/** A Uint8Array holding a copy of the bytes of `v` (detached from any shared buffer the worker used). */
function ownBytes(v: ArrayBufferView): Uint8Array {
  return Uint8Array.from(toBytes(v));
}

/** The stored form of a group's rows. */
export function encodeGroupBlob(rows: readonly RolloutRow[]): StoredGroupBlob {
  return {
    rows: rows.map((r) => ({
      promptTokens: ownBytes(r.promptTokens),
      tokens: ownBytes(r.tokens),
      logprobs: ownBytes(r.logprobs),
      text: r.text,
      finish: r.finish,
    })),
  };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function bin(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Error(`${field}: expected a bin (Uint8Array), got ${v === null ? 'null' : typeof v}`);
  return v;
}

/**
 * One row from a map with bin fields (a stored blob row or a worker's rollout sample). `field` names the
 * row in error messages. Checks the invariants the score/update jobs rely on.
 */
export function decodeRow(v: unknown, field: string): RolloutRow {
  if (!isMap(v)) throw new Error(`${field}: expected a map`);
  const promptTokens = fromBytes('i4', bin(v.promptTokens, `${field}.promptTokens`), `${field}.promptTokens`);
  const tokens = fromBytes('i4', bin(v.tokens, `${field}.tokens`), `${field}.tokens`);
  const logprobs = fromBytes('f4', bin(v.logprobs, `${field}.logprobs`), `${field}.logprobs`);
  if (logprobs.length !== tokens.length) {
    throw new Error(`${field}: ${logprobs.length} logprobs for ${tokens.length} tokens (one per token expected)`);
  }
  if (typeof v.text !== 'string') throw new Error(`${field}.text: expected a string`);
  if (v.finish !== 'eos' && v.finish !== 'length') throw new Error(`${field}.finish: expected "eos" or "length", got ${JSON.stringify(v.finish)}`);
  return { promptTokens, tokens, logprobs, text: v.text, finish: v.finish };
}

/** Decode a stored group blob (`key` names it in errors; `undefined` = missing blob). */
export function decodeGroupBlob(value: unknown, key: string): GroupBlob {
  if (value === undefined) throw new Error(`blob ${key}: not in the log`);
  if (!isMap(value) || !Array.isArray(value.rows)) throw new Error(`blob ${key}: expected a map with a "rows" array`);
  return { rows: value.rows.map((r, i) => decodeRow(r, `blob ${key} rows[${i}]`)) };
}

/** Behaviour log-prob sum of a row in float64 (nats): the float32 entries summed in double precision. */
export function logprobSum(lp: Float32Array): number {
  let s = 0;
  for (let i = 0; i < lp.length; i++) s += lp[i];
  return s;
}

/** `<groupId>#<row>` → its parts (hint sources of RolloutRequested). */
export function parseRowRef(ref: string, field: string): { group: string; row: number } {
  const at = ref.lastIndexOf('#');
  const row = at > 0 ? Number(ref.slice(at + 1)) : NaN;
  if (!(Number.isInteger(row) && row >= 0) || ref.slice(at + 1) === '') {
    throw new Error(`${field}: ${JSON.stringify(ref)} is not "<groupId>#<row>"`);
  }
  return { group: ref.slice(0, at), row };
}
