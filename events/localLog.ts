/**
 * The in-process side of the store (DESIGN §4): what `dare run` hands the actors it hosts in the store's
 * own process, so an append is a function call rather than a NATS round trip. The contract is the NATS
 * append's: the same validation, idempotence by event id, and `append` resolves only once the commit is
 * durable. `listen` hears every committed batch, in commit order, whichever way it was appended (the same
 * batches the store publishes on `dare.<run>.log`). Defined here because store/ serves it and bus/ uses it,
 * and those two never import each other.
 */
import type { DareEvent } from './catalogue.ts';

export interface LocalAppendReply {
  seq: number;
  duplicate: boolean;
}

export interface LocalLog {
  /** rejects (nothing of the batch appended) with the store's reason when it refuses the events */
  append(events: readonly DareEvent[]): Promise<LocalAppendReply[]>;
  /** committed events from ≤ seq < to (at most `max`, bounded in bytes as a NATS reply is) and the last seq */
  readRaw(from: number, to: number, max: number): { last: number; items: Array<[number, Uint8Array]> };
  /** every committed batch from now on; returns the function that stops listening */
  listen(fn: (items: ReadonlyArray<readonly [number, Uint8Array]>) => void): () => void;
}
