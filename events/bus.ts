/**
 * The bus: how actors reach the store over NATS.
 *   append   request {events: [bin]} (each bin one MessagePack event)   reply {ok, results | error}
 *   log      published by the store after commit: {items: [[seq, bin], ...]} in sequence order
 *   read     request {from, to, max}                                   reply {last, items: [[seq, bin], ...]}
 * `LogClient.consume` delivers events to an actor strictly in sequence order, each exactly once, filling gaps
 * (missed or reordered messages, a late start) with range reads.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DareEvent, Logged } from './catalogue.ts';
import { decodeTrusted, encodeEvent, pack, unpack } from './codec.ts';
import { subjectsFor, type RunSubjects } from './subjects.ts';

export interface NatsOptions {
  url: string;
  token?: string;
  user?: string;
  pass?: string;
  name?: string;
}

/** Connect with reconnect-forever semantics (a restarted nats-server must not end a run). */
export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  return connect({
    servers: opts.url,
    token: opts.token,
    user: opts.user,
    pass: opts.pass,
    name: opts.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    pingInterval: 5_000,
  });
}

export interface AppendReply {
  seq: number;
  duplicate: boolean;
}

export class BusError extends Error {
  override name = 'BusError';
}

/** A rejected append: the store validated the events and refused them (not retried). */
export class AppendRejected extends BusError {
  override name = 'AppendRejected';
}

function decodeItems(items: unknown, where: string): Array<[number, Uint8Array]> {
  if (!Array.isArray(items)) throw new BusError(`${where}: items is not an array`);
  return items as Array<[number, Uint8Array]>;
}

export interface ConsumeOptions {
  /** poll the store for missed tail events after this much silence (liveness only, never decisions) */
  idleMs?: number;
  /** events per range read */
  readChunk?: number;
  /** a malformed message (never a transient read failure: those are retried by the idle poll) */
  onError?: (e: unknown) => void;
  /** transient failures (a read timing out while the server restarts); retried, informational */
  onRetry?: (e: unknown) => void;
}

export interface Consumer {
  /** the next sequence number this consumer will deliver */
  readonly next: number;
  /** resolves when every event with seq < `seq` has been delivered (and handled) */
  reached(seq: number): Promise<void>;
  stop(): Promise<void>;
}

export class LogClient {
  readonly subjects: RunSubjects;

  constructor(
    readonly nc: NatsConnection,
    readonly run: string,
    private readonly requestTimeoutMs = 10_000,
  ) {
    this.subjects = subjectsFor(run);
  }

  /**
   * Propose events to the store; resolves with their sequence numbers once they are durable. Retries on
   * timeouts and disconnections (appends are idempotent by event id), until `deadlineMs` has passed.
   */
  async append(events: readonly DareEvent[], deadlineMs = 120_000): Promise<AppendReply[]> {
    const body = pack({ events: events.map((e) => encodeEvent(e)) });
    const start = Date.now(); // wall clock bounds the retry loop only
    let attempt = 0;
    for (;;) {
      try {
        const msg = await this.nc.request(this.subjects.append, body, { timeout: this.requestTimeoutMs });
        const reply = unpack(msg.data) as { ok: boolean; results?: AppendReply[]; error?: string };
        if (!reply.ok) throw new AppendRejected(`append rejected by the store: ${reply.error}`);
        return reply.results!;
      } catch (e) {
        if (e instanceof AppendRejected) throw e;
        if (Date.now() - start > deadlineMs) {
          throw new BusError(`append to ${this.subjects.append} failed after ${attempt + 1} attempts: ${(e as Error).message}`);
        }
        attempt++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  /** Range read of committed events from ≤ seq < to (at most `max`); also returns the store's last seq. */
  async read(from: number, to = Number.MAX_SAFE_INTEGER, max = 10_000): Promise<{ last: number; events: Logged[] }> {
    const raw = await this.readRaw(from, to, max);
    return { last: raw.last, events: raw.items.map(([seq, b]) => ({ seq, event: decodeTrusted(b) })) };
  }

  private async readRaw(from: number, to: number, max: number): Promise<{ last: number; items: Array<[number, Uint8Array]> }> {
    const msg = await this.nc.request(this.subjects.read, pack({ from, to, max }), { timeout: this.requestTimeoutMs });
    const reply = unpack(msg.data) as { last?: number; items?: unknown; error?: string };
    if (reply.error) throw new BusError(`read ${from}..${to}: ${reply.error}`);
    return { last: reply.last ?? 0, items: decodeItems(reply.items, 'read reply') };
  }

  /**
   * Deliver every committed event with seq ≥ `from` to `handler`, in order, exactly once, awaiting the handler
   * before the next delivery. Live messages are buffered; a gap triggers a range read.
   */
  consume(from: number, handler: (e: Logged) => void | Promise<void>, opts: ConsumeOptions = {}): Consumer {
    const idleMs = opts.idleMs ?? 250;
    const chunk = opts.readChunk ?? 5_000;
    const pending = new Map<number, Uint8Array>();
    let next = from;
    let stopped = false;
    let draining = false;
    let knownLast = 0;
    let lastActivity = Date.now();
    const waiters: Array<{ seq: number; resolve: () => void }> = [];
    const onError = opts.onError ?? (() => undefined);
    const onRetry = opts.onRetry ?? (() => undefined);

    const notify = () => {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (next >= waiters[i].seq) {
          waiters[i].resolve();
          waiters.splice(i, 1);
        }
      }
    };

    const fill = async (upTo: number) => {
      // fetch [next, upTo) from the store
      while (!stopped && next < upTo) {
        const { last, items } = await this.readRaw(next, upTo, chunk);
        knownLast = Math.max(knownLast, last);
        if (items.length === 0) return;
        for (const [seq, b] of items) if (seq >= next) pending.set(seq, b);
        await deliverReady();
      }
    };

    const deliverReady = async () => {
      while (!stopped && pending.has(next)) {
        const bytes = pending.get(next)!;
        pending.delete(next);
        const seq = next;
        try {
          await handler({ seq, event: decodeTrusted(bytes) });
        } catch (e) {
          // a handler that fails stops its consumer: the event must not be delivered twice
          stopped = true;
          onError(e);
          return;
        }
        next = seq + 1;
        lastActivity = Date.now();
        notify();
      }
    };

    const drain = async () => {
      if (draining || stopped) return;
      draining = true;
      try {
        for (;;) {
          await deliverReady();
          if (stopped || pending.size === 0) break;
          // a gap: the lowest buffered seq is beyond `next`
          let min = Infinity;
          for (const s of pending.keys()) if (s < min) min = s;
          await fill(min);
        }
        if (!stopped && knownLast >= next) await fill(knownLast + 1);
      } catch (e) {
        // a failed range read (e.g. the server is restarting): the idle poll tries again
        onRetry(e);
        lastActivity = 0;
      } finally {
        draining = false;
      }
      // a live message may have arrived after the last check, while `draining` still turned it away
      if (!stopped && pending.has(next)) void drain();
    };

    const sub = this.nc.subscribe(this.subjects.log, {
      callback: (err, msg) => {
        if (err || stopped) return;
        try {
          const body = unpack(msg.data) as { items?: unknown };
          for (const [seq, b] of decodeItems(body.items, 'log message')) {
            if (seq >= next) pending.set(seq, b);
            if (seq > knownLast) knownLast = seq;
          }
        } catch (e) {
          onError(e);
          return;
        }
        void drain();
      },
    });

    // catch up from `from` to the store's end, then keep polling when idle (a missed last message)
    const poll = async () => {
      if (stopped || draining) return;
      if (Date.now() - lastActivity < idleMs && pending.size === 0 && knownLast < next) return;
      try {
        const { last } = await this.readRaw(next, next, 0);
        knownLast = Math.max(knownLast, last);
        lastActivity = Date.now();
        if (knownLast >= next || pending.size > 0) void drain();
      } catch (e) {
        onRetry(e);
      }
    };
    const timer = setInterval(() => void poll(), idleMs);
    void (async () => {
      try {
        await this.nc.flush();
        const { last } = await this.readRaw(next, next, 0);
        knownLast = Math.max(knownLast, last);
        void drain();
      } catch (e) {
        onRetry(e);
      }
    })();

    return {
      get next() {
        return next;
      },
      reached(seq: number) {
        if (next >= seq) return Promise.resolve();
        return new Promise<void>((resolve) => waiters.push({ seq, resolve }));
      },
      async stop() {
        stopped = true;
        clearInterval(timer);
        sub.unsubscribe();
        for (const w of waiters.splice(0)) w.resolve();
      },
    };
  }
}
