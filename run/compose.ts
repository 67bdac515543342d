/**
 * One run's wiring (DESIGN §4, §6): the store (single writer behind NATS), every actor, the gpu-bridge with
 * its worker, the monitor and the control subject, in one process. What this process hosts appends and
 * follows the log through the store's in-process side (no NATS round trip; DARE_NATS_APPENDS=1 goes over
 * NATS instead, for comparisons); actors named in `external` run elsewhere (`dare actor NAME DIR`).
 * `composeRun` builds it and catches a resumed run's worker up with the log; `go` logs RunStarted or
 * RunResumed; `finish` waits for the run's end and writes what it leaves behind; `close` takes it apart.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { makeContext, type Folded, type PromptTable } from '../actors/actor.ts';
import { HostedActor, restoreFolded, type InspectMessage } from '../actors/host.ts';
import { ACTORS } from '../actors/index.ts';
import type { SessionState } from '../actors/session.ts';
import { connectNats, type NatsTarget } from '../bus/connect.ts';
import { LogClient, type Consumer } from '../bus/logClient.ts';
import { startNatsServer, type NatsServerHandle } from '../bus/natsServer.ts';
import { eventId, makeEvent, type DareEvent } from '../events/catalogue.ts';
import { pack } from '../events/codec.ts';
import type { RunConfig } from '../events/config.ts';
import { UserError } from '../events/errors.ts';
import { Bridge } from '../gpu-bridge/bridge.ts';
import type { WorkerClock } from '../gpu-bridge/timedWorker.ts';
import { EventLog } from '../store/eventLog.ts';
import { serveLog } from '../store/logServer.ts';
import { bridgeTasks } from './bridgeTasks.ts';
import { serveControl, signalStop } from './control.ts';
import { Interrupts, type StopSignal } from './interrupts.ts';
import type { RunMetrics } from './metrics.ts';
import { RunMonitor } from './monitor.ts';
import type { LogFormat } from './logger.ts';
import { Progress } from './progress.ts';
import { loadPromptSet } from './promptSet.ts';
import { runIdOf, writeAtomic } from './runDir.ts';
import { summaryOf, type Summary } from './summary.ts';

/** The order the hosted actors start consuming in (see composeRun). */
const START_ORDER = ['session', 'sampler', 'learner', 'estimator', 'buffer', 'prompts'] as const;

export type { NatsTarget } from '../bus/connect.ts';

export interface ComposeArgs {
  runDir: string;
  config: RunConfig;
  scenario: string;
  /** nothing of this run is logged yet: register the prompts and log RunStarted (else: resume) */
  fresh: boolean;
  nats?: NatsTarget;
  logger: Logger;
  /** how progress is shown: text step lines (with a bar on a terminal) or json `step` records */
  logFormat: LogFormat;
  /** resuming with a higher step total: RunExtended(extendTo) is logged before RunResumed */
  extendTo?: number;
  /** the run's step total as its log has it before this resume (default run.steps) */
  totalSteps?: number;
  /**
   * Called once the run has ended (completed or failed), with its log still open and summary.json written:
   * where the caller writes what it shows of a run (`dare run` writes report.html).
   */
  onEnd?: (log: EventLog, runDir: string) => void;
  /** SIGINT / SIGTERM handling the caller started before its own start-up (lock, checks); else started here */
  interrupts?: Interrupts;
  /** actors this process does not host: each runs in its own process (`dare actor NAME DIR`) */
  external?: readonly string[];
}

export interface RunOutcome {
  runDir: string;
  metrics: RunMetrics;
  summary: Summary;
  /** time this process spent in worker jobs (the control-plane benchmark subtracts it) */
  workerClock: WorkerClock;
  /** the signal that asked this run to stop (it then ended with RunStopped), if one did */
  interruptedBy: StopSignal | null;
}

export interface ComposedRun {
  readonly run: string;
  /** log RunStarted (fresh) or RunResumed: from here the actors drive the run */
  go(): Promise<void>;
  /** wait for the run's end; write metrics.csv and summary.json; throws if the run failed */
  finish(): Promise<RunOutcome>;
  /** stop every consumer, the bridge, the store and NATS; close the log (also after a failure) */
  close(): Promise<void>;
}

export async function composeRun(a: ComposeArgs): Promise<ComposedRun> {
  const { runDir, config, logger } = a;
  const run = runIdOf(runDir);
  // first: a signal during start-up becomes the stop once the run has started
  const interrupts = a.interrupts ?? new Interrupts(logger);
  const promptSet = await loadPromptSet(config);
  const log = EventLog.open(join(runDir, 'log'));
  let server: NatsServerHandle | null = null;
  const conns: NatsConnection[] = [];
  const consumers: Consumer[] = [];
  const hosted: HostedActor<any, any>[] = [];
  let bridge: Bridge | null = null;
  let monitor: RunMonitor | null = null;
  let storeServer: ReturnType<typeof serveLog> | null = null;
  let stopControl: (() => void) | null = null;
  const close = async () => {
    interrupts.dispose();
    stopControl?.();
    rmSync(join(runDir, 'nats.json'), { force: true });
    await monitor?.stop().catch(() => undefined);
    for (const c of consumers) await c.stop().catch(() => undefined);
    for (const h of hosted) await h.stop().catch(() => undefined);
    await bridge?.close().catch(() => undefined);
    await storeServer?.stop().catch(() => undefined);
    for (const c of conns) await c.close().catch(() => undefined);
    await log.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  };
  try {
    // a terminal's status line shows the start-up (server, workers, the warm start) until the first step
    logger.info({ phase: 'start-up', runDir, steps: a.extendTo ?? a.totalSteps ?? config.run.steps }, a.fresh ? 'starting the run' : 'resuming the run');
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
      const nc = await connectNats({ url: url!, token, user: a.nats?.user, pass: a.nats?.pass, ca: a.nats?.ca, name: `${run}/${name}` });
      conns.push(nc);
      return nc;
    };
    storeServer = serveLog(await connect('store'), log, run, logger);
    // how `dare inspect --live` and `dare control` find this run (private server: token readable by the owner only)
    writeFileSync(join(runDir, 'nats.json'), JSON.stringify({ url, token, run }) + '\n', { mode: 0o600 });
    const nc = await connect('actors');
    // the escape hatch is timing only: both paths log the same events (test/integration/localAppends)
    const bus = new LogClient(nc, run, undefined, process.env.DARE_NATS_APPENDS === '1' ? undefined : storeServer.local);
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
        monitor?.fail();
      }
    };

    // 1. actors, from their snapshots when resuming
    const external = new Set(a.external ?? []);
    const unknown = [...external].filter((n) => !ACTORS.some((d) => d.name === n));
    if (unknown.length) throw new UserError(`no such actor: ${unknown.join(', ')} (actors: ${ACTORS.map((d) => d.name).join(', ')})`);
    for (const def of ACTORS) {
      if (external.has(def.name)) continue;
      let start: Folded<any, any> | undefined;
      if (!a.fresh) {
        const snap = log.getSnapshot(def.name);
        if (snap) start = restoreFolded(def, snap, config);
      }
      hosted.push(new HostedActor({ def, config, ctx, bus, snapshots: log, snapshotEvery: config.run.snapshotEvery, start, onTransition, onError }));
    }
    // 2. the bridge: worker up, weights caught up with the log when resuming
    const b = await Bridge.create({
      run, config, runDir, log, tasks: bridgeTasks, append: async (evs: DareEvent[]) => void (await bus.append(evs)), logger,
      // the store (serveLog above) commits the bus's appends to this same `log`
      blobsInAppend: true,
      share: config.worker.shareJobs ? { nc: await connect('jobs'), role: 'primary' } : undefined,
      onError,
    });
    bridge = b;
    b.serveJobs();
    // Resuming: the monitor's folds (from their newest snapshot plus the log after it, else from the whole
    // log) give the metrics (the monitor goes on from there), the rollout accounting and the requests
    // without completion (what the resume re-issues). With the log at hand the monitor's fold does not keep
    // every rollout group it has seen.
    const mon = RunMonitor.open(log, runDir, a.fresh, logger, { tensorboard: config.run.tensorboard });
    monitor = mon;
    let resumed: Awaited<ReturnType<Bridge['restore']>> | null = null;
    // a resume, or a start retried after a kill that left a registered (warm-start) checkpoint behind
    if (!a.fresh || log.checkpoints().length > 0) resumed = await b.restore(config.run.offPolicySteps > 0 ? { atMost: oldestNamedVersion(log, mon.pending) } : {});
    // what this resume will re-issue (before any consumer starts working on it)
    const reissued = mon.pending.map((r) => r.id);

    // 3. the monitor: metrics, progress, completion; then the bridge and the actors
    const progress = new Progress(a.extendTo ?? a.totalSteps ?? config.run.steps, a.logFormat, logger);
    mon.start(bus, progress, config.run.snapshotEvery, onError);
    if (fatal) mon.fail();
    // the bridge acts on requests without completion: none lies before the first one the scan found
    consumers.push(bus.consume(Math.min(mon.scanned + 1, ...mon.pending.map((r) => r.seq)), (e) => b.onEvent(e), { onError }));
    // consumers woken first take a batch of events first: the bridge (above), then the actors whose decisions
    // are on a step's critical path (session: StepStarted, sampler: BatchSelected, learner: RolloutRequested and
    // UpdateRequested), then those that only fold
    const rank = (h: HostedActor<any, any>) => (START_ORDER as readonly string[]).indexOf(h.def.name) >>> 0; // unlisted: last
    for (const h of [...hosted].sort((x, y) => rank(x) - rank(y))) h.start();
    stopControl = serveControl({ nc, bus, run, lastSeq: () => log.lastSeq(), onTransition, logger });

    return {
      run,
      async go() {
        if (a.fresh) {
          await bus.append([makeEvent('RunStarted', { scenario: a.scenario, method: config.method, seed: config.run.seed, config: config as never }, { run, id: eventId('RunStarted') })]);
        } else {
          const r = resumed!;
          const from = log.lastSeq();
          // one append: the extension and the resume that acts on it are committed together
          const extend = a.extendTo === undefined ? [] : [
            makeEvent('RunExtended', { steps: a.extendTo, from: a.totalSteps ?? config.run.steps }, { run, id: eventId('RunExtended', a.extendTo, from) }),
          ];
          await bus.append([
            ...extend,
            makeEvent('RunResumed', { fromSeq: from, policyVersion: r.policyVersion, checkpoint: r.checkpoint, reapplied: r.reapplied, reissued }, {
              run, id: eventId('RunResumed', from),
            }),
          ]);
        }
        interrupts.arm(() => signalStop(bus, run, log.lastSeq(), interrupts.received!, logger));
      },
      async finish() {
        const outcome = await mon.finished;
        stopControl?.();
        stopControl = null;
        // let every actor catch up with the end of the log before stopping
        const end = log.lastSeq() + 1;
        await Promise.race([Promise.all(hosted.map((h) => h.reached(end))), new Promise((r) => setTimeout(r, 5000))]);
        progress.finish();
        const m = await mon.close();
        const summary = summaryOf(run, a.scenario, config, m, log.lastSeq());
        writeAtomic(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
        a.onEnd?.(log, runDir);
        if (outcome === 'failed') {
          const reason = m.failed ?? (fatal as Error)?.message ?? 'unknown';
          throw new Error(`run failed: ${reason}`);
        }
        const session = hosted.find((h) => h.def.name === 'session')?.state as SessionState | undefined;
        logger.info({ steps: session?.step ?? m.steps.length, policyVersion: session?.policyVersion, events: log.lastSeq() }, outcome === 'stopped' ? 'run stopped (dare resume continues it)' : 'run completed');
        return { runDir, metrics: m, summary, workerClock: b.workerClock, interruptedBy: interrupts.received };
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Pipelined mode: the lowest policy version a request without completion names (RolloutRequested,
 * ScoreRequested, SignalRequested, EvalRequested), or undefined: the checkpoint a resume loads
 * must be no later (Bridge.restore).
 */
function oldestNamedVersion(log: EventLog, pending: ReadonlyArray<{ seq: number }>): number | undefined {
  let v: number | undefined;
  for (const r of pending) {
    const e = log.read(r.seq, r.seq + 1)[0]?.event;
    if (!e) continue;
    const named = e.type === 'EvalRequested' ? e.data.policyVersion
      : e.type === 'RolloutRequested' || e.type === 'ScoreRequested' || e.type === 'SignalRequested' ? e.data.policyVersion : undefined;
    if (named !== undefined) v = v === undefined ? named : Math.min(v, named);
  }
  return v;
}
