/**
 * A nats-server restarted mid-stream: appends retry (idempotently) until the server is back, consumers
 * reconnect and resume, and every event is delivered exactly once, in order.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from '../../bus/natsServer.ts';
import { connectNats } from '../../bus/connect.ts';
import { LogClient } from '../../bus/logClient.ts';
import type { Logged } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { serveLog } from '../../store/logServer.ts';
import { stepEvent } from '../support/events.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-natsrestart-');
afterAll(cleanup);
const quiet = { warn: () => undefined, error: () => undefined };

describe('nats-server restart', () => {
  it('loses and duplicates nothing', async () => {
    let nats: NatsServerHandle = await startNatsServer();
    const { port, token } = nats;
    const log = EventLog.open(join(dir, 'log'));
    const storeNc = await connectNats({ url: nats.url, token });
    const server = serveLog(storeNc, log, 'restart', quiet);
    const pubNc = await connectNats({ url: nats.url, token });
    const subNc = await connectNats({ url: nats.url, token });
    const pub = new LogClient(pubNc, 'restart', 1000);
    const seen: Logged[] = [];
    const consumer = new LogClient(subNc, 'restart', 1000).consume(1, (e) => {
      seen.push(e);
    });
    const N = 60;
    const publishing = (async () => {
      for (let i = 1; i <= N; i++) await pub.append([stepEvent('restart', i)]);
    })();
    while (log.lastSeq() < 10) await new Promise((r) => setTimeout(r, 5));
    await nats.kill();
    const atKill = log.lastSeq();
    expect(atKill).toBeLessThan(N); // the restart really happens mid-stream
    await new Promise((r) => setTimeout(r, 300));
    nats = await startNatsServer({ port, token });
    await publishing;
    await consumer.reached(N + 1);
    expect(log.lastSeq()).toBe(N);
    expect(seen.map((e) => e.event.id)).toEqual(Array.from({ length: N }, (_, i) => `StepStarted/${i + 1}`));
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    await consumer.stop();
    await server.stop();
    await Promise.all([pubNc.close(), subNc.close(), storeNc.close()]);
    await log.close();
    await nats.stop();
  }, 60_000);
});
