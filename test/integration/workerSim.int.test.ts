/**
 * The sim worker's checkpoint files (save/load: atomic write, sha256, parameters + Adam moments) and the
 * reply-cache rule tied to saves. Integration because it writes files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packBody } from '../../gpu-bridge/frames.ts';
import { WorkerJobError, type JobResult } from '../../gpu-bridge/workerClient.ts';
import { SimWorker } from '../../gpu-bridge/sim/simWorker.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dare-sim-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const INIT = { seed: 3, kind: 'sim', sim: { numPrompts: 200, numCategories: 3, distribution: 'skewed-hard' }, optim: { lr: 0.05, weightDecay: 0.01 } };
const PROMPTS = [3, 50, 199].map((q) => ({ promptId: `q${q}`, text: '', n: 8 }));

async function rolloutAndUpdate(sim: SimWorker, seed: number): Promise<{ ro: JobResult; up: JobResult }> {
  const ro = await sim.request('rollout', { prompts: PROMPTS, temperature: 1, maxTokens: 500, seed });
  const rows = (ro.groups as { samples: Record<string, unknown>[] }[]).flatMap((g) =>
    g.samples.map((s, i) => ({ ...s, oldLogprobs: s.logprobs, advantage: s.correct ? 1 : -0.5 - i / 16, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: -1, truncated: s.finish === 'length' })),
  );
  const up = await sim.request('update', { rows, aggregation: 'token-mean', entropyCoeff: 0.001, klCoeff: 0.01, temperature: 1 });
  return { ro, up };
}

describe('sim save/load', () => {
  it('round-trips parameters and optimiser state: the same jobs after load give identical bytes', async () => {
    const sim = new SimWorker();
    await sim.request('init', INIT);
    await rolloutAndUpdate(sim, 1);
    await rolloutAndUpdate(sim, 2);
    const path = join(dir, 'ckpt-a.json');
    const saved = await sim.request('save', { path });
    const bytes = readFileSync(path);
    expect(saved).toEqual({ path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, policyVersion: 2 });
    expect(existsSync(`${path}.tmp`)).toBe(false); // written to .tmp then renamed
    const paramsAtSave = sim.params;

    const first = await rolloutAndUpdate(sim, 77);
    await rolloutAndUpdate(sim, 78);
    expect(sim.policyVersion).toBe(4);
    expect(sim.params).not.toEqual(paramsAtSave);

    expect(await sim.request('load', { path, sha256: saved.sha256 })).toEqual({ policyVersion: 2 });
    expect(sim.params).toEqual(paramsAtSave);
    const again = await rolloutAndUpdate(sim, 77);
    expect(packBody(again.ro).equals(packBody(first.ro))).toBe(true);
    // the update depends on the Adam moments and step count too: identical only if they were restored
    expect(packBody(again.up).equals(packBody(first.up))).toBe(true);

    // a fresh worker with the same init loads to the same state
    const other = new SimWorker();
    await other.request('init', INIT);
    await other.request('load', { path });
    const third = await rolloutAndUpdate(other, 77);
    expect(packBody(third.ro).equals(packBody(first.ro))).toBe(true);
    expect(packBody(third.up).equals(packBody(first.up))).toBe(true);
  });

  it('refuses a sha256 mismatch, a missing file and a checkpoint of another shape with bad_request', async () => {
    const sim = new SimWorker();
    await sim.request('init', INIT);
    const path = join(dir, 'ckpt-b.json');
    await sim.request('save', { path });
    const err = async (args: Record<string, unknown>) => (await sim.request('load', args).catch((e) => e)) as WorkerJobError;
    const e1 = await err({ path, sha256: '0'.repeat(64) });
    expect(e1.code).toBe('bad_request');
    expect(e1.message).toMatch(/args\.sha256: .* has sha256 [0-9a-f]{64}, expected 0{64}/);
    const e2 = await err({ path: join(dir, 'nope.json') });
    expect(e2.code).toBe('bad_request');
    expect(e2.message).toContain('cannot read');
    const other = new SimWorker();
    await other.request('init', { ...INIT, sim: { ...INIT.sim, numCategories: 5 } });
    const e3 = (await other.request('load', { path }).catch((e) => e)) as WorkerJobError;
    expect(e3.message).toContain('numCategories 3 does not match this sim\'s 5');
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"format":"dare-sim/1","numCategories":3,"policyVersion":1,"params":[1,2],"reference":[],"optim":{}}');
    expect((await err({ path: garbage })).message).toContain('params must have 5 entries, got 2');
  });

  it('keeps every state-changing reply since the last save, read-only ones among the 1024 most recent', async () => {
    const sim = new SimWorker();
    await sim.request('init', INIT);
    const score = (id: string) => sim.request('eval', { prompts: [{ promptId: 'q1' }], maxTokens: 10 }, { id });
    const before = await score('before-save');
    await sim.request('save', { path: join(dir, 'ckpt-c.json') }, { id: 'save' });
    const ro = await sim.request('rollout', { prompts: PROMPTS, temperature: 1, maxTokens: 500, seed: 7 }, { id: 'ro' });
    const rows = (ro.groups as { samples: Record<string, unknown>[] }[]).flatMap((g) =>
      g.samples.map((x) => ({ ...x, oldLogprobs: x.logprobs, advantage: x.correct ? 1 : -1, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: -1, truncated: x.finish === 'length' })),
    );
    const update = { rows, aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 };
    const applied = await sim.request('update', update, { id: 'after-save-update' });
    const firstEval = await score('after-save-0');
    for (let i = 1; i < 1100; i++) await score(`after-save-${i}`);
    expect(await sim.request('update', update, { id: 'after-save-update' })).toBe(applied); // the cached reply: not applied twice
    expect(await score('after-save-0')).not.toBe(firstEval); // a read-only reply beyond the 1024 most recent: evicted
    expect(await score('before-save')).not.toBe(before);
  });
});
