/**
 * The single writer's ceiling benchmark (bench/ceiling/) in its quick form: two producer processes append
 * RolloutCompleted with realistic group blobs over NATS to one store for about a second. What is asserted is
 * the behaviour, read back from the log independently of the benchmark's own check: every acknowledged
 * rollout is logged exactly once and nothing else is, every blob is there, a sample decodes to the bytes the
 * producers sent, and the figures are positive numbers. No timing is asserted (BENCHMARKS.md records them).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerCeiling } from '../../bench/ceiling/ceiling.ts';
import { REALISTIC, RolloutFactory } from '../../bench/ceiling/rollouts.ts';
import { startNatsServer, type NatsServerHandle } from '../../bus/natsServer.ts';
import { encodeEvent } from '../../events/codec.ts';
import { decodeGroupBlob } from '../../gpu-bridge/blobs.ts';
import { EventLog } from '../../store/eventLog.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-ceiling-');
let nats: NatsServerHandle;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.stop();
  cleanup();
});

describe("the single writer's ceiling", () => {
  it('2 producer processes: every acknowledged rollout logged once with its blob; positive figures', async () => {
    const runDir = join(dir, 'n2');
    const r = await writerCeiling(runDir, nats, { producers: 2, warmupMs: 200, measureMs: 1000, window: 2 });

    for (const k of ['rolloutsPerSec', 'MBps', 'ackP50Ms', 'ackP99Ms', 'eventBytes', 'blobBytes', 'requestBytes', 'fileBytesPerRollout', 'wallMs'] as const) {
      expect(Number.isFinite(r[k]) && r[k] > 0, `${k} = ${r[k]}`).toBe(true);
    }
    for (const k of ['storeCpu', 'natsCpu', 'producerCpu'] as const) expect(r[k], k).toBeGreaterThanOrEqual(0);
    expect(r.ackP99Ms).toBeGreaterThanOrEqual(r.ackP50Ms);
    expect(r.ackedBy).toHaveLength(2);
    for (const a of r.ackedBy) expect(a).toBeGreaterThan(0);
    expect(r.acked).toBe(r.ackedBy[0] + r.ackedBy[1]);
    expect(r.sampled).toBeGreaterThan(0);
    // the blob is what a 2k-token group of 8 holds: ids and log-probs alone are 8 x 2048 x 8 bytes
    expect(r.blobBytes).toBeGreaterThan(REALISTIC.groupSize * REALISTIC.tokens * 8);
    expect(r.fileBytesPerRollout).toBeGreaterThanOrEqual(r.blobBytes);

    const log = EventLog.open(join(runDir, 'log'), { readOnly: true, verify: true });
    try {
      const seen = new Map<string, number>();
      for (const { event } of log.iterate()) {
        expect(event.type).toBe('RolloutCompleted');
        seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
      }
      expect(seen.size).toBe(r.acked);
      expect(log.lastSeq()).toBe(r.acked);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      r.ackedBy.forEach((acked, p) => {
        const f = new RolloutFactory(p, REALISTIC);
        for (let i = 0; i < acked; i++) {
          const key = RolloutFactory.key(p, i);
          expect(seen.get(f.rollout(i).event.id), `producer ${p} rollout ${i}`).toBe(1);
          expect(log.hasBlob(key), key).toBe(true);
        }
        for (const i of [0, acked >> 1, acked - 1]) {
          const want = f.rollout(i);
          const seq = log.seqOf(want.event.id)!;
          expect(encodeEvent(log.read(seq, seq + 1)[0].event).equals(encodeEvent(want.event))).toBe(true);
          const rows = decodeGroupBlob(log.getBlob(want.key), want.key).rows;
          const sent = f.rows(i);
          expect(rows).toHaveLength(REALISTIC.groupSize);
          rows.forEach((row, k) => {
            expect(Buffer.from(row.tokens.buffer, row.tokens.byteOffset, row.tokens.byteLength).equals(Buffer.from(sent[k].tokens.buffer))).toBe(true);
            expect(Buffer.from(row.logprobs.buffer, row.logprobs.byteOffset, row.logprobs.byteLength).equals(Buffer.from(sent[k].logprobs.buffer))).toBe(true);
            expect(row.text).toBe(sent[k].text);
          });
        }
      });
      // nothing else: no blob of a rollout past the last acknowledged one
      for (let p = 0; p < 2; p++) expect(log.hasBlob(RolloutFactory.key(p, r.ackedBy[p]))).toBe(false);
    } finally {
      await log.close();
    }
  });
});
