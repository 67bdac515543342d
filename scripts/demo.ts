/**
 * `make demo` until the full training run lands: the end-to-end path that exists — a private nats-server,
 * the store as the single writer over NATS, a publisher proposing events, an ordered consumer — then the
 * run's log printed by `dare log`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer } from '../cli/natsServer.ts';
import { connectNats, LogClient } from '../events/bus.ts';
import { eventId, makeEvent } from '../events/catalogue.ts';
import { EventLog } from '../store/eventLog.ts';
import { serveLog } from '../store/logServer.ts';
import { createLogger } from '../cli/logger.ts';

const runDir = join('runs', 'demo');
rmSync(runDir, { recursive: true, force: true });
mkdirSync(runDir, { recursive: true });
const logger = createLogger('demo');
const nats = await startNatsServer();
logger.info({ url: nats.url }, 'private nats-server started');
const log = EventLog.open(join(runDir, 'log'));
const storeNc = await connectNats({ url: nats.url, token: nats.token, name: 'store' });
const server = serveLog(storeNc, log, 'demo', logger);
const actorNc = await connectNats({ url: nats.url, token: nats.token, name: 'actor' });
const bus = new LogClient(actorNc, 'demo');
const seen: string[] = [];
const consumer = bus.consume(1, ({ seq, event }) => {
  seen.push(`${seq}:${event.type}`);
});
const run = 'demo';
await bus.append([makeEvent('RunStarted', { scenario: 'demo', method: 'none', seed: 1, config: {} }, { run, id: eventId('RunStarted') })]);
for (let step = 1; step <= 3; step++) {
  await bus.append([makeEvent('StepStarted', { step, epoch: 0 }, { run, id: eventId('StepStarted', step) })]);
}
await bus.append([makeEvent('RunCompleted', { steps: 3, policyVersion: 0, weightsSha256: null }, { run, id: eventId('RunCompleted') })]);
await consumer.reached(log.lastSeq() + 1);
logger.info({ delivered: seen }, 'consumer saw every event in order');
await consumer.stop();
await server.stop();
await actorNc.close();
await storeNc.close();
await log.close();
await nats.stop();
const out = spawnSync(process.execPath, ['cli/dare.js', 'log', runDir], { encoding: 'utf8' });
process.stdout.write(out.stdout);
process.stdout.write(`\nThe full training run (tiny PyTorch model, DARE) is not built yet; this demo shows the log and bus path.\n`);
