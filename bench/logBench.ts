/**
 * Log figures (issue: foundation): durable batched append through EventLog (validate + encode + commit +
 * flush) against raw batched lmdb-js puts of the same bytes, and replay (read + decode) against a raw
 * getRange + msgpackr decode of the same data. Measured in the same process, on the same disk, in
 * interleaved rounds (see logBench).
 */
import { open } from 'lmdb';
import { Unpackr } from 'msgpackr';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/**
 * A full garbage collection, run before each timed section: the section then pays only for its own garbage,
 * not for the round's freshly built events (their first scavenge copied them all, inside whichever section
 * came first: the raw put, ~10% of its time) nor for the other path's leftovers. Node exposes `gc` only
 * with --expose-gc; the flag can be set at run time, and a fresh context then carries the function.
 */
const collect: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function rate(n: number, ns: bigint): number {
  return n / (Number(ns) / 1e9);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Each figure is the median over `rounds` rounds (after one more, uncounted, that warms both paths up), and
 * within a round the raw baseline and our path run back to back on the same slice of `events / rounds`
 * events: on a shared machine a burst of load then hits one round of both, not all of one side (a single
 * pass each moved the shares by ±0.1 between runs). Each round's events (and the raw path's encodings of
 * them) are built just before that round, outside the timed sections, and dropped after it: both paths
 * still see the same data, but the heap no longer holds every event of the run, which made each garbage
 * collection inside the timed sections slower (GC was a quarter of a full-size run's profile).
 */
export async function logBench(dir: string, opts: { events: number; batch: number; rounds?: number }): Promise<LogBenchFigures> {
  const { batch } = opts;
  const rounds = opts.rounds ?? 5;
  const per = Math.ceil(opts.events / rounds);
  // one more round first, not counted: both paths' code warms up (the raw put's first rounds ran at half speed)
  const N = per * (rounds + 1);
  let totalBytes = 0;

  // raw lmdb-js: the same bytes, the same batching, the same durability (await flushed per batch)
  const rawEnv = open({ path: join(dir, 'raw'), maxDbs: 2, encoding: 'binary' });
  const raw = rawEnv.openDB<Buffer, Buffer>('events', { encoding: 'binary', keyEncoding: 'binary' });
  const log = EventLog.open(join(dir, 'log'));
  const unpackr = new Unpackr({ useRecords: false });
  const put: number[] = [];
  const append: number[] = [];
  const scan: number[] = [];
  const replay: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const lo = r * per;
    const hi = Math.min(N, lo + per);
    // this round's events and their encodings, built outside the timed sections and dropped after it
    const evs = Array.from({ length: hi - lo }, (_, i) => sampleEvent(lo + i));
    const bytes = evs.map((e) => encodeEvent(e));
    for (const b of bytes) totalBytes += b.length;
    collect();
    let t = process.hrtime.bigint();
    for (let s = lo; s < hi; s += batch) {
      for (let i = s; i < Math.min(hi, s + batch); i++) void raw.put(seqKey(i + 1), bytes[i - lo]);
      await rawEnv.flushed;
    }
    const warm = r === 0;
    if (!warm) put.push(rate(hi - lo, process.hrtime.bigint() - t));

    collect();

    t = process.hrtime.bigint();
    for (let s = lo; s < hi; s += batch) await log.append(evs.slice(s - lo, Math.min(hi, s + batch) - lo));
    if (!warm) append.push(rate(hi - lo, process.hrtime.bigint() - t));

    collect();

    t = process.hrtime.bigint();
    let n = 0;
    for (const { value } of raw.getRange({ start: seqKey(lo + 1), end: seqKey(hi + 1) })) {
      unpackr.unpack(value as Buffer);
      n++;
    }
    if (!warm) scan.push(rate(n, process.hrtime.bigint() - t));
    if (n !== hi - lo) throw new Error(`bench: scanned ${n} raw events, expected ${hi - lo}`);

    collect();

    t = process.hrtime.bigint();
    n = 0;
    for (const e of log.iterate(lo + 1, hi + 1)) {
      if (e.seq > 0) n++;
    }
    if (!warm) replay.push(rate(n, process.hrtime.bigint() - t));
    if (n !== hi - lo) throw new Error(`bench: replayed ${n} events, expected ${hi - lo}`);
  }
  if (log.lastSeq() !== N) throw new Error(`bench: log holds ${log.lastSeq()} events, expected ${N}`);

  await log.close();
  await rawEnv.close();
  const shareOf = (ours: number[], base: number[]) => Number(median(ours.map((x, i) => x / base[i])).toFixed(3));
  return {
    'log.append.eventsPerSec': Math.round(median(append)),
    'lmdb.put.eventsPerSec': Math.round(median(put)),
    'log.append.shareOfRawPut': shareOf(append, put),
    'log.replay.eventsPerSec': Math.round(median(replay)),
    'lmdb.scan.eventsPerSec': Math.round(median(scan)),
    'log.replay.shareOfRawScan': shareOf(replay, scan),
    'log.eventBytes': Math.round(totalBytes / N),
  };
}
