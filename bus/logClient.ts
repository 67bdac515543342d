/**
 * The bus: how actors reach the store over NATS.
 *   append   request {events: [bin]} (each bin one MessagePack event)   reply {ok, results | error}
 *            (append.<role>: the same, for a process of that role; see events/roles.ts)
 *   log      published by the store after commit: {items: [[seq, bin], ...]} in sequence order
 *   read     request {from, to, max}                                   reply {last, items: [[seq, bin], ...]}
 * `LogClient.consume` delivers events to an actor strictly in sequence order, each exactly once, filling gaps
 * (missed or reordered messages, a late start) with range reads.
 * Given the store's in-process side (events/localLog.ts: the actors `dare run` hosts), the client appends,
 * reads and follows the log through it instead, with the same contract and no NATS round trip; the store
 * still publishes every committed event on NATS for everyone else.
 */
import { PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import type { DareEvent, Logged } from '../events/catalogue.ts';
import { decodeTrusted, encodeEvent, pack, unpack } from '../events/codec.ts';
import type { LocalLog } from '../events/localLog.ts';
import type { AppendRole } from '../events/roles.ts';
import { subjectsFor, type RunSubjects } from '../events/subjects.ts';
import { mark, stepTrace } from '../events/stepTrace.ts';

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
  /**
   * Woken BACKGROUND_DELAY_MS after new events arrive rather than at once (a monitor): the hops of a step
   * (decide, append, commit, deliver) all run on this process's one thread, and work done between a decision
   * and its commit delays the step; a short delay moves it into the wait for the worker. Timing only: every
   * consumer still gets every event, in order.
   */
  background?: boolean;
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
  private feed: LogFeed | null = null;
  private appendSubject: string;

  constructor(
    readonly nc: NatsConnection,
    readonly run: string,
    private readonly requestTimeoutMs = 10_000,
    /** the store's in-process side, when the store runs in this process */
    readonly local?: LocalLog,
  ) {
    this.subjects = subjectsFor(run);
    this.appendSubject = this.subjects.append;
  }

  /**
   * Append as a process of `role` from now on (`dare actor`, `dare bridge`): through the role's subject,
   * where the store accepts only the event types the role emits (events/roles.ts).
   */
  as(role: AppendRole): this {
    this.appendSubject = this.subjects.appendAs(role);
    return this;
  }

  /**
   * Propose events to the store; resolves with their sequence numbers once they are durable. Retries on
   * timeouts and disconnections (appends are idempotent by event id), until `deadlineMs` has passed.
   */
  async append(events: readonly DareEvent[], deadlineMs = 120_000): Promise<AppendReply[]> {
    if (this.local) {
      if (stepTrace.on) mark(`client:send ${events.length}`);
      try {
        return await this.local.append(events);
      } catch (e) {
        // a refusal or a failed commit: as over NATS, not retried (there is no transport to be transient)
        throw new AppendRejected(`append rejected by the store: ${(e as Error).message}`);
      }
    }
    const body = pack({ events: events.map((e) => encodeEvent(e)) });
    if (stepTrace.on) mark(`client:send ${events.length}`);
    const start = Date.now(); // wall clock bounds the retry loop only
    let attempt = 0;
    for (;;) {
      try {
        const msg = await this.nc.request(this.appendSubject, body, { timeout: this.requestTimeoutMs });
        const reply = unpack(msg.data) as { ok: boolean; results?: AppendReply[]; error?: string };
        if (!reply.ok) throw new AppendRejected(`append rejected by the store: ${reply.error}`);
        return reply.results!;
      } catch (e) {
        if (e instanceof AppendRejected) throw e;
        // this connection's NATS user may not publish there: no retry makes it so
        if (e instanceof PermissionViolationError || (e as Error)?.cause instanceof PermissionViolationError) {
          throw new AppendRejected(`append to ${this.appendSubject} refused by the NATS server: this user may not publish there (${(e as Error).message})`);
        }
        if (Date.now() - start > deadlineMs) {
          throw new BusError(`append to ${this.appendSubject} failed after ${attempt + 1} attempts: ${(e as Error).message}`);
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

  /** @internal range read of raw event bytes (the feed's consumers use it) */
  async readRaw(from: number, to: number, max: number): Promise<{ last: number; items: Array<[number, Uint8Array]> }> {
    if (this.local) return this.local.readRaw(from, to, max);
    const msg = await this.nc.request(this.subjects.read, pack({ from, to, max }), { timeout: this.requestTimeoutMs });
    const reply = unpack(msg.data) as { last?: number; items?: unknown; error?: string };
    if (reply.error) throw new BusError(`read ${from}..${to}: ${reply.error}`);
    return { last: reply.last ?? 0, items: decodeItems(reply.items, 'read reply') };
  }

  /**
   * Deliver every committed event with seq ≥ `from` to `handler`, in order, exactly once, awaiting the handler
   * before the next delivery. Live messages are buffered; a gap triggers a range read. Every consumer of this
   * client shares one subscription and one decoded copy of each event (LogFeed): the actors hosted in one
   * process get the same Logged object, which they must not modify (as in replay, where every actor folds
   * the same object).
   */
  consume(from: number, handler: (e: Logged) => void | Promise<void>, opts: ConsumeOptions = {}): Consumer {
    this.feed ??= new LogFeed(this);
    const feed = this.feed;
    const idleMs = opts.idleMs ?? 250;
    const chunk = opts.readChunk ?? 5_000;
    let stopped = false;
    let draining = false;
    let lastActivity = Date.now();
    const waiters: Array<{ seq: number; resolve: () => void }> = [];
    const onError = opts.onError ?? (() => undefined);
    const onRetry = opts.onRetry ?? (() => undefined);

    const notify = () => {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (sink.next >= waiters[i].seq) {
          waiters[i].resolve();
          waiters.splice(i, 1);
        }
      }
    };

    const fill = async (upTo: number) => {
      // fetch [next, upTo) from the store
      while (!stopped && sink.next < upTo) {
        const { last, items } = await this.readRaw(sink.next, upTo, chunk);
        feed.saw(last);
        if (items.length === 0) return;
        for (const [seq, b] of items) feed.put(seq, b);
        await deliverReady();
      }
    };

    const deliverReady = async () => {
      while (!stopped && feed.has(sink.next)) {
        const seq = sink.next;
        const logged = feed.get(seq, onError);
        if (!logged) {
          stopped = true;
          return;
        }
        try {
          // a handler with nothing to wait for returns no promise: the next event follows at once, without a
          // microtask turn, so the first consumer woken takes a whole batch before the next one starts
          const r = handler(logged);
          if (r !== undefined) {
            sink.waiting = true;
            try {
              await r;
            } finally {
              sink.waiting = false;
            }
          }
        } catch (e) {
          // a handler that fails stops its consumer: the event must not be delivered twice
          stopped = true;
          onError(e);
          return;
        }
        sink.next = seq + 1;
        feed.delivered(seq);
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
          if (stopped) break;
          // a gap: the lowest buffered seq is beyond `next`
          const min = feed.lowestFrom(sink.next);
          if (min === undefined) break;
          await fill(min);
        }
        if (!stopped && feed.knownLast >= sink.next) await fill(feed.knownLast + 1);
      } catch (e) {
        // a failed range read (e.g. the server is restarting): the idle poll tries again
        onRetry(e);
        lastActivity = 0;
      } finally {
        draining = false;
      }
      // a live message may have arrived after the last check, while `draining` still turned it away
      if (!stopped && feed.has(sink.next)) void drain();
    };

    const sink: FeedSink = { next: from, wake: () => void drain(), onError, background: opts.background === true, waiting: false };
    feed.attach(sink);

    // catch up from `from` to the store's end, then keep polling when idle (a missed last message)
    const poll = async () => {
      if (stopped || draining) return;
      if (Date.now() - lastActivity < idleMs && feed.lowestFrom(sink.next) === undefined && feed.knownLast < sink.next) return;
      try {
        const { last } = await this.readRaw(sink.next, sink.next, 0);
        feed.saw(last);
        lastActivity = Date.now();
        if (feed.knownLast >= sink.next || feed.lowestFrom(sink.next) !== undefined) void drain();
      } catch (e) {
        onRetry(e);
      }
    };
    const timer = setInterval(() => void poll(), idleMs);
    void (async () => {
      try {
        // over NATS: the subscription is in place before the store says where its log ends (local: at once)
        if (!this.local) await this.nc.flush();
        const { last } = await this.readRaw(sink.next, sink.next, 0);
        feed.saw(last);
        void drain();
      } catch (e) {
        onRetry(e);
      }
    })();

    return {
      get next() {
        return sink.next;
      },
      reached(seq: number) {
        if (sink.next >= seq) return Promise.resolve();
        return new Promise<void>((resolve) => waiters.push({ seq, resolve }));
      },
      async stop() {
        stopped = true;
        clearInterval(timer);
        feed.detach(sink);
        for (const w of waiters.splice(0)) w.resolve();
      },
    };
  }
}

/** How long background consumers wait before taking newly arrived events (ms; see ConsumeOptions). */
const BACKGROUND_DELAY_MS = 20;

/** A consumer as the feed sees it: the next seq it will deliver, and how to wake it. */
interface FeedSink {
  next: number;
  wake(): void;
  onError(e: unknown): void;
  background: boolean;
  /** waiting for its handler (which is appending what it decided) */
  waiting: boolean;
}

/**
 * The live log of one LogClient, shared by its consumers: one subscription to the log subject, each event
 * decoded at most once (on first delivery), kept until every consumer has delivered it. Range reads of any
 * consumer add to it too.
 */
class LogFeed {
  /** seq -> encoded event, replaced by the decoded event on first delivery */
  private readonly items = new Map<number, Uint8Array | Logged>();
  private readonly sinks = new Set<FeedSink>();
  private sub: { unsubscribe(): void } | null = null;
  /** the highest seq held (or once held) in `items` */
  private maxHeld = 0;
  /** the highest seq the store is known to hold */
  knownLast = 0;
  /** pending wake-up of the background consumers */
  private backgroundTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly client: LogClient) {}

  attach(sink: FeedSink): void {
    this.sinks.add(sink);
    if (this.sub) return;
    const local = this.client.local;
    if (local) {
      const unlisten = local.listen((items) => {
        if (this.sinks.size === 0) return;
        if (stepTrace.on) mark(`feed:${items.length}`);
        for (const [seq, b] of items) {
          this.put(seq, b);
          this.saw(seq);
        }
        this.wakeSinks();
      });
      this.sub = { unsubscribe: unlisten };
      return;
    }
    this.sub = this.client.nc.subscribe(this.client.subjects.log, {
      callback: (err, msg) => {
        if (err || this.sinks.size === 0) return;
        try {
          const body = unpack(msg.data) as { items?: unknown };
          if (stepTrace.on) mark(`feed:${Array.isArray(body.items) ? body.items.length : 0}`);
          for (const [seq, b] of decodeItems(body.items, 'log message')) {
            this.put(seq, b);
            this.saw(seq);
          }
        } catch (e) {
          // a malformed message: every consumer hears of it (as each did with its own subscription)
          for (const s of this.sinks) s.onError(e);
          return;
        }
        this.wakeSinks();
      },
    });
  }

  /** Wake the consumers after new events arrived (in the order that keeps the step's next hop first). */
  private wakeSinks(): void {
    const sinks = [...this.sinks];
    for (let i = 0; i < sinks.length; i++) {
      const s = sinks[i];
      if (s.background) continue;
      const was = s.waiting;
      s.wake();
      if (!was && s.waiting) {
        // it decided and is appending: the consumers after it fold these events a moment later, once the
        // store (on this same thread) has taken the append, so the step's next hop does not wait for them
        const rest = sinks.slice(i + 1).filter((x) => !x.background);
        if (rest.length) setTimeout(() => rest.forEach((x) => this.sinks.has(x) && x.wake()), 0);
        break;
      }
    }
    if (this.backgroundTimer === null && sinks.some((x) => x.background)) {
      this.backgroundTimer = setTimeout(() => {
        this.backgroundTimer = null;
        for (const s of [...this.sinks]) if (s.background) s.wake();
      }, BACKGROUND_DELAY_MS);
    }
  }

  detach(sink: FeedSink): void {
    this.sinks.delete(sink);
    if (this.sinks.size === 0) {
      if (this.backgroundTimer !== null) clearTimeout(this.backgroundTimer);
      this.backgroundTimer = null;
      this.sub?.unsubscribe();
      this.sub = null;
      this.items.clear();
      this.maxHeld = 0;
      return;
    }
    const min = this.minNext();
    for (const seq of this.items.keys()) if (seq < min) this.items.delete(seq);
  }

  saw(last: number): void {
    if (last > this.knownLast) this.knownLast = last;
  }

  private minNext(): number {
    let min = Infinity;
    for (const s of this.sinks) if (s.next < min) min = s.next;
    return min;
  }

  /** Hold an event's bytes unless every consumer is past it (or it is held already). */
  put(seq: number, bytes: Uint8Array): void {
    if (this.items.has(seq) || seq < this.minNext()) return;
    this.items.set(seq, bytes);
    if (seq > this.maxHeld) this.maxHeld = seq;
  }

  has(seq: number): boolean {
    return this.items.has(seq);
  }

  /** The decoded event at `seq` (decoded once, shared); undefined after a decode error (reported). */
  get(seq: number, onError: (e: unknown) => void): Logged | undefined {
    const v = this.items.get(seq);
    if (v === undefined) return undefined;
    if (!(v instanceof Uint8Array)) return v;
    try {
      const logged: Logged = { seq, event: decodeTrusted(v) };
      this.items.set(seq, logged);
      return logged;
    } catch (e) {
      onError(e);
      return undefined;
    }
  }

  /** A consumer has delivered `seq`: drop it once no consumer still needs it. */
  delivered(seq: number): void {
    if (this.minNext() > seq) this.items.delete(seq);
  }

  /** The lowest held seq ≥ `from`, if any (a gap lies before it when it is not `from` itself). */
  lowestFrom(from: number): number | undefined {
    if (this.maxHeld < from) return undefined;
    let min: number | undefined;
    for (const seq of this.items.keys()) if (seq >= from && (min === undefined || seq < min)) min = seq;
    return min;
  }
}
