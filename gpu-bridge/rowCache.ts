/**
 * The bridge's row cache: the rows of the groups this bridge wrote lately, as the score and update jobs send
 * them (the same bytes `groupRows` reads back from the log), oldest first, at most ROW_CACHE_BYTES. An update reads
 * the step's fresh groups and recently buffered ones, and decoding 500 blobs a step cost the sim ~15 ms.
 */
import type { StoredGroupBlob } from './blobs.ts';
import type { BridgeLog, RowBytes } from './bridgeTypes.ts';
import { heldBytes } from './heldBytes.ts';
import { storedGroupBytes } from './jobInputs.ts';

/** Memory (heldBytes) of recently written rows the bridge keeps for score and update jobs. */
const ROW_CACHE_BYTES = 64 * 1024 * 1024;
/** heldBytes of an empty array, and of one RowBytes beyond its three views' bytes (an object, three views). */
const HELD_ARRAY = heldBytes([]);
const HELD_ROW = heldBytes({ promptTokens: new Uint8Array(0), tokens: new Uint8Array(0), logprobs: new Uint8Array(0), finish: 'eos' });

export class RowCache {
  private readonly log: BridgeLog;
  private readonly cache = new Map<string, RowBytes[]>();
  private bytes = 0;
  private readonly sizes = new Map<string, number>();

  constructor(log: BridgeLog) {
    this.log = log;
  }

  /**
   * A group's rows as checked byte views of its stored blob (score and update jobs send bytes), from
   * `request` (groups already read by the same request), else this cache, else the log.
   */
  groupRows(key: string, where: string, request?: Map<string, RowBytes[]>): RowBytes[] {
    const hit = request?.get(key) ?? this.cache.get(key);
    if (hit) return hit;
    const rows = storedGroupBytes(this.log, key, where);
    request?.set(key, rows);
    return rows;
  }

  /** Remember the rows of groups just written (durable) for later score and update jobs. */
  add(blobs: ReadonlyArray<readonly [string, StoredGroupBlob]>): void {
    for (const [key, blob] of blobs) {
      if (this.cache.has(key)) continue;
      const rows: RowBytes[] = new Array(blob.rows.length);
      // heldBytes(rows), without walking them: objects included (a sim row's three views weigh more than their bytes)
      let bytes = HELD_ARRAY;
      for (let i = 0; i < rows.length; i++) {
        const r = blob.rows[i];
        rows[i] = { promptTokens: r.promptTokens, tokens: r.tokens, logprobs: r.logprobs, finish: r.finish };
        bytes += HELD_ROW + r.promptTokens.byteLength + r.tokens.byteLength + r.logprobs.byteLength;
      }
      if (bytes > ROW_CACHE_BYTES) continue;
      this.cache.set(key, rows);
      this.sizes.set(key, bytes);
      this.bytes += bytes;
    }
    for (const [key, bytes] of this.sizes) {
      if (this.bytes <= ROW_CACHE_BYTES) break;
      this.cache.delete(key);
      this.sizes.delete(key);
      this.bytes -= bytes;
    }
  }
}
