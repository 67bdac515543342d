/** The store contract: every behaviour the rest of the system relies on, against real LMDB. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvent } from '../../events/catalogue.ts';
import { encodeEvent } from '../../events/codec.ts';
import { EventLog, keySeq, lmdbFormatVersion, seqKey, StoreError } from '../../store/eventLog.ts';
import { ValidationError } from '../../events/validate.ts';
import { sameEvent } from '../support/arbitraries.ts';
import { stepEvent } from '../support/events.ts';
import { tempDir } from '../support/tmp.ts';

let dir: string;
let cleanup: () => void;
let log: EventLog;

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  log = EventLog.open(join(dir, 'log'));
});
afterEach(async () => {
  await log.close().catch(() => undefined);
  cleanup();
});

describe('EventLog', () => {
  it('keys sequence numbers as 8-byte big-endian u64, both 32-bit halves', () => {
    for (const seq of [0, 1, 255, 256, 65_535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 12_345, Number.MAX_SAFE_INTEGER]) {
      const want = Buffer.alloc(8);
      want.writeBigUInt64BE(BigInt(seq));
      expect(seqKey(seq)).toEqual(want);
      expect(keySeq(seqKey(seq))).toBe(seq);
    }
  });

  it('assigns contiguous sequence numbers from 1 in call order, across concurrent appends', async () => {
    const a = log.append([stepEvent('r', 1), stepEvent('r', 2)]);
    const b = log.append([stepEvent('r', 3)]);
    const c = log.append([stepEvent('r', 4), stepEvent('r', 5), stepEvent('r', 6)]);
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expect([...ra, ...rb, ...rc].map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.lastSeq()).toBe(6);
    expect(log.read(1).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('is idempotent by event id: a repeated id returns the original seq and writes nothing', async () => {
    await log.append([stepEvent('r', 1), stepEvent('r', 2)]);
    const again = await log.append([stepEvent('r', 2), stepEvent('r', 3), stepEvent('r', 3)]);
    expect(again).toEqual([
      { seq: 2, duplicate: true },
      expect.objectContaining({ seq: 3, duplicate: false }),
      { seq: 3, duplicate: true },
    ]);
    expect(log.lastSeq()).toBe(3);
    expect(log.seqOf('StepStarted/2')).toBe(2);
    // the duplicate's (possibly different) payload did not replace the original
    const changed = makeEvent('StepStarted', { step: 999, epoch: 9 }, { run: 'r', id: 'StepStarted/1', ts: 0 });
    expect(await log.append([changed])).toEqual([{ seq: 1, duplicate: true }]);
    expect((log.read(1, 2)[0].event.data as { step: number }).step).toBe(1);
  });

  it('reads return exactly what was appended, including typed arrays', async () => {
    const evs = [
      stepEvent('r', 1),
      makeEvent('DifficultyEstimated', {
        epoch: 1, step: 4, method: 'snis',
        difficulty: new Float32Array([0.25, NaN, 1, 0]),
        source: new Uint8Array([3, 0, 3, 4]),
        ess: new Float32Array([2.5, 0, 1, 8]),
        key: null,
        diagnostics: { meanEss: 2.875, clippedPos: 1 },
      }, { run: 'r', id: 'DifficultyEstimated/1', cause: 'StepStarted/1', ts: 123 }),
    ];
    await log.append(evs);
    const back = log.read(1);
    expect(back.length).toBe(2);
    back.forEach((b, i) => expect(sameEvent(b.event, evs[i])).toBe(true));
    expect(log.read(2, 3).map((e) => e.seq)).toEqual([2]);
    expect(log.read(3)).toEqual([]);
    expect(log.tail(1).map((e) => e.seq)).toEqual([2]);
    // ranges: from below 1 starts at 1, an empty or inverted range yields nothing, `to` past the end stops there
    expect([...log.iterate(0)].map((e) => e.seq)).toEqual([1, 2]);
    expect([...log.iterate(2, 2)]).toEqual([]);
    expect([...log.iterate(2, 1)]).toEqual([]);
    expect([...log.iterate(1, 100)].map((e) => e.seq)).toEqual([1, 2]);
    expect([...log.iterateRaw(2)].map((e) => e.seq)).toEqual([2]);
    // an event larger than lmdb-js's reused read buffer, between two small ones, reads back whole both ways
    const n = 20_000;
    const big = makeEvent('DifficultyEstimated', {
      epoch: 2, step: 8, method: 'snis', difficulty: new Float32Array(n).map((_, i) => (i % 101) / 100),
      source: new Uint8Array(n).fill(3), ess: new Float32Array(n).fill(1.5), key: null, diagnostics: {},
    }, { run: 'r', id: 'DifficultyEstimated/2', cause: null, ts: 5 });
    const small = makeEvent('StepStarted', { step: 9, epoch: 2 }, { run: 'r', id: 'StepStarted/9', ts: 6 });
    await log.append([big, small]);
    const [b3, s4] = [...log.iterate(3)];
    expect(sameEvent(b3.event, big)).toBe(true);
    expect(sameEvent(s4.event, small)).toBe(true);
    const raw = [...log.iterateRaw(2)];
    expect(raw.map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(raw.map((r) => r.bytes.length)).toEqual([encodeEvent(evs[1]).length, encodeEvent(big).length, encodeEvent(small).length]);
    expect(raw[1].bytes.equals(encodeEvent(big))).toBe(true);
  });

  it('rejects an invalid event: nothing of the batch is written', async () => {
    await log.append([stepEvent('r', 1)]);
    const bad = { ...stepEvent('r', 2), data: { step: 'two', epoch: 0 } };
    await expect(log.append([stepEvent('r', 3), bad])).rejects.toThrow(ValidationError);
    await expect(log.append([stepEvent('r', 3), bad])).rejects.toThrow(/event 1 \(StepStarted\): \/data\/step/);
    expect(log.lastSeq()).toBe(1);
    expect(log.seqOf('StepStarted/3')).toBeUndefined();
    // and the log still works afterwards
    expect((await log.append([stepEvent('r', 3)]))[0].seq).toBe(2);
  });

  it('survives close and reopen with the same content', async () => {
    await log.append([stepEvent('r', 1), stepEvent('r', 2)]);
    await log.close();
    log = EventLog.open(join(dir, 'log'));
    expect(log.lastSeq()).toBe(2);
    expect((await log.append([stepEvent('r', 2), stepEvent('r', 3)])).map((r) => r.seq)).toEqual([2, 3]);
  });

  it('snapshots read back equal to what was written, and must point into the log', async () => {
    await log.append([stepEvent('r', 1), stepEvent('r', 2)]);
    const state = { counts: [1, 2, 3], name: 'buffer', nested: { d: 0.5, flag: true }, bytes: Buffer.from([1, 2, 3]) };
    await log.putSnapshot('buffer', 2, state);
    const got = log.getSnapshot('buffer')!;
    expect(got.seq).toBe(2);
    expect(sameEvent({ ...(got.state as object), bytes: Buffer.from((got.state as { bytes: Uint8Array }).bytes) }, state)).toBe(true);
    await expect(log.putSnapshot('buffer', 3, state)).rejects.toThrow(StoreError);
    expect(log.getSnapshot('nope')).toBeUndefined();
  });

  it('staged blobs are committed in the next append\'s transaction, not before, and not lost by a refused append', async () => {
    const logprobs = new Float32Array([-0.25, -2]);
    const t1 = log.stageBlobs([['g/s/1', { logprobs }], ['g/s/2', { n: 2 }]]);
    logprobs[0] = 9; // encoded when staged: later changes by the caller do not reach the log
    expect(log.hasBlob('g/s/1')).toBe(false);
    expect(log.blobsCommitted(t1)).toBe(false);
    // a refused append writes nothing, the blobs stay staged
    await expect(log.append([{ ...stepEvent('r', 9), data: { step: 'nine' } }])).rejects.toThrow(ValidationError);
    expect(log.hasBlob('g/s/1')).toBe(false);
    const t2 = log.stageBlobs([['g/s/3', { n: 3 }]]);
    const txn = log.lastTxnId();
    const [r] = await log.append([stepEvent('r', 1, 'staged')]);
    // one commit for the three blobs and the event
    expect(log.lastTxnId()).toBe(txn + 1);
    expect(r.duplicate).toBe(false);
    expect(log.blobsCommitted(t1) && log.blobsCommitted(t2)).toBe(true);
    expect(Buffer.from((log.getBlob('g/s/1') as { logprobs: Uint8Array }).logprobs).equals(Buffer.from(new Float32Array([-0.25, -2]).buffer))).toBe(true);
    expect(log.getBlob('g/s/2')).toEqual({ n: 2 });
    expect(log.getBlob('g/s/3')).toEqual({ n: 3 });
    // nothing staged: an append is one commit as before, and a new ticket waits for the next append
    await log.append([stepEvent('r', 2, 'staged')]);
    expect(log.lastTxnId()).toBe(txn + 2);
    const t3 = log.stageBlobs([['g/s/4', { n: 4 }]]);
    expect(log.blobsCommitted(t3)).toBe(false);
    await log.append([stepEvent('r', 1, 'staged')]); // a duplicate still commits what was staged
    expect(log.blobsCommitted(t3) && log.hasBlob('g/s/4')).toBe(true);
  });

  it('stores blobs and prompts, and keeps a checkpoint registry', async () => {
    const tokens = Buffer.from(new Int32Array([5, -1, 7]).buffer);
    await log.putBlob('g/1/2', { tokens, text: 'hello' });
    await log.putBlobs([['g/1/3', { n: 1 }], ['g/1/4', { n: 2 }]]);
    const blob = log.getBlob('g/1/2') as { tokens: Uint8Array; text: string };
    expect(Buffer.from(blob.tokens).equals(tokens)).toBe(true);
    expect(blob.text).toBe('hello');
    expect(log.getBlob('g/1/4')).toEqual({ n: 2 });
    expect(log.hasBlob('g/9')).toBe(false);
    // a typed array in a blob is stored as bin of its bytes; a value MessagePack cannot hold is refused, nothing written
    const logprobs = new Float32Array([-0.5, -1.25]);
    await log.putBlobs([['g/1/5', { logprobs }]]);
    expect(Buffer.from((log.getBlob('g/1/5') as { logprobs: Uint8Array }).logprobs).equals(Buffer.from(logprobs.buffer))).toBe(true);
    await expect(log.putBlobs([['g/1/6', { n: 1 }], ['g/1/7', { m: new Map() }]])).rejects.toThrow(/Map/);
    expect(log.hasBlob('g/1/6')).toBe(false);

    await log.putPrompts([{ id: 'a', question: '1+1=' }, { id: 'b', question: '2+2=' }]);
    expect(log.promptCount()).toBe(2);
    expect(log.getPrompt(1)).toEqual({ id: 'b', question: '2+2=' });

    const sha = 'a'.repeat(64);
    await log.registerCheckpoint({ path: 'checkpoints/v1.pt', sha256: sha, policyVersion: 1, seq: 0 });
    await log.registerCheckpoint({ path: 'checkpoints/v1.pt', sha256: sha, policyVersion: 1, seq: 0 });
    await log.registerCheckpoint({ path: 'checkpoints/v2.pt', sha256: 'b'.repeat(64), policyVersion: 2, seq: 0 });
    expect(log.checkpoints().map((c) => c.policyVersion)).toEqual([1, 2]);
    await expect(log.registerCheckpoint({ path: 'x', sha256: 'zz', policyVersion: 3, seq: 0 })).rejects.toThrow(/bad sha256/);
  });

  it('writes LMDB data format 1 and refuses a format-2 file with a clear message', async () => {
    await log.append([stepEvent('r', 1)]);
    expect(lmdbFormatVersion(join(dir, 'log'))).toBe(1);
    await log.close();
    // forge the version field of the meta page to 2
    const fd = openSync(join(dir, 'log', 'data.mdb'), 'r+');
    const two = Buffer.alloc(4);
    two.writeUInt32LE(2);
    writeSync(fd, two, 0, 4, 20);
    closeSync(fd);
    expect(() => EventLog.open(join(dir, 'log'))).toThrow(/data format 2.*format 1.*make setup/s);
    // re-forge back so afterEach can close cleanly
    const fd2 = openSync(join(dir, 'log', 'data.mdb'), 'r+');
    const one = Buffer.alloc(4);
    one.writeUInt32LE(1);
    writeSync(fd2, one, 0, 4, 20);
    closeSync(fd2);
    log = EventLog.open(join(dir, 'log'));
  });

  it('a read-only log refuses writes', async () => {
    await log.append([stepEvent('r', 1)]);
    const ro = EventLog.open(join(dir, 'log'), { readOnly: true });
    expect(ro.lastSeq()).toBe(1);
    await expect(ro.append([stepEvent('r', 2)])).rejects.toThrow(/read-only/);
    await ro.close();
  });
});
