/**
 * The store as a service (DESIGN §3): the single writer behind `dare.<run>.append`. It validates every
 * proposed event, rejects invalid or foreign ones with a logged reason (nothing of such a request is
 * appended), commits, replies with the sequence numbers, and only then publishes the committed events on
 * `dare.<run>.log`. `dare.<run>.read` serves range reads.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeEvent, pack, unpack } from '../events/codec.ts';
import type { DareEvent } from '../events/catalogue.ts';
import { subjectsFor } from '../events/subjects.ts';
import { mark, stepTrace } from '../events/stepTrace.ts';
import { ValidationError } from '../events/validate.ts';
import type { EventLog } from './eventLog.ts';

export interface LogServerLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LogServer {
  /** number of append requests refused (invalid or foreign) */
  readonly rejected: number;
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

  const appendSub: Subscription = nc.subscribe(subj.append, {
    callback: (err, msg) => {
      if (err) return;
      let events: DareEvent[];
      try {
        const body = unpack(msg.data) as { events?: unknown };
        if (typeof body !== 'object' || body === null || !Array.isArray(body.events)) {
          throw new ValidationError('append request: expected a map with an "events" array');
        }
        events = body.events.map((b: unknown, i: number) => {
          if (!(b instanceof Uint8Array)) throw new ValidationError(`append request: events[${i}] is not binary`);
          const ev = decodeEvent(b, `events[${i}]`);
          if (ev.run !== run) throw new ValidationError(`events[${i}] (${ev.type} ${ev.id}): foreign run "${ev.run}", this store serves "${run}"`);
          return ev;
        });
      } catch (e) {
        rejected++;
        const reason = e instanceof ValidationError ? e.message : `undecodable request: ${(e as Error).message}`;
        logger.warn({ subject: subj.append, reason }, 'rejected append');
        msg.respond(pack({ ok: false, error: reason }));
        return;
      }
      if (stepTrace.on) mark(`srv:recv ${events.length} ${events[0]?.type}`);
      const committed = log.append(events);
      publishChain = publishChain.then(async () => {
        let results;
        try {
          results = await committed;
        } catch (e) {
          rejected++;
          logger.error({ err: (e as Error).message }, 'append failed');
          msg.respond(pack({ ok: false, error: (e as Error).message }));
          return;
        }
        if (stepTrace.on) mark('srv:committed');
        msg.respond(pack({ ok: true, results: results.map((r) => ({ seq: r.seq, duplicate: r.duplicate })) }));
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
      });
    },
  });

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
        const items: Array<[number, Buffer]> = [];
        let size = 0;
        if (max > 0) {
          for (const it of log.iterateRaw(from, to)) {
            if (items.length >= max || (items.length > 0 && size + it.bytes.length > maxPayload())) break;
            items.push([it.seq, it.bytes]);
            size += it.bytes.length + 16;
          }
        }
        msg.respond(pack({ last: log.lastSeq(), items }));
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
    async stop() {
      appendSub.unsubscribe();
      readSub.unsubscribe();
      await publishChain;
    },
  };
}
