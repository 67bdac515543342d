/**
 * Log figures (issue: foundation): durable batched append through EventLog (validate + encode + commit +
 * flush) against raw batched lmdb-js puts of the same bytes, and replay (read + decode) against a raw
 * getRange + msgpackr decode of the same data. Measured in the same process, on the same disk.
 */
import { open } from 'lmdb';
import { Unpackr } from 'msgpackr';
import { join } from 'node:path';
import { makeEvent, type DareEvent } from '../events/catalogue.ts';
import { encodeEvent } from '../events/codec.ts';
import { EventLog, seqKey } from '../store/eventLog.ts';

/** A typical small fact: one 4-row rollout group result (~250 bytes encoded). */
export function sampleEvent(i: number): DareEvent {
  return makeEvent(
    'RolloutCompleted',
    {
      step: i >> 9,
      promptIndex: i % 10_000,
      group: `g/${i >> 9}/${i}`,
      purpose: 'train',
      policyVersion: i >> 9,
      reward: new Float32Array([1, 0, 0, 1]),
      length: new Uint32Array([31, 40, 12, 77]).map((x) => x + (i % 7)),
      logprob: new Float64Array(4).fill(-12.5 - (i % 13)),
      truncated: new Uint8Array(4),
      hinted: new Uint8Array(4),
      oracleSuccess: null,
    },
    { run: 'bench', id: `R/${i}`, cause: `Q/${i >> 9}`, ts: 1_700_000_000_000 + i },
  );
}

export interface LogBenchFigures {
  'log.append.eventsPerSec': number;
  'lmdb.put.eventsPerSec': number;
  'log.append.shareOfRawPut': number;
  'log.replay.eventsPerSec': number;
  'lmdb.scan.eventsPerSec': number;
  'log.replay.shareOfRawScan': number;
  'log.eventBytes': number;
}

function rate(n: number, ns: bigint): number {
  return Math.round(n / (Number(ns) / 1e9));
}

export async function logBench(dir: string, opts: { events: number; batch: number }): Promise<LogBenchFigures> {
  const { events: N, batch } = opts;
  const evs = Array.from({ length: N }, (_, i) => sampleEvent(i));
  const bytes = evs.map((e) => encodeEvent(e));
  const eventBytes = Math.round(bytes.reduce((s, b) => s + b.length, 0) / N);

  // raw lmdb-js: the same bytes, the same batching, the same durability (await flushed per batch)
  const rawEnv = open({ path: join(dir, 'raw'), maxDbs: 2, encoding: 'binary' });
  const raw = rawEnv.openDB<Buffer, Buffer>('events', { encoding: 'binary', keyEncoding: 'binary' });
  let t = process.hrtime.bigint();
  for (let s = 0; s < N; s += batch) {
    for (let i = s; i < Math.min(N, s + batch); i++) void raw.put(seqKey(i + 1), bytes[i]);
    await rawEnv.flushed;
  }
  const rawPut = rate(N, process.hrtime.bigint() - t);

  const log = EventLog.open(join(dir, 'log'));
  t = process.hrtime.bigint();
  for (let s = 0; s < N; s += batch) await log.append(evs.slice(s, Math.min(N, s + batch)));
  const append = rate(N, process.hrtime.bigint() - t);
  if (log.lastSeq() !== N) throw new Error(`bench: log holds ${log.lastSeq()} events, expected ${N}`);

  const unpackr = new Unpackr({ useRecords: false });
  t = process.hrtime.bigint();
  let n = 0;
  for (const { value } of raw.getRange({})) {
    unpackr.unpack(value as Buffer);
    n++;
  }
  const rawScan = rate(n, process.hrtime.bigint() - t);

  t = process.hrtime.bigint();
  n = 0;
  for (const e of log.iterate(1)) {
    if (e.seq > 0) n++;
  }
  const replay = rate(n, process.hrtime.bigint() - t);
  if (n !== N) throw new Error(`bench: replayed ${n} events, expected ${N}`);

  await log.close();
  await rawEnv.close();
  return {
    'log.append.eventsPerSec': append,
    'lmdb.put.eventsPerSec': rawPut,
    'log.append.shareOfRawPut': Number((append / rawPut).toFixed(3)),
    'log.replay.eventsPerSec': replay,
    'lmdb.scan.eventsPerSec': rawScan,
    'log.replay.shareOfRawScan': Number((replay / rawScan).toFixed(3)),
    'log.eventBytes': eventBytes,
  };
}
