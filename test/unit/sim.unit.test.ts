import { describe, expect, it } from 'vitest';
import { Prng } from '../../events/prng.ts';
import { binToF32, binToI32, f32ToBin, i32ToBin, packBody } from '../../gpu-bridge/frames.ts';
import { WorkerJobError, type JobResult } from '../../gpu-bridge/workerClient.ts';
import { SimWorker } from '../../gpu-bridge/sim/simWorker.ts';
import { judgeReply } from '../../gpu-bridge/sim/simJudge.ts';
import type { SimConfig } from '../../gpu-bridge/sim/simInit.ts';
import { PromptBank } from '../../gpu-bridge/sim/promptBank.ts';

const sigma = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * A hand-made bank: q0 has b = 0.25 in category 1, q1 has b = 1.0 in category 0; s = 2, δ = ln 2;
 * θ0 = 0.5, θ = [0, 0.25], φ = ln 3. So for q0: z = 2·(0.5 + 0.25 − 0.25) = 1, p = σ(1) = 0.7310585786;
 * correct answers stop with κ1 = σ(−ln 3) = 1/4, wrong ones with κ0 = σ(−ln 6) = 1/7.
 */
async function handSim(extra: Partial<SimConfig> = {}, lr = 0.1): Promise<SimWorker> {
  const sim = new SimWorker();
  await sim.request('init', {
    seed: 1,
    kind: 'sim',
    sim: {
      latentDifficulty: [0.25, 1.0],
      categories: [1, 0],
      numCategories: 2,
      slope: 2,
      wrongLengthDelta: Math.log(2),
      theta0: 0.5,
      thetaCategory: [0, 0.25],
      phi: Math.log(3),
      optimizer: 'sgd',
      ...extra,
    },
    optim: { lr },
  });
  return sim;
}

/** A sim row as the protocol carries it. */
function simRow(q: number, correct: boolean, length: number, eos: boolean) {
  return { promptTokens: i32ToBin(Int32Array.of(q)), tokens: i32ToBin(Int32Array.of(correct ? 1 : 0, length, eos ? 1 : 0)) };
}

interface Sample {
  promptTokens: Buffer;
  tokens: Buffer;
  logprobs: Buffer;
  correct: boolean;
  length: number;
  logprob: number;
  finish: string;
  text: string;
}
function samplesOf(r: JobResult): Sample[] {
  return (r.groups as { samples: Sample[] }[]).flatMap((g) => g.samples);
}

describe('score gives exact log-probs and importance ratios', () => {
  it('matches the hand computation for two rows, before and after a parameter change', async () => {
    const sim = await handSim();
    const rows = [simRow(0, true, 3, true), simRow(0, false, 4, false)];
    const before = await sim.request('score', { rows, temperature: 1 });
    const sums = before.sums as number[];
    // correct, eos at 3: ln σ(1) + ln(¼·(¾)²) = −0.3132616875 + ln 0.140625 (−1.9616585060) = −2.2749201935
    expect(sums[0]).toBeCloseTo(-2.274920193541675, 13);
    // wrong, truncated at 4: ln(1 − σ(1)) + 4·ln(6/7) = −1.3132616875 + 4·(−0.1541506798) = −1.9298644068
    expect(sums[1]).toBeCloseTo(-1.9298644068272561, 13);
    const split = binToF32((before.logprobs as Buffer[])[0]);
    expect(split.length).toBe(3); // one entry per synthetic token
    expect(split[0]).toBeCloseTo(-0.3132616875182228, 6);
    expect(split[1]).toBeCloseTo(-1.9616585060234524, 6);
    expect(split[2]).toBe(0);

    sim.setParams({ theta0: 1, phi: 0 });
    const after = (await sim.request('score', { rows, temperature: 1 })).sums as number[];
    // now z = 2·(1 + 0.25 − 0.25) = 2 and κ1 = σ(0) = ½, κ0 = σ(−ln 2) = ⅓:
    // correct eos 3: [σ(2)·(½·¼)] / [σ(1)·(¼·(¾)²)] = (0.8807970780·0.125)/(0.7310585786·0.140625)
    //               = 0.1100996347/0.1028051126 = 1.0709548576
    expect(Math.exp(after[0] - sums[0])).toBeCloseTo(1.0709548576087333, 12);
    // wrong trunc 4: [(1 − σ(2))·(⅔)^4] / [(1 − σ(1))·(6/7)^4] = (0.1192029220·0.1975308642)/(0.2689414214·0.5397750937)
    //               = 0.0235462562/0.1451678209 = 0.1622001785
    expect(Math.exp(after[1] - sums[1])).toBeCloseTo(0.16220017852592591, 12);
  });

  it('exp(score − behaviour) of sampled rows is the analytic ratio, for every (correct, length, finish)', async () => {
    const sim = await handSim();
    const ro = await sim.request('rollout', { prompts: [{ promptId: 'q0', text: '', n: 300 }], temperature: 1, maxTokens: 4, seed: 5 });
    const samples = samplesOf(ro);
    sim.setParams({ theta0: 1, phi: 0 });
    const sums = (await sim.request('score', { rows: samples.map((s) => ({ promptTokens: s.promptTokens, tokens: s.tokens })), temperature: 1 })).sums as number[];
    const seen = new Set<string>();
    samples.forEach((s, i) => {
      const t = binToI32(s.tokens);
      const [c, L, eos] = [t[0], t[1], t[2]];
      expect(c === 1).toBe(s.correct);
      expect(L).toBe(s.length);
      expect(eos === 1 ? 'eos' : 'length').toBe(s.finish);
      seen.add(`${c}${eos}`);
      // P_new/P_old of the correctness: σ(2)/σ(1) or (1 − σ(2))/(1 − σ(1))
      const rc = c ? sigma(2) / sigma(1) : (1 - sigma(2)) / (1 - sigma(1));
      // length: κ = ½ (new, correct) vs ¼ (old); ⅓ vs 1/7 when wrong
      const [kn, ko] = c ? [1 / 2, 1 / 4] : [1 / 3, 1 / 7];
      const rl = eos ? (kn * (1 - kn) ** (L - 1)) / (ko * (1 - ko) ** (L - 1)) : (1 - kn) ** L / (1 - ko) ** L;
      expect(Math.exp(sums[i] - s.logprob)).toBeCloseTo(rc * rl, 12);
      // and the behaviour log-prob is the float64 sum of the float32 split
      const lp = binToF32(s.logprobs);
      expect(lp[0] + lp[1] + lp[2]).toBeCloseTo(s.logprob, 5);
    });
    expect(seen).toEqual(new Set(['11', '10', '01', '00'])); // all four kinds of row occurred
  });
});

describe('update', () => {
  async function onPolicyRows(sim: SimWorker, rows: ReturnType<typeof simRow>[], advantage: number) {
    const sc = await sim.request('score', { rows, temperature: 1 });
    return rows.map((r, i) => ({ ...r, oldLogprobs: (sc.logprobs as Buffer[])[i], advantage, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: -1, truncated: false }));
  }

  it('positive advantage on correct rows raises θ0 and θ_c by the hand-computed SGD step', async () => {
    const sim = await handSim();
    const p0 = sim.oracle.passRate(0);
    const rows = await onPolicyRows(sim, [0, 1, 2, 3].map(() => simRow(0, true, 3, true)), 1);
    const res = await sim.request('update', { rows, aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 });
    expect(res.policyVersion).toBe(1);
    expect(res.tokens).toBe(12);
    // token-mean over 4 identical rows = one row: ∂loss/∂θ0 = −A·ρ·(1 − p)·s = −(1 − 0.7310585786)·2 = −0.5378828427
    // SGD, lr 0.1: θ0 = 0.5 + 0.05378828427 = 0.5537882843; θ_1 (q0's category) = 0.25 + 0.05378828427
    // φ: ∂loss/∂φ = −(L·κ − 1) = −(3/4 − 1) = 0.25 → φ = ln 3 − 0.025 = 1.0736122887
    const p = sim.params;
    expect(p.theta0).toBeCloseTo(0.5537882842739991, 6);
    expect(p.thetaCategory[1]).toBeCloseTo(0.3037882842739991, 6);
    expect(p.thetaCategory[0]).toBe(0); // the other category gets no gradient
    expect(p.phi).toBeCloseTo(1.0736122886681099, 6);
    expect(sim.oracle.passRate(0)).toBeGreaterThan(p0);
  });

  it('negative advantage on correct rows lowers θ', async () => {
    const sim = await handSim();
    const rows = await onPolicyRows(sim, [simRow(0, true, 3, true)], -1);
    await sim.request('update', { rows, aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 });
    // mirror image of the step above: θ0 = 0.5 − 0.05378828427
    expect(sim.params.theta0).toBeCloseTo(0.5 - 0.0537882842739991, 6);
    expect(sim.params.thetaCategory[1]).toBeCloseTo(0.25 - 0.0537882842739991, 6);
  });

  it('rows outside the clip bounds on the clipped side give no gradient; the other side does', async () => {
    const cases: [number, number, number, boolean][] = [
      // [log ratio, advantage, expected per-token loss, clipped?]
      [Math.log(2), 1, -1.28, true], //   ρ = 2 > 1.28, A > 0: max(−2, −1.28) = −1.28, constant → no gradient
      [Math.log(0.5), -1, 0.8, true], //  ρ = ½ < 0.8, A < 0: max(0.5, 0.8) = 0.8, constant → no gradient
      [Math.log(2), -1, 2, false], //     ρ = 2, A < 0: max(2, 1.28) = 2 = −A·ρ → gradient flows
      [Math.log(0.5), 1, -0.5, false], // ρ = ½, A > 0: max(−0.5, −0.8) = −0.5 = −A·ρ → gradient flows
    ];
    for (const [logRatio, A, loss, clipped] of cases) {
      const sim = await handSim();
      const before = sim.params;
      const [row] = await onPolicyRows(sim, [simRow(0, true, 3, true)], A);
      const lp = binToF32(row.oldLogprobs);
      row.oldLogprobs = f32ToBin(Float32Array.of(lp[0], lp[1] - logRatio, 0)); // behaviour = current − log ρ
      const res = await sim.request('update', { rows: [row], aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 });
      expect(res.loss).toBeCloseTo(loss, 5);
      expect(res.clipFrac).toBe(clipped ? 1 : 0);
      if (clipped) {
        expect(res.gradNorm).toBe(0);
        expect(sim.params).toEqual(before);
      } else {
        expect(res.gradNorm).toBeGreaterThan(0.1);
        expect(sim.params.theta0).not.toBe(before.theta0);
      }
    }
  });

  it('reports per-bin token-mean surrogates and the KL to the behaviour policy', async () => {
    const sim = await handSim();
    const rows = await onPolicyRows(sim, [simRow(0, true, 2, true), simRow(0, true, 6, true), simRow(1, false, 4, true)], 1);
    rows[0].bin = 3;
    rows[1].bin = 3;
    rows[1].advantage = -2;
    rows[2].bin = 5;
    const res = await sim.request('update', { rows, aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 });
    // ratio 1 (to float32 rounding): bin 3 = (2·(−1) + 6·2)/8 = 1.25; bin 5 = −1
    const bl = res.binLosses as Record<string, number>;
    expect(Object.keys(bl)).toEqual(['3', '5']);
    expect(bl['3']).toBeCloseTo(1.25, 5);
    expect(bl['5']).toBeCloseTo(-1, 5);
    expect(res.kl).toBeCloseTo(0, 10);
  });
});

describe('pipelined mode: the weights one update back', () => {
  it('a rollout or score naming the version before the last update runs on those weights; older ones are refused', async () => {
    const sim = await handSim();
    const roll = { prompts: [{ promptId: 'q0', n: 6 }, { promptId: 'q1', n: 6 }], temperature: 1, maxTokens: 8, seed: 9 };
    const before = await sim.request('rollout', roll, { id: 'r0' });
    const rows = [simRow(0, true, 3, true), simRow(1, false, 8, false)];
    const score0 = await sim.request('score', { rows, temperature: 1 }, { id: 's0' });
    const w0 = Float64Array.from(sim.weights);
    const upd = (id: string) =>
      sim.request('update', { rows: rows.map((r, i) => ({ ...r, oldLogprobs: (score0.logprobs as Buffer[])[i], advantage: i ? -1 : 1, clipLo: 0.8, clipHi: 1.28 })), aggregation: 'token-mean', temperature: 1 }, { id });
    expect((await upd('u1')).policyVersion).toBe(1);
    expect(Array.from(sim.weights)).not.toEqual(Array.from(w0));
    // version 0 named: the same samples and log-probs as before the update (new ids: no cached reply)
    const stale = await sim.request('rollout', { ...roll, policyVersion: 0 }, { id: 'r1' });
    expect(stale.policyVersion).toBe(0);
    expect(packBody(stale.groups as never)).toEqual(packBody(before.groups as never));
    const s0 = await sim.request('score', { rows, temperature: 1, policyVersion: 0 }, { id: 's1' });
    expect(s0.sums).toEqual(score0.sums);
    expect(Array.from(sim.weightsAt(0))).toEqual(Array.from(w0));
    // version 1 named is the current weights
    const s1 = await sim.request('score', { rows, temperature: 1, policyVersion: 1 }, { id: 's2' });
    expect(s1.sums).toEqual((await sim.request('score', { rows, temperature: 1 }, { id: 's3' })).sums);
    expect(s1.sums).not.toEqual(score0.sums);
    // two updates back: not held
    await upd('u2');
    await expect(sim.request('rollout', { ...roll, policyVersion: 0 }, { id: 'r2' })).rejects.toThrow(/policyVersion 0: the worker holds version 2 and 1/);
  });
});

describe('GRPO on the sim', () => {
  it('raises the expected accuracy (oracle) over 30 steps for 3 seeds', async () => {
    for (const seed of [1, 2, 3]) {
      const sim = new SimWorker();
      await sim.request('init', { seed, kind: 'sim', sim: { numPrompts: 400, numCategories: 4, distribution: 'uniform', phi: Math.log(50) }, optim: { lr: 0.05 } });
      const acc0 = sim.oracle.expectedAccuracy();
      const rng = new Prng({ seed, step: 0, purpose: 'test/select' });
      for (let step = 0; step < 30; step++) {
        const prompts = Array.from({ length: 16 }, () => ({ promptId: `q${rng.nextInt(400)}`, text: '', n: 8 }));
        const ro = await sim.request('rollout', { prompts, temperature: 1, maxTokens: 256, seed: 1000 * seed + step });
        const rows: Record<string, unknown>[] = [];
        for (const g of ro.groups as { samples: Sample[] }[]) {
          // group-normalised advantages: (r − mean)/(unbiased std + 1e-6)
          const r: number[] = g.samples.map((s) => (s.correct ? 1 : 0));
          const mean = r.reduce((a, b) => a + b, 0) / r.length;
          const std = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
          g.samples.forEach((s, i) =>
            rows.push({ promptTokens: s.promptTokens, tokens: s.tokens, oldLogprobs: s.logprobs, advantage: (r[i] - mean) / (std + 1e-6), clipLo: 0.8, clipHi: 1.28, weight: 1, bin: -1, truncated: s.finish === 'length' }),
          );
        }
        await sim.request('update', { rows, aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 });
      }
      const acc30 = sim.oracle.expectedAccuracy();
      expect(acc30).toBeGreaterThan(acc0 + 0.2); // observed ≈ 0.49 → 0.86 for these seeds
    }
  });
});

describe('determinism and the reply cache', () => {
  async function script(sim: SimWorker, seed: number): Promise<Buffer> {
    const out: Buffer[] = [];
    out.push(packBody(await sim.request('init', { seed, kind: 'sim', sim: { numPrompts: 50, numCategories: 3, distribution: 'bimodal' }, optim: { lr: 0.05 } })));
    const prompts = [0, 7, 7, 49].map((q) => ({ promptId: `p${q}`, text: '', n: 4 }));
    const ro = await sim.request('rollout', { prompts, temperature: 0.8, maxTokens: 300, seed: 9 });
    out.push(packBody(ro));
    const s = samplesOf(ro);
    out.push(packBody(await sim.request('score', { rows: s, temperature: 0.8 })));
    const rows = s.map((x, i) => ({ ...x, oldLogprobs: x.logprobs, advantage: (i % 3) - 1, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: i % 4, truncated: x.finish === 'length' }));
    out.push(packBody(await sim.request('update', { rows, aggregation: 'seq-mean-token-mean', entropyCoeff: 0.01, klCoeff: 0.02, temperature: 0.8 })));
    out.push(packBody(await sim.request('eval', { prompts, maxTokens: 100 })));
    out.push(packBody(await sim.request('entropy', { prompts, maxTokens: 64, temperature: 0.6, seed: 1 })));
    out.push(packBody(await sim.request('generate', { prompts, temperature: 1, maxTokens: 10, seed: 2 })));
    out.push(packBody(await sim.request('rollout', { prompts, temperature: 1, maxTokens: 300, seed: 10 })));
    return Buffer.concat(out);
  }

  it('same seed ⇒ byte-identical results; a different seed ⇒ different ones', async () => {
    const a = await script(new SimWorker(), 4);
    const b = await script(new SimWorker(), 4);
    expect(a.equals(b)).toBe(true);
    const c = await script(new SimWorker(), 5);
    expect(a.equals(c)).toBe(false);
  });

  it('results are the same through MessagePack (wire mode) as in process', async () => {
    const a = await script(new SimWorker(), 4);
    const w = await script(new SimWorker({ wire: true }), 4);
    expect(w.equals(a)).toBe(true);
  });

  it('a sample does not depend on the rest of the batch; a repeated prompt continues its stream', async () => {
    const sim = await handSim();
    const one = samplesOf(await sim.request('rollout', { prompts: [{ promptId: 'q0', text: '', n: 6 }], temperature: 1, maxTokens: 50, seed: 3 }));
    const mixed = samplesOf(
      await sim.request('rollout', { prompts: [{ promptId: 'q1', text: '', n: 2 }, { promptId: 'q0', text: '', n: 2 }, { promptId: 'q0', text: '', n: 4 }], temperature: 1, maxTokens: 50, seed: 3 }),
    );
    expect(mixed.slice(2).map((s) => s.tokens.toString('hex'))).toEqual(one.map((s) => s.tokens.toString('hex')));
  });

  it('answers a repeated id from the cache: an update is applied once', async () => {
    const sim = await handSim();
    const [row] = [simRow(0, true, 3, true)];
    const sc = await sim.request('score', { rows: [row], temperature: 1 });
    const args = { rows: [{ ...row, oldLogprobs: (sc.logprobs as Buffer[])[0], advantage: 1, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: -1, truncated: false }], aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 };
    const r1 = await sim.request('update', args, { id: 'upd-1' });
    const theta = sim.params.theta0;
    const r2 = await sim.request('update', args, { id: 'upd-1' });
    expect(r2).toBe(r1);
    expect(sim.policyVersion).toBe(1);
    expect(sim.params.theta0).toBe(theta);
    const r3 = await sim.request('update', args, { id: 'upd-2' });
    expect(r3.policyVersion).toBe(2);
    // error replies are cached too
    const e1 = await sim.request('rollout', {}, { id: 'bad' }).catch((e: WorkerJobError) => e.message);
    const e2 = await sim.request('rollout', { prompts: [], temperature: 1, maxTokens: 1, seed: 1 }, { id: 'bad' }).catch((e: WorkerJobError) => e.message);
    expect(e2).toBe(e1);
  });
});

describe('errors name the field at fault', () => {
  it('not_initialised, bad_request, unknown_job', async () => {
    const sim = new SimWorker();
    const e0 = (await sim.request('rollout', {}).catch((e) => e)) as WorkerJobError;
    expect(e0).toBeInstanceOf(WorkerJobError);
    expect(e0.code).toBe('not_initialised');
    await sim.request('init', { seed: 1, sim: { numPrompts: 10 } });
    const msg = async (job: string, args: Record<string, unknown>) => ((await sim.request(job, args).catch((e) => e)) as WorkerJobError).message;
    expect(await msg('rollout', { prompts: [{ promptId: 'q1', n: 2 }, { promptId: 'q2', n: 0 }], temperature: 1, maxTokens: 5, seed: 1 })).toContain(
      'args.prompts[1].n must be an integer ≥ 1, got 0',
    );
    expect(await msg('rollout', { prompts: [{ promptId: 'q10', n: 1 }], temperature: 1, maxTokens: 5, seed: 1 })).toContain(
      'promptId "q10" does not end in a prompt index < 10',
    );
    expect(await msg('score', { rows: [{ promptTokens: i32ToBin(Int32Array.of(1)), tokens: i32ToBin(Int32Array.of(5, 6)) }], temperature: 1 })).toContain(
      'args.rows[0].tokens must be [correct 0|1, length ≥ 1, eos 0|1]',
    );
    expect(await msg('update', { rows: [], aggregation: 'mean' })).toContain('args.aggregation must be');
    expect(await msg('init', { seed: 1, sim: { numPrompts: 10, thetaCategory: [1, 2] } })).toContain('args.sim.thetaCategory must have 4 entries');
    const unk = (await sim.request('teleport', {}).catch((e) => e)) as WorkerJobError;
    expect(unk.code).toBe('unknown_job');
  });

  it('maps prompt ids through sim.promptIds when given', async () => {
    const sim = new SimWorker();
    await sim.request('init', { seed: 1, sim: { numPrompts: 3, promptIds: ['alpha', 'beta', 'gamma'] } });
    expect(sim.promptIndex('gamma')).toBe(2);
    expect(sim.oracle.passRateOf('beta')).toBe(sim.oracle.passRate(1));
    await expect(sim.request('eval', { prompts: [{ promptId: 'delta' }], maxTokens: 5 })).rejects.toThrow('unknown promptId "delta"');
  });
});

describe('oracle, eval and entropy on the hand bank', () => {
  it('gives the hand-computed values', async () => {
    const sim = await handSim();
    expect(sim.oracle.passRate(0)).toBeCloseTo(0.7310585786300049, 14); // σ(1)
    expect(sim.oracle.failureRate(0)).toBeCloseTo(0.2689414213699951, 14);
    // q1: z = 2·(0.5 + 0 − 1) = −1 → σ(−1) = 0.2689414214
    expect(sim.oracle.passRate(1)).toBeCloseTo(0.2689414213699951, 14);
    expect(sim.oracle.expectedAccuracy()).toBeCloseTo(0.5, 14); // (σ(1) + σ(−1))/2 = ½
    expect(sim.oracle.expectedAccuracy([0, 0, 1])).toBeCloseTo((2 * 0.7310585786300049 + 0.2689414213699951) / 3, 14);
    // E[len | T = 4] = p·(1 − ¾⁴)/¼ + (1 − p)·(1 − (6/7)⁴)·7 = 0.7310585786·2.734375 + 0.2689414214·3.2215743440 = 2.8654030841
    expect(sim.oracle.expectedLength(0, 4)).toBeCloseTo(2.8654030840721623, 12);
    const ev = await sim.request('eval', { prompts: [{ promptId: 'q0' }, { promptId: 'q1' }], maxTokens: 4 });
    // greedy: q0 likelier correct, length round(2.734375) = 3; q1 likelier wrong, round(3.2215743) = 3
    expect(ev).toEqual({ texts: ['correct', 'wrong'], lengths: [3, 3] });
    // e = H(σ(1)) + σ(1)·H(¼) + (1 − σ(1))·H(1/7) = 1.1036003060 (see simPolicy test)
    const en = await sim.request('entropy', { prompts: [{ promptId: 'q0' }], maxTokens: 64, temperature: 1, seed: 0 });
    expect((en.entropy as number[])[0]).toBeCloseTo(1.103600305994456, 12);
  });

  it('rollout frequencies agree with the oracle pass rate', async () => {
    const sim = await handSim();
    const s = samplesOf(await sim.request('rollout', { prompts: [{ promptId: 'q0', text: '', n: 4000 }], temperature: 1, maxTokens: 100, seed: 21 }));
    const p = sim.oracle.passRate(0);
    const freq = s.filter((x) => x.correct).length / s.length;
    expect(Math.abs(freq - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / s.length));
    expect(s.every((x) => x.text === (x.correct ? 'correct' : 'wrong'))).toBe(true);
  });
});

describe('the sim as its own judge', () => {
  it('answers a judge instruction with its pass rate, off by at most ±0.15, as two decimals (hand values)', async () => {
    expect(judgeReply(0.7, 0.5)).toBe('0.70'); // 0.7 + 0.15·(2·0.5 − 1) = 0.7
    expect(judgeReply(0.7, 0)).toBe('0.55'); // 0.7 − 0.15
    expect(judgeReply(0.95, 0.9)).toBe('1.00'); // 0.95 + 0.15·0.8 = 1.07, clipped
    expect(judgeReply(0.05, 0.1)).toBe('0.00'); // 0.05 − 0.12 = −0.07, clipped
    const sim = await handSim();
    const ask = (system?: string) => sim.request('generate', { prompts: [{ promptId: 'q0', text: 'x', ...(system ? { system } : {}) }, { promptId: 'q1', text: 'y', ...(system ? { system } : {}) }], temperature: 1, maxTokens: 8, seed: 3 });
    const judged = (await ask('How likely can you solve this? Answer with a probability.')).texts as string[];
    // q0 passes with σ(1) = 0.7311, q1 with σ(−1) = 0.2689 (hand bank above)
    expect(Math.abs(Number(judged[0]) - 0.7310585786300049)).toBeLessThanOrEqual(0.15 + 0.005);
    expect(Math.abs(Number(judged[1]) - 0.2689414213699951)).toBeLessThanOrEqual(0.15 + 0.005);
    const plain = (await ask()).texts as string[];
    expect(plain.every((t) => t === 'correct' || t === 'wrong')).toBe(true);
  });
});

describe('prompt bank', () => {
  const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length;

  it('difficulty distributions have the hand-computed means on [−3, 3]', () => {
    const n = 20000;
    // uniform: E[b] = 0; skewed-easy x = u²: E[x] = ⅓ → −3 + 6/3 = −1; skewed-hard x = 1 − u²: → +1;
    // bimodal: modes at 0.2 and 0.8 of the range, equal weight → E[b] = 0
    expect(mean(new PromptBank(3, { numPrompts: n, distribution: 'uniform' }).base)).toBeCloseTo(0, 1);
    expect(mean(new PromptBank(3, { numPrompts: n, distribution: 'skewed-easy' }).base)).toBeCloseTo(-1, 1);
    expect(mean(new PromptBank(3, { numPrompts: n, distribution: 'skewed-hard' }).base)).toBeCloseTo(1, 1);
    const bi = new PromptBank(3, { numPrompts: n, distribution: 'bimodal' }).base;
    expect(mean(bi)).toBeCloseTo(0, 1);
    // modes ± 0.15 of the range: x ∈ [0.05, 0.35] ∪ [0.65, 0.95] → b ∉ (−0.9, 0.9)
    expect(bi.every((b) => b <= -0.9 || b >= 0.9)).toBe(true);
    const lo = bi.filter((b) => b < 0).length / n;
    expect(Math.abs(lo - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / n));
  });

  it('categories are uniform-ish and prompt q does not depend on the bank size', () => {
    const small = new PromptBank(8, { numPrompts: 100, numCategories: 5 });
    const big = new PromptBank(8, { numPrompts: 10000, numCategories: 5 });
    expect(Array.from(big.base.subarray(0, 100))).toEqual(Array.from(small.base));
    expect(Array.from(big.category.subarray(0, 100))).toEqual(Array.from(small.category));
    for (let c = 0; c < 5; c++) {
      const f = big.category.filter((x) => x === c).length / 10000;
      expect(Math.abs(f - 0.2)).toBeLessThan(4 * Math.sqrt(0.16 / 10000));
    }
  });

  it('shifts change the difficulty of their subset from their version on', async () => {
    const sim = new SimWorker();
    await sim.request('init', {
      seed: 2,
      sim: { numPrompts: 10000, numCategories: 2, shifts: [{ atVersion: 2, delta: 1.5, categories: [0] }, { atVersion: 1, delta: -1, fraction: 0.3 }] },
      optim: { lr: 0.05 },
    });
    const bank = sim.bank;
    const v0 = Float64Array.from(bank.difficultiesAt(0));
    expect(Array.from(v0)).toEqual(Array.from(bank.base));
    const v2 = bank.difficultiesAt(2);
    let inFrac = 0;
    for (let q = 0; q < bank.n; q++) {
      const f = bank.inShift(1, q);
      if (f) inFrac++;
      // b(v=2) = b + 1.5·[category 0] − 1·[in the 30% subset]
      expect(v2[q]).toBeCloseTo(bank.base[q] + (bank.category[q] === 0 ? 1.5 : 0) - (f ? 1 : 0), 12);
      expect(bank.difficultyAt(q, 2)).toBe(v2[q]);
    }
    expect(Math.abs(inFrac / bank.n - 0.3)).toBeLessThan(4 * Math.sqrt(0.21 / bank.n));

    // the sim's clock is its policy version: two zero-advantage updates (no parameter change) move it to 2
    const q = [...Array(bank.n).keys()].find((i) => bank.category[i] === 0 && !bank.inShift(1, i))!;
    const p0 = sim.oracle.passRate(q);
    const ro = await sim.request('rollout', { prompts: [{ promptId: `q${q}`, text: '', n: 2 }], temperature: 1, maxTokens: 50, seed: 1 });
    const rows = samplesOf(ro).map((s) => ({ ...s, oldLogprobs: s.logprobs, advantage: 0, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: -1, truncated: s.finish === 'length' }));
    for (let i = 0; i < 2; i++) await sim.request('update', { rows, aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 });
    expect(sim.policyVersion).toBe(2);
    // θ unchanged (zero gradient); b rose by 1.5, so the pass rate is σ(logit(p0) − 1.5)
    const logit = Math.log(p0 / (1 - p0));
    expect(sim.oracle.passRate(q)).toBeCloseTo(sigma(logit - 1.5), 12);
    expect(sim.oracle.passRate(q, { version: 0 })).toBeCloseTo(p0, 14);
  });

  it('holds 1M prompts in typed arrays', async () => {
    const sim = new SimWorker();
    await sim.request('init', { seed: 1, sim: { numPrompts: 1_000_000, numCategories: 16, distribution: 'skewed-hard' } });
    const rates = sim.oracle.passRates();
    expect(rates.length).toBe(1_000_000);
    const m = rates.reduce((a, b) => a + b, 0) / rates.length;
    expect(sim.oracle.expectedAccuracy()).toBeCloseTo(m, 12);
    expect(m).toBeLessThan(0.5); // skewed-hard at θ = 0
    const ro = await sim.request('rollout', { prompts: [{ promptId: 'q999999', text: '', n: 3 }], temperature: 1, maxTokens: 64, seed: 1 });
    expect(binToI32(samplesOf(ro)[0].promptTokens)[0]).toBe(999999);
  });
});

describe('sim reply cache (docs/worker-protocol.md, Idempotency)', () => {
  it('keeps read-only replies within the byte budget (never fewer than 64) and an update reply since the last save', async () => {
    const sim = new SimWorker({ cacheBytes: 50_000 });
    await sim.request('init', { seed: 1, kind: 'sim', sim: { numPrompts: 50, numCategories: 2, distribution: 'uniform' }, optim: { lr: 0.05 } }, { id: 'init' });
    const prompts = Array.from({ length: 8 }, (_, i) => ({ promptId: `q${i}`, text: '', n: 8 }));
    const ro = await sim.request('rollout', { prompts, temperature: 1, maxTokens: 64, seed: 1 }, { id: 'ro-0' });
    const rows = (ro.groups as { samples: Sample[] }[]).flatMap((g) =>
      g.samples.map((x) => ({ promptTokens: x.promptTokens, tokens: x.tokens, oldLogprobs: x.logprobs, advantage: x.correct ? 1 : -1, clipLo: 0.8, clipHi: 1.28, weight: 1, bin: -1, truncated: x.finish === 'length' })),
    );
    const update = { rows, aggregation: 'token-mean', entropyCoeff: 0, klCoeff: 0, temperature: 1 };
    await sim.request('update', update, { id: 'up-1' });
    const acc = sim.oracle.expectedAccuracy();
    for (let i = 1; i < 300; i++) await sim.request('rollout', { prompts, temperature: 1, maxTokens: 64, seed: 1 + i }, { id: `ro-${i}` });
    const c = sim.replyCache();
    expect(c.readOnly).toBeGreaterThanOrEqual(64);
    expect(c.readOnly).toBeLessThan(300);
    expect(c.readOnlyBytes <= 50_000 || c.readOnly === 64).toBe(true);
    // the update is answered from the cache, not applied a second time
    await sim.request('update', update, { id: 'up-1' });
    expect(sim.oracle.expectedAccuracy()).toBe(acc);
    expect(c.entries - c.readOnly).toBe(2); // init and the update
  });
});
