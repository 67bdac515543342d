/**
 * The store as a service (DESIGN §3): the single writer behind `dare.<run>.append`. It validates every
 * proposed event, rejects invalid or foreign ones with a logged reason (nothing of such a request is
 * appended), commits, replies with the sequence numbers, and only then publishes the committed events on
 * `dare.<run>.log`. `dare.<run>.read` serves range reads. `dare.<run>.append.<role>` is the same for a
 * process of that role (events/roles.ts), which may append only the event types its role emits. `local` is the same service for the actors hosted
 * in this process (events/localLog.ts): one commit-and-publish chain serves both, so both see one order.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeEvent, encodeEvent, pack, unpack } from '../events/codec.ts';
import type { DareEvent } from '../events/catalogue.ts';
import type { LocalAppendReply, LocalLog } from '../events/localLog.ts';
import { isAppendRole, refusalFor, type AppendRole } from '../events/roles.ts';
import { subjectsFor } from '../events/subjects.ts';
import { mark, stepTrace } from '../events/stepTrace.ts';
import { validateEvent, ValidationError } from '../events/validate.ts';
import type { AppendResult, EventLog } from './eventLog.ts';

export interface LogServerLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LogServer {
  /** number of append requests refused (invalid or foreign) */
  readonly rejected: number;
  /** the in-process side, for the actors this process hosts */
  readonly local: LocalLog;
  stop(): Promise<void>;
}

/** Bytes of payload left for framing in one reply. */
const REPLY_MARGIN = 64 * 1024;

export function serveLog(nc: NatsConnection, log: EventLog, run: string, logger: LogServerLogger): LogServer {
  const subj = subjectsFor(run);
  let rejected = 0;
  // Publishing is chained so that the log subject sees batches in commit order.
  let publishChain: Promise<void> = Promise.resolve();
  const maxPayload = () => Math.max(1024 * 1024, (nc.info?.max_payload ?? 1024 * 1024) - REPLY_MARGIN);

  const listeners = new Set<(items: ReadonlyArray<readonly [number, Uint8Array]>) => void>();

  /** Publish a committed batch on the log subject and to the in-process listeners, in commit order. */
  const publish = (results: readonly AppendResult[]) => {
    const items = results.filter((r) => !r.duplicate).map((r) => [r.seq, r.bytes!] as const);
    // split so that one message never exceeds the server's max payload
    let batch: Array<readonly [number, Buffer]> = [];
    let size = 0;
    for (const it of items) {
      if (batch.length > 0 && size + it[1].length > maxPayload()) {
        nc.publish(subj.log, pack({ items: batch }));
        batch = [];
        size = 0;
      }
      batch.push(it);
      size += it[1].length + 16;
    }
    if (batch.length > 0) nc.publish(subj.log, pack({ items: batch }));
    if (stepTrace.on) mark('srv:published');
    if (items.length === 0) return;
    for (const fn of [...listeners]) {
      try {
        fn(items);
      } catch (e) {
        logger.error({ err: (e as Error).message }, 'in-process log listener failed');
      }
    }
  };

  /**
   * Commit validated events (in call order: EventLog.append queues them) and, once durable, answer and then
   * publish. `answer` gets the results, or the failure's reason (nothing of the batch was written).
   */
  const commit = (events: DareEvent[], answer: (results: AppendResult[] | null, error?: string) => void, encoded?: Buffer[]) => {
    if (stepTrace.on) mark(`srv:recv ${events.length} ${events[0]?.type}`);
    const committed = log.append(events, encoded);
    publishChain = publishChain.then(async () => {
      let results;
      try {
        results = await committed;
      } catch (e) {
        rejected++;
        logger.error({ err: (e as Error).message }, 'append failed');
        answer(null, (e as Error).message);
        return;
      }
      if (stepTrace.on) mark('srv:committed');
      answer(results);
      publish(results);
    });
  };

  const refuse = (subject: string, e: unknown): string => {
    rejected++;
    const reason = e instanceof ValidationError ? e.message : `undecodable request: ${(e as Error).message}`;
    logger.warn({ subject, reason }, 'rejected append');
    return reason;
  };

  const foreign = (ev: DareEvent, i: number) =>
    new ValidationError(`events[${i}] (${ev.type} ${ev.id}): foreign run "${ev.run}", this store serves "${run}"`);

  /** An append request on `subject`: as `role` when it came through a role's subject (null: the run's own). */
  const onAppend = (msg: Msg, role: AppendRole | null) => {
    let events: DareEvent[];
    try {
      const body = unpack(msg.data) as { events?: unknown };
      if (typeof body !== 'object' || body === null || !Array.isArray(body.events)) {
        throw new ValidationError('append request: expected a map with an "events" array');
      }
      events = body.events.map((b: unknown, i: number) => {
        if (!(b instanceof Uint8Array)) throw new ValidationError(`append request: events[${i}] is not binary`);
        const ev = decodeEvent(b, `events[${i}]`);
        if (ev.run !== run) throw foreign(ev, i);
        const refusal = role === null ? undefined : refusalFor(role, ev.type);
        if (refusal !== undefined) throw new ValidationError(`events[${i}] (${ev.type} ${ev.id}) on ${msg.subject}: ${refusal}`);
        return ev;
      });
    } catch (e) {
      msg.respond(pack({ ok: false, error: refuse(msg.subject, e) }));
      return;
    }
    commit(events, (results, error) => {
      msg.respond(pack(results ? { ok: true, results: results.map((r) => ({ seq: r.seq, duplicate: r.duplicate })) } : { ok: false, error }));
    });
  };

  const appendSub: Subscription = nc.subscribe(subj.append, {
    callback: (err, msg) => {
      if (!err) onAppend(msg, null);
    },
  });
  // one subscription for every role's subject; a subject of no known role is refused, never taken as the run's
  const roleSub: Subscription = nc.subscribe(`${subj.append}.*`, {
    callback: (err, msg) => {
      if (err) return;
      const role = msg.subject.slice(subj.append.length + 1);
      if (isAppendRole(role)) onAppend(msg, role);
      else msg.respond(pack({ ok: false, error: refuse(msg.subject, new ValidationError(`${msg.subject}: no such role "${role}" (roles: actor, bridge)`)) }));
    },
  });

  const local: LocalLog = {
    append(proposed: readonly DareEvent[]): Promise<LocalAppendReply[]> {
      let encoded: Buffer[];
      try {
        // the wire's checks (validateEvent is what decodeEvent applies), and the bytes taken now, as the NATS
        // client takes them: a caller changing an object after the call changes nothing logged. The encoding
        // is canonical, so these are the bytes the NATS path logs (test/integration/localAppends compares).
        encoded = proposed.map((ev, i) => {
          validateEvent(ev, `events[${i}]`);
          if (ev.run !== run) throw foreign(ev, i);
          return encodeEvent(ev);
        });
      } catch (e) {
        return Promise.reject(new ValidationError(refuse('local', e)));
      }
      return new Promise((resolve, reject) => {
        commit(proposed as DareEvent[], (results, error) => {
          if (results) resolve(results.map((r) => ({ seq: r.seq, duplicate: r.duplicate })));
          else reject(new Error(error));
        }, encoded);
      });
    },
    readRaw(from: number, to: number, max: number) {
      return { last: log.lastSeq(), items: readItems(from, to, max) };
    },
    listen(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
  };

  /** At most `max` committed events from ≤ seq < to, no more than one NATS reply holds. */
  const readItems = (from: number, to: number, max: number): Array<[number, Buffer]> => {
    const items: Array<[number, Buffer]> = [];
    let size = 0;
    if (max > 0) {
      for (const it of log.iterateRaw(from, to)) {
        if (items.length >= max || (items.length > 0 && size + it.bytes.length > maxPayload())) break;
        items.push([it.seq, it.bytes]);
        size += it.bytes.length + 16;
      }
    }
    return items;
  };

  const readSub: Subscription = nc.subscribe(subj.read, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const req = unpack(msg.data) as { from?: unknown; to?: unknown; max?: unknown };
        const from = Number(req?.from);
        const to = req?.to === undefined ? Number.MAX_SAFE_INTEGER : Number(req.to);
        const max = req?.max === undefined ? 10_000 : Number(req.max);
        if (!Number.isInteger(from) || from < 1 || !Number.isFinite(to) || !Number.isInteger(max) || max < 0) {
          throw new ValidationError(`read request: bad range ${JSON.stringify({ from: req?.from, to: req?.to, max: req?.max })}`);
        }
        msg.respond(pack({ last: log.lastSeq(), items: readItems(from, to, max) }));
      } catch (e) {
        logger.warn({ subject: subj.read, reason: (e as Error).message }, 'rejected read');
        msg.respond(pack({ error: (e as Error).message }));
      }
    },
  });

  return {
    get rejected() {
      return rejected;
    },
    local,
    async stop() {
      appendSub.unsubscribe();
      roleSub.unsubscribe();
      readSub.unsubscribe();
      await publishChain;
      listeners.clear();
    },
  };
}
