/**
 * The gpu-bridge actor against a real LMDB log (EventLog in a temp dir; `append` writes straight to it) with
 * the in-process sim worker, and once with the real tiny PyTorch worker. Requests are built the way the
 * learner builds them (learnerActor's decide / updateRequest over the folded log) or by hand where no actor
 * builds them yet; expected values come from an independent SimWorker given the same jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeEvent, type DareEvent, type EventOf, type Logged } from '../../events/catalogue.ts';
import { resolveConfig, type RunConfig } from '../../events/config.ts';
import { EventLog } from '../../store/eventLog.ts';
import { makeContext, type DecideContext } from '../../actors/actor.ts';
import { learnerActor, updateRequest, type LearnerState } from '../../actors/learner/learnerActor.ts';
import { buildHintPrompt, extractSkeleton } from '../../actors/learner/hints.ts';
import { bridgeTasks } from '../../run/bridgeTasks.ts';
import { Bridge } from '../../gpu-bridge/bridge.ts';
import { chunkSeed, ROLLOUT_CHUNK } from '../../gpu-bridge/jobs/chunks.ts';
import { WARMSTART_PATH } from '../../gpu-bridge/warmStart.ts';
import { decodeGroupBlob } from '../../gpu-bridge/blobs.ts';
import { initArgs, simPromptTable } from '../../gpu-bridge/workerFactory.ts';
import { SimWorker } from '../../gpu-bridge/sim/simWorker.ts';
import type { JobResult, RequestOptions } from '../../gpu-bridge/workerClient.ts';
import { generateArithmetic, verifyArithmetic } from '../../tasks/index.ts';
import { tempDir } from '../support/tmp.ts';

const RUN = 'bridge-test';

/** A SimWorker that counts the jobs it is asked to do (instanceof SimWorker still holds: the oracle is used). */
class CountingSim extends SimWorker {
  readonly jobs = new Map<string, number>();
  lastArgs: Record<string, unknown> = {};
  override request(job: string, args: Record<string, unknown>, opts?: RequestOptions): Promise<JobResult> {
    this.jobs.set(job, (this.jobs.get(job) ?? 0) + 1);
    this.lastArgs = args;
    return super.request(job, args, opts);
  }
  count(job: string): number {
    return this.jobs.get(job) ?? 0;
  }
}

const quietLogger = () => {
  const warnings: string[] = [];
  return { warnings, logger: { info: () => {}, warn: (_o: object, m: string) => void warnings.push(m), error: () => {} } };
};

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
function weightsHash(sim: SimWorker): string {
  const w = sim.weights;
  return sha256(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
}
function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

interface Harness {
  log: EventLog;
  runDir: string;
  config: RunConfig;
  ctx: DecideContext;
  append(events: DareEvent[]): Promise<void>;
  /** calls of `append` so far */
  appends: number;
  /** append one event and return it as the log delivers it */
  put(ev: DareEvent): Promise<Logged>;
  since(seq: number): Logged[];
  learner(): LearnerState;
}

function harness(runDir: string, config: RunConfig): Harness {
  const log = EventLog.open(join(runDir, 'log'));
  const append = async (events: DareEvent[]) => {
    h.appends++;
    await log.append(events);
  };
  const ctx = makeContext(RUN, config, { prompt: (i) => log.getPrompt(i) as never, blob: (k) => log.getBlob(k), promptTable: () => undefined });
  const h: Harness = {
    appends: 0,
    log,
    runDir,
    config,
    ctx,
    append,
    async put(ev) {
      const [r] = await log.append([ev]);
      return log.read(r.seq, r.seq + 1)[0];
    },
    since: (seq) => log.read(seq + 1),
    learner() {
      let s = learnerActor.initialState(config);
      for (const e of log.iterate()) s = learnerActor.evolve(s, e);
      return s;
    },
  };
  return h;
}

function batch(step: number, prompts: number[], rollouts: number): DareEvent {
  const n = prompts.length;
  return makeEvent(
    'BatchSelected',
    {
      step, epoch: 0, key: { seed: 7, step, purpose: 'select' }, strategy: 'test', prompts: Uint32Array.from(prompts),
      difficulty: new Float32Array(n).fill(0.5), tier: new Uint8Array(n).fill(1), rollouts: new Uint16Array(n).fill(rollouts),
      hints: new Uint16Array(n), filled: 0,
    },
    { run: RUN, id: `BatchSelected/${step}` },
  );
}

/** BatchSelected → (learner) RolloutRequested → bridge → RolloutCompleted; returns the request. */
async function rolloutStep(h: Harness, bridge: Bridge, step: number, prompts: number[], rollouts: number): Promise<Logged<EventOf<'RolloutRequested'>>> {
  const bs = await h.put(batch(step, prompts, rollouts));
  const [rr] = learnerActor.decide(h.learner(), bs, h.ctx);
  expect(rr.type).toBe('RolloutRequested');
  const logged = (await h.put(rr)) as Logged<EventOf<'RolloutRequested'>>;
  await bridge.onEvent(logged);
  return logged;
}

/** The learner's UpdateRequested for the current step → bridge → UpdateCompleted. */
async function updateStep(h: Harness, bridge: Bridge): Promise<EventOf<'UpdateCompleted'>> {
  const last = h.log.read(h.log.lastSeq())[0];
  const ur = await h.put(updateRequest(h.learner(), h.ctx, last.event.id));
  const before = h.log.lastSeq();
  await bridge.onEvent(ur);
  const out = h.since(before).map((e) => e.event);
  expect(out.map((e) => e.type)).toEqual(['UpdateCompleted']);
  return out[0] as EventOf<'UpdateCompleted'>;
}

describe('gpu-bridge with the sim worker', () => {
  let tmp: ReturnType<typeof tempDir>;
  let h: Harness;
  let sim: CountingSim;
  let bridge: Bridge;
  const config = resolveConfig({
    run: { seed: 7 },
    task: { source: 'sim', count: 100, evalCount: 20, maxResponseTokens: 64, temperature: 1 },
    worker: { kind: 'sim', lr: 0.05 },
  });
  const STEP1 = Array.from({ length: 70 }, (_, i) => i); // two rollout chunks: 64 + 6 prompts
  let rr1: Logged<EventOf<'RolloutRequested'>>;
  let aWeights = '';
  let aSave = '';

  beforeAll(async () => {
    tmp = tempDir('dare-bridge-');
    h = harness(tmp.dir, config);
    sim = new CountingSim();
    // h.append commits to h.log itself: blobs go into their events' commit (the other bridges here write them first)
    bridge = await Bridge.create({ run: RUN, config, runDir: tmp.dir, log: h.log, tasks: bridgeTasks, append: h.append, blobsInAppend: true, logger: quietLogger().logger, worker: sim });
  });
  afterAll(async () => {
    await bridge?.close();
    await h?.log.close();
    tmp?.cleanup();
  });

  it('announces the worker with WorkerJoined', () => {
    const joined = h.log.read(1).map((e) => e.event).filter((e) => e.type === 'WorkerJoined');
    expect(joined).toHaveLength(1);
    expect(joined[0].data).toMatchObject({ worker: 'sim', kind: 'sim', device: 'cpu', dtype: 'float64' });
    expect(joined[0].id).toBe('WorkerJoined/sim/0/0');
  });

  it('RolloutRequested: one RolloutCompleted per prompt, blobs byte-exact, rewards = the sim\'s correctness', async () => {
    const before = h.log.lastSeq();
    const [txn, appends] = [h.log.lastTxnId(), h.appends];
    rr1 = await rolloutStep(h, bridge, 1, STEP1, 8);
    // blobsInAppend: one commit per write of events with their blobs (plus the two events put above)
    expect(h.appends).toBeGreaterThan(appends);
    expect(h.log.lastTxnId() - txn).toBe(2 + h.appends - appends);
    const done = h.since(before + 2).map((e) => e.event as EventOf<'RolloutCompleted'>);
    expect(done.map((e) => e.id)).toEqual(STEP1.map((p) => `RolloutCompleted/1/${p}`));
    expect(done.every((e) => e.type === 'RolloutCompleted' && e.cause === rr1.event.id && e.data.policyVersion === 0)).toBe(true);
    expect(sim.count('rollout')).toBe(2); // ceil(70 / 64) chunks

    // an independent sim given the same chunk jobs must produce the very same rows
    const ref = new SimWorker();
    await ref.request('init', initArgs(config));
    const d = rr1.event.data;
    for (let k = 0; k * ROLLOUT_CHUNK < STEP1.length; k++) {
      const part = STEP1.slice(k * ROLLOUT_CHUNK, (k + 1) * ROLLOUT_CHUNK);
      const res = await ref.request('rollout', {
        prompts: part.map((p) => ({ promptId: String(p), text: String(p), n: 8 })), temperature: d.temperature, maxTokens: d.maxTokens, seed: chunkSeed(d.seed, k),
      });
      const groups = res.groups as Array<{ samples: Array<Record<string, unknown>> }>;
      part.forEach((p, j) => {
        const ev = done[p].data;
        expect(ev.group).toBe(`g/1/${p}`);
        const blob = decodeGroupBlob(h.log.getBlob(ev.group), ev.group);
        expect(blob.rows).toHaveLength(8);
        groups[j].samples.forEach((s, i) => {
          const row = blob.rows[i];
          expect(bytes(row.promptTokens).equals(s.promptTokens as Buffer)).toBe(true);
          expect(bytes(row.tokens).equals(s.tokens as Buffer)).toBe(true);
          expect(bytes(row.logprobs).equals(s.logprobs as Buffer)).toBe(true);
          expect(row.text).toBe(s.text);
          expect(row.finish).toBe(s.finish);
          expect(ev.reward[i]).toBe(s.correct ? 1 : 0);
          expect(ev.length[i]).toBe(s.length);
          expect(ev.logprob[i]).toBe(s.logprob);
          expect(ev.truncated[i]).toBe(s.finish === 'length' ? 1 : 0);
          expect(ev.hinted[i]).toBe(0);
        });
        expect(ev.oracleSuccess).toBe(ref.oracle.passRate(p));
      });
    }
    // the raw stored value is standard MessagePack with bin fields (what Python readers see)
    const raw = h.log.getBlob('g/1/0') as { rows: Array<Record<string, unknown>> };
    expect(raw.rows[0].tokens).toBeInstanceOf(Uint8Array);
  });

  it('a RolloutRequested seen again does no work and appends nothing', async () => {
    const seq = h.log.lastSeq();
    const n = sim.count('rollout');
    await bridge.onEvent(rr1);
    expect(sim.count('rollout')).toBe(n);
    expect(h.log.lastSeq()).toBe(seq);
  });

  it('ScoreRequested before any update: exp(current − behaviour) = 1 for every row', async () => {
    const groups = STEP1.map((p) => `g/1/${p}`);
    const sr = await h.put(makeEvent('ScoreRequested', { epoch: 0, step: 1, groups, rows: 8 * groups.length }, { run: RUN, id: 'ScoreRequested/1' }));
    await bridge.onEvent(sr);
    const sc = h.log.read(h.log.seqOf('ScoreCompleted/1')!)[0].event as EventOf<'ScoreCompleted'>;
    expect(sc.cause).toBe('ScoreRequested/1');
    expect(sc.data.groups).toEqual(groups);
    expect(Array.from(sc.data.rowOffsets)).toEqual(Array.from({ length: groups.length + 1 }, (_, g) => 8 * g));
    expect(sc.data.policyVersion).toBe(0);
    for (let g = 0; g < groups.length; g++) {
      const rc = h.log.read(h.log.seqOf(`RolloutCompleted/1/${g}`)!)[0].event as EventOf<'RolloutCompleted'>;
      for (let i = 0; i < 8; i++) expect(Math.exp(sc.data.current[8 * g + i] - rc.data.logprob[i])).toBeCloseTo(1, 12);
    }
  });

  it('UpdateRequested (learner-built) → UpdateCompleted at policy version 1, all numbers finite', async () => {
    const w0 = weightsHash(sim);
    const uc = await updateStep(h, bridge);
    expect(uc.id).toBe('UpdateCompleted/1');
    expect(uc.cause).toBe('UpdateRequested/1');
    expect(uc.data.policyVersion).toBe(1);
    expect(sim.policyVersion).toBe(1);
    expect(weightsHash(sim)).not.toBe(w0);
    for (const k of ['loss', 'clipFrac', 'kl', 'entropy', 'gradNorm'] as const) expect(Number.isFinite(uc.data[k])).toBe(true);
    expect(uc.data.tokens).toBeGreaterThan(0);
    expect(Object.values(uc.data.binLosses).every(Number.isFinite)).toBe(true);
  });

  it('CheckpointRequested writes a file whose sha256 matches, registered and logged', async () => {
    const cr = await h.put(makeEvent('CheckpointRequested', { policyVersion: 1, path: 'checkpoints/v1.ckpt' }, { run: RUN, id: 'CheckpointRequested/1' }));
    await bridge.onEvent(cr);
    const saved = h.log.read(h.log.seqOf('CheckpointSaved/1')!)[0].event as EventOf<'CheckpointSaved'>;
    const file = join(tmp.dir, 'checkpoints/v1.ckpt');
    const content = readFileSync(file);
    expect(saved.data).toEqual({ policyVersion: 1, path: 'checkpoints/v1.ckpt', sha256: sha256(content), bytes: content.length });
    expect(saved.cause).toBe('CheckpointRequested/1');
    expect(h.log.checkpoints()).toEqual([{ path: 'checkpoints/v1.ckpt', sha256: sha256(content), policyVersion: 1, seq: expect.any(Number) }]);
  });

  it('a second step, an eval whose accuracy is the verifier\'s count, and a corrupted later checkpoint', async () => {
    await rolloutStep(h, bridge, 2, Array.from({ length: 30 }, (_, i) => 70 + i), 4);
    const uc = await updateStep(h, bridge);
    expect(uc.data.policyVersion).toBe(2);

    const evalPrompts = Uint32Array.from({ length: 20 }, (_, i) => 100 + i);
    const er = await h.put(makeEvent('EvalRequested', { step: 2, policyVersion: 2, prompts: evalPrompts }, { run: RUN, id: 'EvalRequested/2' }));
    await bridge.onEvent(er);
    const ec = h.log.read(h.log.seqOf('EvalCompleted/2')!)[0].event as EventOf<'EvalCompleted'>;
    // the sim's own greedy answers, checked by the sim's verifier (text "correct")
    const res = await sim.request('eval', { prompts: Array.from(evalPrompts, (p) => ({ promptId: String(p), text: '' })), maxTokens: 64 }, { id: 'test-eval' });
    const texts = res.texts as string[];
    const ok = texts.filter((t) => t === 'correct').length;
    expect(ec.data.accuracy).toBe(ok / 20);
    expect(ec.data.policyVersion).toBe(2);
    expect(ec.data.oracleAccuracy).toBeCloseTo(sim.oracle.expectedAccuracy(evalPrompts), 12);
    const table = simPromptTable(config);
    const perCat = new Map<string, { ok: number; count: number }>();
    evalPrompts.forEach((p, i) => {
      const c = table.categories[table.categoryOf[p]];
      const t = perCat.get(c) ?? { ok: 0, count: 0 };
      t.count++;
      if (texts[i] === 'correct') t.ok++;
      perCat.set(c, t);
    });
    expect(Object.keys(ec.data.byTier).sort()).toEqual([...perCat.keys()].sort());
    for (const [c, t] of perCat) expect(ec.data.byTier[c]).toMatchObject({ count: t.count, accuracy: t.ok / t.count });

    // a checkpoint at version 2, then damaged: restore must skip it (sha256 mismatch) and use v1
    const cr = await h.put(makeEvent('CheckpointRequested', { policyVersion: 2, path: 'checkpoints/v2.ckpt' }, { run: RUN, id: 'CheckpointRequested/2' }));
    await bridge.onEvent(cr);
    expect(h.log.checkpoints().map((c) => c.policyVersion)).toEqual([1, 2]);
    aWeights = weightsHash(sim);
    const save = await sim.request('save', { path: join(tmp.dir, 'a-final.json') }, { id: 'test-save-a' });
    aSave = save.sha256 as string;
    appendFileSync(join(tmp.dir, 'checkpoints/v2.ckpt'), ' ');
  });

  it('hinted rollouts: the hint prompt is built from the source row, hinted rows come last and are flagged', async () => {
    const src = decodeGroupBlob(h.log.getBlob('g/1/5'), 'g/1/5');
    const before = h.log.lastSeq();
    const rr = await h.put(
      makeEvent('RolloutRequested', {
        step: 3, purpose: 'reference', prompts: Uint32Array.of(5, 6), rollouts: Uint16Array.of(4, 3), hints: Uint16Array.of(2, 0), hintSources: ['g/1/5#1', ''],
        temperature: 1, maxTokens: 64, seed: 9,
      }, { run: RUN, id: 'RolloutRequested/reference/3' }),
    );
    await bridge.onEvent(rr);
    const jobPrompts = sim.lastArgs.prompts as Array<{ promptId: string; text: string; n: number }>;
    // no prompt rows in this log: the sim's question is its index, the data source unknown
    expect(jobPrompts).toEqual([
      { promptId: '5', text: '5', n: 2 },
      { promptId: '5', text: buildHintPrompt('5', extractSkeleton(src.rows[1].text), ''), n: 2 },
      { promptId: '6', text: '6', n: 3 },
    ]);
    const out = h.since(before + 1).map((e) => e.event as EventOf<'RolloutCompleted'>);
    expect(out.map((e) => [e.id, e.data.group])).toEqual([
      ['RolloutCompleted/reference/3/5', 'g/reference/3/5'],
      ['RolloutCompleted/reference/3/6', 'g/reference/3/6'],
    ]);
    expect(Array.from(out[0].data.hinted)).toEqual([0, 0, 1, 1]);
    expect(Array.from(out[1].data.hinted)).toEqual([0, 0, 0]);
    expect(decodeGroupBlob(h.log.getBlob('g/reference/3/5'), 'g/reference/3/5').rows).toHaveLength(4);
  });

  it('restore() in a fresh Bridge loads the valid checkpoint and re-applies later updates: same weights, no rollouts', async () => {
    const fresh = new CountingSim();
    const { warnings, logger } = quietLogger();
    const b = await Bridge.create({ run: RUN, config, runDir: tmp.dir, log: h.log, tasks: bridgeTasks, append: h.append, logger, worker: fresh });
    try {
      const r = await b.restore();
      expect(r).toEqual({ checkpoint: 'checkpoints/v1.ckpt', policyVersion: 2, reapplied: 1 });
      expect(warnings).toContain('checkpoint sha256 mismatch: skipped');
      expect(weightsHash(fresh)).toBe(aWeights);
      const save = await fresh.request('save', { path: join(tmp.dir, 'b-final.json') }, { id: 'test-save-b' });
      expect(save.sha256).toBe(aSave); // parameters, Adam moments and version all equal
      expect(fresh.count('rollout')).toBe(0);

      // the host replays every committed event: all have completions, so nothing is done or appended
      const seq = h.log.lastSeq();
      for (const e of h.log.read(1, seq + 1)) await b.onEvent(e);
      expect(h.log.lastSeq()).toBe(seq);
      expect(fresh.count('rollout') + fresh.count('score') + fresh.count('eval')).toBe(0);
      expect(fresh.count('update')).toBe(1);

      // a worker job error is a run failure: RunFailed with the reason, and the error surfaces
      const bad = await h.put(
        makeEvent('RolloutRequested', {
          step: 4, purpose: 'reference', prompts: Uint32Array.of(1), rollouts: Uint16Array.of(2), hints: Uint16Array.of(0), hintSources: [''],
          temperature: 1, maxTokens: 0, seed: 5,
        }, { run: RUN, id: 'RolloutRequested/reference/4' }),
      );
      await expect(b.onEvent(bad)).rejects.toThrow(/maxTokens/);
      const failed = h.log.read(h.log.seqOf('RunFailed/RolloutRequested/reference/4')!)[0].event as EventOf<'RunFailed'>;
      expect(failed.cause).toBe('RolloutRequested/reference/4');
      expect(failed.data.reason).toMatch(/bad_request.*maxTokens/);
    } finally {
      await b.close();
    }
  });
});

const torchCheck = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
const HAVE_TORCH = torchCheck.status === 0;

// skipped where /usr/bin/python3 cannot import torch (the tiny worker needs it)
describe.skipIf(!HAVE_TORCH)('gpu-bridge with the tiny PyTorch worker', () => {
  it('warm start, arithmetic rollouts rewarded by the arithmetic verifier, update at version 1, worker restart and resume keep the weights', async () => {
    const tmp = tempDir('dare-bridge-tiny-');
    const config = resolveConfig({
      run: { seed: 3 },
      task: { source: 'arithmetic', count: 64, evalCount: 0, maxResponseTokens: 8, temperature: 1, levels: '1,2' },
      worker: { kind: 'tiny', device: 'cpu', warmStartSteps: 20, lr: 3e-3, jobTimeoutSec: 120 },
    });
    const h = harness(tmp.dir, config);
    const rows = generateArithmetic({ seed: 3, count: 64, levels: [1, 2] });
    await h.log.putPrompts(rows);
    let bridge: Bridge | null = null;
    try {
      bridge = await Bridge.create({ run: RUN, config, runDir: tmp.dir, log: h.log, tasks: bridgeTasks, append: h.append, logger: quietLogger().logger });
      const joined = h.log.read(1).map((e) => e.event).find((e) => e.type === 'WorkerJoined') as EventOf<'WorkerJoined'>;
      expect(joined.data).toMatchObject({ worker: 'tiny', kind: 'tiny', device: 'cpu', dtype: 'float32' });
      // the warm start is saved and registered as the version-0 checkpoint
      expect(h.log.checkpoints().map((c) => [c.path, c.policyVersion])).toEqual([[WARMSTART_PATH, 0]]);
      expect(existsSync(join(tmp.dir, WARMSTART_PATH))).toBe(true);

      const prompts = Array.from({ length: 8 }, (_, i) => i);
      const before = h.log.lastSeq();
      await rolloutStep(h, bridge, 1, prompts, 4);
      const done = h.since(before + 2).map((e) => e.event as EventOf<'RolloutCompleted'>);
      expect(done.map((e) => e.id)).toEqual(prompts.map((p) => `RolloutCompleted/1/${p}`));
      for (const ev of done) {
        const row = rows[ev.data.promptIndex];
        const blob = decodeGroupBlob(h.log.getBlob(ev.data.group), ev.data.group);
        expect(blob.rows).toHaveLength(4);
        expect(ev.data.oracleSuccess).toBeNull();
        blob.rows.forEach((r, i) => {
          expect(ev.data.reward[i]).toBe(verifyArithmetic(r.text, row.answer).reward);
          expect(ev.data.length[i]).toBe(r.tokens.length);
          let s = 0;
          for (const x of r.logprobs) s += x;
          expect(ev.data.logprob[i]).toBe(s);
          expect(r.tokens.length).toBeLessThanOrEqual(8);
        });
      }

      // the warm start moved the worker's own counter; the log's first update is still version 1
      const uc = await updateStep(h, bridge);
      expect(uc.data.policyVersion).toBe(1);

      // kill the worker process: WorkerLost, a restart (WorkerJoined generation 1), and the Supervisor's
      // restore (init → warm-start checkpoint → update 1) gives the same weights: identical scores
      const groups = prompts.map((p) => `g/1/${p}`);
      const score = async (step: number) => {
        await bridge!.onEvent(await h.put(makeEvent('ScoreRequested', { epoch: 0, step, groups, rows: 32 }, { run: RUN, id: `ScoreRequested/${step}` })));
        return (h.log.read(h.log.seqOf(`ScoreCompleted/${step}`)!)[0].event as EventOf<'ScoreCompleted'>).data;
      };
      const s1 = await score(1);
      const pid = (bridge as unknown as { worker: { info: { pid: number } } }).worker.info.pid;
      process.kill(pid, 'SIGKILL');
      const s2 = await score(2);
      expect(s2.policyVersion).toBe(1);
      expect(Array.from(s2.current)).toEqual(Array.from(s1.current));
      for (let i = 0; i < 100 && !h.log.read(1).some((e) => e.event.id.startsWith('WorkerJoined/tiny/1/')); i++) await new Promise((r) => setTimeout(r, 50));
      const life = h.log.read(1).map((e) => e.event).filter((e) => e.type === 'WorkerLost' || e.type === 'WorkerJoined');
      expect(life.map((e) => e.id.split('/').slice(0, 3).join('/'))).toEqual(['WorkerJoined/tiny/0', 'WorkerLost/tiny/0', 'WorkerJoined/tiny/1']);
      expect((life[1] as EventOf<'WorkerLost'>).data.reason).toMatch(/SIGKILL/);
      const cr = await h.put(makeEvent('CheckpointRequested', { policyVersion: 1, path: 'checkpoints/v1.ckpt' }, { run: RUN, id: 'CheckpointRequested/1' }));
      await bridge.onEvent(cr);
      const saved = h.log.read(h.log.seqOf('CheckpointSaved/1')!)[0].event as EventOf<'CheckpointSaved'>;
      expect(saved.data.sha256).toBe(sha256(readFileSync(join(tmp.dir, 'checkpoints/v1.ckpt'))));
      await bridge.close();

      // resume in a new process without the v1 file: the warm-start checkpoint (version 0) plus the logged
      // update 1 re-applied give the same weights as before (identical scores)
      rmSync(join(tmp.dir, 'checkpoints/v1.ckpt'));
      const { warnings, logger } = quietLogger();
      bridge = await Bridge.create({ run: RUN, config, runDir: tmp.dir, log: h.log, tasks: bridgeTasks, append: h.append, logger });
      expect(await bridge.restore()).toEqual({ checkpoint: WARMSTART_PATH, policyVersion: 1, reapplied: 1 });
      expect(warnings).toContain('registered checkpoint is missing: skipped');
      const s3 = await score(3);
      expect(s3.policyVersion).toBe(1);
      expect(Array.from(s3.current)).toEqual(Array.from(s1.current));
    } finally {
      await bridge?.close();
      await h.log.close();
      tmp.cleanup();
    }
  });
});
