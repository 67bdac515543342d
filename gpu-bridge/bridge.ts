/**
 * The gpu-bridge actor (DESIGN §4, §5, §7): turns logged requests into worker jobs and the jobs' results into
 * logged facts. RolloutRequested → RolloutCompleted per prompt (blobs first), ScoreRequested → ScoreCompleted,
 * UpdateRequested → UpdateCompleted, CheckpointRequested → CheckpointSaved, EvalRequested → EvalCompleted; and
 * WorkerJoined / WorkerLost for the worker's lifecycle.
 *
 * Exactly-once by the log: a request is acted on only while its completion id is absent from the log, and
 * every job id derives from the request id, so a resumed process re-issues exactly the requests without a
 * completion, with the same ids (DESIGN §6 step 4). Rollout requests run in fixed chunks of 64 prompts with a
 * seed derived from (request seed, chunk index): a re-issued chunk samples what the lost one would have.
 *
 * Policy versions: the bridge reports the LOG's version (the number of updates in the log), kept in
 * `version`. A tiny worker's supervised warm start (`sft`) bumps the worker's own counter once, so the
 * bridge keeps `offset` = worker version − log version and checks every worker-reported version against it.
 *
 * Worker restarts (Supervisor, workerFactory.ts): the Supervisor restores a new process by init → load(last
 * checkpoint it saw) → the updates it ran since, with `replayUpdates` on. The bridge never re-applies updates
 * after a restart itself; its restore() runs once at start-up and goes through the same Supervisor, which
 * then counts those updates in its recipe, so no update is applied twice or skipped. The warm start is
 * followed by a save, so a restart before the first learner checkpoint loads the warm-started weights
 * instead of bare init weights.
 */
import { heldBytes } from './heldBytes.ts';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { eventId, groupId, makeEvent, rolloutCompletedId, type DareEvent, type EventOf, type Logged } from '../events/catalogue.ts';
import type { PromptRow } from '../events/promptRow.ts';
import type { RunConfig } from '../events/config.ts';
import { pack, unpack } from '../events/codec.ts';
import { subjectsFor } from '../events/subjects.ts';
import { mark, stepTrace } from '../events/stepTrace.ts';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { seedOf } from '../events/prng.ts';
import { decodeGroupBlob, decodeRow, logprobSum, parseRowRef, type GroupBlob, type StoredGroupBlob } from './blobs.ts';
import { SimWorker } from './sim/simWorker.ts';
import { WorkerJobError, type JobResult, type WorkerHandle, type WorkerInfo } from './workerClient.ts';
import { initArgs, makeWorker, simCategoryName } from './workerFactory.ts';

export interface BridgeLogger {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface CheckpointEntry {
  path: string;
  sha256: string;
  policyVersion: number;
  seq: number;
}

/** What the bridge uses of the run's log (store/eventLog.ts's EventLog, passed in by the host). */
export interface BridgeLog {
  lastSeq(): number;
  seqOf(id: string): number | undefined;
  read(from: number, to?: number): Logged[];
  iterate(from?: number, to?: number): Iterable<Logged>;
  getPrompt(index: number): unknown;
  promptCount(): number;
  getBlob(key: string): unknown;
  putBlobs(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void>;
  /** stage blobs for the next append's commit (see `BridgeDeps.blobsInAppend`); a ticket for blobsCommitted */
  stageBlobs(entries: ReadonlyArray<readonly [string, unknown]>): number;
  blobsCommitted(ticket: number): boolean;
  checkpoints(): CheckpointEntry[];
  registerCheckpoint(entry: CheckpointEntry): Promise<void>;
}

/**
 * Task knowledge the host gives the bridge (the bridge depends on events only): the verifier of a row's
 * data source, and how a hint prompt is built from a correct earlier response.
 */
export interface BridgeTasks {
  /** reward (0/1) of `response` for a prompt of `dataSource` whose answer is `answer` */
  reward(dataSource: string, response: string, answer: string): number;
  /** the hint-augmented prompt for `question` from a correct earlier `response` */
  hintPrompt(question: string, response: string, dataSource: string): string;
}

export interface BridgeDeps {
  run: string;
  config: RunConfig;
  /** checkpoints go to runDir/<path of CheckpointRequested> */
  runDir: string;
  /** same process: prompts (getPrompt), blobs (putBlobs/getBlob), seqOf(id), checkpoints registry */
  log: BridgeLog;
  /** verifiers and hint prompts (the sim needs neither) */
  tasks?: BridgeTasks;
  /** proposes events (over the bus); resolves once durable */
  append(events: DareEvent[]): Promise<void>;
  /**
   * `log` is the very EventLog the store commits `append`'s events to (the runner hosts both): rollout blobs
   * are staged into the commit of their RolloutCompleted events (one commit instead of two). Otherwise they
   * are committed on their own first.
   */
  blobsInAppend?: boolean;
  logger: BridgeLogger;
  /** injected in tests; otherwise made by workerFactory */
  worker?: WorkerHandle;
  /**
   * Sharing rollout and score jobs among several bridges (queue group `dare.<run>.gpu`): the connection to
   * serve and send them on. `replica`: a bridge that only follows the log (applies every logged update to
   * its own worker, so its weights equal the primary's) and serves shared jobs; it never writes the log
   * except its WorkerJoined.
   */
  share?: { nc: NatsConnection; role: 'primary' | 'replica' };
}

/** A request the bridge cannot serve as logged (missing blob or prompt, inconsistent arrays or versions). */
export class BridgeInputError extends Error {
  override name = 'BridgeInputError';
}

/**
 * Fault injection for the kill -9 tests: DARE_FAULT_PAUSE="update:300,checkpoint:300" holds the bridge for
 * that many ms after the worker applied an update (before UpdateCompleted is logged) and after a checkpoint
 * file is written (before it is registered), so a kill lands in the two most delicate moments.
 */
const FAULT_PAUSES: Record<string, number> = Object.fromEntries(
  (process.env.DARE_FAULT_PAUSE ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => {
      const [k, v] = p.split(':');
      return [k.trim(), Number(v)];
    }),
);

async function faultPause(point: 'update' | 'checkpoint'): Promise<void> {
  const ms = FAULT_PAUSES[point];
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

/** The requests the bridge acts on (Bridge.requests); every other event passes it by. */
type BridgeRequest = 'RolloutRequested' | 'ScoreRequested' | 'UpdateRequested' | 'CheckpointRequested' | 'EvalRequested' | 'SignalRequested';

/** Prompts per rollout job (fixed: a re-issued chunk must be the same job). */
export const ROLLOUT_CHUNK = 64;
/** Time (ms) after which finished rollout chunks are written (see rollout()). */
const ROLLOUT_FLUSH_MS = 250;
/** Memory (heldBytes) of recently written rows the bridge keeps for score and update jobs (see Bridge.rowCache). */
const ROW_CACHE_BYTES = 64 * 1024 * 1024;
/** heldBytes of an empty array, and of one RowBytes beyond its three views' bytes (an object, three views). */
const HELD_ARRAY = heldBytes([]);
const HELD_ROW = heldBytes({ promptTokens: new Uint8Array(0), tokens: new Uint8Array(0), logprobs: new Uint8Array(0), finish: 'eos' });
/** Rows per score job. */
export const SCORE_CHUNK = 4096;
/** Prompts per eval job. */
export const EVAL_CHUNK = 256;
/** Where the tiny worker's warm-started weights are saved (relative to the run directory). */
export const WARMSTART_PATH = 'checkpoints/warmstart.ckpt';
const SFT_BATCH = 64;
const SFT_MAX_EXAMPLES = 4096;
const MAX_REASON = 4096;

/** uint32 seed of rollout chunk k of a request with seed `seed`. */
export function chunkSeed(seed: number, k: number): number {
  return seedOf({ seed, step: k, purpose: 'bridge/rollout' });
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function fail(msg: string): never {
  throw new BridgeInputError(msg);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what}: expected an array in the worker's result`);
  return v;
}

function finite(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : NaN;
  if (!Number.isFinite(n)) fail(`${what}: the worker returned ${String(v)}, not a finite number`);
  return n;
}

/**
 * Time spent in worker jobs, for the control-plane benchmark (informational: never read by a decision).
 * A job's time runs from the bridge's call to the worker's reply: for a process worker that includes the
 * pipe; for the in-process sim it is the synchronous job itself (the reply is settled before the call
 * returns, so later microtasks of other actors are not counted). Spans are [start, end] in ms since the
 * epoch (performance.timeOrigin + now(), the clock of the events' `ts`), the newest MAX_SPANS kept.
 */
export interface WorkerClock {
  seconds: number;
  jobs: number;
  /** [start, end, CPU seconds]; CPU only for the in-process worker: process.cpuUsage over the job, all threads */
  spans: Array<[number, number, number]>;
  cpuSeconds: number;
}

const MAX_SPANS = 100_000;

function timedWorker(inner: WorkerHandle, clock: WorkerClock, inProcess: boolean): WorkerHandle {
  const now = () => performance.timeOrigin + performance.now();
  const record = (t0: number, t1: number, cpu: number) => {
    clock.seconds += (t1 - t0) / 1000;
    clock.cpuSeconds += cpu;
    clock.jobs++;
    clock.spans.push([t0, t1, cpu]);
    if (clock.spans.length > MAX_SPANS) clock.spans.splice(0, clock.spans.length - MAX_SPANS);
  };
  return {
    get info() {
      return inner.info;
    },
    close: () => inner.close(),
    request(job, args, opts) {
      const t0 = now();
      const c0 = inProcess ? process.cpuUsage() : null;
      const p = inner.request(job, args, opts);
      if (c0) {
        const c = process.cpuUsage(c0);
        record(t0, now(), (c.user + c.system) / 1e6);
        return p;
      }
      return p.finally(() => record(t0, now(), 0));
    },
  };
}

/** A stored row as the score and update jobs send it: views of the stored blob's bytes, checked, not copied. */
interface RowBytes {
  promptTokens: Uint8Array;
  tokens: Uint8Array;
  logprobs: Uint8Array;
  finish: 'eos' | 'length';
}

/**
 * The rows of a stored group blob as byte views, when the blob passes every check decodeGroupBlob makes
 * (else null: the caller lets decodeGroupBlob name the fault). The blob was unpacked from a copy of the
 * stored bytes (EventLog.getBlob), so its bins belong to this value alone and views of them stay valid.
 */
function storedRowBytes(value: unknown): RowBytes[] | null {
  if (!isMap(value) || !Array.isArray(value.rows)) return null;
  const out: RowBytes[] = new Array(value.rows.length);
  for (let i = 0; i < value.rows.length; i++) {
    const r = value.rows[i] as unknown;
    if (!isMap(r)) return null;
    const { promptTokens, tokens, logprobs, text, finish } = r;
    if (!(promptTokens instanceof Uint8Array) || !(tokens instanceof Uint8Array) || !(logprobs instanceof Uint8Array)) return null;
    if (promptTokens.byteLength % 4 !== 0 || tokens.byteLength % 4 !== 0 || logprobs.byteLength !== tokens.byteLength) return null;
    if (typeof text !== 'string' || (finish !== 'eos' && finish !== 'length')) return null;
    out[i] = { promptTokens, tokens, logprobs, finish };
  }
  return out;
}

/** A worker's sample as decodeRow checks it; its bins are still the worker's. */
interface CheckedSample {
  promptTokens: Uint8Array;
  tokens: Uint8Array;
  logprobs: Uint8Array;
  text: string;
  finish: 'eos' | 'length';
}

/** A worker's sample checked as decodeRow checks it; null when a check fails (the caller lets decodeRow name the fault). */
function checkSample(v: unknown): CheckedSample | null {
  if (!isMap(v)) return null;
  const { promptTokens, tokens, logprobs, text, finish } = v;
  if (!(promptTokens instanceof Uint8Array) || !(tokens instanceof Uint8Array) || !(logprobs instanceof Uint8Array)) return null;
  if (promptTokens.byteLength % 4 !== 0 || tokens.byteLength % 4 !== 0 || logprobs.byteLength !== tokens.byteLength) return null;
  if (typeof text !== 'string' || (finish !== 'eos' && finish !== 'length')) return null;
  return { promptTokens, tokens, logprobs, text, finish };
}

/** A sample kept as bytes: the stored form of the row, its token count and its behaviour log-prob sum. */
interface SampleRow {
  stored: StoredRow;
  tokens: number;
  logprobSum: number;
  text: string;
  finish: 'eos' | 'length';
}

/**
 * The stored rows of checked samples: their bins copied once, detached from the worker's buffers, into ONE
 * buffer for all of them (a chunk's samples: one allocation, not three per sample). Every bin's length is a
 * multiple of 4 and they lie end to end from offset 0, so every view is 4-byte aligned.
 */
function sampleRows(samples: readonly CheckedSample[]): SampleRow[] {
  let total = 0;
  for (const s of samples) total += s.promptTokens.byteLength + s.tokens.byteLength + s.logprobs.byteLength;
  const buf = new Uint8Array(total);
  let at = 0;
  const copy = (b: Uint8Array): Uint8Array => {
    buf.set(b, at);
    at += b.byteLength;
    return buf.subarray(at - b.byteLength, at);
  };
  return samples.map((s) => {
    const promptTokens = copy(s.promptTokens);
    const tokens = copy(s.tokens);
    const logprobs = copy(s.logprobs);
    return {
      stored: { promptTokens, tokens, logprobs, text: s.text, finish: s.finish },
      tokens: tokens.byteLength / 4,
      // the float32 entries summed in double precision (an aligned view of the copy)
      logprobSum: logprobSum(new Float32Array(buf.buffer, logprobs.byteOffset, logprobs.byteLength / 4)),
      text: s.text,
      finish: s.finish,
    };
  });
}

type StoredRow = StoredGroupBlob['rows'][number];

/** A sim sample's extra facts (simWorker.ts header). */
interface SimSample {
  correct: boolean;
  length: number;
  logprob: number;
}

export class Bridge {
  private readonly deps: BridgeDeps;
  private readonly name: string;
  private worker!: WorkerHandle;
  private sim: SimWorker | null = null;
  /** policy version of the log: updates applied to the worker's weights */
  private version = 0;
  /** worker-reported version − log version (1 after the tiny warm start) */
  private offset = 0;
  /** the checkpoint restore() loads (chosen at create: it also decides the warm start) */
  private restoreFrom: CheckpointEntry | null = null;
  private restored = false;
  private started = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** events passed to onEvent whose handling has not settled yet */
  private inProgress = 0;
  private side: Promise<void> = Promise.resolve();
  /** resolved whenever the policy version moves (shared jobs wait for the version they were made at) */
  private versionWaiters: Array<() => void> = [];
  private jobSub: Subscription | null = null;
  /** shared jobs this bridge has served (for tests and logs) */
  served = 0;
  /**
   * Rows of the groups this bridge wrote lately, as the score and update jobs send them (the same bytes
   * groupBytes reads back from the log), oldest first, at most ROW_CACHE_BYTES: an update reads the step's
   * fresh groups and recently buffered ones, and decoding 500 blobs a step cost the sim ~15 ms.
   */
  private readonly rowCache = new Map<string, RowBytes[]>();
  private rowCacheBytes = 0;
  private readonly rowCacheSizes = new Map<string, number>();
  /** time in worker jobs (benchmarks only) */
  readonly workerClock: WorkerClock = { seconds: 0, jobs: 0, spans: [], cpuSeconds: 0 };

  private constructor(deps: BridgeDeps) {
    this.deps = deps;
    this.name = deps.config.worker.kind;
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

  private setVersion(v: number): void {
    this.version = v;
    for (const w of this.versionWaiters.splice(0)) w();
  }

  /** The log's policy version this bridge's weights are at. */
  get policyVersion(): number {
    return this.version;
  }

  /** Resolves once the weights are at `v` (or past it), or after `timeoutMs`. */
  private async atVersion(v: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs; // liveness only
    while (this.version < v && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.versionWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Serve shared rollout/score jobs from the queue group: wait until the weights are at the version the job
   * was made at, run it on this bridge's worker, reply with the result. A job made at an older version than
   * these weights cannot be served here (the reply says so and the sender asks again).
   */
  serveJobs(): void {
    const share = this.deps.share;
    if (!share || this.jobSub) return;
    const subject = subjectsFor(this.deps.run).gpu;
    this.jobSub = share.nc.subscribe(subject, {
      queue: 'bridges',
      callback: (err, msg) => {
        if (err) return;
        void (async () => {
          try {
            const req = unpack(msg.data) as { job: string; args: Record<string, unknown>; id: string; version: number };
            if ((req.job !== 'rollout' && req.job !== 'score') || typeof req.id !== 'string' || typeof req.version !== 'number') {
              throw new Error('malformed shared job');
            }
            await this.atVersion(req.version, 60_000);
            if (this.version !== req.version) {
              msg.respond(pack({ ok: false, retry: true, error: `weights at version ${this.version}, job made at ${req.version}` }));
              return;
            }
            const result = await this.worker.request(req.job, req.args, { id: req.id });
            this.served++;
            this.deps.logger.info({ job: req.job, id: req.id, version: req.version, worker: this.name }, 'shared job served');
            msg.respond(pack({ ok: true, result: bytesDeep(result) }));
          } catch (e) {
            msg.respond(pack({ ok: false, retry: false, error: (e as Error).message }));
          }
        })();
      },
    });
  }

  /** Run a rollout/score job: on the shared queue group when sharing, else on this bridge's worker. */
  private async job(job: 'rollout' | 'score', args: Record<string, unknown>, id: string): Promise<JobResult> {
    const share = this.deps.share;
    if (!share) return this.worker.request(job, args, { id });
    const subject = subjectsFor(this.deps.run).gpu;
    const body = pack({ job, args: bytesDeep(args), id, version: this.version });
    const timeout = this.cfg.worker.jobTimeoutSec * 1000;
    for (let attempt = 1; ; attempt++) {
      let reply: { ok: boolean; retry?: boolean; result?: JobResult; error?: string };
      try {
        reply = unpack((await share.nc.request(subject, body, { timeout })).data) as typeof reply;
      } catch (e) {
        if (attempt >= 5) throw new Error(`shared ${job} ${id}: no bridge answered (${(e as Error).message})`);
        continue;
      }
      if (reply.ok) return reply.result!;
      if (!reply.retry || attempt >= 20) throw new WorkerJobError(job, id, 'shared', reply.error ?? 'failed');
      await new Promise((r) => setTimeout(r, 20));
    }
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
    this.worker = timedWorker(worker, this.workerClock, this.sim !== null);
    const init: JobResult = this.worker.info.init ?? (await this.worker.request('init', initArgs(config), { id: `init/${this.name}` }));
    this.offset = this.sim ? this.sim.policyVersion : typeof init.policyVersion === 'number' ? init.policyVersion : 0;
    this.restoreFrom = await this.findCheckpoint();
    if (config.worker.kind === 'tiny' && config.worker.warmStartSteps > 0 && !this.restoreFrom) await this.warmStart();
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

  // ---- checkpoints and resume ----------------------------------------------------------------------

  /** Newest registered checkpoint whose file exists and whose sha256 matches (others skipped with a warning). */
  private async findCheckpoint(): Promise<CheckpointEntry | null> {
    const list = this.deps.log.checkpoints().map((c, i) => ({ c, i }));
    list.sort((a, b) => b.c.policyVersion - a.c.policyVersion || b.i - a.i);
    for (const { c } of list) {
      const abs = resolve(this.deps.runDir, c.path);
      if (!existsSync(abs)) {
        this.deps.logger.warn({ path: c.path, policyVersion: c.policyVersion }, 'registered checkpoint is missing: skipped');
        continue;
      }
      const sha = await fileSha256(abs);
      if (sha !== c.sha256) {
        this.deps.logger.warn({ path: c.path, policyVersion: c.policyVersion, expected: c.sha256, actual: sha }, 'checkpoint sha256 mismatch: skipped');
        continue;
      }
      return c;
    }
    return null;
  }

  /** Training prompts for the warm start: the easier half by arithmetic level (then index), at most 4096. */
  private warmStartExamples(): Array<{ text: string; completion: string }> {
    const log = this.deps.log;
    const total = log.promptCount();
    const n = this.cfg.task.count > 0 ? Math.min(this.cfg.task.count, total) : total;
    const rows: Array<{ i: number; level: number; row: PromptRow }> = [];
    for (let i = 0; i < n; i++) {
      const row = this.promptRow(i);
      if (!row) continue;
      const lv = row.meta?.level;
      rows.push({ i, level: typeof lv === 'number' ? lv : 0, row });
    }
    rows.sort((a, b) => a.level - b.level || a.i - b.i);
    return rows.slice(0, Math.min(SFT_MAX_EXAMPLES, Math.ceil(rows.length / 2))).map(({ row }) => ({ text: row.question, completion: row.answer }));
  }

  /**
   * Supervised warm start of the tiny model (it starts from random weights): `sft` on the easiest training
   * prompts, then a save registered as the policy-version-0 checkpoint, so a supervised restart or a resume
   * gets these weights back without repeating the sft.
   */
  private async warmStart(): Promise<void> {
    const { config, logger, log, runDir } = this.deps;
    const examples = this.warmStartExamples();
    if (examples.length === 0) {
      logger.warn({}, 'warm start skipped: no training prompts in the prompts database');
      return;
    }
    const res = await this.worker.request(
      'sft',
      { examples, steps: config.worker.warmStartSteps, batchSize: Math.min(SFT_BATCH, examples.length), lr: config.worker.warmStartLr, seed: config.run.seed },
      { id: 'warmstart/sft' },
    );
    this.offset = typeof res.policyVersion === 'number' ? res.policyVersion : this.offset + 1;
    // a replica's warm start is the primary's (same seed, deterministic): the primary saves and registers it
    if (this.replica) return;
    const abs = resolve(runDir, WARMSTART_PATH);
    mkdirSync(dirname(abs), { recursive: true });
    const saved = await this.worker.request('save', { path: abs }, { id: 'warmstart/save' });
    if (typeof saved.sha256 !== 'string') fail('warm start save: the worker returned no sha256');
    await log.registerCheckpoint({ path: WARMSTART_PATH, sha256: saved.sha256, policyVersion: 0, seq: log.lastSeq() });
    logger.info({ examples: examples.length, steps: config.worker.warmStartSteps, loss: res.loss, path: WARMSTART_PATH }, 'warm start done');
  }

  /**
   * Resume (DESIGN §6 steps 2–3): load the newest valid registered checkpoint, then re-apply, in log order,
   * every logged UpdateRequested with an UpdateCompleted and policyVersion ≥ the checkpoint's, so the weights
   * catch up with the log without regenerating any rollout. Call once, before onEvent, only when resuming.
   */
  async restore(): Promise<{ checkpoint: string | null; policyVersion: number; reapplied: number }> {
    if (this.restored) throw new Error('Bridge.restore: already called');
    this.restored = true;
    const { log, logger, runDir } = this.deps;
    const ck = this.restoreFrom;
    this.version = 0;
    if (ck) {
      const r = await this.worker.request(
        'load',
        { path: resolve(runDir, ck.path), sha256: ck.sha256 },
        { id: `load/${ck.policyVersion}/${ck.sha256.slice(0, 16)}` },
      );
      this.setVersion(ck.policyVersion);
      this.offset = typeof r.policyVersion === 'number' ? r.policyVersion - ck.policyVersion : this.offset;
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
      const out = await this.guard(ev, () => this.applyUpdate(ev));
      reapplied++;
      const logged = log.read(doneSeq, doneSeq + 1)[0]?.event;
      if (logged?.type === 'UpdateCompleted' && (logged.data.policyVersion !== out.policyVersion || logged.data.loss !== out.loss)) {
        logger.warn(
          { update: ev.id, logged: { policyVersion: logged.data.policyVersion, loss: logged.data.loss }, now: { policyVersion: out.policyVersion, loss: out.loss } },
          're-applied update differs from the logged one (non-deterministic worker?)',
        );
      }
    }
    logger.info({ checkpoint: ck?.path ?? null, policyVersion: this.version, reapplied }, 'weights caught up with the log');
    return { checkpoint: ck?.path ?? null, policyVersion: this.version, reapplied };
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
    const run = this.inProgress === 0 ? this.handle(e) : this.queue.then(() => this.handle(e));
    this.inProgress++;
    const settled = run.then(
      () => void this.inProgress--,
      () => void this.inProgress--,
    );
    this.queue = settled;
    return run;
  }

  private done(id: string): boolean {
    return this.deps.log.seqOf(id) !== undefined;
  }

  /** What the bridge does with each request it acts on (the keys are also what onEvent lets through). */
  private readonly requests: { [K in BridgeRequest]: (ev: EventOf<K>) => Promise<void> | undefined } = {
    RolloutRequested: (ev) => this.guard(ev, () => this.rollout(ev)),
    ScoreRequested: (ev) => (this.done(eventId('ScoreCompleted', ev.data.step)) ? undefined : this.guard(ev, () => this.score(ev))),
    UpdateRequested: (ev) => (this.done(eventId('UpdateCompleted', ev.data.step)) ? undefined : this.guard(ev, () => this.update(ev))),
    CheckpointRequested: (ev) => (this.done(eventId('CheckpointSaved', ev.data.policyVersion)) ? undefined : this.guard(ev, () => this.checkpoint(ev))),
    EvalRequested: (ev) => (this.done(eventId('EvalCompleted', ev.data.step)) ? undefined : this.guard(ev, () => this.evaluate(ev))),
    SignalRequested: (ev) => (this.done(eventId('SignalCompleted', ev.data.step, ev.data.kind)) ? undefined : this.guard(ev, () => this.signal(ev))),
  };

  private async handle(e: Logged): Promise<void> {
    const ev = e.event;
    if (this.replica) {
      // a replica follows every update of the log on its own worker, and does nothing else
      if (ev.type === 'UpdateRequested' && ev.data.policyVersion === this.version) await this.applyUpdate(ev);
      return;
    }
    const act = this.requests[ev.type as BridgeRequest] as ((ev: DareEvent) => Promise<void> | undefined) | undefined;
    return act?.(ev);
  }

  /**
   * The estimator's per-prompt signals from the policy itself: `generate` replies to a judge instruction
   * (LLM-judge) or the mean prefix entropy (`entropy` job, EDCO), in chunks of 256 prompts.
   */
  private async signal(ev: EventOf<'SignalRequested'>): Promise<void> {
    const d = ev.data;
    const n = d.prompts.length;
    const texts: string[] = [];
    const values = new Float32Array(d.kind === 'entropy' ? n : 0);
    for (let k = 0; k * EVAL_CHUNK < n; k++) {
      const lo = k * EVAL_CHUNK;
      const hi = Math.min(n, lo + EVAL_CHUNK);
      const prompts: Array<{ promptId: string; text: string; system?: string }> = [];
      for (let i = lo; i < hi; i++) {
        const p = d.prompts[i];
        const row = this.sim ? this.promptRow(p) : this.requirePrompt(p, ev.id);
        prompts.push({ promptId: String(p), text: row?.question ?? String(p), ...(d.kind === 'judge' && d.system ? { system: d.system } : {}) });
      }
      const seed = chunkSeed(d.seed, k);
      if (d.kind === 'judge') {
        const res = await this.worker.request('generate', { prompts, temperature: d.temperature, maxTokens: d.maxTokens, seed }, { id: `${ev.id}#${k}` });
        const got = asArray(res.texts, `generate ${ev.id}#${k}: texts`);
        if (got.length !== prompts.length) fail(`generate ${ev.id}#${k}: ${got.length} texts for ${prompts.length} prompts`);
        for (const t of got) texts.push(String(t));
      } else {
        const res = await this.worker.request('entropy', { prompts, temperature: d.temperature, maxTokens: d.maxTokens, seed }, { id: `${ev.id}#${k}` });
        const got = asArray(res.entropy, `entropy ${ev.id}#${k}: entropy`);
        if (got.length !== prompts.length) fail(`entropy ${ev.id}#${k}: ${got.length} values for ${prompts.length} prompts`);
        got.forEach((v, j) => (values[lo + j] = finite(v, `entropy ${ev.id}#${k}[${j}]`)));
      }
    }
    await this.deps.append([
      makeEvent(
        'SignalCompleted',
        { step: d.step, kind: d.kind, prompts: d.prompts, texts, values, policyVersion: this.version },
        { run: this.deps.run, id: eventId('SignalCompleted', d.step, d.kind), cause: ev.id },
      ),
    ]);
    this.deps.logger.info({ request: ev.id, kind: d.kind, prompts: n, policyVersion: this.version }, 'signal completed');
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

  // ---- prompts and blobs ---------------------------------------------------------------------------

  private promptRow(index: number): PromptRow | undefined {
    const r = this.deps.log.getPrompt(index);
    if (!isMap(r)) return undefined;
    if (typeof r.question !== 'string' || typeof r.answer !== 'string' || typeof r.dataSource !== 'string' || typeof r.category !== 'string') {
      fail(`prompt ${index}: malformed row in the prompts database (question, answer, dataSource and category must be strings)`);
    }
    return r as unknown as PromptRow;
  }

  private requirePrompt(index: number, where: string): PromptRow {
    const row = this.promptRow(index);
    if (!row) fail(`${where}: prompt index ${index} is not in the prompts database`);
    return row;
  }

  /** A group's rows from its blob (`cache`: groups already read by the same request). */
  private group(key: string, where: string, cache?: Map<string, GroupBlob>): GroupBlob {
    const hit = cache?.get(key);
    if (hit) return hit;
    let g: GroupBlob;
    try {
      g = decodeGroupBlob(this.deps.log.getBlob(key), key);
    } catch (err) {
      fail(`${where}: ${(err as Error).message}`);
    }
    cache?.set(key, g);
    return g;
  }

  /** A group's rows as checked byte views of its stored blob (score and update jobs send bytes). */
  private groupBytes(key: string, where: string, cache?: Map<string, RowBytes[]>): RowBytes[] {
    const hit = cache?.get(key) ?? this.rowCache.get(key);
    if (hit) return hit;
    const value = this.deps.log.getBlob(key);
    const rows = storedRowBytes(value);
    if (!rows) {
      try {
        decodeGroupBlob(value, key);
      } catch (err) {
        fail(`${where}: ${(err as Error).message}`);
      }
      fail(`${where}: blob ${key}: malformed`);
    }
    cache?.set(key, rows);
    return rows;
  }

  /** Remember the rows of groups just written (durable) for later score and update jobs. */
  private cacheRows(blobs: ReadonlyArray<readonly [string, StoredGroupBlob]>): void {
    for (const [key, blob] of blobs) {
      if (this.rowCache.has(key)) continue;
      const rows: RowBytes[] = new Array(blob.rows.length);
      // heldBytes(rows), without walking them: objects included (a sim row's three views weigh more than their bytes)
      let bytes = HELD_ARRAY;
      for (let i = 0; i < rows.length; i++) {
        const r = blob.rows[i];
        rows[i] = { promptTokens: r.promptTokens, tokens: r.tokens, logprobs: r.logprobs, finish: r.finish };
        bytes += HELD_ROW + r.promptTokens.byteLength + r.tokens.byteLength + r.logprobs.byteLength;
      }
      if (bytes > ROW_CACHE_BYTES) continue;
      this.rowCache.set(key, rows);
      this.rowCacheSizes.set(key, bytes);
      this.rowCacheBytes += bytes;
    }
    for (const [key, bytes] of this.rowCacheSizes) {
      if (this.rowCacheBytes <= ROW_CACHE_BYTES) break;
      this.rowCache.delete(key);
      this.rowCacheSizes.delete(key);
      this.rowCacheBytes -= bytes;
    }
  }

  private reward(row: PromptRow, text: string, where: string): number {
    try {
      if (!this.deps.tasks) throw new Error('no verifier given to the bridge (BridgeDeps.tasks)');
      return this.deps.tasks.reward(row.dataSource, text, row.answer);
    } catch (err) {
      fail(`${where}: verifier of ${row.dataSource}: ${(err as Error).message}`);
    }
  }

  // ---- rollout -------------------------------------------------------------------------------------

  private async rollout(ev: EventOf<'RolloutRequested'>): Promise<void> {
    const d = ev.data;
    const { log } = this.deps;
    const n = d.prompts.length;
    if (d.rollouts.length !== n || d.hints.length !== n || d.hintSources.length !== n) {
      fail(`${ev.id}: prompts (${n}), rollouts (${d.rollouts.length}), hints (${d.hints.length}) and hintSources (${d.hintSources.length}) differ in length`);
    }
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      if (seen.has(d.prompts[i])) fail(`${ev.id}: prompt ${d.prompts[i]} appears twice`);
      seen.add(d.prompts[i]);
    }
    const train = d.purpose === 'train';
    const groupKey = (p: number) => (train ? groupId(d.step, p) : `g/${d.purpose}/${d.step}/${p}`);
    const completionId = (p: number) => rolloutCompletedId(groupKey(p));

    let generated = 0;
    if (stepTrace.on) mark('rollout:start');
    // Finished chunks are written together until ROLLOUT_FLUSH_MS have passed since the last write (one commit
    // per write, or two: blobs with or before the events), so a fast worker (the sim: ms per chunk) writes a
    // request at once, while a slow one writes each chunk as it completes and a crash loses at most one chunk's
    // work. Only the commit grouping depends on the timing: the logged events and their ids do not.
    const held: { blobs: Array<readonly [string, StoredGroupBlob]>; events: DareEvent[]; chunks: Array<[number, number]> } = { blobs: [], events: [], chunks: [] };
    let heldSince = performance.now();
    const write = async () => {
      if (held.events.length > 0) {
        if (stepTrace.on) mark(`rollout:write ${held.events.length}`);
        // blobs first or in the same commit: a RolloutCompleted in the log always has its rows
        const ticket = this.deps.blobsInAppend ? log.stageBlobs(held.blobs) : (await log.putBlobs(held.blobs), 0);
        if (stepTrace.on) mark('rollout:blobsPut');
        this.cacheRows(held.blobs);
        await this.deps.append(held.events);
        if (ticket > 0 && !log.blobsCommitted(ticket)) {
          throw new Error(`rollout ${ev.id}: events logged without their staged blobs (blobsInAppend, but the appends reach another log)`);
        }
        // one line per chunk that reached the log: the resume tests check no chunk is generated twice
        for (const [k, prompts] of held.chunks) this.deps.logger.info({ request: ev.id, chunk: k, prompts }, 'rollout chunk logged');
      }
      held.blobs = [];
      held.events = [];
      held.chunks = [];
      heldSince = performance.now();
    };
    for (let k = 0; k * ROLLOUT_CHUNK < n; k++) {
      const lo = k * ROLLOUT_CHUNK;
      const hi = Math.min(n, lo + ROLLOUT_CHUNK);
      const missing: number[] = [];
      for (let pos = lo; pos < hi; pos++) if (log.seqOf(completionId(d.prompts[pos])) === undefined) missing.push(pos);
      if (missing.length === 0) continue;

      // the whole chunk, always: the job (and so every sample) must not depend on what was already logged
      const entries: Array<{ pos: number; hinted: boolean; n: number }> = [];
      const jobPrompts: Array<{ promptId: string; text: string; n: number }> = [];
      const rows = new Map<number, PromptRow | undefined>();
      for (let pos = lo; pos < hi; pos++) {
        const p = d.prompts[pos];
        const total = d.rollouts[pos];
        const h = d.hints[pos];
        if (h > total) fail(`${ev.id}: prompt ${p} has ${h} hinted rollouts of ${total}`);
        const row = this.sim ? this.promptRow(p) : this.requirePrompt(p, ev.id);
        rows.set(p, row);
        const question = row?.question ?? String(p);
        if (total - h > 0) {
          entries.push({ pos, hinted: false, n: total - h });
          jobPrompts.push({ promptId: String(p), text: question, n: total - h });
        }
        if (h > 0) {
          entries.push({ pos, hinted: true, n: h });
          jobPrompts.push({ promptId: String(p), text: this.hintPrompt(ev.id, p, row, d.hintSources[pos]), n: h });
        }
      }
      let groups: unknown[] = [];
      if (jobPrompts.length > 0) {
        const res = await this.job(
          'rollout',
          { prompts: jobPrompts, temperature: d.temperature, maxTokens: d.maxTokens, seed: chunkSeed(d.seed, k) },
          `${ev.id}#${k}`,
        );
        groups = asArray(res.groups, `rollout ${ev.id}#${k}: groups`);
        if (groups.length !== jobPrompts.length) fail(`rollout ${ev.id}#${k}: ${groups.length} groups for ${jobPrompts.length} prompts`);
      }
      // samples per position, plain first then hinted
      // `at` indexes `checked` and, once its rows are copied out together, `sampled`
      const byPos = new Map<number, Array<{ at: number; sim: SimSample | null; hinted: boolean }>>();
      const checked: CheckedSample[] = [];
      entries.forEach((en, j) => {
        const g = groups[j];
        const samples = asArray(isMap(g) ? g.samples : undefined, `rollout ${ev.id}#${k}: groups[${j}].samples`);
        if (samples.length !== en.n) fail(`rollout ${ev.id}#${k}: groups[${j}] has ${samples.length} samples, asked for ${en.n}`);
        const list = byPos.get(en.pos) ?? [];
        samples.forEach((s, i) => {
          const row = checkSample(s);
          if (!row) {
            try {
              decodeRow(s, `rollout ${ev.id}#${k} groups[${j}].samples[${i}]`);
            } catch (err) {
              fail((err as Error).message);
            }
            fail(`rollout ${ev.id}#${k} groups[${j}].samples[${i}]: malformed sample`);
          }
          const sm = s as Record<string, unknown>;
          const sim = this.sim ? { correct: sm.correct === true, length: finite(sm.length, 'sim sample length'), logprob: finite(sm.logprob, 'sim sample logprob') } : null;
          list.push({ at: checked.length, sim, hinted: en.hinted });
          checked.push(row);
        });
        byPos.set(en.pos, list);
      });
      const sampled = sampleRows(checked);

      const blobs: Array<readonly [string, StoredGroupBlob]> = [];
      const events: DareEvent[] = [];
      for (const pos of missing) {
        const p = d.prompts[pos];
        const list = byPos.get(pos) ?? [];
        const m = list.length;
        const reward = new Float32Array(m);
        const length = new Uint32Array(m);
        const logprob = new Float64Array(m);
        const truncated = new Uint8Array(m);
        const hinted = new Uint8Array(m);
        list.forEach((x, i) => {
          const row = sampled[x.at];
          if (x.sim) {
            reward[i] = x.sim.correct ? 1 : 0;
            length[i] = x.sim.length;
            logprob[i] = x.sim.logprob;
          } else {
            reward[i] = this.reward(rows.get(p)!, row.text, `${ev.id} prompt ${p}`);
            length[i] = row.tokens;
            logprob[i] = row.logprobSum;
          }
          truncated[i] = row.finish === 'length' ? 1 : 0;
          hinted[i] = x.hinted ? 1 : 0;
        });
        const key = groupKey(p);
        blobs.push([key, { rows: list.map((x) => sampled[x.at].stored) } satisfies StoredGroupBlob]);
        const oracleSuccess = this.sim ? this.sim.oracle.passRate(p, { temperature: d.temperature }) : null;
        events.push(
          makeEvent(
            'RolloutCompleted',
            { step: d.step, promptIndex: p, group: key, purpose: d.purpose, policyVersion: this.version, reward, length, logprob, truncated, hinted, oracleSuccess },
            { run: this.deps.run, id: completionId(p), cause: ev.id },
          ),
        );
        generated += m;
      }
      for (const b of blobs) held.blobs.push(b);
      for (const e of events) held.events.push(e);
      held.chunks.push([k, events.length]);
      if (performance.now() - heldSince >= ROLLOUT_FLUSH_MS) await write();
    }
    await write();
    if (generated > 0) this.deps.logger.info({ request: ev.id, prompts: n, samples: generated, policyVersion: this.version }, 'rollouts completed');
  }

  /** The hint-augmented prompt of prompt p from its source row `<groupId>#<row>` (actors/learner/hints.ts). */
  private hintPrompt(reqId: string, p: number, row: PromptRow | undefined, source: string): string {
    if (!source) fail(`${reqId}: prompt ${p} asks for hinted rollouts without a hint source`);
    let ref: { group: string; row: number };
    try {
      ref = parseRowRef(source, `${reqId} hintSources of prompt ${p}`);
    } catch (err) {
      fail((err as Error).message);
    }
    const g = this.group(ref.group, `${reqId} hint source of prompt ${p}`);
    const src = g.rows[ref.row];
    if (!src) fail(`${reqId}: hint source ${source} of prompt ${p}: the group has ${g.rows.length} rows`);
    if (!this.deps.tasks) fail(`${reqId}: no hint builder given to the bridge (BridgeDeps.tasks)`);
    return this.deps.tasks!.hintPrompt(row?.question ?? String(p), src.text, row?.dataSource ?? '');
  }

  // ---- score ---------------------------------------------------------------------------------------

  private async score(ev: EventOf<'ScoreRequested'>): Promise<void> {
    const d = ev.data;
    const rowOffsets = new Uint32Array(d.groups.length + 1);
    const rows: Array<{ promptTokens: Uint8Array; tokens: Uint8Array }> = [];
    d.groups.forEach((key, gi) => {
      for (const r of this.groupBytes(key, ev.id)) rows.push({ promptTokens: r.promptTokens, tokens: r.tokens });
      rowOffsets[gi + 1] = rows.length;
    });
    if (rows.length !== d.rows) fail(`${ev.id}: its groups hold ${rows.length} rows, the request says ${d.rows}`);
    const current = new Float64Array(rows.length);
    for (let k = 0; k * SCORE_CHUNK < rows.length; k++) {
      const part = rows.slice(k * SCORE_CHUNK, (k + 1) * SCORE_CHUNK);
      const res = await this.job('score', { rows: part, temperature: this.cfg.task.temperature }, `${ev.id}#${k}`);
      const sums = asArray(res.sums, `score ${ev.id}#${k}: sums`);
      if (sums.length !== part.length) fail(`score ${ev.id}#${k}: ${sums.length} sums for ${part.length} rows`);
      sums.forEach((s, i) => (current[k * SCORE_CHUNK + i] = finite(s, `score ${ev.id}#${k}: sums[${i}]`)));
    }
    await this.deps.append([
      makeEvent(
        'ScoreCompleted',
        { groups: d.groups, rowOffsets, current, policyVersion: this.version },
        { run: this.deps.run, id: eventId('ScoreCompleted', d.step), cause: ev.id },
      ),
    ]);
    this.deps.logger.info({ request: ev.id, groups: d.groups.length, rows: rows.length, policyVersion: this.version }, 'score completed');
  }

  // ---- update --------------------------------------------------------------------------------------

  /** Run the update job of an UpdateRequested (id = the request id) and move the version on. */
  private async applyUpdate(ev: EventOf<'UpdateRequested'>): Promise<EventOf<'UpdateCompleted'>['data']> {
    const d = ev.data;
    if (d.policyVersion !== this.version) {
      fail(`${ev.id} was built at policy version ${d.policyVersion}; the worker's weights are at ${this.version}`);
    }
    const n = d.rowGroup.length;
    const perRow = { rowIndex: d.rowIndex, rawReward: d.rawReward, shapedReward: d.shapedReward, advantage: d.advantage, clipLo: d.clipLo, clipHi: d.clipHi, weight: d.weight, bin: d.bin };
    for (const [f, a] of Object.entries(perRow)) if (a.length !== n) fail(`${ev.id}: ${f} has ${a.length} entries for ${n} rows`);
    const rows: Record<string, unknown>[] = new Array(n);
    const groups = new Map<string, RowBytes[]>();
    for (let r = 0; r < n; r++) {
      const key = d.groups[d.rowGroup[r]];
      if (key === undefined) fail(`${ev.id}: rowGroup[${r}] = ${d.rowGroup[r]} is outside the ${d.groups.length} groups`);
      const g = this.groupBytes(key, ev.id, groups);
      const row = g[d.rowIndex[r]];
      if (!row) fail(`${ev.id}: row ${r} refers to row ${d.rowIndex[r]} of ${key}, which has ${g.length} rows`);
      rows[r] = {
        promptTokens: row.promptTokens,
        tokens: row.tokens,
        oldLogprobs: row.logprobs,
        advantage: d.advantage[r],
        clipLo: d.clipLo[r],
        clipHi: d.clipHi[r],
        weight: d.weight[r],
        bin: d.bin[r],
        truncated: row.finish === 'length',
        // fresh groups were generated by the weights this update starts from (strict step order): their
        // behaviour log-probs against the training forward's are the worker's logprob parity
        onPolicy: d.rowGroup[r] < d.freshGroups,
      };
    }
    const args: Record<string, unknown> = {
      rows,
      aggregation: d.aggregation,
      maskTruncated: d.maskTruncated,
      entropyCoeff: d.entropyCoeff,
      klCoeff: d.klCoeff,
      temperature: this.cfg.task.temperature,
    };
    if (d.lConst > 0) args.lConst = d.lConst;
    const res = await this.worker.request('update', args, { id: ev.id });
    const next = d.policyVersion + 1;
    if (typeof res.policyVersion === 'number' && res.policyVersion - this.offset !== next) {
      fail(`update ${ev.id}: the worker reports version ${res.policyVersion}, expected ${next + this.offset} (log version ${next} + offset ${this.offset})`);
    }
    this.setVersion(next);
    const bl = res.binLosses instanceof Map ? Object.fromEntries(res.binLosses) : isMap(res.binLosses) ? res.binLosses : {};
    const binLosses: Record<string, number> = {};
    for (const [b, v] of Object.entries(bl)) binLosses[String(b)] = finite(v, `update ${ev.id}: binLosses[${b}]`);
    const tokens = finite(res.tokens, `update ${ev.id}: tokens`);
    const logprobParity =
      res.logprobDiffTokens === undefined || res.logprobDiffTokens === null
        ? null
        : {
            maxAbs: finite(res.logprobDiffMax, `update ${ev.id}: logprobDiffMax`),
            meanAbs: finite(res.logprobDiffMean, `update ${ev.id}: logprobDiffMean`),
            tokens: Math.max(0, Math.round(finite(res.logprobDiffTokens, `update ${ev.id}: logprobDiffTokens`))),
          };
    return {
      step: d.step,
      policyVersion: next,
      loss: finite(res.loss, `update ${ev.id}: loss`),
      clipFrac: finite(res.clipFrac, `update ${ev.id}: clipFrac`),
      kl: finite(res.kl, `update ${ev.id}: kl`),
      entropy: finite(res.entropy, `update ${ev.id}: entropy`),
      gradNorm: finite(res.gradNorm, `update ${ev.id}: gradNorm`),
      tokens: Math.max(0, Math.round(tokens)),
      binLosses,
      logprobParity,
    };
  }

  private async update(ev: EventOf<'UpdateRequested'>): Promise<void> {
    if (stepTrace.on) mark('update:start');
    const data = await this.applyUpdate(ev);
    if (stepTrace.on) mark('update:applied');
    await faultPause('update');
    await this.deps.append([makeEvent('UpdateCompleted', data, { run: this.deps.run, id: eventId('UpdateCompleted', data.step), cause: ev.id })]);
    this.deps.logger.info(
      { request: ev.id, policyVersion: data.policyVersion, loss: data.loss, rows: ev.data.rowGroup.length, ...(data.logprobParity ? { logprobParity: data.logprobParity } : {}) },
      'update completed',
    );
  }

  // ---- checkpoint ----------------------------------------------------------------------------------

  private async checkpoint(ev: EventOf<'CheckpointRequested'>): Promise<void> {
    const d = ev.data;
    const { log, runDir } = this.deps;
    if (d.policyVersion !== this.version) fail(`${ev.id} asks for version ${d.policyVersion}; the worker's weights are at ${this.version}`);
    const abs = resolve(runDir, d.path);
    const rel = isAbsolute(d.path) ? relative(resolve(runDir), abs) : d.path;
    mkdirSync(dirname(abs), { recursive: true });
    const res = await this.worker.request('save', { path: abs }, { id: ev.id });
    if (typeof res.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(res.sha256)) fail(`save ${ev.id}: the worker returned no valid sha256`);
    if (typeof res.policyVersion === 'number' && res.policyVersion - this.offset !== d.policyVersion) {
      fail(`save ${ev.id}: the worker saved version ${res.policyVersion}, expected ${d.policyVersion + this.offset}`);
    }
    const bytes = Math.max(0, Math.round(finite(res.bytes, `save ${ev.id}: bytes`)));
    await faultPause('checkpoint');
    await log.registerCheckpoint({ path: rel, sha256: res.sha256, policyVersion: d.policyVersion, seq: log.lastSeq() });
    await this.deps.append([
      makeEvent(
        'CheckpointSaved',
        { policyVersion: d.policyVersion, path: rel, sha256: res.sha256, bytes },
        { run: this.deps.run, id: eventId('CheckpointSaved', d.policyVersion), cause: ev.id },
      ),
    ]);
    this.deps.logger.info({ request: ev.id, path: rel, policyVersion: d.policyVersion, bytes }, 'checkpoint saved');
  }

  // ---- eval ----------------------------------------------------------------------------------------

  private async evaluate(ev: EventOf<'EvalRequested'>): Promise<void> {
    const d = ev.data;
    const n = d.prompts.length;
    if (d.policyVersion !== this.version) {
      this.deps.logger.warn({ request: ev.id, requested: d.policyVersion, current: this.version }, 'eval requested for another policy version; evaluating the current weights');
    }
    const rows: Array<PromptRow | undefined> = [];
    const prompts: Array<{ promptId: string; text: string }> = [];
    for (let i = 0; i < n; i++) {
      const p = d.prompts[i];
      const row = this.sim ? this.promptRow(p) : this.requirePrompt(p, ev.id);
      rows.push(row);
      prompts.push({ promptId: String(p), text: row?.question ?? String(p) });
    }
    const tiers = new Map<string, { ok: number; len: number; count: number }>();
    let ok = 0;
    for (let k = 0; k * EVAL_CHUNK < n; k++) {
      const part = prompts.slice(k * EVAL_CHUNK, (k + 1) * EVAL_CHUNK);
      const res = await this.worker.request('eval', { prompts: part, maxTokens: this.cfg.task.maxResponseTokens }, { id: `${ev.id}#${k}` });
      const texts = asArray(res.texts, `eval ${ev.id}#${k}: texts`);
      const lengths = asArray(res.lengths, `eval ${ev.id}#${k}: lengths`);
      if (texts.length !== part.length || lengths.length !== part.length) fail(`eval ${ev.id}#${k}: ${texts.length} texts, ${lengths.length} lengths for ${part.length} prompts`);
      part.forEach((_, j) => {
        const i = k * EVAL_CHUNK + j;
        const p = d.prompts[i];
        const text = typeof texts[j] === 'string' ? (texts[j] as string) : fail(`eval ${ev.id}#${k}: texts[${j}] is not a string`);
        const row = rows[i];
        const correct = this.sim ? text === 'correct' : this.reward(row!, text, `${ev.id} prompt ${p}`) > 0;
        const cat = (this.sim ? simCategoryName(this.sim.bank.category[p]) : row!.category).slice(0, 32);
        const t = tiers.get(cat) ?? { ok: 0, len: 0, count: 0 };
        t.ok += correct ? 1 : 0;
        t.len += finite(lengths[j], `eval ${ev.id}#${k}: lengths[${j}]`);
        t.count++;
        tiers.set(cat, t);
        if (correct) ok++;
      });
    }
    const byTier: Record<string, { accuracy: number; meanLength: number; count: number }> = {};
    for (const [cat, t] of [...tiers.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      byTier[cat] = { accuracy: t.ok / t.count, meanLength: t.len / t.count, count: t.count };
    }
    const accuracy = n > 0 ? ok / n : 0;
    const oracleAccuracy = this.sim && n > 0 ? this.sim.oracle.expectedAccuracy(d.prompts) : null;
    await this.deps.append([
      makeEvent(
        'EvalCompleted',
        { step: d.step, policyVersion: this.version, accuracy, byTier, oracleAccuracy },
        { run: this.deps.run, id: eventId('EvalCompleted', d.step), cause: ev.id },
      ),
    ]);
    this.deps.logger.info({ request: ev.id, accuracy, prompts: n, policyVersion: this.version }, 'eval completed');
  }

  /** Wait for the event in progress and pending lifecycle events, then shut the worker down. */
  /**
   * A replica joining a run: after restore(), apply the logged updates that restore() left for the primary
   * (those without a completion yet), so the weights match the whole log; returns the last seq it covered.
   */
  async catchUpReplica(): Promise<number> {
    const last = this.deps.log.lastSeq();
    // as in restore(): no update at or above the loaded checkpoint's version lies before its registration
    for (const e of this.deps.log.iterate(this.restoreFrom?.seq ?? 1, last + 1)) {
      const ev = e.event;
      if (ev.type === 'UpdateRequested' && ev.data.policyVersion === this.version) await this.applyUpdate(ev);
    }
    return last;
  }

  async close(): Promise<void> {
    this.jobSub?.unsubscribe();
    await this.queue;
    await this.side;
    await this.worker?.close();
  }
}

/** A job's args or result with every typed array as a Uint8Array view of its bytes (plain MessagePack bin). */
function bytesDeep(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return x instanceof Uint8Array ? x : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (Array.isArray(x)) return x.map(bytesDeep);
  if (x && typeof x === 'object' && !(x instanceof Map)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = bytesDeep(v);
    return out;
  }
  return x;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
