/**
 * The pieces the `dare` preset is built from (issue 20), each against a hand-computed value: a logged
 * configuration replays with its own keys, the cold-start mass balancing of the Beta draw, the embedding
 * kernel, the learner's mixed-first replay, and the sampler alone (`dare select`).
 */
import { describe, expect, it } from 'vitest';
import { embeddingColdStart } from '../../actors/estimator/coldStart.ts';
import { replayMix } from '../../actors/learner/replayMix.ts';
import { inclusionFrequency, offlineSelect } from '../../actors/sampler/offline.ts';
import { stepDraw } from '../../actors/sampler/selection.ts';
import { balancedBetaLogits, betaLogits, coldFlags } from '../../actors/sampler/strategies/beta.ts';
import { LabelSource } from '../../actors/shared/labels.ts';
import { ConfigError, DEFAULTS, PRESETS, resolveConfig, resolveLoggedConfig } from '../../events/config.ts';

describe('a logged configuration replays with its own keys', () => {
  it('a key the log lacks takes its default, never the preset\'s value (a dare run logged before the preset set it)', () => {
    const now = resolveConfig({});
    const logged = structuredClone(now) as unknown as Record<string, Record<string, unknown>>;
    delete logged.sampler.coldMass;
    delete logged.estimator.coldStartReference;
    const cfg = resolveLoggedConfig(logged);
    expect(cfg.sampler.coldMass).toBe(DEFAULTS.sampler.coldMass);
    expect(cfg.estimator.coldStartReference).toBe(DEFAULTS.estimator.coldStartReference);
    // every key it has is kept as logged
    expect(cfg.sampler.betaEdge).toBe(now.sampler.betaEdge);
    expect(cfg.method).toBe('dare');
  });

  it('a complete logged configuration resolves to itself; an unknown key or method is a ConfigError', () => {
    for (const m of Object.keys(PRESETS)) {
      const c = resolveConfig({ method: m });
      expect(resolveLoggedConfig(structuredClone(c))).toEqual(c);
    }
    expect(() => resolveLoggedConfig({ method: 'dare', sampler: { kappaa: 1 } })).toThrow(ConfigError);
    expect(() => resolveLoggedConfig({ method: 'nope' })).toThrow(/unknown method/);
  });
});

describe('cold-start mass balancing of the Beta draw (dare-reference §6 step 4)', () => {
  it('hand case κ = 2: z = ln(a(1 − a)); one cold prompt against two estimated ones, budget 2 ⇒ ρ = 1, share ½', () => {
    const cfg = resolveConfig({ sampler: { kappa: 2, betaEdge: 'symmetric' } });
    const d = Float64Array.from([0.5, 0.5, 0.4]);
    const src = Uint8Array.from([LabelSource.ColdConstant, LabelSource.Snis, LabelSource.Snis]);
    const free = betaLogits(d, cfg);
    expect(free[0]).toBeCloseTo(Math.log(0.25), 12);
    expect(free[2]).toBeCloseTo(Math.log(0.24), 12);
    // target share 1/(1 + 1²) = ½: the cold logit becomes LSE of the others = ln(0.25 + 0.24)
    const z = balancedBetaLogits(d, src, 2, cfg);
    expect(z[0]).toBeCloseTo(Math.log(0.49), 12);
    expect(z[1]).toBe(free[1]);
    expect(z[2]).toBe(free[2]);
  });

  it('the cold sources are the constant, TF-IDF and embedding cold starts', () => {
    const src = Uint8Array.from([LabelSource.ColdConstant, LabelSource.ColdTfidf, LabelSource.ColdEmbedding, LabelSource.Snis, LabelSource.FallbackRaw, LabelSource.Reference]);
    expect([...coldFlags(src)]).toEqual([1, 1, 1, 0, 0, 0]);
  });
});

describe('the embedding cold start: the TF-IDF kernel over dense unit vectors', () => {
  it('hand case: e0 = (1, 0), e1 = (0, 1), e2 = (√½, √½), references 0 (d 0.2) and 1 (d 0.8), τ = 1', () => {
    const h = Math.SQRT1_2;
    const r = embeddingColdStart({ dim: 2, vectors: Float32Array.from([1, 0, 0, 1, h, h]) }, { prompt: Uint32Array.of(0, 1), difficulty: Float64Array.of(0.2, 0.8) }, { tau: 1 });
    // b0 = (e·0.2 + 1·0.8)/(e + 1) = 0.36135, b1 = 1 − b0 … mirrored, b2 = 0.5 (equal cosines)
    const w = Math.E / (Math.E + 1);
    expect(r.base[0]).toBeCloseTo(w * 0.2 + (1 - w) * 0.8, 6);
    expect(r.base[1]).toBeCloseTo((1 - w) * 0.2 + w * 0.8, 6);
    expect(r.base[2]).toBeCloseTo(0.5, 6);
    // OLS through the two reference points maps them onto their labels
    expect(r.fit.alpha).toBeCloseTo(0.6 / (r.base[1] - r.base[0]), 6);
    expect(r.difficulty[0]).toBeCloseTo(0.2, 6);
    expect(r.difficulty[1]).toBeCloseTo(0.8, 6);
    expect(r.difficulty[2]).toBeCloseTo(0.5, 6);
    expect([...r.source]).toEqual([LabelSource.ColdEmbedding, LabelSource.ColdEmbedding, LabelSource.ColdEmbedding]);
  });

  it('rows that are not of the stated dimension, or a reference outside the prompts, are errors', () => {
    expect(() => embeddingColdStart({ dim: 2, vectors: new Float32Array(3) }, { prompt: Uint32Array.of(0), difficulty: Float64Array.of(0) })).toThrow(/dimension/);
    expect(() => embeddingColdStart({ dim: 1, vectors: new Float32Array(2) }, { prompt: Uint32Array.of(2), difficulty: Float64Array.of(0) })).toThrow(/names prompt 2/);
  });
});

describe('mixed-first replay (learner.replayPriority = mixed)', () => {
  it('the groups that were mixed when generated are drawn before the all-right and all-wrong ones', () => {
    const candidates = [0, 0.5, 1, 0.25, 1, 0].map((s, i) => ({ groupId: `g${i}`, step: 1, realizedSuccess: s }));
    const m = replayMix({ seed: 1, step: 5, epoch: 1, batchSize: 4, sigma: 0.5, candidates, priorityRange: { dMin: 1e-9, dMax: 1 - 1e-9 } });
    expect(m.need).toBe(2);
    expect(new Set(m.chosen)).toEqual(new Set(['g1', 'g3']));
    expect(m.fromPriority).toBe(2);
  });
});

describe('the sampler alone (dare select)', () => {
  it('one draw is the sampler actor\'s per-step draw at that step, with its tiers and rollouts', () => {
    const cfg = resolveConfig({ method: 'dare-reference', run: { estimation: 'step' }, sampler: { kappa: 4 } });
    const d = Float64Array.from({ length: 40 }, (_, i) => (i + 0.5) / 40);
    const sel = offlineSelect({ difficulty: d, source: null }, cfg, 8, 3);
    const actor = stepDraw(d, betaLogits, 3, 0, { ...cfg, run: { ...cfg.run, batchSize: 8 } });
    expect([...sel.prompts]).toEqual([...actor.prompts].filter((q) => Math.round(8 * d[q]) > 0));
    // reference tiers: 2·round_half_even(8·d)
    sel.prompts.forEach((q, i) => expect(sel.rollouts[i]).toBe(2 * Math.round(8 * d[q])));
  });

  it('inclusion over trials: κ = 100 and the reference edges never draw d = 0; the paper tiers keep every pick', () => {
    const cfg = resolveConfig({ method: 'dare-reference', sampler: { tiers: 'paper' } });
    const inc = inclusionFrequency({ difficulty: Float64Array.of(0.5, 0, 0.5), source: null }, cfg, 2, 50);
    expect([...inc]).toEqual([1, 0, 1]);
  });
});
