/**
 * The sim worker's reply cache (docs/worker-protocol.md, Idempotency): replies by request id, so a repeated id
 * returns the first reply and an update is never applied twice. Kept: replies of state-changing jobs since
 * the last save (and the last `cacheSize` of them), and of read-only jobs the last `cacheSize` within
 * `cacheBytes`.
 */
import { heldBytes } from '../heldBytes.ts';
import type { JobResult } from '../workerClient.ts';

/** A job's reply as cached: its result, or its error code and message. */
export type Cached = { ok: true; result: JobResult } | { ok: false; code: string; message: string };

/** Jobs that change the worker's state: their replies are kept since the last save whatever their number. */
const STATE_JOBS = new Set(['init', 'update', 'sft', 'save', 'load']);

export class ReplyCache {
  /** SimWorkerOptions.cacheSize and cacheBytes */
  private readonly opts: { cacheSize?: number; cacheBytes?: number };
  private readonly cache = new Map<string, { reply: Cached; seq: number; readOnly: boolean; bytes: number }>();
  private replySeq = 0;
  private lastSaveSeq = 0;
  private readOnlyCount = 0;
  private readOnlyBytes = 0;

  constructor(opts: { cacheSize?: number; cacheBytes?: number }) {
    this.opts = opts;
  }

  /** The reply to request `id`, if it is still cached. */
  get(id: string): Cached | undefined {
    return this.cache.get(id)?.reply;
  }

  /** Cache the reply of request `id` (a `job`), then evict what is beyond the budgets. */
  put(id: string, job: string, reply: Cached): void {
    const readOnly = !STATE_JOBS.has(job);
    const bytes = readOnly && reply.ok ? heldBytes(reply.result) : 0;
    this.cache.set(id, { reply, seq: ++this.replySeq, readOnly, bytes });
    if (readOnly) {
      this.readOnlyCount++;
      this.readOnlyBytes += bytes;
    }
    if (job === 'save' && reply.ok) this.lastSaveSeq = this.replySeq;
    this.evict();
  }

  /** The cache's size: entries, read-only ones and their payload bytes. */
  size(): { entries: number; readOnly: number; readOnlyBytes: number } {
    return { entries: this.cache.size, readOnly: this.readOnlyCount, readOnlyBytes: this.readOnlyBytes };
  }

  /** Oldest first: read-only replies beyond the count or byte budget, state replies older than the last save beyond the count. */
  private evict(): void {
    const cap = Math.max(1024, this.opts.cacheSize ?? 1024);
    const budget = this.opts.cacheBytes ?? 64 * 1024 ** 2;
    let stateCount = this.cache.size - this.readOnlyCount;
    for (const [k, v] of this.cache) {
      const roOver = this.readOnlyCount > cap || (this.readOnlyBytes > budget && this.readOnlyCount > 64);
      const stateOver = stateCount > cap;
      if (!roOver && !stateOver) break;
      if (v.readOnly ? roOver : stateOver && v.seq < this.lastSaveSeq) {
        this.cache.delete(k);
        if (v.readOnly) {
          this.readOnlyCount--;
          this.readOnlyBytes -= v.bytes;
        } else stateCount--;
      }
    }
  }
}
