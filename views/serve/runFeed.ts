/**
 * Where the dashboard's events come from. A run directory's LMDB log is read first (read-only: the running
 * process is the single writer; LMDB lets readers in other processes see each committed transaction).
 * While the run is running — RUN_DIR/nats.json names its NATS server, token and run id, as for
 * `dare inspect --live` and `dare control` — new events arrive over NATS from the store's ordered log
 * subject, and pause / resume / stop go to the run's control subject. When the run ends (RunCompleted,
 * RunFailed, or nats.json removed by the runner) the feed falls back to the LMDB log, which it polls, so a
 * run that is started or resumed later is picked up again.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, type NatsTarget } from '../../bus/connect.ts';
import { natsVia } from '../../run/control.ts';
import { LogClient, type Consumer } from '../../bus/logClient.ts';
import type { Logged } from '../../events/catalogue.ts';
import { pack, unpack } from '../../events/codec.ts';
import { subjectsFor } from '../../events/subjects.ts';
import { EventLog, StoreError } from '../../store/eventLog.ts';
import { UserError } from '../../events/errors.ts';
import { openRunLog } from '../../run/openLog.ts';
import { DashboardState } from './dashboardState.ts';

export type ControlCommand = 'pause' | 'resume' | 'stop';

export interface FeedOptions {
  /** called after new events were folded (or the live/finished mode changed) */
  onChange: () => void;
  /** problems worth a line on stderr (a lost NATS connection, a fold error) */
  warn: (msg: string) => void;
  /** how often the LMDB log and nats.json are looked at (ms) */
  pollMs?: number;
  /** servers and credentials of one's own (an observer's: no control; an operator's: control too) */
  via?: NatsTarget;
}

interface NatsInfo {
  url: string;
  token?: string;
  run: string;
}

/** after losing a live run's server (it may be restarting) */
const RETRY_NATS_MS = 5_000;
/** after failing to reach it (a killed run's nats.json) */
const STALE_RETRY_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Open a run's log read-only, waiting a little for a writer that is still creating it. */
async function openLog(runDir: string): Promise<EventLog> {
  for (let attempt = 0; ; attempt++) {
    try {
      return openRunLog(runDir);
    } catch (e) {
      if (!(e instanceof StoreError) || !/not initialised/.test(e.message) || attempt >= 50) throw e;
      await sleep(100);
    }
  }
}

export class RunFeed {
  readonly runDir: string;
  readonly state: DashboardState;
  private nc: NatsConnection | null = null;
  private consumer: Consumer | null = null;
  private client: LogClient | null = null;
  /** mtime of the nats.json last seen */
  private natsStamp = '';
  /** when to try NATS again after a failure (wall clock: it paces a display, never a decision) */
  private natsNextTry = 0;
  private natsWarned = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private closed = false;

  private constructor(runDir: string, readonly log: EventLog, private readonly opts: FeedOptions) {
    this.runDir = runDir;
    this.state = new DashboardState((q) => {
      const row = log.getPrompt(q) as { id?: string; question?: string; category?: string } | undefined;
      return row ? { id: String(row.id ?? q), question: String(row.question ?? ''), category: String(row.category ?? '') } : undefined;
    });
  }

  /** Fold the log as it is now, follow the run live if it is running, and keep polling. */
  static async open(dir: string, opts: FeedOptions): Promise<RunFeed> {
    const runDir = resolve(dir);
    const feed = new RunFeed(runDir, await openLog(runDir), opts);
    feed.catchUp();
    await feed.tick();
    feed.timer = setInterval(() => void feed.tick(), opts.pollMs ?? 1000);
    return feed;
  }

  get live(): boolean {
    return this.consumer !== null;
  }

  /** Fold what the LMDB log holds beyond what was folded (the offline path). */
  private catchUp(): number {
    let n = 0;
    for (const l of this.log.iterate(this.state.version + 1)) {
      this.state.add(l);
      n++;
    }
    return n;
  }

  private natsInfo(): { info: NatsInfo; stamp: string } | null {
    const file = join(this.runDir, 'nats.json');
    try {
      const stamp = `${statSync(file).mtimeMs}`;
      const info = JSON.parse(readFileSync(file, 'utf8')) as NatsInfo;
      if (typeof info?.url !== 'string' || typeof info?.run !== 'string') return null;
      return { info, stamp };
    } catch {
      return null; // absent, or being replaced: look again next time
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      const nats = this.natsInfo();
      if (this.live) {
        // the runner removes nats.json when the run ends (also after a failure)
        if (!nats) await this.goOffline();
        return;
      }
      if (this.catchUp() > 0) this.opts.onChange();
      const s = this.state.status();
      if (!nats || s.completed || s.failed) return;
      if (nats.stamp !== this.natsStamp) {
        // a new nats.json (the run started, or was resumed): try it now
        this.natsStamp = nats.stamp;
        this.natsNextTry = 0;
        this.natsWarned = false;
      }
      if (Date.now() >= this.natsNextTry) await this.goLive(nats.info);
    } catch (e) {
      this.opts.warn(`dashboard: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async goLive(info: NatsInfo): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await Promise.race([
        connectNats({ ...natsVia(info, this.opts.via), name: `${info.run}/dashboard` }),
        sleep(5000).then(() => Promise.reject(new Error('timed out'))),
      ]);
    } catch (e) {
      // a killed run leaves its nats.json behind: say so once, look again now and then
      if (!this.natsWarned) this.opts.warn(`dashboard: ${info.url} not reachable (${(e as Error).message}); showing the log as it is`);
      this.natsWarned = true;
      this.natsNextTry = Date.now() + STALE_RETRY_MS;
      return;
    }
    this.nc = nc;
    this.client = new LogClient(nc, info.run);
    this.consumer = this.client.consume(this.state.version + 1, (l: Logged) => {
      this.state.add(l);
      this.opts.onChange();
      const t = l.event.type;
      // after these the run's control subscription is gone: stop offering control at once
      if (t === 'RunCompleted' || t === 'RunStopped' || t === 'RunFailed') setImmediate(() => void this.goOffline());
    }, {
      onError: (e) => this.opts.warn(`dashboard: live feed stopped: ${(e as Error).message}`),
      // the store does not answer (a killed run whose nats-server lives on, a server restart): follow the LMDB
      // log instead, and try NATS again a little later
      onRetry: (e) => lost(`${(e as Error).message}`),
    });
    const lost = (why: string) => {
      if (this.nc !== nc) return;
      this.opts.warn(`dashboard: ${info.url}: ${why}; following the LMDB log for now`);
      this.natsNextTry = Date.now() + RETRY_NATS_MS;
      void this.goOffline();
    };
    void (async () => {
      for await (const st of nc.status()) {
        if (st.type === 'disconnect') return lost('disconnected');
      }
    })();
    this.state.live = true;
    this.opts.onChange();
  }

  private async goOffline(): Promise<void> {
    const consumer = this.consumer;
    const nc = this.nc;
    if (!consumer) return;
    this.consumer = null;
    this.client = null;
    this.nc = null;
    this.state.live = false;
    await consumer.stop();
    await nc?.close().catch(() => undefined);
    this.catchUp();
    this.opts.onChange();
  }

  /** Send pause / resume / stop to the running run, as `dare control` does; resolves once it is logged. */
  async control(command: ControlCommand): Promise<void> {
    const info = this.natsInfo()?.info;
    if (!this.live || !this.nc || !info) throw new UserError('the run is not running: control is only for a live run');
    const reply = unpack((await this.nc.request(subjectsFor(info.run).control, pack({ command, source: 'dashboard' }), { timeout: 10_000 })).data) as { ok: boolean; error?: string };
    if (!reply.ok) throw new UserError(`control ${command}: ${reply.error}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.goOffline();
    await this.log.close();
  }
}
