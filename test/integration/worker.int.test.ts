/**
 * Worker client, supervision and framing against a real child process (gpu-bridge/testWorker.ts).
 * No timing assertions: waits poll for observable facts (log lines, exits) instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FrameDecoder, encodeFrame } from '../../gpu-bridge/frames.ts';
import { ProcessWorker, WorkerJobError, WorkerLostError, type ProcessWorkerSpec } from '../../gpu-bridge/workerClient.ts';
import { Supervisor } from '../../gpu-bridge/supervisor.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const WORKER_ARGS = ['--import', 'tsx', join(ROOT, 'gpu-bridge/testWorker.ts')];
let dir: string;
let nlog = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dare-worker-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function newLogPath(): string {
  return join(dir, `exec-${++nlog}.jsonl`);
}

function spec(logPath: string, extra: Partial<ProcessWorkerSpec> = {}, env: Record<string, string> = {}): ProcessWorkerSpec {
  return {
    name: 'tw',
    command: process.execPath,
    args: WORKER_ARGS,
    cwd: ROOT,
    env: { ...process.env, DARE_TEST_WORKER_LOG: logPath, ...env },
    ...extra,
  };
}

interface ExecEvent {
  event: 'start' | 'done';
  id: string;
  job: string;
  pid: number;
}
function readLog(path: string): ExecEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ExecEvent);
}

async function until<T>(what: string, f: () => T | undefined | false, limitMs = 20_000): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (performance.now() - t0 > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Run the test worker on raw stdin bytes; collect its stdout frames, stderr and exit code. */
function rawRun(input: Buffer, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: Buffer }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, WORKER_ARGS, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stderr: err, stdout: Buffer.concat(out) }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** Split a stdout byte stream into raw frames (prefix included), checking they are whole. */
function rawFrames(stdout: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let off = 0;
  while (off < stdout.length) {
    const n = stdout.readUInt32BE(off);
    frames.push(stdout.subarray(off, off + 4 + n));
    off += 4 + n;
  }
  expect(off).toBe(stdout.length);
  return frames;
}

const initFrame = encodeFrame({ id: 'init-1', job: 'init', args: { seed: 1 } });

describe('worker side: protocol errors in what it reads exit with code 3 and a clear message', () => {
  it('malformed frame (body is an array)', async () => {
    const r = await rawRun(Buffer.concat([initFrame, Buffer.from([0, 0, 0, 3, 0x92, 1, 2])]));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('malformed frame: body is not a MessagePack map');
    expect(rawFrames(r.stdout)).toHaveLength(1); // the init reply, nothing for the bad frame
  });

  it('oversized frame, default limit and DARE_MAX_FRAME', async () => {
    const r1 = await rawRun(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(r1.code).toBe(3);
    expect(r1.stderr).toContain('frame of 4294967295 bytes exceeds the limit of 268435456 bytes');
    const h = Buffer.alloc(4);
    h.writeUInt32BE(4096, 0);
    const r2 = await rawRun(h, { DARE_MAX_FRAME: '1024' });
    expect(r2.code).toBe(3);
    expect(r2.stderr).toContain('frame of 4096 bytes exceeds the limit of 1024 bytes');
    expect(r2.stdout.length).toBe(0); // nothing written before init
  });

  it('truncated frame at end of input', async () => {
    const r = await rawRun(Buffer.from([0, 0, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('truncated frame: expected 100 bytes, got 10');
  });

  it('a request without a string id is a protocol error; bad job/args get bad_request', async () => {
    const r = await rawRun(
      Buffer.concat([initFrame, encodeFrame({ id: 'x', job: 7, args: {} }), encodeFrame({ job: 'echo', args: {} })]),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('malformed frame: request has no string "id"');
    const replies = rawFrames(r.stdout).map((f) => new FrameDecoder().push(f)[0]);
    expect(replies[1]).toEqual({ id: 'x', ok: false, error: { code: 'bad_request', message: 'malformed request: "job" must be a string' } });
  });

  it('answers a repeated id from its cache, byte for byte, without executing again', async () => {
    const log = newLogPath();
    const echo1 = encodeFrame({ id: 'e1', job: 'echo', args: { value: 'a' } });
    const echo2 = encodeFrame({ id: 'e2', job: 'echo', args: { value: 'b' } });
    const r = await rawRun(Buffer.concat([initFrame, echo1, echo1, echo2]), { DARE_TEST_WORKER_LOG: log });
    expect(r.code).toBe(0); // clean EOF between frames
    const frames = rawFrames(r.stdout);
    expect(frames).toHaveLength(4);
    expect(frames[2].equals(frames[1])).toBe(true);
    const bodies = frames.map((f) => new FrameDecoder().push(f)[0]);
    expect(bodies[1]).toEqual({ id: 'e1', ok: true, result: { value: 'a', execution: 1 } });
    expect(bodies[3]).toEqual({ id: 'e2', ok: true, result: { value: 'b', execution: 2 } });
    const starts = readLog(log).filter((e) => e.event === 'start' && e.id === 'e1');
    expect(starts).toHaveLength(1);
  });
});

describe('ProcessWorker', () => {
  it('reports frames the worker gets wrong as a lost worker with the framing message', async () => {
    const cases: [Record<string, unknown>, string, Partial<ProcessWorkerSpec>][] = [
      [{ kind: 'malformed' }, 'protocol error from worker: malformed frame: body is not a MessagePack map', {}],
      [{ kind: 'oversized', length: 5000 }, 'protocol error from worker: frame of 5000 bytes exceeds the limit of 2048 bytes', { maxFrame: 2048 }],
      [{ kind: 'truncated' }, 'protocol error from worker: truncated frame: expected 100 bytes, got 10', {}],
    ];
    await Promise.all(
      cases.map(async ([args, message, extra]) => {
        const w = ProcessWorker.spawn(spec(newLogPath(), extra));
        await w.request('init', { seed: 1 });
        const err = await w.request('badFrame', args, { id: 'bad' }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(WorkerLostError);
        expect((err as WorkerLostError).reason).toBe(message);
        const loss = await w.lost;
        expect(loss.reason).toBe(message);
        expect(loss.inFlightIds).toEqual(['bad']);
        expect(w.alive).toBe(false);
        await expect(w.request('echo', {})).rejects.toBeInstanceOf(WorkerLostError);
      }),
    );
  });

  it('job errors reject with the worker code and keep the worker; repeated ids come from the cache', async () => {
    const log = newLogPath();
    const lines: string[] = [];
    const w = ProcessWorker.spawn(spec(log, { logger: (m) => lines.push(m) }));
    const early = await w.request('echo', { value: 1 }, { id: 'early' }).catch((e: Error) => e);
    expect(early).toBeInstanceOf(WorkerJobError);
    expect((early as WorkerJobError).code).toBe('not_initialised');

    const init = await w.request('init', { seed: 3 }, { id: 'init' });
    expect(init.pid).toBe(w.info.pid);
    expect(w.info.init).toEqual(init);

    const unknown = await w.request('fly', {}, { id: 'u1' }).catch((e: Error) => e);
    expect(unknown).toBeInstanceOf(WorkerJobError);
    expect((unknown as WorkerJobError).code).toBe('unknown_job');
    const bad = await w.request('sleep', { ms: 'long' }, { id: 'b1' }).catch((e: Error) => e);
    expect((bad as WorkerJobError).code).toBe('bad_request');
    expect((bad as WorkerJobError).message).toContain('args.ms must be a number');

    const a = await w.request('echo', { value: 'x' }, { id: 'same' });
    const b = await w.request('echo', { value: 'x' }, { id: 'same' });
    const c = await w.request('echo', { value: 'y' }, { id: 'other' });
    expect(a).toEqual({ value: 'x', execution: 1 });
    expect(b).toEqual({ value: 'x', execution: 1 }); // count stays 1: answered from the cache
    expect(c).toEqual({ value: 'y', execution: 2 });
    // Two requests with one id in flight together are one job.
    const [d1, d2] = await Promise.all([w.request('echo', { value: 'z' }, { id: 'dup' }), w.request('echo', { value: 'z' }, { id: 'dup' })]);
    expect(d1).toBe(d2);
    expect(readLog(log).filter((e) => e.event === 'done' && e.job === 'echo')).toHaveLength(3); // same, other, dup

    await w.close();
    const loss = await w.lost;
    expect(loss.reason).toBe('closed');
    expect(loss.exitCode).toBe(0);
  });

  it('forwards stderr lines to the logger and quotes the last ones when the worker dies', async () => {
    const lines: string[] = [];
    const w = ProcessWorker.spawn(spec(newLogPath(), { logger: (m) => lines.push(m) }));
    await w.request('init', {});
    await w.request('log', { line: 'hello from the worker' });
    // stderr is its own pipe: the reply on stdout may be read before the line
    for (let i = 0; i < 200 && !lines.includes('hello from the worker'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(lines).toContain('hello from the worker');
    await w.request('log', { line: 'about to crash' });
    const err = await w.request('crash', { marker: join(dir, 'crash-direct') }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkerLostError);
    expect((err as WorkerLostError).reason).toBe('worker exited with code 1; stderr: hello from the worker | about to crash');
  });
});

describe('Supervisor', () => {
  it('gives up on a command that cannot start, and says why', async () => {
    const direct = ProcessWorker.spawn({ name: 'none', command: join(dir, 'no-such-worker') });
    const e = (await direct.request('init', {}).catch((x) => x)) as WorkerLostError;
    expect(e).toBeInstanceOf(WorkerLostError);
    expect(e.reason).toMatch(/^failed to run worker .*no-such-worker.*ENOENT/);
    expect((await direct.lost).reason).toBe(e.reason);

    const gaveUp: string[] = [];
    const sup = new Supervisor({ name: 'none', process: { name: 'none', command: join(dir, 'no-such-worker') }, maxRestarts: 3, restartDelayMs: () => 5, onGaveUp: (r) => gaveUp.push(r) });
    const err = (await sup.request('init', {}, { id: 'i' }).catch((x) => x)) as WorkerLostError;
    expect(err).toBeInstanceOf(WorkerLostError);
    expect(err.reason).toMatch(/^no working worker after 3 attempts; last: worker lost: failed to run worker/);
    expect(gaveUp).toEqual([err.reason]);
    expect(sup.status).toBe('failed');
    await expect(sup.request('echo', {})).rejects.toThrow(/gave up/);
  });

  it('restarts a worker killed mid-job and completes the job exactly once with the same id', async () => {
    const log = newLogPath();
    const joined: number[] = [];
    const lost: [string, string[]][] = [];
    const sup = new Supervisor({
      name: 'tw',
      process: spec(log),
      restartDelayMs: () => 10,
      onJoined: (info) => joined.push(info.generation),
      onLost: (reason, ids) => lost.push([reason, ids]),
    });
    await sup.request('init', { seed: 9 }, { id: 'init' });
    let resolutions = 0;
    const p1 = sup.request('sleep', { ms: 2500 }, { id: 'job-1' });
    expect(sup.request('sleep', { ms: 2500 }, { id: 'job-1' })).toBe(p1); // same id, same job
    const job = p1.then((r) => {
      resolutions++;
      return r;
    });
    const firstPid = sup.info.pid!;
    await until('job-1 to start', () => readLog(log).some((e) => e.event === 'start' && e.id === 'job-1'));
    process.kill(firstPid, 'SIGKILL');
    const result = await job;
    expect(result).toEqual({ slept: 2500 });
    expect(resolutions).toBe(1);

    const events = readLog(log).filter((e) => e.id === 'job-1');
    expect(events.filter((e) => e.event === 'start')).toHaveLength(2);
    const done = events.filter((e) => e.event === 'done');
    expect(done).toHaveLength(1); // one completed execution
    expect(done[0].pid).not.toBe(firstPid);
    expect(joined).toEqual([0, 1]);
    expect(lost).toHaveLength(1);
    expect(lost[0][0]).toMatch(/killed by signal SIGKILL/);
    expect(lost[0][1]).toEqual(['job-1']);
    // the replacement was initialised with the same args and the same init id
    expect((await sup.request('state', {}, { id: 's1' })).initArgs).toEqual({ seed: 9 });
    expect(sup.restarts).toBe(1);
    await sup.close();
  });

  it('restores init, the last checkpoint and later updates before re-issuing a crashed job', async () => {
    const log = newLogPath();
    const marker = join(dir, 'crash-marker');
    const ckpt = join(dir, 'ckpt.json');
    const lostIds: string[][] = [];
    const sup = new Supervisor({ name: 'tw', process: spec(log), restartDelayMs: () => 10, onLost: (_r, ids) => lostIds.push(ids) });
    await sup.request('init', { seed: 5, kind: 'tiny' }, { id: 'init' });
    await sup.request('update', {}, { id: 'u1' });
    await sup.request('update', {}, { id: 'u2' });
    const saved = await sup.request('save', { path: ckpt }, { id: 'save-1' });
    expect(saved.policyVersion).toBe(2);
    await sup.request('update', {}, { id: 'u3' });

    // crash exits mid-job the first time; an echo queued behind it must also survive
    const [crash, echo] = await Promise.all([
      sup.request('crash', { marker }, { id: 'c1' }),
      sup.request('echo', { value: 'after' }, { id: 'e-after' }),
    ]);
    expect(crash).toEqual({ crashed: false });
    expect(echo.value).toBe('after');
    expect(lostIds).toEqual([['c1', 'e-after']]);

    const st = await sup.request('state', {}, { id: 'st' });
    expect(st.initArgs).toEqual({ seed: 5, kind: 'tiny' });
    expect(st.loads).toBe(1); // load of save-1's file
    expect(st.policyVersion).toBe(3); // 2 from the checkpoint + u3 replayed
    // u3 ran twice (original + replay, on two processes); u1 and u2 only once (covered by the checkpoint)
    const ev = readLog(log);
    expect(ev.filter((e) => e.event === 'done' && e.id === 'u3').map((e) => e.pid)).toHaveLength(2);
    expect(ev.filter((e) => e.event === 'done' && e.id === 'u1')).toHaveLength(1);
    expect(ev.filter((e) => e.event === 'done' && e.id === 'c1')).toHaveLength(1);

    // a completed update id asked again after the restart is not applied again
    const again = await sup.request('update', {}, { id: 'u2' });
    expect(again.policyVersion).toBe(2);
    expect((await sup.request('state', {}, { id: 'st2' })).policyVersion).toBe(3);
    await sup.close();
  });

  it('a job past its timeout kills the worker; it is re-issued on the restarted one', async () => {
    const log = newLogPath();
    const marker = join(dir, 'slow-once');
    const lost: string[] = [];
    const sup = new Supervisor({ name: 'tw', process: spec(log), restartDelayMs: () => 10, onLost: (r) => lost.push(r) });
    await sup.request('init', {}, { id: 'init' });
    const r = await sup.request('sleep', { ms: 60_000, once: marker }, { id: 'slow', timeoutMs: 2000 });
    expect(r).toEqual({ slept: 0 }); // the second attempt finds the marker
    expect(lost).toEqual(['timeout: job sleep (id slow) exceeded 2000 ms']);
    const ev = readLog(log).filter((e) => e.id === 'slow');
    expect(ev.map((e) => e.event)).toEqual(['start', 'start', 'done']);
    await sup.close();
  });

  it('rejects a job that keeps killing workers after maxAttempts, and keeps serving others', async () => {
    const log = newLogPath();
    const sup = new Supervisor({ name: 'tw', process: spec(log), restartDelayMs: () => 10, maxAttempts: 2 });
    await sup.request('init', {}, { id: 'init' });
    const err = await sup.request('sleep', { ms: 60_000 }, { id: 'hang', timeoutMs: 300 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(WorkerLostError);
    expect((err as Error).message).toContain('sleep (id hang) was in flight on 2 lost workers');
    expect(readLog(log).filter((e) => e.id === 'hang' && e.event === 'start')).toHaveLength(2);
    expect(await sup.request('echo', { value: 1 }, { id: 'fine' })).toEqual({ value: 1, execution: 1 });
    await sup.close();
  });

  it('an init error answer is final: the caller gets it and may init again', async () => {
    const joined: number[] = [];
    const sup = new Supervisor({ name: 'tw', process: spec(newLogPath()), restartDelayMs: () => 10, onJoined: (i) => joined.push(i.generation) });
    const e = await sup.request('init', { fail: true }, { id: 'i1' }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(WorkerJobError);
    expect((e as WorkerJobError).code).toBe('bad_request');
    expect(sup.status).toBe('idle');
    expect(joined).toEqual([]);
    const ok = await sup.request('init', { seed: 2 }, { id: 'i2' });
    expect(ok.device).toBe('cpu');
    expect(joined).toEqual([1]); // the refused worker was generation 0
    // an error answer to an ordinary job is the caller's, not a lost worker
    const le = await sup.request('load', { path: join(dir, 'missing.json') }, { id: 'l' }).catch((x: Error) => x);
    expect((le as WorkerJobError).code).toBe('internal');
    expect(sup.restarts).toBe(0);
    await sup.close();
    await expect(sup.request('echo', {})).rejects.toThrow(/closed/);
  });
});
