/**
 * What the single-writer ceiling benchmark (bench/ceiling/ceiling.ts) appends: realistic RolloutCompleted
 * events and their group blobs, built the same way by the producer processes (producer.ts) and by the
 * check that reads them back, so the check can compare the logged bytes with the sent ones.
 *
 * A group is `groupSize` responses of `tokens` tokens each, stored the way the bridge stores a rollout group
 * (gpu-bridge/blobs.ts encodeGroupBlob): prompt token ids (i4), response token ids (i4), per-token log-probs
 * (f4) and the response text (ASCII, `textCharsPerToken` characters per token). The rows come from a small
 * per-producer pool (cheap to build, so the producers spend their CPU on the wire, not on making data);
 * random ids and log-probs, so nothing compresses.
 */
import { groupId, makeEvent, rolloutCompletedId, type EventOf } from '../../events/catalogue.ts';
import { encodeGroupBlob, type RolloutRow, type StoredGroupBlob } from '../../gpu-bridge/blobs.ts';

export interface RolloutShape {
  /** responses per group (G) */
  groupSize: number;
  /** tokens per response (L) */
  tokens: number;
  /** prompt tokens per row */
  promptTokens: number;
  /** characters of response text per token (0: no text) */
  textCharsPerToken: number;
}

export const REALISTIC: RolloutShape = { groupSize: 8, tokens: 2048, promptTokens: 256, textCharsPerToken: 4 };

/** The run id the benchmark's store serves. */
export const CEILING_RUN = 'ceiling';
/** Request/reply subject of the rollout writes with blobs (ceiling.ts serveRolloutWrites). */
export const ROLLOUT_SUBJECT = `dare.${CEILING_RUN}.bench.rollouts`;
/** Published by the benchmark once every producer is connected: start appending now. */
export const GO_SUBJECT = `dare.${CEILING_RUN}.bench.go`;

/** Distinct rows per producer; rollout i uses rows (i + r) mod POOL. */
const POOL = 16;

/** A small deterministic generator (xorshift32): the same rows in every process. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function makeRow(producer: number, k: number, shape: RolloutShape): RolloutRow {
  const next = xorshift(((producer + 1) * 7919 + k * 104729) >>> 0);
  const promptTokens = new Int32Array(shape.promptTokens);
  for (let i = 0; i < promptTokens.length; i++) promptTokens[i] = next() % 151_936;
  const tokens = new Int32Array(shape.tokens);
  for (let i = 0; i < tokens.length; i++) tokens[i] = next() % 151_936;
  const logprobs = new Float32Array(shape.tokens);
  for (let i = 0; i < logprobs.length; i++) logprobs[i] = -(next() % 100_000) / 10_000;
  const chars = shape.tokens * shape.textCharsPerToken;
  let text = '';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 +-=()';
  const piece: string[] = [];
  for (let i = 0; i < Math.min(chars, 4096); i++) piece.push(alphabet[next() % alphabet.length]);
  const p = piece.join('');
  while (text.length < chars) text += p;
  return { promptTokens, tokens, logprobs, text: text.slice(0, chars), finish: k % 3 === 0 ? 'length' : 'eos' };
}

/** Rollout `i` of `producer`: its group key, its event id, its blob and its RolloutCompleted. */
export interface BenchRollout {
  key: string;
  blob: StoredGroupBlob;
  event: EventOf<'RolloutCompleted'>;
}

export class RolloutFactory {
  private readonly pool: RolloutRow[];
  private readonly stored: StoredGroupBlob['rows'];

  constructor(
    readonly producer: number,
    readonly shape: RolloutShape,
  ) {
    this.pool = Array.from({ length: POOL }, (_, k) => makeRow(producer, k, shape));
    this.stored = encodeGroupBlob(this.pool).rows;
  }

  /** The group key of rollout i: a distinct prompt per producer and rollout, 1024 rollouts a step. */
  static key(producer: number, i: number): string {
    return groupId(i >> 10, producer * 100_000_000 + i);
  }

  rows(i: number): RolloutRow[] {
    return Array.from({ length: this.shape.groupSize }, (_, r) => this.pool[(i + r) % POOL]);
  }

  rollout(i: number): BenchRollout {
    const G = this.shape.groupSize;
    const key = RolloutFactory.key(this.producer, i);
    const picks = Array.from({ length: G }, (_, r) => (i + r) % POOL);
    const blob: StoredGroupBlob = { rows: picks.map((k) => this.stored[k]) };
    const rows = picks.map((k) => this.pool[k]);
    const logprob = new Float64Array(G);
    rows.forEach((row, r) => {
      let s = 0;
      for (let t = 0; t < row.logprobs.length; t++) s += row.logprobs[t];
      logprob[r] = s;
    });
    const event = makeEvent(
      'RolloutCompleted',
      {
        step: i >> 10,
        promptIndex: this.producer * 100_000_000 + i,
        group: key,
        purpose: 'train',
        policyVersion: i >> 10,
        reward: Float32Array.from(rows, (_, r) => (i + r) % 2),
        length: Uint32Array.from(rows, (row) => row.tokens.length),
        logprob,
        truncated: Uint8Array.from(rows, (row) => (row.finish === 'length' ? 1 : 0)),
        hinted: new Uint8Array(G),
        oracleSuccess: null,
      },
      { run: CEILING_RUN, id: rolloutCompletedId(key), cause: `RolloutRequested/${i >> 10}`, ts: 1_700_000_000_000 + i },
    );
    return { key, blob, event };
  }
}

/** The q-quantile (0..1) of `xs` (nearest rank); NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
