/**
 * The gpu-bridge actor (DESIGN §4, §5, §7): turns logged requests into worker jobs and the jobs' results into
 * logged facts. RolloutRequested → RolloutCompleted per prompt (blobs first), ScoreRequested → ScoreCompleted,
 * UpdateRequested → UpdateCompleted, CheckpointRequested → CheckpointSaved, EvalRequested → EvalCompleted,
 * SignalRequested → SignalCompleted; and WorkerJoined / WorkerLost for the worker's lifecycle.
 *
 * This file keeps the lifecycle (create, start, restore, close) and the routing: onEvent and the request
 * table, which hands each request to its job in jobs/ (one file per request kind) with a JobContext
 * (jobs/jobContext.ts). Around them: the row cache (rowCache.ts), the queue group of shared jobs
 * (sharedJobs.ts), the worker clock (timedWorker.ts), the checks of a job's inputs (jobInputs.ts), the tiny
 * worker's warm start (warmStart.ts), the policy version (policyVersion.ts) and the shared types
 * (bridgeTypes.ts).
 *
 * Exactly-once by the log: a request is acted on only while its completion id is absent from the log, and
 * every job id derives from the request id, so a resumed process re-issues exactly the requests without a
 * completion, with the same ids (DESIGN §6 step 4). Rollout requests run in fixed chunks of 64 prompts with a
 * seed derived from (request seed, chunk index) (jobs/chunks.ts): a re-issued chunk samples what the lost one
 * would have.
 *
 * Policy versions: the bridge reports the LOG's version (the number of updates in the log), kept in
 * `version` (policyVersion.ts). A tiny worker's supervised warm start (`sft`) bumps the worker's own counter
 * once, so the bridge keeps `offset` = worker version − log version and checks every worker-reported version
 * against it.
 *
 * Worker restarts (Supervisor, workerFactory.ts): the Supervisor restores a new process by init → load(last
 * checkpoint it saw) → the updates it ran since, with `replayUpdates` on. The bridge never re-applies updates
 * after a restart itself; its restore() runs once at start-up and goes through the same Supervisor, which
 * then counts those updates in its recipe, so no update is applied twice or skipped. The warm start is
 * followed by a save, so a restart before the first learner checkpoint loads the warm-started weights
 * instead of bare init weights.
 */
import type { Subscription } from '@nats-io/transport-node';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { eventId, makeEvent, type DareEvent, type EventOf, type Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import { BridgeInputError, type BridgeDeps, type CheckpointEntry } from './bridgeTypes.ts';
import { checkpoint, findCheckpoint } from './jobs/checkpoint.ts';
import { evaluate } from './jobs/eval.ts';
import type { JobContext } from './jobs/jobContext.ts';
import { rollout } from './jobs/rollout.ts';
import { score } from './jobs/score.ts';
import { signal } from './jobs/signal.ts';
import { applyUpdate, update } from './jobs/update.ts';
import { PolicyVersion } from './policyVersion.ts';
import { RowCache } from './rowCache.ts';
import { sendSharedJob, serveSharedJobs } from './sharedJobs.ts';
import { SimWorker } from './sim/simWorker.ts';
import { timedWorker, type WorkerClock } from './timedWorker.ts';
import { warmStart } from './warmStart.ts';
import { WorkerJobError, type JobResult, type WorkerHandle, type WorkerInfo } from './workerClient.ts';
import { initArgs, makeWorker } from './workerFactory.ts';


/** The requests the bridge acts on (Bridge.requests); every other event passes it by. */
type BridgeRequest = 'RolloutRequested' | 'ScoreRequested' | 'UpdateRequested' | 'CheckpointRequested' | 'EvalRequested' | 'SignalRequested';

const MAX_REASON = 4096;

/** The requests of the trainer's lane in pipelined mode (bridge.onEvent): they change or save the weights. */
const TRAINER_JOBS = new Set(['UpdateRequested', 'CheckpointRequested']);

export class Bridge {
  private readonly deps: BridgeDeps;
  private readonly name: string;
  private worker!: WorkerHandle;
  private sim: SimWorker | null = null;
  /** the log's policy version the weights are at, and the worker's offset from it */
  private readonly version = new PolicyVersion();
  /** the checkpoint restore() loads (chosen at create: it also decides the warm start) */
  private restoreFrom: CheckpointEntry | null = null;
  private restored = false;
  private started = false;
  /**
   * The requests in hand, in log order per lane: one lane in sync mode; in pipelined mode (run.offPolicySteps
   * = 1) the trainer's (updates, checkpoints) and the generator's (rollouts, scores, signals, evals), so the next
   * step's rollouts run beside an update (each names the version it runs with: the log decides, not timing)
   */
  private readonly lanes = { train: { queue: Promise.resolve() as Promise<unknown>, inProgress: 0 }, generate: { queue: Promise.resolve() as Promise<unknown>, inProgress: 0 } };
  private side: Promise<void> = Promise.resolve();
  private jobSub: Subscription | null = null;
  /** shared jobs this bridge has served (for tests and logs) */
  served = 0;
  /** rows of the groups this bridge wrote lately (rowCache.ts) */
  private readonly rowCache: RowCache;
  /** what every job is given (jobs/jobContext.ts); made by start() once the worker is up */
  private ctx!: JobContext;
  /** time in worker jobs (benchmarks only) */
  readonly workerClock: WorkerClock = { seconds: 0, jobs: 0, spans: [], cpuSeconds: 0 };

  private constructor(deps: BridgeDeps) {
    this.deps = deps;
    this.name = deps.config.worker.kind;
    this.rowCache = new RowCache(deps.log);
  }

  /**
   * Make and initialise the worker; tiny: supervised warm start on the easiest training prompts unless a
   * registered checkpoint will be restored; append WorkerJoined.
   */
  static async create(deps: BridgeDeps): Promise<Bridge> {
    const b = new Bridge(deps);
    try {
      await b.start();
    } catch (err) {
      // a worker process we started must not outlive a failed start (the host gets no Bridge to close)
      if (!deps.worker) await b.worker?.close().catch(() => undefined);
      throw err;
    }
    return b;
  }

  private get cfg(): RunConfig {
    return this.deps.config;
  }

  private get replica(): boolean {
    return this.deps.share?.role === 'replica';
  }

  /** The log's policy version this bridge's weights are at. */
  get policyVersion(): number {
    return this.version.value;
  }

  /** Serve shared rollout/score jobs from the queue group (sharedJobs.ts). */
  serveJobs(): void {
    const share = this.deps.share;
    if (!share || this.jobSub) return;
    this.jobSub = serveSharedJobs({
      nc: share.nc,
      run: this.deps.run,
      worker: this.worker,
      version: this.version,
      name: this.name,
      logger: this.deps.logger,
      onServed: () => void this.served++,
    });
  }

  /** Run a rollout/score job: on the shared queue group when sharing, else on this bridge's worker. */
  private async job(job: 'rollout' | 'score', args: Record<string, unknown>, id: string): Promise<JobResult> {
    const share = this.deps.share;
    if (!share) return this.worker.request(job, args, { id });
    return sendSharedJob({ nc: share.nc, run: this.deps.run, version: this.version.value, timeoutMs: this.cfg.worker.jobTimeoutSec * 1000, logger: this.deps.logger }, job, args, id);
  }

  private async start(): Promise<void> {
    const { config, logger } = this.deps;
    if (config.task.source === 'sim' && config.worker.kind !== 'sim') {
      throw new Error(`task.source "sim" needs worker.kind "sim", got "${config.worker.kind}"`);
    }
    const worker =
      this.deps.worker ??
      makeWorker(config, {
        onLost: (reason, pending, generation) => this.onWorkerLost(reason, pending, generation),
        onJoined: (info) => this.onWorkerJoined(info),
        onGaveUp: (reason) => logger.error({ worker: this.name, reason }, 'worker supervisor gave up'),
        log: (msg, fields) => logger.info({ worker: this.name, ...fields }, msg),
      });
    this.sim = worker instanceof SimWorker ? worker : null;
    const sim = this.sim;
    this.worker = timedWorker(worker, this.workerClock, sim !== null, (job) => sim !== null && sim.simulatedMs(job) > 0);
    const deps = this.deps;
    this.ctx = {
      run: deps.run,
      config: deps.config,
      runDir: deps.runDir,
      log: deps.log,
      tasks: deps.tasks,
      logger: deps.logger,
      append: (events) => deps.append(events),
      blobsInAppend: deps.blobsInAppend,
      worker: this.worker,
      sim: this.sim,
      version: this.version,
      rowCache: this.rowCache,
      job: (job, args, id) => this.job(job, args, id),
    };
    const init: JobResult = this.worker.info.init ?? (await this.worker.request('init', initArgs(config), { id: `init/${this.name}` }));
    this.version.offset = this.sim ? this.sim.policyVersion : typeof init.policyVersion === 'number' ? init.policyVersion : 0;
    this.restoreFrom = await findCheckpoint(this.deps.log, this.deps.runDir, logger);
    if (config.worker.kind === 'tiny' && config.worker.warmStartSteps > 0 && !this.restoreFrom) await warmStart(this.ctx, this.replica);
    await this.deps.append([this.joinedEvent(this.worker.info, init)]);
    this.started = true;
    logger.info({ worker: this.name, device: init.device, dtype: init.dtype }, 'worker joined');
  }

  private joinedEvent(info: WorkerInfo, init: JobResult | undefined): DareEvent {
    return makeEvent(
      'WorkerJoined',
      {
        worker: this.name,
        kind: this.cfg.worker.kind,
        device: String(init?.device ?? 'unknown').slice(0, 64),
        dtype: String(init?.dtype ?? 'unknown').slice(0, 32),
        host: hostname().slice(0, 256),
      },
      { run: this.deps.run, id: eventId('WorkerJoined', this.name, info.generation, this.deps.log.lastSeq()) },
    );
  }

  private sideAppend(events: DareEvent[], what: string): void {
    this.side = this.side
      .then(() => this.deps.append(events))
      .catch((err: unknown) => this.deps.logger.error({ err: (err as Error)?.message ?? String(err) }, `could not append ${what}`));
  }

  private onWorkerLost(reason: string, pending: string[], generation: number): void {
    this.deps.logger.warn({ worker: this.name, generation, reason, pending }, 'worker lost');
    // lastSeq in the id: generations restart at 0 in every process, and a loss after a resume must not be
    // de-duplicated against an earlier process's loss of its generation with the same number
    const ev = makeEvent(
      'WorkerLost',
      { worker: this.name, reason: reason.slice(0, MAX_REASON), pending: pending.slice(0, 1_000_000).map((p) => p.slice(0, 4096)) },
      { run: this.deps.run, id: eventId('WorkerLost', this.name, generation, this.deps.log.lastSeq()) },
    );
    this.sideAppend([ev], 'WorkerLost');
  }

  private onWorkerJoined(info: WorkerInfo): void {
    if (!this.started) return; // the first join is announced by create()
    this.deps.logger.info({ worker: this.name, generation: info.generation }, 'worker restarted');
    this.sideAppend([this.joinedEvent(info, info.init)], 'WorkerJoined');
  }

  // ---- resume --------------------------------------------------------------------------------------

  /**
   * Resume (DESIGN §6 steps 2–3): load the newest valid registered checkpoint, then re-apply, in log order,
   * every logged UpdateRequested with an UpdateCompleted and policyVersion ≥ the checkpoint's, so the weights
   * catch up with the log without regenerating any rollout. Call once, before onEvent, only when resuming.
   */
  async restore(opts: { atMost?: number } = {}): Promise<{ checkpoint: string | null; policyVersion: number; reapplied: number }> {
    if (this.restored) throw new Error('Bridge.restore: already called');
    this.restored = true;
    const { log, logger, runDir } = this.deps;
    // pipelined mode: a re-issued request may name a version one update before the newest checkpoint (an
    // evaluation beside the next step); loading no later than it, the re-applied updates leave it held
    if (opts.atMost !== undefined && this.restoreFrom && this.restoreFrom.policyVersion > opts.atMost) {
      this.restoreFrom = await findCheckpoint(log, runDir, logger, opts.atMost);
    }
    const ck = this.restoreFrom;
    this.version.value = 0;
    if (ck) {
      const r = await this.worker.request(
        'load',
        { path: resolve(runDir, ck.path), sha256: ck.sha256 },
        { id: `load/${ck.policyVersion}/${ck.sha256.slice(0, 16)}` },
      );
      this.version.set(ck.policyVersion);
      this.version.offset = typeof r.policyVersion === 'number' ? r.policyVersion - ck.policyVersion : this.version.offset;
      logger.info({ path: ck.path, policyVersion: ck.policyVersion }, 'checkpoint loaded');
    }
    const from = ck?.policyVersion ?? 0;
    let reapplied = 0;
    // An update built at version ≥ the checkpoint's is requested after that checkpoint was registered (at
    // seq ck.seq): the step after a due checkpoint starts only once CheckpointSaved is logged, which follows
    // the registration. So the scan starts there, not at the beginning of a long log.
    for (const e of log.iterate(ck?.seq ?? 1)) {
      const ev = e.event;
      if (ev.type !== 'UpdateRequested' || ev.data.policyVersion < from) continue;
      const doneSeq = log.seqOf(eventId('UpdateCompleted', ev.data.step));
      if (doneSeq === undefined) continue;
      const out = await this.guard(ev, () => applyUpdate(this.ctx, ev));
      reapplied++;
      const logged = log.read(doneSeq, doneSeq + 1)[0]?.event;
      if (logged?.type === 'UpdateCompleted' && (logged.data.policyVersion !== out.policyVersion || logged.data.loss !== out.loss)) {
        logger.warn(
          { update: ev.id, logged: { policyVersion: logged.data.policyVersion, loss: logged.data.loss }, now: { policyVersion: out.policyVersion, loss: out.loss } },
          're-applied update differs from the logged one (non-deterministic worker?)',
        );
      }
    }
    logger.info({ checkpoint: ck?.path ?? null, policyVersion: this.version.value, reapplied }, 'weights caught up with the log');
    return { checkpoint: ck?.path ?? null, policyVersion: this.version.value, reapplied };
  }

  // ---- events --------------------------------------------------------------------------------------

  /**
   * Called for every committed event, in sequence order, once per process. Serialised internally: with
   * nothing in progress the event is handled at once (a job starts before the other consumers of the log
   * have folded the request), else after the events before it.
   */
  onEvent(e: Logged): Promise<void> | undefined {
    // most of the log (a step's B RolloutCompleted) is nothing for the bridge to do: no promise for those, so
    // its consumer — the first one woken — passes a batch on to the actors without a microtask turn per event
    if (!this.replica ? !Object.hasOwn(this.requests, e.event.type) : e.event.type !== 'UpdateRequested') return undefined;
    const pipelined = this.cfg.run.offPolicySteps > 0 && !this.replica;
    const detached = pipelined && TRAINER_JOBS.has(e.event.type);
    const lane = pipelined && !detached ? this.lanes.generate : this.lanes.train;
    const run = lane.inProgress === 0 ? this.handle(e) : lane.queue.then(() => this.handle(e));
    lane.inProgress++;
    const settled = run.then(
      () => void lane.inProgress--,
      (err: unknown) => {
        lane.inProgress--;
        // a detached job's failure has no consumer to stop: it is the run's (RunFailed is logged by guard)
        if (detached) (this.deps.onError ?? ((x: unknown) => this.deps.logger.error({ err: (x as Error)?.message ?? String(x) }, 'trainer job failed')))(err);
      },
    );
    lane.queue = settled;
    // the log's delivery goes on while a trainer job runs in pipelined mode (its completion is an event)
    return detached ? undefined : run;
  }

  private done(id: string): boolean {
    return this.deps.log.seqOf(id) !== undefined;
  }

  /** What the bridge does with each request it acts on (the keys are also what onEvent lets through). */
  private readonly requests: { [K in BridgeRequest]: (ev: EventOf<K>) => Promise<void> | undefined } = {
    RolloutRequested: (ev) => this.guard(ev, () => rollout(this.ctx, ev)),
    ScoreRequested: (ev) => (this.done(eventId('ScoreCompleted', ev.data.step)) ? undefined : this.guard(ev, () => score(this.ctx, ev))),
    UpdateRequested: (ev) => (this.done(eventId('UpdateCompleted', ev.data.step)) ? undefined : this.guard(ev, () => update(this.ctx, ev))),
    CheckpointRequested: (ev) => (this.done(eventId('CheckpointSaved', ev.data.policyVersion)) ? undefined : this.guard(ev, () => checkpoint(this.ctx, ev))),
    EvalRequested: (ev) => (this.done(eventId('EvalCompleted', ev.data.step)) ? undefined : this.guard(ev, () => evaluate(this.ctx, ev))),
    SignalRequested: (ev) => (this.done(eventId('SignalCompleted', ev.data.step, ev.data.kind)) ? undefined : this.guard(ev, () => signal(this.ctx, ev))),
  };

  private async handle(e: Logged): Promise<void> {
    const ev = e.event;
    if (this.replica) {
      // a replica follows every update of the log on its own worker, and does nothing else
      if (ev.type === 'UpdateRequested' && ev.data.policyVersion === this.version.value) await applyUpdate(this.ctx, ev);
      return;
    }
    const act = this.requests[ev.type as BridgeRequest] as ((ev: DareEvent) => Promise<void> | undefined) | undefined;
    return act?.(ev);
  }

  /** A job error or an unservable request is a run failure: RunFailed, then rethrow. */
  private async guard<T>(req: DareEvent, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WorkerJobError || err instanceof BridgeInputError) {
        const reason = `${req.type} ${req.id}: ${err.message}`.slice(0, MAX_REASON);
        this.deps.logger.error({ request: req.id, reason }, 'request failed: run failed');
        try {
          await this.deps.append([makeEvent('RunFailed', { reason }, { run: this.deps.run, id: eventId('RunFailed', req.id), cause: req.id })]);
        } catch (appendErr) {
          this.deps.logger.error({ err: (appendErr as Error).message }, 'could not append RunFailed');
        }
      }
      throw err;
    }
  }

  /**
   * A replica joining a run: after restore(), apply the logged updates that restore() left for the primary
   * (those without a completion yet), so the weights match the whole log; returns the last seq it covered.
   */
  async catchUpReplica(): Promise<number> {
    const last = this.deps.log.lastSeq();
    // as in restore(): no update at or above the loaded checkpoint's version lies before its registration
    for (const e of this.deps.log.iterate(this.restoreFrom?.seq ?? 1, last + 1)) {
      const ev = e.event;
      if (ev.type === 'UpdateRequested' && ev.data.policyVersion === this.version.value) await applyUpdate(this.ctx, ev);
    }
    return last;
  }

  /** Wait for the event in progress and pending lifecycle events, then shut the worker down. */
  async close(): Promise<void> {
    this.jobSub?.unsubscribe();
    await this.lanes.train.queue;
    await this.lanes.generate.queue;
    await this.side;
    await this.worker?.close();
  }
}
