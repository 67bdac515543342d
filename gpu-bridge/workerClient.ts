/**
 * The bridge's side of the worker protocol (docs/worker-protocol.md): a `WorkerHandle` is anything that
 * answers protocol jobs; `ProcessWorker` is one incarnation of a worker child process spoken to over
 * length-prefixed MessagePack frames on stdin/stdout. Restarts and re-issue live in supervisor.ts; the
 * in-process `sim` worker (sim/simWorker.ts) implements the same interface.
 *
 * A ProcessWorker is single-use: once its process is lost (exit, kill, protocol error, job timeout) every
 * pending request is rejected with WorkerLostError and `lost` resolves; a Supervisor spawns the next one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { FrameDecoder, FrameError, encodeFrame, maxFrameFromEnv, type FrameBody } from './frames.ts';

/** A job's result map, as the worker sent it (binary fields are Buffers holding LE bytes). */
export type JobResult = Record<string, unknown>;

export interface RequestOptions {
  /**
   * Request id. Callers derive it from the id of the event that caused the job, so a job re-issued after
   * a crash or a resume carries the same id and the worker answers it from its reply cache.
   */
  id?: string;
  /** Wall-clock limit for this job once sent, ms; exceeding it kills the worker (a WorkerLost). */
  timeoutMs?: number;
}

export interface WorkerInfo {
  /** Name given by the caller (used in logs and auto ids). */
  name: string;
  kind: 'process' | 'sim';
  /** OS process id, or null for in-process workers / before spawn. */
  pid: number | null;
  /** Incarnation number: 0 for the first process, +1 per restart. */
  generation: number;
  /** The `init` result once the worker has been initialised. */
  init?: JobResult;
}

/** What the bridge talks to: a process worker, a supervised one, or the in-process sim. */
export interface WorkerHandle {
  request(job: string, args: Record<string, unknown>, opts?: RequestOptions): Promise<JobResult>;
  close(): Promise<void>;
  readonly info: WorkerInfo;
}

/** The worker answered `ok: false`: the job failed, the worker is fine. */
export class WorkerJobError extends Error {
  readonly code: string;
  readonly id: string;
  readonly job: string;
  constructor(job: string, id: string, code: string, message: string) {
    super(`${job} (id ${id}) failed: ${code}: ${message}`);
    this.name = 'WorkerJobError';
    this.code = code;
    this.id = id;
    this.job = job;
  }
}

/** The worker process is gone (or was killed) before answering. */
export class WorkerLostError extends Error {
  readonly reason: string;
  readonly pendingIds: string[];
  constructor(reason: string, pendingIds: string[]) {
    super(`worker lost: ${reason}`);
    this.name = 'WorkerLostError';
    this.reason = reason;
    this.pendingIds = pendingIds;
  }
}

/** How a ProcessWorker ended. */
export interface WorkerLoss {
  reason: string;
  /** Requests written to the worker and unanswered when it was lost (in send order). */
  inFlightIds: string[];
  /** Requests accepted but not yet written (in order). */
  queuedIds: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export type WorkerLogger = (msg: string, fields?: Record<string, unknown>) => void;

export interface ProcessWorkerSpec {
  name: string;
  command: string;
  args?: string[];
  /** Environment for the child (defaults to this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Frame limit, bytes, both directions (default: DARE_MAX_FRAME or 256 MiB). */
  maxFrame?: number;
  /** Timeout for jobs that pass none, ms (default: none). */
  defaultTimeoutMs?: number;
  /**
   * Requests written before their predecessors are answered (default 1). Workers run jobs one at a time,
   * so with 1 a job's timeout measures its own run time, not time queued behind others.
   */
  maxInFlight?: number;
  /** Receives every stderr line of the worker, and lifecycle messages. */
  logger?: WorkerLogger;
  /** Grace period for `close()` before SIGKILL, ms (default 5000). */
  closeTimeoutMs?: number;
}

interface Pending {
  id: string;
  job: string;
  args: Record<string, unknown>;
  timeoutMs: number | undefined;
  promise: Promise<JobResult>;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

const STDERR_TAIL = 20;

/**
 * Worker processes still running. They are detached (own process group), so nothing else stops them when
 * this process exits on a second Ctrl-C or process.exit: kill them on the way out.
 */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function isPlainMap(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

export class ProcessWorker implements WorkerHandle {
  readonly spec: ProcessWorkerSpec;
  /** Resolves once, when the process is gone (after its exit), with why. */
  readonly lost: Promise<WorkerLoss>;

  private readonly child: ChildProcess;
  private readonly decoder: FrameDecoder;
  private readonly maxFrame: number;
  private readonly maxInFlight: number;
  private readonly inFlight = new Map<string, Pending>();
  private readonly queue: Pending[] = [];
  private readonly stderrTail: string[] = [];
  private stderrPartial = '';
  private autoId = 0;
  private lossReason: string | null = null;
  private lossIds: { inFlight: string[]; queued: string[] } = { inFlight: [], queued: [] };
  private closing = false;
  private exited = false;
  private resolveLost!: (l: WorkerLoss) => void;
  private _info: WorkerInfo;

  /** Spawn the worker process. `generation` is recorded in `info` (the Supervisor counts restarts). */
  static spawn(spec: ProcessWorkerSpec, generation = 0): ProcessWorker {
    return new ProcessWorker(spec, generation);
  }

  private constructor(spec: ProcessWorkerSpec, generation: number) {
    this.spec = spec;
    this.maxFrame = spec.maxFrame ?? maxFrameFromEnv();
    this.maxInFlight = Math.max(1, spec.maxInFlight ?? 1);
    this.decoder = new FrameDecoder({ maxFrame: this.maxFrame });
    this.lost = new Promise((res) => (this.resolveLost = res));
    this.child = spawn(spec.command, spec.args ?? [], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C goes to the run alone, which stops after the step the
      // worker is still needed for (the worker exits on its own when its stdin closes, even after kill -9).
      detached: true,
    });
    liveChildren.add(this.child);
    this.child.once('exit', () => liveChildren.delete(this.child));
    this._info = { name: spec.name, kind: 'process', pid: this.child.pid ?? null, generation };

    this.child.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk));
    this.child.stdout!.on('end', () => {
      try {
        this.decoder.end();
      } catch (err) {
        this.fail(`protocol error from worker: ${(err as Error).message}`);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => this.onStderr(s));
    // EPIPE when the worker dies while we write: the exit handler reports the loss.
    this.child.stdin!.on('error', () => {});
    this.child.on('error', (err) => {
      this.fail(`failed to run worker ${JSON.stringify(spec.command)}: ${err.message}`);
      if (this.child.pid === undefined) this.finish(null, null); // never started: no exit event follows
    });
    let exitTimer: NodeJS.Timeout | null = null;
    this.child.on('exit', (code, signal) => {
      // 'close' (all stdio drained) normally follows; a grandchild holding the pipes open must not stall us.
      exitTimer = setTimeout(() => this.finish(code, signal), 2000);
    });
    this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (exitTimer) clearTimeout(exitTimer);
      this.finish(code, signal);
    });
  }

  get info(): WorkerInfo {
    return this._info;
  }

  /** True until the worker is lost (or closed). */
  get alive(): boolean {
    return this.lossReason === null;
  }

  request(job: string, args: Record<string, unknown>, opts: RequestOptions = {}): Promise<JobResult> {
    const id = opts.id ?? `${this.spec.name}#${this._info.generation}.${++this.autoId}`;
    if (typeof id !== 'string' || id.length === 0) return Promise.reject(new TypeError('request id must be a non-empty string'));
    if (typeof job !== 'string' || job.length === 0) return Promise.reject(new TypeError('job must be a non-empty string'));
    if (!isPlainMap(args)) return Promise.reject(new TypeError(`${job} (id ${id}): args must be a plain object`));
    if (this.lossReason !== null) {
      return Promise.reject(new WorkerLostError(this.lossReason, [id]));
    }
    // The same id while still pending is the same job: one execution, one answer.
    const existing = this.inFlight.get(id) ?? this.queue.find((p) => p.id === id);
    if (existing) return existing.promise;

    let resolve!: (r: JobResult) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<JobResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const timeoutMs = opts.timeoutMs ?? this.spec.defaultTimeoutMs;
    this.queue.push({ id, job, args, timeoutMs, promise, resolve, reject, timer: null });
    this.pump();
    return promise;
  }

  /** Kill the process now (SIGKILL); pending requests fail with WorkerLostError(reason). */
  kill(reason: string): void {
    this.fail(reason);
  }

  /**
   * Graceful stop: let queued jobs finish, send `shutdown`, wait for exit (SIGKILL after closeTimeoutMs).
   * Requests still pending afterwards are rejected with WorkerLostError('closed').
   */
  async close(): Promise<void> {
    if (this.lossReason !== null) {
      await this.lost;
      return;
    }
    this.closing = true;
    const grace = this.spec.closeTimeoutMs ?? 5000;
    const killTimer = setTimeout(() => this.fail(`closed: no exit within ${grace} ms of shutdown`), grace);
    try {
      await this.request('shutdown', {}, { id: `${this.spec.name}#${this._info.generation}.shutdown`, timeoutMs: grace });
    } catch {
      // A worker that cannot answer shutdown is stopped by EOF or the kill timer.
    }
    this.child.stdin!.end();
    await this.lost;
    clearTimeout(killTimer);
  }

  // ---- internals -----------------------------------------------------------------------------------

  private pump(): void {
    while (this.lossReason === null && this.queue.length > 0 && this.inFlight.size < this.maxInFlight) {
      const p = this.queue.shift()!;
      let frame: Buffer;
      try {
        frame = encodeFrame({ id: p.id, job: p.job, args: p.args }, this.maxFrame);
      } catch (err) {
        // Our own request is too large or not encodable: that job fails, the worker is fine.
        p.reject(err as Error);
        continue;
      }
      this.inFlight.set(p.id, p);
      if (p.timeoutMs !== undefined && p.timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.fail(`timeout: job ${p.job} (id ${p.id}) exceeded ${p.timeoutMs} ms`);
        }, p.timeoutMs);
      }
      this.child.stdin!.write(frame);
    }
  }

  private onStdout(chunk: Buffer): void {
    if (this.lossReason !== null) return;
    const { frames, error } = this.decoder.feed(chunk);
    for (const body of frames) {
      this.onReply(body);
      if (this.lossReason !== null) return;
    }
    if (error) return this.fail(`protocol error from worker: ${error.message}`);
    this.pump();
  }

  private onReply(body: FrameBody): void {
    const { id, ok } = body;
    if (typeof id !== 'string') return this.fail('protocol error from worker: malformed reply: "id" is not a string');
    const p = this.inFlight.get(id);
    if (!p) return this.fail(`protocol error from worker: reply for unknown request id ${JSON.stringify(id)}`);
    if (ok === true) {
      if (!isPlainMap(body.result)) {
        return this.fail(`protocol error from worker: malformed reply to ${id}: "result" is not a map`);
      }
      this.settle(p);
      if (p.job === 'init') this._info = { ...this._info, init: body.result };
      p.resolve(body.result);
    } else if (ok === false) {
      const e = body.error as { code?: unknown; message?: unknown } | undefined;
      if (!isPlainMap(e) || typeof e.code !== 'string' || typeof e.message !== 'string') {
        return this.fail(`protocol error from worker: malformed reply to ${id}: "error" must be {code, message}`);
      }
      this.settle(p);
      p.reject(new WorkerJobError(p.job, id, e.code, e.message));
    } else {
      this.fail(`protocol error from worker: malformed reply to ${id}: "ok" is not a boolean`);
    }
  }

  private settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    this.inFlight.delete(p.id);
  }

  private onStderr(s: string): void {
    const text = this.stderrPartial + s;
    const lines = text.split('\n');
    this.stderrPartial = lines.pop() ?? '';
    for (const line of lines) this.stderrLine(line);
  }

  private stderrLine(line: string): void {
    if (line.length === 0) return;
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    this.spec.logger?.(line, { stream: 'stderr', worker: this.spec.name, pid: this._info.pid, generation: this._info.generation });
  }

  /** First failure wins: record the reason, kill the process, reject everything pending. */
  private fail(reason: string): void {
    if (this.lossReason !== null) return;
    this.lossReason = reason;
    this.lossIds = { inFlight: [...this.inFlight.keys()], queued: this.queue.map((p) => p.id) };
    if (!this.exited) this.child.kill('SIGKILL');
    this.rejectAll(reason);
  }

  private rejectAll(reason: string): void {
    const all = [...this.inFlight.values(), ...this.queue];
    const ids = all.map((p) => p.id);
    this.inFlight.clear();
    this.queue.length = 0;
    for (const p of all) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new WorkerLostError(reason, ids));
    }
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    if (this.stderrPartial) {
      this.stderrLine(this.stderrPartial);
      this.stderrPartial = '';
    }
    if (this.lossReason === null) {
      const how = signal ? `killed by signal ${signal}` : `exited with code ${code}`;
      const clean = this.closing && code === 0;
      const tail = this.stderrTail.slice(-5).join(' | ');
      this.fail(clean ? 'closed' : `worker ${how}${tail ? `; stderr: ${tail}` : ''}`);
    }
    this.spec.logger?.(`worker ${this.spec.name} gone: ${this.lossReason}`, {
      worker: this.spec.name,
      pid: this._info.pid,
      generation: this._info.generation,
      exitCode: code,
      signal,
    });
    this.resolveLost({
      reason: this.lossReason!,
      inFlightIds: this.lossIds.inFlight,
      queuedIds: this.lossIds.queued,
      exitCode: code,
      signal,
    });
  }
}

/** Re-exported so callers can tell framing failures apart. */
export { FrameError };
