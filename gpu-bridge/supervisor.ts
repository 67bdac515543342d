/**
 * Worker supervision: keeps one worker process alive behind a stable WorkerHandle.
 *
 * When the process is lost (crash, SIGKILL, protocol error, or a job past its timeout — ProcessWorker kills
 * the process then), the Supervisor reports `onLost(reason, pendingIds)`, spawns a new process, restores
 * it — `init` with the same args, `load` of the last checkpoint (the last successful `load`, or the file of
 * the last successful `save`), then the `update`s completed since that checkpoint, in order, with their
 * original ids — reports `onJoined(info)`, and re-issues every unanswered job with the SAME request id.
 * Replaying the updates puts the new process at the policy version the lost one had, so a re-issued
 * rollout samples from the same weights (without the replay it would silently use the checkpoint's).
 * Memory for the replay is bounded by the updates between two checkpoints; `replayUpdates: false` turns it
 * off when the caller (e.g. resume) re-applies logged updates itself.
 *
 * Health check: process liveness, not a ping. A worker runs jobs one at a time, so a ping queues behind a
 * long update and its timeout cannot tell "hung" from "busy". Instead the child's exit/close, EOF on its
 * stdout, protocol errors and each job's own timeout (timeoutMs per request) detect a dead or hung worker.
 *
 * Exactly-once: each request id is one logical job. A second request with a pending id gets the same
 * promise; a job is settled (resolved or rejected) once, whatever the number of re-issues; results of
 * completed `update` and `save` jobs are remembered (bounded), so repeating such an id after a restart
 * returns the first answer instead of applying the update again on a worker whose reply cache is new.
 * A job in flight when the worker was lost `maxAttempts` times is rejected (a poison job must not kill
 * workers forever); jobs queued behind it are not charged.
 */
import {
  ProcessWorker,
  WorkerJobError,
  WorkerLostError,
  type JobResult,
  type ProcessWorkerSpec,
  type RequestOptions,
  type WorkerHandle,
  type WorkerInfo,
  type WorkerLogger,
  type WorkerLoss,
} from './workerClient.ts';

/** A worker incarnation the Supervisor can watch and kill (ProcessWorker implements it). */
export interface SupervisedWorker extends WorkerHandle {
  readonly lost: Promise<WorkerLoss>;
  kill(reason: string): void;
}

export interface SupervisorOptions {
  name: string;
  /** Starts incarnation `generation` (0, 1, ...). Either this or `process`. */
  spawn?: (generation: number) => SupervisedWorker;
  /** Spawn ProcessWorkers from this spec (ignored when `spawn` is given). */
  process?: ProcessWorkerSpec;
  /** In-flight losses after which a job is rejected (default 3). */
  maxAttempts?: number;
  /** Consecutive failed restarts before giving up (default 5). */
  maxRestarts?: number;
  /** Delay before restart attempt k (0-based), ms (default 100·2^k, at most 5000). */
  restartDelayMs?: (k: number) => number;
  /** Timeout for the restore jobs (init, load, replayed updates), ms (default 120000). */
  restoreTimeoutMs?: number;
  /** Replay updates completed since the last checkpoint on restart (default true). */
  replayUpdates?: boolean;
  /** Completed update/save results kept for repeated ids (default 4096). */
  completedCacheSize?: number;
  onJoined?: (info: WorkerInfo) => void;
  onLost?: (reason: string, pendingIds: string[]) => void;
  /** Called once if the Supervisor gives up (all pending jobs are then rejected). */
  onGaveUp?: (reason: string) => void;
  logger?: WorkerLogger;
}

/** The bare reason of a loss (without the "worker lost: " prefix of its message). */
function reasonOf(err: Error): string {
  return err instanceof WorkerLostError ? err.reason : err.message;
}

type State = 'idle' | 'starting' | 'ready' | 'restarting' | 'failed' | 'closed';

interface Entry {
  id: string;
  job: string;
  args: Record<string, unknown>;
  timeoutMs: number | undefined;
  /** Times this job was in flight when a worker was lost. */
  losses: number;
  /** The incarnation it was last sent to (null: not sent since the last loss). */
  sentTo: SupervisedWorker | null;
  promise: Promise<JobResult>;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Replayable {
  id: string;
  args: Record<string, unknown>;
}

export class Supervisor implements WorkerHandle {
  readonly opts: SupervisorOptions;
  private state: State = 'idle';
  private worker: SupervisedWorker | null = null;
  private generation = -1;
  private readonly entries = new Map<string, Entry>(); // unsettled jobs, in issue order
  private readonly completed = new Map<string, JobResult>();
  private initCall: Replayable | null = null;
  private initResult: JobResult | null = null;
  private checkpoint: Replayable | null = null; // load args to restore from
  private updatesSinceCheckpoint: Replayable[] = [];
  private autoId = 0;
  private startPromise: Promise<void> | null = null;
  private _restarts = 0;
  private lastReason = '';

  constructor(opts: SupervisorOptions) {
    if (!opts.spawn && !opts.process) throw new Error('Supervisor: give either `spawn` or `process`');
    this.opts = opts;
  }

  get info(): WorkerInfo {
    return this.worker?.info ?? { name: this.opts.name, kind: 'process', pid: null, generation: Math.max(0, this.generation) };
  }

  /** Successful restarts so far. */
  get restarts(): number {
    return this._restarts;
  }

  get status(): State {
    return this.state;
  }

  request(job: string, args: Record<string, unknown>, opts: RequestOptions = {}): Promise<JobResult> {
    if (this.state === 'closed') return Promise.reject(new Error(`worker ${this.opts.name} is closed`));
    if (this.state === 'failed') return Promise.reject(new WorkerLostError(`gave up: ${this.lastReason}`, []));
    const id = opts.id ?? `${this.opts.name}.${++this.autoId}`;
    const pending = this.entries.get(id);
    if (pending) return pending.promise;
    const done = this.completed.get(id);
    if (done) return Promise.resolve(done);

    if (job === 'init') {
      // A (re-)init resets the model: the restore recipe starts over from these args.
      this.initCall = { id, args };
      this.checkpoint = null;
      this.updatesSinceCheckpoint = [];
      if (this.state === 'idle') return this.startWithInit();
    }

    let resolve!: (r: JobResult) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<JobResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry = { id, job, args, timeoutMs: opts.timeoutMs, losses: 0, sentTo: null, promise, resolve, reject };
    this.entries.set(id, entry);
    if (this.state === 'ready') this.dispatch(entry);
    else if (this.state === 'idle') void this.start().catch(() => {}); // dispatched once started
    return promise;
  }

  /**
   * Spawn the first worker (running `init` if one was requested); idempotent, resolves when ready. A worker
   * that dies while starting is retried like a restart; an error answer (e.g. bad init args) is final: the
   * Supervisor returns to idle and the jobs waiting for it are rejected with that error.
   */
  start(): Promise<void> {
    if (!this.startPromise) {
      this.state = 'starting';
      this.startPromise = this.bringUp(false).then(
        () => this.becomeReady(),
        (err: Error) => {
          this.startPromise = null;
          if (this.state === 'closed') throw err;
          if (err instanceof WorkerJobError) {
            this.state = 'idle';
            for (const e of [...this.entries.values()]) this.settle(e, err);
          } else {
            this.giveUp(reasonOf(err));
          }
          throw err;
        },
      );
    }
    return this.startPromise;
  }

  /** Shut the worker down gracefully; unanswered jobs are rejected. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const w = this.worker;
    if (w) await w.close();
    for (const e of [...this.entries.values()]) this.settle(e, new Error(`worker ${this.opts.name} closed before answering ${e.job} (id ${e.id})`));
  }

  // ---- internals -----------------------------------------------------------------------------------

  private async startWithInit(): Promise<JobResult> {
    await this.start();
    return this.initResult ?? {};
  }

  private newWorker(): SupervisedWorker {
    this.generation++;
    const w = this.opts.spawn ? this.opts.spawn(this.generation) : ProcessWorker.spawn(this.opts.process!, this.generation);
    this.worker = w;
    void w.lost.then((loss) => this.onWorkerLost(w, loss));
    return w;
  }

  /** Spawn a worker and replay init → load(checkpoint) → updates since it. */
  private async spawnAndRestore(): Promise<void> {
    const w = this.newWorker();
    const timeoutMs = this.opts.restoreTimeoutMs ?? 120_000;
    if (this.initCall) this.initResult = await w.request('init', this.initCall.args, { id: this.initCall.id, timeoutMs });
    if (this.checkpoint) await w.request('load', this.checkpoint.args, { id: this.checkpoint.id, timeoutMs });
    for (const u of this.updatesSinceCheckpoint) await w.request('update', u.args, { id: u.id, timeoutMs });
  }

  private becomeReady(): void {
    if (this.state === 'closed') {
      void this.worker?.close(); // closed while starting: do not come back to life
      return;
    }
    this.state = 'ready';
    this.opts.onJoined?.(this.worker!.info);
    for (const e of [...this.entries.values()]) if (e.sentTo === null) this.dispatch(e);
  }

  private dispatch(e: Entry): void {
    const w = this.worker!;
    e.sentTo = w;
    w.request(e.job, e.args, { id: e.id, timeoutMs: e.timeoutMs }).then(
      (result) => {
        if (!this.entries.has(e.id)) return;
        this.recordSuccess(e, result);
        this.settle(e, null, result);
      },
      (err: Error) => {
        if (!this.entries.has(e.id)) return;
        // A lost worker is the restart loop's business: the job stays pending and is re-issued.
        if (err instanceof WorkerLostError && this.state !== 'closed' && this.state !== 'failed') return;
        this.settle(e, err);
      },
    );
  }

  private recordSuccess(e: Entry, result: JobResult): void {
    if (e.job === 'load') {
      this.checkpoint = { id: e.id, args: e.args };
      this.updatesSinceCheckpoint = [];
    } else if (e.job === 'save' && typeof result.path === 'string') {
      const args: Record<string, unknown> = { path: result.path };
      if (typeof result.sha256 === 'string') args.sha256 = result.sha256;
      this.checkpoint = { id: `${e.id}:restore`, args };
      this.updatesSinceCheckpoint = [];
    } else if (e.job === 'update' && this.opts.replayUpdates !== false) {
      this.updatesSinceCheckpoint.push({ id: e.id, args: e.args });
    }
    if (e.job === 'update' || e.job === 'save') {
      this.completed.set(e.id, result);
      const cap = this.opts.completedCacheSize ?? 4096;
      while (this.completed.size > cap) this.completed.delete(this.completed.keys().next().value as string);
    }
  }

  private settle(e: Entry, err: Error | null, result?: JobResult): void {
    if (!this.entries.delete(e.id)) return; // settled already: exactly once
    if (err) e.reject(err);
    else e.resolve(result!);
  }

  private onWorkerLost(w: SupervisedWorker, loss: WorkerLoss): void {
    if (w !== this.worker) return;
    if (this.state !== 'ready') return; // start/restore failures are handled where they are awaited
    this.lastReason = loss.reason;
    const pendingIds = [...this.entries.keys()];
    this.opts.logger?.(`worker ${this.opts.name} lost: ${loss.reason}`, { worker: this.opts.name, pendingIds });
    this.opts.onLost?.(loss.reason, pendingIds);
    this.chargeLosses(w, loss);
    this.state = 'restarting';
    void this.restartLoop();
  }

  /** Jobs that were running on the lost worker count one loss; queued ones are not charged. */
  private chargeLosses(w: SupervisedWorker, loss: WorkerLoss): void {
    const maxAttempts = this.opts.maxAttempts ?? 3;
    const running = new Set(loss.inFlightIds);
    for (const e of [...this.entries.values()]) {
      if (e.sentTo !== w) continue;
      e.sentTo = null;
      if (!running.has(e.id)) continue;
      e.losses++;
      if (e.losses >= maxAttempts) {
        this.settle(
          e,
          new WorkerLostError(`${e.job} (id ${e.id}) was in flight on ${e.losses} lost workers; last: ${loss.reason}`, [e.id]),
        );
      }
    }
  }

  private async restartLoop(): Promise<void> {
    try {
      await this.bringUp(true);
    } catch (err) {
      this.giveUp(reasonOf(err as Error));
      return;
    }
    if (this.state !== 'closed') this._restarts++;
    this.becomeReady();
  }

  /**
   * Spawn and restore, retrying a worker that dies on the way (up to maxRestarts attempts, with backoff
   * on restarts). An error answer to a restore job is thrown at once: retrying cannot change it.
   */
  private async bringUp(isRestart: boolean): Promise<void> {
    const maxRestarts = this.opts.maxRestarts ?? 5;
    const delay = this.opts.restartDelayMs ?? ((k: number) => Math.min(5000, 100 * 2 ** k));
    for (let k = 0; k < maxRestarts; k++) {
      if (isRestart || k > 0) await new Promise((r) => setTimeout(r, delay(k)));
      if (this.state === 'closed') return;
      try {
        await this.spawnAndRestore();
        return;
      } catch (err) {
        this.lastReason = (err as Error).message;
        this.opts.logger?.(`worker ${this.opts.name} start ${k + 1}/${maxRestarts} failed: ${this.lastReason}`, {
          worker: this.opts.name,
        });
        const w = this.worker;
        if (w) {
          w.kill(`restore failed: ${this.lastReason}`);
          await w.lost;
        }
        if (err instanceof WorkerJobError) throw err;
      }
    }
    throw new WorkerLostError(`no working worker after ${maxRestarts} attempts; last: ${this.lastReason}`, [
      ...this.entries.keys(),
    ]);
  }

  private giveUp(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'failed';
    this.lastReason = reason;
    this.opts.onGaveUp?.(reason);
    const ids = [...this.entries.keys()];
    for (const e of [...this.entries.values()]) this.settle(e, new WorkerLostError(reason, ids));
  }
}
