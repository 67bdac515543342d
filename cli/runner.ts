/**
 * `dare run` and `dare resume`: one process hosting the store (single writer behind NATS), every actor
 * (each consuming the log over NATS), and the gpu-bridge with its worker. DESIGN §1, §6.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { makeContext, type Folded, type PromptTable } from '../actors/actor.ts';
import { HostedActor, restoreFolded, type InspectMessage } from '../actors/host.ts';
import { ACTORS } from '../actors/index.ts';
import { WIRED_ESTIMATORS } from '../actors/estimator/estimatorActor.ts';
import { WIRED_SAMPLERS } from '../actors/sampler/samplerActor.ts';
import type { SessionState } from '../actors/session.ts';
import { connectNats } from '../bus/connect.ts';
import { LogClient, type Consumer } from '../bus/logClient.ts';
import { eventId, makeEvent, type DareEvent, type Logged } from '../events/catalogue.ts';
import { pack, unpack } from '../events/codec.ts';
import { ConfigError, resolveConfig, type RunConfig } from '../events/config.ts';
import { RUN_ID_PATTERN } from '../events/subjects.ts';
import { Bridge, type WorkerClock } from '../gpu-bridge/bridge.ts';
import { PendingScan } from '../gpu-bridge/pendingRequests.ts';
import { EventLog } from '../store/eventLog.ts';
import { serveLog } from '../store/logServer.ts';
import { UserError } from './errors.ts';
import { bridgeTasks } from './bridgeTasks.ts';
import { logPrior, metricsCsv, MetricsFold, type RunMetrics } from './metrics.ts';
import { monitorFoldsOf, MonitorSnapshots } from './monitorSnapshot.ts';
import { writeRunReport } from './report/html.ts';
import { startNatsServer, type NatsServerHandle } from '../bus/natsServer.ts';
import { loadPromptSet } from './promptSet.ts';
import { Progress } from './progress.ts';


/** The order the hosted actors start consuming in (see execute). */
const START_ORDER = ['session', 'sampler', 'learner', 'estimator', 'buffer', 'prompts'] as const;

export interface NatsTarget {
  url?: string;
  token?: string;
  user?: string;
  pass?: string;
}

export interface RunArgs {
  scenario: string;
  runDir?: string;
  steps?: number;
  seed?: number;
  sets?: string[];
  nats?: NatsTarget;
  logger: Logger;
  progress?: boolean;
}

export interface RunOutcome {
  runDir: string;
  metrics: RunMetrics;
  summary: Summary;
  /** time this process spent in worker jobs (the control-plane benchmark subtracts it) */
  workerClock: WorkerClock;
}

export interface Summary {
  runId: string;
  scenario: string;
  method: string;
  steps: number;
  policyVersion: number;
  rollouts: { generated: number; trained: number; buffered: number; discarded: number; inFlight: number };
  eval: { accuracy: number | null; byTier: Record<string, { accuracy: number; meanLength: number; count: number }> };
  baseline: { accuracy: number | null; byTier: Record<string, { accuracy: number; meanLength: number; count: number }> };
  seconds: { wall: number; rollout: number; score: number; update: number; orchestration: number };
  logEvents: number;
  weightsSha256: string | null;
  completed: boolean;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: ${what} not found`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function runIdOf(runDir: string): string {
  const id = basename(resolve(runDir)).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  if (!RUN_ID_PATTERN.test(id)) throw new UserError(`${runDir}: cannot derive a run id from this directory name`);
  return id;
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function writeAtomicAsync(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

/** Resolve a scenario file (plus --steps/--seed/--set) into the run configuration. */
export function configFromScenario(path: string, args: { steps?: number; seed?: number; sets?: string[] }): RunConfig {
  const sc = readJson(path, 'scenario');
  const sets = [...(args.sets ?? [])];
  if (args.steps !== undefined) sets.push(`run.steps=${args.steps}`);
  if (args.seed !== undefined) sets.push(`run.seed=${args.seed}`);
  let config: RunConfig;
  try {
    config = resolveConfig(sc, sets);
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(`${path}: ${e.message}`);
    throw e;
  }
  // say so rather than run a different method under the requested name
  if (!WIRED_SAMPLERS.has(config.sampler.method)) {
    throw new UserError(`${path}: sampler.method "${config.sampler.method}" (method ${config.method}) is not wired into the sampler actor yet; wired: ${[...WIRED_SAMPLERS].join(', ')}`);
  }
  if (!WIRED_ESTIMATORS.has(config.estimator.method)) {
    throw new UserError(`${path}: estimator.method "${config.estimator.method}" (method ${config.method}) is not wired into the estimator actor yet; wired: ${[...WIRED_ESTIMATORS].join(', ')}`);
  }
  return config;
}

export async function runScenario(args: RunArgs): Promise<RunOutcome> {
  const config = configFromScenario(args.scenario, args);
  const name = basename(args.scenario).replace(/\.json$/, '');
  const runDir = resolve(args.runDir ?? join('runs', `${name}-${config.run.seed}`));
  if (existsSync(join(runDir, 'log', 'data.mdb'))) {
    throw new UserError(`${runDir}: a run already exists here; continue it with \`dare resume ${runDir}\` or choose --run-dir`);
  }
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  writeAtomic(join(runDir, 'config.json'), JSON.stringify({ scenario: name, ...config }, null, 2) + '\n');
  return execute({ runDir, config, scenario: name, fresh: true, nats: args.nats, logger: args.logger, progress: args.progress ?? false });
}

export interface ResumeArgs {
  runDir: string;
  steps?: number;
  nats?: NatsTarget;
  logger: Logger;
  progress?: boolean;
}

export async function resumeRun(args: ResumeArgs): Promise<RunOutcome | { runDir: string; finished: true }> {
  const runDir = resolve(args.runDir);
  const hasLog = existsSync(join(runDir, 'log', 'data.mdb'));
  // `dare run` writes config.json before it creates the log: a run killed in between starts afresh from it
  if (!hasLog && !existsSync(join(runDir, 'config.json'))) throw new UserError(`${args.runDir}: not a run directory (no log/data.mdb)`);
  const saved = readJson(join(runDir, 'config.json'), 'config.json') as RunConfig & { scenario?: string };
  const { scenario = 'unknown', ...rest } = saved;
  let config: RunConfig;
  try {
    config = resolveConfig(rest);
  } catch (e) {
    throw new UserError(`${join(runDir, 'config.json')}: ${(e as Error).message}`);
  }
  let started = hasLog;
  if (hasLog) {
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      if (log.seqOf('RunCompleted') !== undefined) return { runDir, finished: true };
      // killed before RunStarted was logged: nothing was decided yet, so start it from config.json
      started = log.seqOf('RunStarted') !== undefined;
    } finally {
      await log.close();
    }
  }
  // The logged configuration is authoritative (replay recomputes every decision from it): a different
  // step count would make the resumed decisions disagree with the log's own RunStarted.
  if (args.steps !== undefined && args.steps !== config.run.steps) {
    throw new UserError(`--steps ${args.steps}: this run was started with run.steps=${config.run.steps}; a logged run keeps its configuration`);
  }
  return execute({ runDir, config, scenario, fresh: !started, nats: args.nats, logger: args.logger, progress: args.progress ?? false });
}

interface ExecArgs {
  runDir: string;
  config: RunConfig;
  scenario: string;
  fresh: boolean;
  nats?: NatsTarget;
  logger: Logger;
  progress: boolean;
}

async function execute(a: ExecArgs): Promise<RunOutcome> {
  const { runDir, config, logger } = a;
  const run = runIdOf(runDir);
  const promptSet = await loadPromptSet(config);
  const log = EventLog.open(join(runDir, 'log'));
  let server: NatsServerHandle | null = null;
  const conns: NatsConnection[] = [];
  const consumers: Consumer[] = [];
  const hosted: HostedActor<any, any>[] = [];
  let bridge: Bridge | null = null;
  let storeServer: ReturnType<typeof serveLog> | null = null;
  try {
    if (a.fresh) await log.putPrompts(promptSet.rows);
    else if (log.promptCount() !== promptSet.rows.length) {
      throw new UserError(`${runDir}: the prompt source now yields ${promptSet.rows.length} prompts, the run registered ${log.promptCount()}`);
    }
    let url = a.nats?.url;
    let token = a.nats?.token;
    if (!url) {
      server = await startNatsServer();
      url = server.url;
      token = server.token;
      logger.info({ url }, 'private nats-server started');
    }
    const connect = async (name: string) => {
      const nc = await connectNats({ url: url!, token, user: a.nats?.user, pass: a.nats?.pass, name: `${run}/${name}` });
      conns.push(nc);
      return nc;
    };
    storeServer = serveLog(await connect('store'), log, run, logger);
    // how `dare inspect --live` and `dare control` find this run (private server: token readable by the owner only)
    writeFileSync(join(runDir, 'nats.json'), JSON.stringify({ url, token, run }) + '\n', { mode: 0o600 });
    const nc = await connect('actors');
    const bus = new LogClient(nc, run);
    const table: PromptTable = promptSet.table;
    const ctx = makeContext(run, config, {
      prompt: (i) => log.getPrompt(i) as never,
      blob: (k) => log.getBlob(k),
      promptTable: () => table,
    });
    const inspectSubject = bus.subjects.inspect;
    const onTransition = (m: InspectMessage) => nc.publish(inspectSubject, pack(m));
    let fatal: unknown = null;
    const onError = (e: unknown) => {
      if (!fatal) {
        fatal = e;
        logger.error({ err: (e as Error)?.stack ?? String(e) }, 'actor failed');
      }
    };

    // 1. actors, from their snapshots when resuming
    for (const def of ACTORS) {
      let start: Folded<any, any> | undefined;
      if (!a.fresh) {
        const snap = log.getSnapshot(def.name);
        if (snap) start = restoreFolded(def, snap, config);
      }
      hosted.push(new HostedActor({ def, config, ctx, bus, snapshots: log, snapshotEvery: config.run.snapshotEvery, start, onTransition, onError }));
    }
    // 2. the bridge: worker up, weights caught up with the log when resuming
    bridge = await Bridge.create({
      run, config, runDir, log, tasks: bridgeTasks, append: async (evs: DareEvent[]) => void (await bus.append(evs)), logger,
      // the store (serveLog above) commits the bus's appends to this same `log`
      blobsInAppend: true,
      share: config.worker.shareJobs ? { nc: await connect('jobs'), role: 'primary' } : undefined,
    });
    bridge.serveJobs();
    // Resuming: the monitor's folds (from their newest snapshot plus the log after it, else from the whole
    // log) give the metrics (the monitor goes on from there), the rollout accounting checked below and the
    // requests without completion (what the resume re-issues).
    // with the log at hand the monitor's fold does not keep every rollout group it has seen
    let metrics = new MetricsFold(logPrior(log, 0));
    let scan = new PendingScan(log);
    let scanned = 0;
    let pending: Array<{ id: string; seq: number }> = [];
    if (!a.fresh) {
      const folds = monitorFoldsOf(log, (o, m) => logger.warn(o, m));
      ({ metrics, pending: scan, lastSeq: scanned } = folds);
      logger.info({ snapshotSeq: folds.snapshotSeq, folded: folds.lastSeq - folds.snapshotSeq }, 'monitor folds restored');
      pending = scan.result();
      // the accounting identity must hold over what the log already has before anything is added to it
      const acc = metrics.accounting();
      if (acc.generated !== acc.trained + acc.buffered + acc.discarded + acc.inFlight) {
        throw new Error(`${runDir}: rollout accounting does not balance: ${JSON.stringify(acc)}`);
      }
      logger.info({ ...acc }, 'rollout accounting checked');
    }
    let resumed: Awaited<ReturnType<Bridge['restore']>> | null = null;
    // a resume, or a start retried after a kill that left a registered (warm-start) checkpoint behind
    if (!a.fresh || log.checkpoints().length > 0) resumed = await bridge.restore();
    // what this resume will re-issue (before any consumer starts working on it)
    const reissued = pending.map((r) => r.id);

    // 3. the monitor: metrics, progress, control, completion
    const progress = new Progress(config.run.steps, a.progress, logger);
    let done: (v: 'completed' | 'failed') => void;
    const finished = new Promise<'completed' | 'failed'>((r) => (done = r));
    if (scanned > 0) {
      const m = metrics.result();
      progress.update(metrics.progress());
      writeAtomic(join(runDir, 'metrics.csv'), metricsCsv(m.steps));
      if (m.failed !== null) done!('failed');
    }
    const snapshots = new MonitorSnapshots(log, config.run.snapshotEvery, metrics, scan);
    // metrics.csv is rewritten whole: at most once a second while the run goes on (a write and a rename per
    // step cost the sim ~5 ms a step), and always at the end
    let csvWritten = 0;
    // written by the thread pool, not on the event loop the step's hops wait for; one at a time
    let csvWrite: Promise<unknown> = Promise.resolve();
    const monitor = bus.consume(scanned + 1, (e: Logged) => {
      metrics.add(e);
      scan.add(e);
      const ev = e.event;
      if (ev.type === 'UpdateCompleted' || ev.type === 'EvalCompleted') {
        progress.update(metrics.progress());
        if (Date.now() - csvWritten >= 1000) {
          csvWritten = Date.now();
          const text = metricsCsv(metrics.result().steps);
          csvWrite = csvWrite
            .then(() => writeAtomicAsync(join(runDir, 'metrics.csv'), text))
            .catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'could not write metrics.csv'));
        }
      }
      if (ev.type === 'RunCompleted') done('completed');
      if (ev.type === 'RunFailed') done('failed');
      return snapshots.after(e);
    }, { onError, background: true });
    consumers.push(monitor);
    const b = bridge;
    // the bridge acts on requests without completion: none lies before the first one the scan found
    consumers.push(bus.consume(Math.min(scanned + 1, ...pending.map((r) => r.seq)), (e) => b.onEvent(e), { onError }));
    // consumers woken first take a batch of events first: the bridge (above), then the actors whose decisions
    // are on a step's critical path (session: StepStarted, sampler: BatchSelected, learner: RolloutRequested and
    // UpdateRequested), then those that only fold
    const rank = (h: HostedActor<any, any>) => (START_ORDER as readonly string[]).indexOf(h.def.name) >>> 0; // unlisted: last
    for (const h of [...hosted].sort((a, b) => rank(a) - rank(b))) h.start();
    const controlSub = nc.subscribe(bus.subjects.control, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const c = unpack(msg.data) as { command?: unknown; source?: unknown };
          if (c?.command !== 'pause' && c?.command !== 'resume' && c?.command !== 'stop') throw new Error(`unknown control command ${JSON.stringify(c?.command)}`);
          const ev = makeEvent('ControlApplied', { command: c.command, source: String(c.source ?? 'nats').slice(0, 200) }, {
            run, id: eventId('ControlApplied', c.command, log.lastSeq()),
          });
          void bus.append([ev]).then(
            ([r]) => {
              msg.respond(pack({ ok: true }));
              // `dare inspect --live` shows the command as it is applied
              onTransition({ actor: 'control', seq: r.seq, event: 'ControlApplied', from: '', to: String(c.command), summary: { source: ev.data.source } });
            },
            (e) => msg.respond(pack({ ok: false, error: String(e) })),
          );
        } catch (e) {
          logger.warn({ reason: (e as Error).message }, 'rejected control message');
          msg.respond(pack({ ok: false, error: (e as Error).message }));
        }
      },
    });
    const onSignal = () => {
      logger.warn('interrupted: stopping at the end of the current step (again to abort)');
      void bus.append([makeEvent('ControlApplied', { command: 'stop', source: 'signal' }, { run, id: eventId('ControlApplied', 'stop', log.lastSeq()) })]);
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onSignal);

    // 4. go
    if (a.fresh) {
      await bus.append([makeEvent('RunStarted', { scenario: a.scenario, method: config.method, seed: config.run.seed, config: config as never }, { run, id: eventId('RunStarted') })]);
    } else {
      const r = resumed!;
      await bus.append([
        makeEvent('RunResumed', { fromSeq: log.lastSeq(), policyVersion: r.policyVersion, checkpoint: r.checkpoint, reapplied: r.reapplied, reissued }, {
          run, id: eventId('RunResumed', log.lastSeq()),
        }),
      ]);
    }
    const failWatch = setInterval(() => {
      if (fatal) done('failed');
    }, 200);
    const outcome = await finished;
    clearInterval(failWatch);
    process.removeListener('SIGINT', onSignal);
    controlSub.unsubscribe();
    // let every actor catch up with the end of the log before stopping
    const end = log.lastSeq() + 1;
    await Promise.race([Promise.all(hosted.map((h) => h.reached(end))), new Promise((r) => setTimeout(r, 5000))]);
    progress.finish();
    const m = metrics.result();
    await csvWrite; // the last periodic write must not land after the final one
    writeAtomic(join(runDir, 'metrics.csv'), metricsCsv(m.steps));
    const summary = summaryOf(run, a.scenario, config, m, log.lastSeq());
    writeAtomic(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    writeRunReport(log, runDir, logger);
    if (outcome === 'failed') {
      const reason = m.failed ?? (fatal as Error)?.message ?? 'unknown';
      throw new Error(`run failed: ${reason}`);
    }
    const session = hosted[0].state as SessionState;
    logger.info({ steps: session.step, policyVersion: session.policyVersion, events: log.lastSeq() }, 'run completed');
    return { runDir, metrics: m, summary, workerClock: bridge.workerClock };
  } finally {
    rmSync(join(runDir, 'nats.json'), { force: true });
    for (const c of consumers) await c.stop().catch(() => undefined);
    for (const h of hosted) await h.stop().catch(() => undefined);
    await bridge?.close().catch(() => undefined);
    await storeServer?.stop().catch(() => undefined);
    for (const c of conns) await c.close().catch(() => undefined);
    await log.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  }
}

export function summaryOf(run: string, scenario: string, config: RunConfig, m: RunMetrics, events: number): Summary {
  const last = m.evals[m.evals.length - 1];
  const first = m.evals.find((e) => e.step === 0);
  return {
    runId: run,
    scenario,
    method: config.method,
    steps: m.steps.filter((s) => s.step > 0 && Number.isFinite(s.loss)).length,
    policyVersion: m.policyVersion,
    rollouts: m.accounting,
    eval: { accuracy: last?.accuracy ?? null, byTier: last?.byTier ?? {} },
    baseline: { accuracy: first?.accuracy ?? null, byTier: first?.byTier ?? {} },
    seconds: m.seconds,
    logEvents: events,
    weightsSha256: m.weightsSha256,
    completed: m.completed,
  };
}
