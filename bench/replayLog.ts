/**
 * A long sim run's log for the replay and resume figures, generated once and cached, and the replay
 * figures over it.
 *
 * The cached run is the control-plane scenario (bench/orchestration.ts: B = 512, G = 8, 10k prompts) with
 * checkpoints every 100 steps, evaluations every 100 steps and the default actor snapshots (every 2000
 * events), run as `dare run` in a child process and killed with SIGKILL once its log holds `events` events:
 * an unfinished run, as a crash leaves it, which `dare resume` continues. Cache:
 * $DARE_BENCH_CACHE (default <tmpdir>/dare-bench-cache)/sim-<events>-<scenario hash>/run, marked complete by
 * a `ready.json` beside it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { open } from 'lmdb';
import { connectNats } from '../bus/connect.ts';
import { verifyLog } from '../run/replay.ts';
import { SCHEMA_VERSION } from '../events/catalogue.ts';
import { unpack } from '../events/codec.ts';
import { subjectsFor } from '../events/subjects.ts';
import { EventLog } from '../store/eventLog.ts';
import { REPO_ROOT, simScenario } from './orchestration.ts';

export interface CachedRun {
  runDir: string;
  /** events in its log */
  events: number;
  /** seconds the generation took (0 when it came from the cache) */
  generatedSeconds: number;
}

export function benchCacheDir(): string {
  return process.env.DARE_BENCH_CACHE ?? join(process.env.DARE_BENCH_DIR ?? tmpdir(), 'dare-bench-cache');
}

/** The cached run of at least `events` events (generated when missing: minutes for 1M events). */
export async function cachedSimRun(events: number, say: (m: string) => void = () => undefined, cacheDir = benchCacheDir()): Promise<CachedRun> {
  // steps enough for `events` (a B = 512 step with σ = 0.5 logs ~262 events); the run is killed before it ends
  const scenario = { ...simScenario({ steps: Math.ceil(events / 200) + 100, batchSize: 512, groupSize: 8, prompts: 10_000, checkpointEvery: 100, evalEvery: 100 }), description: 'replay/resume benchmark log' };
  const key = createHash('sha256').update(JSON.stringify({ scenario, events, SCHEMA_VERSION })).digest('hex').slice(0, 12);
  const base = join(cacheDir, `sim-${events}-${key}`);
  const runDir = join(base, 'run');
  const ready = join(base, 'ready.json');
  if (existsSync(ready)) {
    const r = JSON.parse(readFileSync(ready, 'utf8')) as { events: number };
    return { runDir, events: r.events, generatedSeconds: 0 };
  }
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const file = join(base, 'scenario.json');
  writeFileSync(file, JSON.stringify(scenario, null, 2));
  say(`bench: generating a ${events}-event sim log (cached in ${base})`);
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'cli', 'dare.js'), 'run', file, '--run-dir', runDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, DARE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited: number | null = null;
  const exit = new Promise<void>((r) => child.once('exit', (code) => ((exited = code ?? 137), r())));
  const watch = new LastSeqWatch(runDir);
  let last = 0;
  let moved = Date.now();
  try {
    while (exited === null) {
      await new Promise((r) => setTimeout(r, 200));
      await watch.poll();
      if (watch.last > last) moved = Date.now();
      last = watch.last;
      if (last >= events) {
        child.kill('SIGKILL');
        break;
      }
      // a generator that stops logging is an error here, not a bench that waits forever
      if (Date.now() - moved > 120_000) {
        child.kill('SIGKILL');
        await exit;
        throw new Error(`bench: the log generator logged nothing for 120 s (at ${last} of ${events} events in ${runDir})`);
      }
    }
    await exit;
  } finally {
    await watch.close();
  }
  // the writer is gone: one reader, opened once, says what the log holds
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    last = log.lastSeq();
  } finally {
    await log.close();
  }
  if (last < events) {
    throw new Error(`bench: the log generator ${exited === 0 ? 'finished its run' : `exited (${exited})`} with ${last} of ${events} events in ${runDir}`);
  }
  writeFileSync(ready, JSON.stringify({ events: last, seconds: (Date.now() - t0) / 1000 }) + '\n');
  return { runDir, events: last, generatedSeconds: (Date.now() - t0) / 1000 };
}

/**
 * The generating run's last committed seq, followed from outside on its log subject (the store publishes
 * each committed batch there as `{items: [[seq, bytes], ...]}`; the events are not decoded), over the run's
 * private nats-server named in its nats.json. Readers of the LMDB file from this process lost sight of the
 * log after 4–10 minutes of a 1M-event generation, a reader opened per 200 ms poll (its open failed) and
 * one long-lived reader alike (its reads came back empty from ~400k events on; cause not found).
 */
class LastSeqWatch {
  last = 0;
  private nc: NatsConnection | null = null;

  constructor(private readonly runDir: string) {}

  async poll(): Promise<void> {
    if (this.nc) return;
    const file = join(this.runDir, 'nats.json');
    if (!existsSync(file)) return;
    let target: { url: string; token: string; run: string };
    try {
      target = JSON.parse(readFileSync(file, 'utf8')) as typeof target;
    } catch {
      return; // being written
    }
    this.nc = await connectNats({ url: target.url, token: target.token, name: 'bench-log-generator' });
    this.nc.subscribe(subjectsFor(target.run).log, {
      callback: (err, msg) => {
        if (err) return;
        const body = unpack(msg.data) as { items?: Array<[number, unknown]> };
        for (const [seq] of body.items ?? []) if (seq > this.last) this.last = seq;
      },
    });
  }

  async close(): Promise<void> {
    await this.nc?.close().catch(() => undefined);
  }
}

/** `replay.eventsPerSec`: `dare replay --verify` (every decision recomputed and compared) over the log. */
export function replayBench(runDir: string): Record<string, number> {
  const t0 = process.hrtime.bigint();
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  let res: ReturnType<typeof verifyLog>;
  try {
    res = verifyLog(log);
  } finally {
    void log.close();
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.mismatch) throw new Error(`bench: replay --verify of ${runDir} failed at seq ${res.mismatch.seq}: ${res.mismatch.reason}`);
  return { 'replay.eventsPerSec': Math.round(res.events / s), 'replay.events': res.events, 'replay.seconds': Number(s.toFixed(2)) };
}

/**
 * `log.bytesPerRollout`: the LMDB file (data.mdb: events, id index, blobs, prompts, snapshots, free pages)
 * per generated rollout row; with the encoded event bytes and the blob bytes per row beside it.
 */
export function logBytesBench(runDir: string): Record<string, number> {
  const dir = join(runDir, 'log');
  const env = open({ path: dir, readOnly: true, maxDbs: 8, encoding: 'binary' });
  let eventBytes = 0;
  let blobBytes = 0;
  let rows = 0;
  try {
    const events = env.openDB<Buffer, Buffer>('events', { encoding: 'binary', keyEncoding: 'binary' });
    const blobs = env.openDB<Buffer, string>('blobs', { encoding: 'binary' });
    for (const { value } of events.getRange({})) eventBytes += (value as Buffer).length;
    for (const { value } of blobs.getRange({})) blobBytes += (value as Buffer).length;
  } finally {
    void env.close();
  }
  const log = EventLog.open(dir, { readOnly: true });
  try {
    for (const { event } of log.iterate(1)) if (event.type === 'RolloutCompleted') rows += event.data.reward.length;
  } finally {
    void log.close();
  }
  if (rows === 0) throw new Error(`bench: ${runDir} holds no rollouts`);
  const file = statSync(join(dir, 'data.mdb')).size;
  return {
    'log.bytesPerRollout': Math.round(file / rows),
    'log.eventBytesPerRollout': Number((eventBytes / rows).toFixed(1)),
    'log.blobBytesPerRollout': Number((blobBytes / rows).toFixed(1)),
    'log.rollouts': rows,
  };
}
