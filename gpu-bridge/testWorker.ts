/**
 * A small worker speaking the worker protocol, for tests of the client, the supervisor and the framing:
 * `node --import tsx gpu-bridge/testWorker.ts`.
 *
 * Jobs: init (fails with bad_request when args.fail is true), echo {value} (counts executions), sleep {ms, once?: markerPath} (sleeps only the first time
 * when `once` is given), crash {marker} (exits mid-job unless the marker file exists; creates it first),
 * update (policyVersion + 1), save {path} / load {path, sha256?} (the policy version, atomically, with
 * sha256), state (what a test needs to see after a restart), log {line} (writes it to stderr), badFrame {kind} (writes a malformed,
 * oversized or truncated frame to test the client), shutdown.
 *
 * If DARE_TEST_WORKER_LOG names a file, every execution appends `{"event":"start"|"done","id","job","pid"}`
 * synchronously (so it survives SIGKILL): tests count executions across processes with it. Replies from
 * the cache are not executions and are not logged.
 *
 * Protocol errors in what we read (oversized, truncated, malformed frame, a request without a string id)
 * go to stderr and exit with code 3; a request with an id but bad job/args gets a `bad_request` reply.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { FrameDecoder, frameBytes, maxFrameFromEnv, packBody, type FrameBody } from './frames.ts';

class JobFail extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Returned by a job that wrote its own (deliberately broken) output instead of a reply. */
const NO_REPLY = Symbol('no reply');

const maxFrame = maxFrameFromEnv();
const logFile = process.env.DARE_TEST_WORKER_LOG;
const decoder = new FrameDecoder({ maxFrame });
const queue: FrameBody[] = [];
let inputEnded = false;
let busy = false;

// Reply cache: id → exact frame bytes; the last 1024 ids plus every id since the last save.
const cache = new Map<string, { frame: Buffer; seq: number }>();
let replySeq = 0;
let lastSaveSeq = 0;

let initArgs: Record<string, unknown> | null = null;
let policyVersion = 0;
let echoExecutions = 0;
let loads = 0;

function logEvent(event: 'start' | 'done', id: string, job: string): void {
  if (logFile) appendFileSync(logFile, JSON.stringify({ event, id, job, pid: process.pid }) + '\n');
}

function protocolError(msg: string): never {
  process.stderr.write(`testWorker: protocol error: ${msg}\n`);
  process.exit(3);
}

function writeOut(buf: Buffer): void {
  // stdout is a pipe: write synchronously so a later process.exit cannot drop it.
  let off = 0;
  while (off < buf.length) off += writeSync(1, buf, off, buf.length - off);
}

function reply(id: string, body: FrameBody): void {
  const frame = frameBytes(packBody(body), maxFrame);
  cache.set(id, { frame, seq: ++replySeq });
  for (const [k, v] of cache) {
    if (cache.size <= 1024 || v.seq > lastSaveSeq) break;
    cache.delete(k);
  }
  writeOut(frame);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function need<T>(args: Record<string, unknown>, key: string, type: 'string' | 'number'): T {
  const v = args[key];
  if (typeof v !== type) throw new JobFail('bad_request', `args.${key} must be a ${type}`);
  return v as T;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function writeAtomic(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

async function run(job: string, args: Record<string, unknown>): Promise<Record<string, unknown> | typeof NO_REPLY> {
  if (job === 'shutdown') return {};
  if (job === 'init') {
    if (args.fail === true) throw new JobFail('bad_request', 'args.fail is set: refusing to initialise');
    initArgs = args;
    policyVersion = 0;
    return { device: 'cpu', dtype: 'float32', params: 0, vocabSize: 0, policyVersion: 0, torch: 'none', pid: process.pid };
  }
  if (!initArgs) throw new JobFail('not_initialised', `${job} before init`);
  switch (job) {
    case 'echo':
      echoExecutions++;
      return { value: args.value ?? null, execution: echoExecutions };
    case 'sleep': {
      let ms = need<number>(args, 'ms', 'number');
      if (typeof args.once === 'string') {
        if (existsSync(args.once)) ms = 0;
        else writeFileSync(args.once, 'slept');
      }
      await new Promise((r) => setTimeout(r, ms));
      return { slept: ms };
    }
    case 'crash': {
      const marker = need<string>(args, 'marker', 'string');
      if (!existsSync(marker)) {
        writeFileSync(marker, 'crashed');
        process.exit(1); // mid-job, no reply
      }
      return { crashed: false };
    }
    case 'update':
      policyVersion++;
      return { policyVersion, loss: 0, clipFrac: 0, kl: 0, entropy: 0, gradNorm: 0, tokens: 0, binLosses: {} };
    case 'save': {
      const path = need<string>(args, 'path', 'string');
      const data = Buffer.from(JSON.stringify({ policyVersion }));
      writeAtomic(path, data);
      lastSaveSeq = replySeq + 1; // this reply and later ones are kept until the next save
      return { path, sha256: sha256(data), bytes: data.length, policyVersion };
    }
    case 'load': {
      const path = need<string>(args, 'path', 'string');
      const data = readFileSync(path);
      if (typeof args.sha256 === 'string' && args.sha256 !== sha256(data)) {
        throw new JobFail('bad_request', `args.sha256 does not match ${path}`);
      }
      policyVersion = (JSON.parse(data.toString('utf8')) as { policyVersion: number }).policyVersion;
      loads++;
      return { policyVersion };
    }
    case 'log':
      process.stderr.write(`${need<string>(args, 'line', 'string')}\n`);
      return {};
    case 'state':
      return { policyVersion, initArgs, loads, echoExecutions, pid: process.pid };
    case 'badFrame': {
      const kind = need<string>(args, 'kind', 'string');
      if (kind === 'malformed') {
        writeOut(Buffer.from([0, 0, 0, 3, 0x92, 0x01, 0x02])); // body = [1, 2], not a map
      } else if (kind === 'oversized') {
        const h = Buffer.alloc(4);
        h.writeUInt32BE(need<number>(args, 'length', 'number'), 0);
        writeOut(h);
      } else if (kind === 'truncated') {
        writeOut(Buffer.from([0, 0, 0, 100, 0x81, 0xa1, 0x61, 0x01, 0, 0, 0, 0, 0, 0])); // 10 of 100 bytes
        process.exit(0);
      } else {
        throw new JobFail('bad_request', `args.kind must be malformed|oversized|truncated, got ${kind}`);
      }
      return NO_REPLY;
    }
    default:
      throw new JobFail('unknown_job', `unknown job ${JSON.stringify(job)}`);
  }
}

async function handle(body: FrameBody): Promise<void> {
  const { id, job, args } = body;
  if (typeof id !== 'string' || id.length === 0) protocolError('malformed frame: request has no string "id"');
  const hit = cache.get(id);
  if (hit) {
    writeOut(hit.frame);
    return;
  }
  if (typeof job !== 'string') return reply(id, { id, ok: false, error: { code: 'bad_request', message: 'malformed request: "job" must be a string' } });
  if (!isMap(args)) return reply(id, { id, ok: false, error: { code: 'bad_request', message: 'malformed request: "args" must be a map' } });
  logEvent('start', id, job);
  let out: Record<string, unknown> | typeof NO_REPLY;
  try {
    out = await run(job, args);
  } catch (err) {
    const code = err instanceof JobFail ? err.code : 'internal';
    reply(id, { id, ok: false, error: { code, message: (err as Error).message } });
    return;
  }
  if (out === NO_REPLY) return;
  logEvent('done', id, job);
  reply(id, { id, ok: true, result: out });
  if (job === 'shutdown') process.exit(0);
}

async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length > 0) await handle(queue.shift()!);
  busy = false;
  if (pendingError) protocolError(pendingError);
  if (inputEnded) process.exit(0);
}

let pendingError: string | null = null;

process.stdin.on('data', (chunk: Buffer) => {
  if (pendingError) return;
  const { frames, error } = decoder.feed(chunk);
  queue.push(...frames);
  // Answer the good frames that came before a bad one, then report it (pump checks pendingError).
  if (error) pendingError = error.message;
  void pump();
});
process.stdin.on('end', () => {
  if (!pendingError) {
    try {
      decoder.end();
    } catch (err) {
      pendingError = (err as Error).message;
    }
  }
  inputEnded = true;
  void pump();
});
