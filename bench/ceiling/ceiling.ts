/**
 * The single writer's ceiling (issue #18 item 4; BENCHMARKS.md "The single writer's ceiling"): how many
 * RolloutCompleted a second one store commits for N producer processes over NATS, with realistic group
 * blobs, and how many bytes each rollout takes in the log.
 *
 * One private nats-server (bus/natsServer.ts). The store is this process: an EventLog served by
 * store/logServer.ts serveLog, as `dare run` serves it to the actors and bridges of other processes. The
 * producers are N child processes (producer.ts), each sending requests as fast as the store acknowledges
 * them (`window` requests in flight per producer, `perRequest` rollouts per request; the ack is the store's
 * reply after the commit is flushed, i.e. durable).
 *
 * Two wires:
 * - `blobs` (the figure): a request carries the RolloutCompleted events and their group blobs (token ids,
 *   log-probs, texts), and the store commits blobs and events in one transaction (EventLog.stageBlobs, then
 *   the logServer's commit chain via its in-process side). This is the store-side work of a rollout whose
 *   rows reached the store's process over NATS: today that is the primary bridge receiving a shared job's
 *   samples from a replica (gpu-bridge/sharedJobs.ts) and writing them (gpu-bridge/jobs/rollout.ts); the
 *   append subject itself carries events only, so the benchmark serves this one request subject
 *   (serveRolloutWrites) next to it.
 * - `events`: RolloutCompleted alone through the append subject (LogClient.append → dare.<run>.append), the
 *   logServer path unchanged: the ceiling of the event path without the blob bytes.
 *
 * Every run checks its log afterwards: each acknowledged rollout is logged exactly once, nothing else is,
 * every blob is present, and a sample of blobs and events decode to the bytes that were sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../bus/connect.ts';
import { startNatsServer, type NatsServerHandle } from '../../bus/natsServer.ts';
import type { DareEvent } from '../../events/catalogue.ts';
import { decodeEvent, encodeEvent, pack, packPlain, unpack } from '../../events/codec.ts';
import { ValidationError } from '../../events/validate.ts';
import { decodeGroupBlob, encodeGroupBlob } from '../../gpu-bridge/blobs.ts';
import { EventLog } from '../../store/eventLog.ts';
import { serveLog, type LogServer } from '../../store/logServer.ts';
import type { ProducerConfig, ProducerReport } from './producer.ts';
import { CEILING_RUN, GO_SUBJECT, quantile, REALISTIC, ROLLOUT_SUBJECT, RolloutFactory, type RolloutShape } from './rollouts.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRODUCER = fileURLToPath(new URL('./producer.ts', import.meta.url));

export interface CeilingOptions {
  /** producer processes */
  producers: number;
  mode?: 'blobs' | 'events';
  shape?: RolloutShape;
  /** requests in flight per producer (default 1: each waits for its ack before the next) */
  window?: number;
  /** rollouts (groups) per request (default 1) */
  perRequest?: number;
  /** appends before the measured window (not counted in the rates) */
  warmupMs: number;
  measureMs: number;
  /** blobs and events decoded and compared per producer, besides the first and last (default 6) */
  sample?: number;
}

export interface CeilingResult {
  producers: number;
  mode: 'blobs' | 'events';
  window: number;
  perRequest: number;
  /** acknowledged rollouts a second in the measured window, all producers together */
  rolloutsPerSec: number;
  /** event + blob bytes (as stored, before LMDB's pages) a second */
  MBps: number;
  ackP50Ms: number;
  ackP99Ms: number;
  /** CPU of the store process (this one) in cores over the producers' run; of nats-server; of the producers */
  storeCpu: number;
  natsCpu: number;
  producerCpu: number;
  /** the encoded RolloutCompleted; the encoded group blob (0 in events mode); one request on the wire */
  eventBytes: number;
  blobBytes: number;
  requestBytes: number;
  /** growth of data.mdb over the run / rollouts logged (events, ids, checksums, blobs and B-tree pages) */
  fileBytesPerRollout: number;
  /** rollouts acknowledged over the whole run (warm-up included), all logged exactly once */
  acked: number;
  /** per producer: the rollouts it had acknowledged (its rollouts 0 .. ackedBy[p]-1) */
  ackedBy: number[];
  /** blobs and events decoded and compared with the sent bytes */
  sampled: number;
  wallMs: number;
}

/** The store's side of the `blobs` wire: stage the blobs, commit them with the events, reply after the commit. */
function serveRolloutWrites(nc: NatsConnection, log: EventLog, server: LogServer) {
  return nc.subscribe(ROLLOUT_SUBJECT, {
    callback: (err, msg) => {
      if (err) return;
      let events: DareEvent[];
      let blobs: Array<readonly [string, unknown]>;
      try {
        const body = unpack(msg.data) as { events?: unknown; blobs?: unknown };
        if (!body || !Array.isArray(body.events) || !Array.isArray(body.blobs)) throw new ValidationError('expected {events, blobs}');
        events = body.events.map((b: unknown, i: number) => {
          if (!(b instanceof Uint8Array)) throw new ValidationError(`events[${i}] is not binary`);
          const ev = decodeEvent(b, `events[${i}]`);
          if (ev.run !== CEILING_RUN) throw new ValidationError(`events[${i}]: foreign run ${ev.run}`);
          return ev;
        });
        blobs = body.blobs.map((kv: unknown, i: number) => {
          if (!Array.isArray(kv) || typeof kv[0] !== 'string') throw new ValidationError(`blobs[${i}]: expected [key, blob]`);
          decodeGroupBlob(kv[1], kv[0]); // the rows' invariants, as the bridge checks a worker's samples
          return [kv[0], kv[1]] as const;
        });
      } catch (e) {
        msg.respond(pack({ ok: false, error: (e as Error).message }));
        return;
      }
      const ticket = log.stageBlobs(blobs);
      server.local.append(events).then(
        (results) => {
          if (!log.blobsCommitted(ticket)) msg.respond(pack({ ok: false, error: 'events committed without their blobs' }));
          else msg.respond(pack({ ok: true, results }));
        },
        (e) => msg.respond(pack({ ok: false, error: (e as Error).message })),
      );
    },
  });
}

/** CPU seconds of a process so far (Linux /proc; 0 elsewhere). */
function procCpuSec(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

function startProducer(cfg: ProducerConfig): { child: ChildProcess; ready: Promise<void>; report: Promise<ProducerReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', PRODUCER, JSON.stringify(cfg)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  let readyFn: () => void;
  let failFn: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((readyFn = res), (failFn = rej)));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) readyFn();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (errText += d));
  const report = new Promise<ProducerReport>((res, rej) => {
    child.once('exit', (code, signal) => {
      const lines = out.trim().split('\n');
      const err = new Error(`ceiling producer ${cfg.producer} exited with ${code ?? signal}: ${errText.trim().slice(-2000)}`);
      failFn(err);
      if (code !== 0) return rej(err);
      try {
        res(JSON.parse(lines[lines.length - 1]) as ProducerReport);
      } catch {
        rej(err);
      }
    });
  });
  return { child, ready, report };
}

/**
 * Check the log of a finished run: exactly the acknowledged rollouts, each once, each with its blob; a
 * sample decoded and compared with what the producers sent. Returns how many were compared.
 */
export function checkCeilingLog(log: EventLog, reports: readonly ProducerReport[], shape: RolloutShape, mode: 'blobs' | 'events', sample = 6): number {
  const expected = new Map<string, number>();
  for (const r of reports) for (let i = 0; i < r.acked; i++) expected.set(RolloutFactory.key(r.producer, i), 0);
  let logged = 0;
  for (const { event } of log.iterate()) {
    if (event.type !== 'RolloutCompleted') throw new Error(`ceiling: unexpected ${event.type} ${event.id} in the log`);
    const n = expected.get(event.data.group);
    if (n === undefined) throw new Error(`ceiling: ${event.id} logged but never acknowledged`);
    if (n > 0) throw new Error(`ceiling: ${event.id} logged twice`);
    expected.set(event.data.group, 1);
    logged++;
  }
  if (logged !== expected.size) throw new Error(`ceiling: ${expected.size} rollouts acknowledged, ${logged} logged`);
  if (mode === 'blobs') for (const key of expected.keys()) if (!log.hasBlob(key)) throw new Error(`ceiling: blob ${key} missing`);
  let compared = 0;
  for (const r of reports) {
    const f = new RolloutFactory(r.producer, shape);
    const picks = new Set([0, r.acked - 1]);
    for (let k = 1; k <= sample; k++) picks.add(Math.floor((k * r.acked) / (sample + 1)));
    for (const i of picks) {
      if (i < 0 || i >= r.acked) continue;
      const want = f.rollout(i);
      const seq = log.seqOf(want.event.id);
      if (seq === undefined) throw new Error(`ceiling: ${want.event.id} not in the log`);
      const got = log.read(seq, seq + 1)[0].event;
      if (!encodeEvent(got).equals(encodeEvent(want.event))) throw new Error(`ceiling: ${want.event.id} logged with other bytes than sent`);
      if (mode === 'blobs') {
        const rows = decodeGroupBlob(log.getBlob(want.key), want.key).rows;
        const sent = f.rows(i);
        if (rows.length !== sent.length) throw new Error(`ceiling: blob ${want.key}: ${rows.length} rows, sent ${sent.length}`);
        rows.forEach((row, k) => {
          const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
          if (!same(row.tokens, sent[k].tokens) || !same(row.logprobs, sent[k].logprobs) || !same(row.promptTokens, sent[k].promptTokens) || row.text !== sent[k].text || row.finish !== sent[k].finish) {
            throw new Error(`ceiling: blob ${want.key} row ${k} differs from what was sent`);
          }
        });
      }
      compared++;
    }
  }
  return compared;
}

/** One measurement: a fresh log in `dir`/log, N producers. The log is left in place (closed) for inspection. */
export async function writerCeiling(dir: string, nats: NatsServerHandle, opts: CeilingOptions): Promise<CeilingResult> {
  const mode = opts.mode ?? 'blobs';
  const shape = opts.shape ?? REALISTIC;
  const window = opts.window ?? 1;
  const perRequest = opts.perRequest ?? 1;
  const log = EventLog.open(join(dir, 'log'));
  if (log.lastSeq() !== 0) throw new Error(`ceiling: ${dir}/log is not empty`);
  const nc = await connectNats({ url: nats.url, token: nats.token, name: 'ceiling/store' });
  const warn = (o: object, m: string) => process.stderr.write(`ceiling store: ${m} ${JSON.stringify(o)}\n`);
  const server = serveLog(nc, log, CEILING_RUN, { warn, error: warn });
  const writes = serveRolloutWrites(nc, log, server);
  await nc.flush();
  const producers = Array.from({ length: opts.producers }, (_, p) =>
    startProducer({ url: nats.url, token: nats.token, producer: p, shape, mode, window, perRequest, warmupMs: opts.warmupMs, measureMs: opts.measureMs }),
  );
  try {
    await Promise.all(producers.map((p) => p.ready));
    const file = join(dir, 'log', 'data.mdb');
    const size0 = statSync(file).size;
    const cpu0 = process.cpuUsage();
    const nats0 = procCpuSec(nats.pid);
    const t0 = performance.now();
    nc.publish(GO_SUBJECT, new Uint8Array(0));
    await nc.flush();
    const reports = await Promise.all(producers.map((p) => p.report));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const natsCpuSec = procCpuSec(nats.pid) - nats0;
    writes.unsubscribe();
    await server.stop();
    await nc.drain();
    const acked = reports.reduce((s, r) => s + r.acked, 0);
    const inWindow = reports.reduce((s, r) => s + r.ackedInWindow, 0);
    const fileBytesPerRollout = (statSync(file).size - size0) / acked;
    const sampled = checkCeilingLog(log, reports, shape, mode, opts.sample);
    const f = new RolloutFactory(0, shape);
    const eventBytes = encodeEvent(f.rollout(0).event).length;
    const blobBytes = mode === 'blobs' ? packPlain(encodeGroupBlob(f.rows(0))).length : 0;
    const latencies = reports.flatMap((r) => r.latenciesMs);
    const rolloutsPerSec = inWindow / (opts.measureMs / 1000);
    const round = (x: number, d = 2) => Number(x.toFixed(d));
    return {
      producers: opts.producers,
      mode,
      window,
      perRequest,
      rolloutsPerSec: round(rolloutsPerSec, 1),
      MBps: round((rolloutsPerSec * (eventBytes + blobBytes)) / 1e6),
      ackP50Ms: round(quantile(latencies, 0.5)),
      ackP99Ms: round(quantile(latencies, 0.99)),
      storeCpu: round((cpu.user + cpu.system) / 1000 / wallMs),
      natsCpu: round((natsCpuSec * 1000) / wallMs),
      producerCpu: round(reports.reduce((s, r) => s + r.cpuMs, 0) / wallMs),
      eventBytes,
      blobBytes,
      requestBytes: reports[0]?.requestBytes ?? 0,
      fileBytesPerRollout: Math.round(fileBytesPerRollout),
      acked,
      ackedBy: reports.map((r) => r.acked),
      sampled,
      wallMs: Math.round(wallMs),
    };
  } finally {
    for (const p of producers) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await log.close();
  }
}

/** Sizes of the `ceiling` group of `dare bench`. */
export const CEILING_SIZES = {
  quick: { producers: [1, 2], warmupMs: 200, measureMs: 800 },
  full: { producers: [1, 2, 4], warmupMs: 1000, measureMs: 5000 },
} as const;

/** The `ceiling` group of `dare bench`: the blobs wire for each N, figures named ceiling.n<N>.*. */
export async function ceilingBench(dir: string, opts: { quick: boolean; say?: (m: string) => void; window?: number; perRequest?: number }): Promise<Record<string, number>> {
  const size = opts.quick ? CEILING_SIZES.quick : CEILING_SIZES.full;
  const nats = await startNatsServer();
  const figures: Record<string, number> = {};
  try {
    for (const n of size.producers) {
      opts.say?.(`bench: single writer's ceiling, ${n} producer process(es), ${size.measureMs} ms`);
      const r = await writerCeiling(join(dir, `ceiling-n${n}`), nats, { producers: n, warmupMs: size.warmupMs, measureMs: size.measureMs, window: opts.window, perRequest: opts.perRequest });
      const k = `ceiling.n${n}`;
      figures[`${k}.rolloutsPerSec`] = r.rolloutsPerSec;
      figures[`${k}.MBps`] = r.MBps;
      figures[`${k}.ackP50Ms`] = r.ackP50Ms;
      figures[`${k}.ackP99Ms`] = r.ackP99Ms;
      figures[`${k}.storeCpu`] = r.storeCpu;
      figures[`${k}.natsCpu`] = r.natsCpu;
      figures[`${k}.producerCpu`] = r.producerCpu;
      figures['ceiling.eventBytes'] = r.eventBytes;
      figures['ceiling.blobBytes'] = r.blobBytes;
      figures['ceiling.requestBytes'] = r.requestBytes;
      figures[`${k}.fileBytesPerRollout`] = r.fileBytesPerRollout;
    }
  } finally {
    await nats.stop();
  }
  return figures;
}
