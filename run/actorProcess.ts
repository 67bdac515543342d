/**
 * `dare actor NAME DIR`: one actor of a running run in its own process (DESIGN §4), for a run started with
 * `dare run --external NAME`. It folds the run's log from the start over NATS and proposes its decisions
 * over NATS (the store de-duplicates re-proposals by event id), until the run ends. Same host as the run:
 * prompts and blobs come from the run's log, opened read-only. It writes no snapshots (the store's process
 * is the log's single writer).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeContext, type PromptTable } from '../actors/actor.ts';
import { HostedActor } from '../actors/host.ts';
import { ACTORS } from '../actors/index.ts';
import { connectNats, type NatsTarget } from '../bus/connect.ts';
import { LogClient } from '../bus/logClient.ts';
import { pack } from '../events/codec.ts';
import { resolveConfig, type RunConfig } from '../events/config.ts';
import { UserError } from '../events/errors.ts';
import { EventLog } from '../store/eventLog.ts';
import { liveRun, natsVia } from './control.ts';
import { createLogger } from './logger.ts';
import { loadPromptSet } from './promptSet.ts';

const ENDS = new Set(['RunCompleted', 'RunStopped', 'RunFailed']);

export async function runActorProcess(name: string, dir: string, via?: NatsTarget): Promise<void> {
  const def = ACTORS.find((d) => d.name === name);
  if (!def) throw new UserError(`no such actor: ${name} (actors: ${ACTORS.map((d) => d.name).join(', ')})`);
  const runDir = resolve(dir);
  const { run, ...live } = liveRun(runDir);
  const { scenario: _s, ...saved } = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfig & { scenario?: string };
  const config = resolveConfig(saved);
  const logger = createLogger(`dare-actor-${name}`);
  const table: PromptTable = (await loadPromptSet(config)).table;
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  const nc = await connectNats({ ...natsVia(live, via), name: `${run}/actor-${name}` });
  const bus = new LogClient(nc, run).as('actor');
  let failure: unknown = null;
  let done: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const fail = (e: unknown) => {
    failure ??= e;
    logger.error({ err: (e as Error)?.stack ?? String(e) }, 'actor failed');
    done();
  };
  const ctx = makeContext(run, config, { prompt: (i) => log.getPrompt(i) as never, blob: (k) => log.getBlob(k), promptTable: () => table });
  const actor = new HostedActor({
    def, config, ctx, bus, onError: fail, onTransition: (m) => nc.publish(bus.subjects.inspect, pack(m)),
  });
  // the run's end, heard by a consumer of its own: the actor folds up to it, then the process exits
  let end = 0;
  const watcher = bus.consume(1, (e) => {
    if (ENDS.has(e.event.type) && end === 0) {
      end = e.seq;
      void actor.reached(e.seq + 1).then(() => done());
    }
  }, { onError: fail });
  const stopOnSignal = () => done();
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    actor.start();
    logger.info({ actor: name, run }, 'actor serving');
    await finished;
    logger.info({ actor: name, seq: actor.seq, end }, 'actor done');
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await watcher.stop();
    await actor.stop();
    await nc.close().catch(() => undefined);
    await log.close();
  }
  if (failure) throw failure;
}
