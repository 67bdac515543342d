/** The bus over a real nats-server: single writer, ordered consumers, gap filling, auth, rejection. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { connectNats } from '../../bus/connect.ts';
import { LogClient, AppendRejected } from '../../bus/logClient.ts';
import { makeEvent, type Logged } from '../../events/catalogue.ts';
import { encodeEvent, pack, unpack } from '../../events/codec.ts';
import { EventLog } from '../../store/eventLog.ts';
import { serveLog, type LogServer } from '../../store/logServer.ts';
import { stepEvent } from '../support/events.ts';
import { tempDir } from '../support/tmp.ts';

const url = inject('natsUrl');
const token = inject('natsToken');

let runCounter = 0;
let run: string;
let dir: string;
let cleanup: () => void;
let log: EventLog;
let storeNc: NatsConnection;
let server: LogServer;
const warnings: string[] = [];
const logger = {
  warn: (o: object, m: string) => warnings.push(`${m} ${JSON.stringify(o)}`),
  error: (o: object, m: string) => warnings.push(`${m} ${JSON.stringify(o)}`),
};
const clients: NatsConnection[] = [];

async function client(): Promise<LogClient> {
  const nc = await connectNats({ url, token });
  clients.push(nc);
  return new LogClient(nc, run);
}

function collect(c: LogClient, from = 1) {
  const seen: Logged[] = [];
  const consumer = c.consume(from, (e) => {
    seen.push(e);
  });
  return { seen, consumer };
}

beforeEach(async () => {
  run = `bus${process.pid}_${runCounter++}`;
  ({ dir, cleanup } = tempDir());
  log = EventLog.open(join(dir, 'log'));
  storeNc = await connectNats({ url, token });
  server = serveLog(storeNc, log, run, logger);
  warnings.length = 0;
});

afterEach(async () => {
  await server.stop();
  for (const nc of clients.splice(0)) await nc.close();
  await storeNc.close();
  await log.close();
  cleanup();
});

describe('bus', () => {
  it('two concurrent publishers give one gap-free order, seen identically by two consumers', async () => {
    const [p1, p2, c1, c2] = await Promise.all([client(), client(), client(), client()]);
    const a = collect(c1);
    const b = collect(c2);
    const N = 300;
    const publish = async (p: LogClient, tag: string) => {
      for (let i = 0; i < N; i += 10) {
        const batch = Array.from({ length: 10 }, (_, j) => stepEvent(run, i + j, `${tag}`));
        await p.append(batch);
      }
    };
    await Promise.all([publish(p1, 'A'), publish(p2, 'B')]);
    expect(log.lastSeq()).toBe(2 * N);
    await Promise.all([a.consumer.reached(2 * N + 1), b.consumer.reached(2 * N + 1)]);
    expect(a.seen.map((e) => e.seq)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1));
    expect(a.seen.map((e) => e.event.id)).toEqual(b.seen.map((e) => e.event.id));
    expect(a.seen.map((e) => e.event.id)).toEqual(log.read(1).map((e) => e.event.id));
    // each publisher's own events keep their relative order
    const aIds = a.seen.map((e) => e.event.id).filter((id) => id.startsWith('A/'));
    expect(aIds).toEqual(Array.from({ length: N }, (_, i) => `A/${i}`));
    await a.consumer.stop();
    await b.consumer.stop();
  });

  it('an append is idempotent over the bus', async () => {
    const p = await client();
    const first = await p.append([stepEvent(run, 1), stepEvent(run, 2)]);
    const again = await p.append([stepEvent(run, 2), stepEvent(run, 3)]);
    expect(first.map((r) => r.seq)).toEqual([1, 2]);
    expect(again).toEqual([{ seq: 2, duplicate: true }, { seq: 3, duplicate: false }]);
  });

  it('a consumer that starts late catches up by range reads', async () => {
    const p = await client();
    for (let i = 0; i < 50; i++) await p.append([stepEvent(run, i)]);
    const late = collect(await client(), 1);
    await late.consumer.reached(51);
    await p.append([stepEvent(run, 50)]);
    await late.consumer.reached(52);
    expect(late.seen.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    // a consumer can also start in the middle
    const mid = collect(await client(), 40);
    await mid.consumer.reached(52);
    expect(mid.seen[0].seq).toBe(40);
    expect(mid.seen.length).toBe(12);
    await late.consumer.stop();
    await mid.consumer.stop();
  });

  it('a consumer that misses messages fills the gap by range reads', async () => {
    const p = await client();
    const c = collect(await client());
    await p.append([stepEvent(run, 1)]);
    await c.consumer.reached(2);
    // events committed behind the bus's back: no live message is published for them
    await log.append([stepEvent(run, 2), stepEvent(run, 3), stepEvent(run, 4)]);
    // the next live message reveals the gap 2..4
    await p.append([stepEvent(run, 5)]);
    await c.consumer.reached(6);
    expect(c.seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    // a missed tail with no later message is found by the idle poll
    await log.append([stepEvent(run, 6)]);
    await c.consumer.reached(7);
    expect(c.seen.map((e) => e.event.id)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `StepStarted/${i}`));
    await c.consumer.stop();
  });

  it('requires the server auth token', async () => {
    await expect(connect({ servers: url, reconnect: false })).rejects.toThrow(/authoriz/i);
    await expect(connect({ servers: url, token: 'wrong', reconnect: false })).rejects.toThrow(/authoriz/i);
  });

  it('rejects invalid and foreign messages with a logged reason and never appends them', async () => {
    const p = await client();
    const nc = clients[clients.length - 1];
    await p.append([stepEvent(run, 1)]);
    const garbage = await nc.request(`dare.${run}.append`, new Uint8Array([0xc1, 0xff, 0x00]), { timeout: 5000 });
    expect(unpack(garbage.data)).toMatchObject({ ok: false });
    const notEvents = await nc.request(`dare.${run}.append`, pack({ events: [pack({ type: 'StepStarted' })] }), { timeout: 5000 });
    expect((unpack(notEvents.data) as { error: string }).error).toMatch(/events\[0\] \(StepStarted\)/);
    const foreign = makeEvent('StepStarted', { step: 2, epoch: 0 }, { run: 'other', id: 'x/2' });
    await expect(p.append([stepEvent(run, 2), foreign])).rejects.toThrow(AppendRejected);
    await expect(p.append([foreign])).rejects.toThrow(/foreign run "other"/);
    const badRead = await nc.request(`dare.${run}.read`, pack({ from: -3 }), { timeout: 5000 });
    expect((unpack(badRead.data) as { error: string }).error).toMatch(/bad range/);
    expect(log.lastSeq()).toBe(1);
    expect(server.rejected).toBe(4);
    expect(warnings.filter((w) => w.startsWith('rejected append')).length).toBe(4);
    // a valid event encoded by hand still goes through
    const ok = await nc.request(`dare.${run}.append`, pack({ events: [encodeEvent(stepEvent(run, 2))] }), { timeout: 5000 });
    expect(unpack(ok.data)).toMatchObject({ ok: true, results: [{ seq: 2, duplicate: false }] });
  });

  it('the in-process side: durable before it answers, idempotent, the same refusals, every commit still published on NATS', async () => {
    const local = new LogClient(storeNc, run, undefined, server.local);
    const overNats = collect(await client());
    const inProcess = collect(local);
    // answered only once committed: the log holds the events when the reply comes
    const r1 = await local.append([stepEvent(run, 1), stepEvent(run, 2)]);
    expect(r1).toEqual([{ seq: 1, duplicate: false }, { seq: 2, duplicate: false }]);
    expect(log.seqOf('StepStarted/2')).toBe(2);
    // an id already logged (over NATS or in process) is not written again and names its first seq
    const remote = await client();
    await remote.append([stepEvent(run, 3)]);
    expect(await local.append([stepEvent(run, 3), stepEvent(run, 1), stepEvent(run, 4)])).toEqual([
      { seq: 3, duplicate: true }, { seq: 1, duplicate: true }, { seq: 4, duplicate: false },
    ]);
    // invalid and foreign events: refused, counted and logged as over NATS, nothing of the batch written
    const bad = { ...stepEvent(run, 5), data: { step: -1, epoch: 0 } };
    await expect(local.append([stepEvent(run, 6), bad as never])).rejects.toThrow(AppendRejected);
    const foreign = makeEvent('StepStarted', { step: 7, epoch: 0 }, { run: 'other', id: 'x/7' });
    await expect(local.append([foreign])).rejects.toThrow(/foreign run "other"/);
    expect(log.lastSeq()).toBe(4);
    expect(server.rejected).toBe(2);
    expect(warnings.filter((w) => w.startsWith('rejected append')).length).toBe(2);
    // the bytes taken at the call: changing the object afterwards changes nothing logged
    const ev = stepEvent(run, 8);
    const pending = local.append([ev]);
    (ev.data as { step: number }).step = 99;
    await pending;
    expect(log.read(5)[0].event.data).toEqual({ step: 8, epoch: 0 });
    // both consumers, in process and over NATS, see the same five events with the log's bytes
    await Promise.all([overNats.consumer.reached(6), inProcess.consumer.reached(6)]);
    const want = log.read(1).map((e) => encodeEvent(e.event));
    for (const seen of [overNats.seen, inProcess.seen]) {
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(seen.every((e, i) => encodeEvent(e.event).equals(want[i]))).toBe(true);
    }
    await overNats.consumer.stop();
    await inProcess.consumer.stop();
  });
});
