/**
 * A replica bridge (`dare bridge <DIR>`): one more gpu-bridge for a running run whose primary shares its rollout and score
 * jobs (`worker.shareJobs=true`). It joins the queue group dare.<run>.gpu, catches its worker's weights up
 * with the log (newest checkpoint, then every logged update), follows every further update, and serves the
 * jobs it is given, until the run ends. Same host as the run: it reads prompts and blobs from the run's log.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectNats, type NatsTarget } from '../bus/connect.ts';
import { LogClient } from '../bus/logClient.ts';
import type { DareEvent } from '../events/catalogue.ts';
import { resolveLoggedConfig, type RunConfig } from '../events/config.ts';
import { Bridge } from '../gpu-bridge/bridge.ts';
import { EventLog } from '../store/eventLog.ts';
import { UserError } from '../events/errors.ts';
import { bridgeTasks } from './bridgeTasks.ts';
import { liveRun, natsVia } from './control.ts';
import { createLogger } from './logger.ts';

/**
 * `via`: the NATS servers to connect to instead of the run's own (nats.json): several of one cluster, comma-
 * separated, so the bridge fails over to another when its server is lost.
 */
export async function runReplicaBridge(dir: string, via?: NatsTarget): Promise<void> {
  const runDir = resolve(dir);
  const { run, ...live } = liveRun(runDir);
  const { scenario: _s, ...saved } = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfig & { scenario?: string };
  const config = resolveLoggedConfig(saved);
  if (!config.worker.shareJobs) throw new UserError(`${dir}: this run does not share its jobs (worker.shareJobs=false)`);
  const logger = createLogger('dare-bridge');
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  const nc = await connectNats({ ...natsVia(live, via), name: `${run}/replica` });
  const bus = new LogClient(nc, run).as('bridge');
  const bridge = await Bridge.create({
    run, config, runDir, log, logger, tasks: bridgeTasks, append: async (evs: DareEvent[]) => void (await bus.append(evs)), share: { nc, role: 'replica' },
  });
  try {
    await bridge.restore();
    const from = (await bridge.catchUpReplica()) + 1;
    bridge.serveJobs();
    logger.info({ policyVersion: bridge.policyVersion, from }, 'replica bridge serving shared jobs');
    let done: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const consumer = bus.consume(from, async (e) => {
      await bridge.onEvent(e);
      if (e.event.type === 'RunCompleted' || e.event.type === 'RunStopped' || e.event.type === 'RunFailed') done();
    });
    process.once('SIGINT', () => done());
    await finished;
    await consumer.stop();
    logger.info({ served: bridge.served }, 'replica bridge done');
  } finally {
    await bridge.close();
    await nc.close();
    await log.close();
  }
}
