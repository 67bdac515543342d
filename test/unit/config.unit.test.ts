/**
 * Configuration resolution (DESIGN §11, events/config.ts): precedence defaults < preset < scenario < --set,
 * the DARE README aliases (dare-reference §0.1), and errors that name the key at fault.
 */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { ALIASES, ConfigError, ConfigSchema, DEFAULTS, PRESETS, parseSet, resolveConfig, type RunConfig } from '../../events/config.ts';
import { initArgs } from '../../gpu-bridge/workerFactory.ts';

/** key → value for every leaf of a (partial) configuration. */
function leaves(o: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (x: unknown, p: string) => {
    if (typeof x === 'object' && x !== null && !Array.isArray(x)) {
      for (const [k, v] of Object.entries(x)) walk(v, p ? `${p}.${k}` : k);
    } else out.set(p, x);
  };
  walk(o, prefix);
  return out;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError, got none');
}

describe('resolveConfig precedence: defaults < preset < scenario < --set', () => {
  it('no scenario: the defaults under the dare preset, method dare', () => {
    const cfg = resolveConfig(undefined);
    expect(cfg.method).toBe('dare');
    // the dare preset sets its keys; every other key is the default
    expect(cfg.learner.sigma).toBe(0.25);
    expect(cfg.sampler.coldMass).toBe('balanced');
    expect(resolveConfig({ method: 'dare-reference' }).learner.sigma).toBe(0.5);
    expect({ ...cfg, run: DEFAULTS.run, estimator: DEFAULTS.estimator, sampler: DEFAULTS.sampler, learner: DEFAULTS.learner }).toEqual(DEFAULTS);
  });

  it('each layer overrides the one below it, key by key', () => {
    // default learner.sigma 0.5 (dare-reference keeps it); the grpo preset sets 1; the scenario 0.25; --set 0.75
    expect(resolveConfig({ method: 'dare-reference' }).learner.sigma).toBe(0.5);
    expect(resolveConfig({ method: 'grpo' }).learner.sigma).toBe(1);
    expect(resolveConfig({ method: 'grpo', learner: { sigma: 0.25 } }).learner.sigma).toBe(0.25);
    const all = resolveConfig({ method: 'grpo', learner: { sigma: 0.25 } }, ['learner.sigma=0.75']);
    expect(all.learner.sigma).toBe(0.75);
    // untouched keys of the same group keep their lower layer: preset's lambdaEasy 0, default bufferSize 512
    expect(all.learner.lambdaEasy).toBe(0);
    expect(all.learner.bufferSize).toBe(512);
    // the scenario overrides a preset key (grpo: sampler.method uniform)
    expect(resolveConfig({ method: 'grpo', sampler: { method: 'beta' } }).sampler.method).toBe('beta');
  });

  it('later --set wins over earlier; --set method picks the preset over the scenario\'s', () => {
    expect(resolveConfig({}, ['run.steps=7', 'run.steps=9']).run.steps).toBe(9);
    // scenario says grpo, --set says dapo: the dapo preset applies (entropyCoeff 0, overlongCache 4), not grpo's
    const cfg = resolveConfig({ method: 'grpo' }, ['method=dapo']);
    expect(cfg.method).toBe('dapo');
    expect(cfg.learner.overlongCache).toBe(4);
    expect(cfg.learner.clipMode).toBe('dapo'); // grpo would give 'global'
    // but the scenario's own keys still sit above the (now dapo) preset
    expect(resolveConfig({ method: 'grpo', learner: { clipMode: 'paper' } }, ['method=dapo']).learner.clipMode).toBe('paper');
  });

  it('scenario metadata (name, description) is not configuration', () => {
    const cfg = resolveConfig({ name: 'demo', description: 'a scenario', run: { steps: 3 } });
    expect(cfg.run.steps).toBe(3);
    expect('name' in cfg || 'description' in cfg).toBe(false);
  });

  it('--set parses numbers, integers, booleans and strings by the schema', () => {
    const cfg = resolveConfig({}, ['run.seed=42', 'learner.daro=true', 'worker.device=cpu', 'learner.lambdaEasy=2e-4']);
    expect(cfg.run.seed).toBe(42);
    expect(cfg.learner.daro).toBe(true);
    expect(cfg.worker.device).toBe('cpu');
    expect(cfg.learner.lambdaEasy).toBe(2e-4);
    expect(parseSet(' run.steps = 5 ')).toEqual({ run: { steps: 5 } });
  });
});

describe('README aliases', () => {
  it('IS_CLIP_RANGE, IS_ESS_THRESHOLD, BETA_KAPPA, SIGMA set our keys unchanged', () => {
    expect(parseSet('IS_CLIP_RANGE=3')).toEqual({ estimator: { clip: 3 } });
    const cfg = resolveConfig({}, ['IS_CLIP_RANGE=3', 'IS_ESS_THRESHOLD=1.5', 'BETA_KAPPA=20', 'SIGMA=0.25']);
    expect(cfg.estimator.clip).toBe(3);
    expect(cfg.estimator.essThreshold).toBe(1.5);
    expect(cfg.sampler.kappa).toBe(20);
    expect(cfg.learner.sigma).toBe(0.25);
  });

  it('README thresholds are already failure rates: EASY_THRESHOLD 0.3, HARD_LENGTH_THRESHOLD 0.8 pass through', () => {
    const cfg = resolveConfig({}, ['EASY_THRESHOLD=0.2', 'HARD_LENGTH_THRESHOLD=0.9']);
    expect(cfg.sampler.dEasy).toBe(0.2);
    expect(cfg.sampler.dHard).toBe(0.9);
  });

  it('IS_DEFAULT_LABEL is a success rate and becomes a failure rate: 0.7 → 1 − 0.7 = 0.3', () => {
    expect(resolveConfig({}, ['IS_DEFAULT_LABEL=0.7']).estimator.coldStartDifficulty).toBeCloseTo(0.3, 15);
    expect(resolveConfig({}, ['IS_DEFAULT_LABEL=1']).estimator.coldStartDifficulty).toBe(0);
  });

  it('every alias names a real leaf key, and a later alias and key override each other in order', () => {
    for (const [alias, { key }] of Object.entries(ALIASES)) {
      expect(leaves(DEFAULTS).has(key), `${alias} → ${key}`).toBe(true);
    }
    expect(resolveConfig({}, ['BETA_KAPPA=20', 'sampler.kappa=30']).sampler.kappa).toBe(30);
    expect(resolveConfig({}, ['sampler.kappa=30', 'BETA_KAPPA=20']).sampler.kappa).toBe(20);
  });
});

describe('errors name the key at fault', () => {
  it('unknown key at any depth, in the scenario or in --set', () => {
    expect(errorOf(() => resolveConfig({ sped: 1 }))).toBe('unknown configuration key "sped"');
    expect(errorOf(() => resolveConfig({ learner: { sigmaa: 1 } }))).toBe('unknown configuration key "learner.sigmaa"');
    expect(errorOf(() => resolveConfig({}, ['learner.sigmaa=1']))).toMatch(/unknown configuration key "learner\.sigmaa"/);
    expect(errorOf(() => resolveConfig({}, ['learner.sigma.x=1']))).toMatch(/unknown configuration key "learner\.sigma\.x"/);
    expect(errorOf(() => resolveConfig({}, ['IS_TOKEN_CLIP_EPSILON=0.2']))).toMatch(/"IS_TOKEN_CLIP_EPSILON"/); // not implemented in REF
    // a group is not a settable leaf
    expect(errorOf(() => resolveConfig({}, ['learner=1']))).toMatch(/unknown configuration key "learner"/);
    expect(errorOf(() => resolveConfig({}, ['learner.sigma']))).toMatch(/expected key=value/);
  });

  it('wrong type or out of range', () => {
    expect(errorOf(() => resolveConfig({ run: { steps: 'ten' } }))).toMatch(/^configuration key "run\.steps": /);
    expect(errorOf(() => resolveConfig({ run: { steps: 1.5 } }))).toMatch(/^configuration key "run\.steps": .*integer/);
    expect(errorOf(() => resolveConfig({ run: 3 }))).toMatch(/^configuration key "run": /);
    expect(errorOf(() => resolveConfig({ sampler: { peak: 1.5 } }))).toMatch(/^configuration key "sampler\.peak": /);
    expect(errorOf(() => resolveConfig({ sampler: { method: 'nope' } }))).toMatch(/^configuration key "sampler\.method": /);
    expect(errorOf(() => resolveConfig({ run: { seed: 2 ** 32 } }))).toMatch(/^configuration key "run\.seed": /);
    expect(errorOf(() => resolveConfig({}, ['run.steps=ten']))).toMatch(/"run\.steps" expects a number/);
    expect(errorOf(() => resolveConfig({}, ['learner.daro=yes']))).toMatch(/"learner\.daro" expects true or false/);
    expect(errorOf(() => resolveConfig({}, ['IS_CLIP_RANGE=-1']))).toMatch(/"estimator\.clip"/);
    expect(errorOf(() => resolveConfig([]))).toBe('configuration must be a JSON object');
  });

  it('unknown method, from the scenario or from --set', () => {
    expect(errorOf(() => resolveConfig({ method: 'ppo' }))).toMatch(/^unknown method "ppo" \(one of dare, /);
    expect(errorOf(() => resolveConfig({}, ['method=ppo']))).toMatch(/^unknown method "ppo"/);
  });

  it('cross-key rules: hf needs worker.model, file sources need task.path, dEasy ≤ dHard', () => {
    expect(errorOf(() => resolveConfig({ worker: { kind: 'hf' } }))).toMatch(/^worker\.model: /);
    expect(resolveConfig({ worker: { kind: 'hf', model: 'models/qwen' } }).worker.model).toBe('models/qwen');
    expect(errorOf(() => resolveConfig({}, ['task.source=jsonl']))).toMatch(/^task\.path: /);
    expect(errorOf(() => resolveConfig({}, ['EASY_THRESHOLD=0.9']))).toMatch(/sampler\.dEasy/); // 0.9 > dHard 0.8
  });

  it('worker.ranks: an integer in [1, 64], default 1, more than 1 only for a PyTorch worker', () => {
    expect(resolveConfig({}).worker.ranks).toBe(1);
    expect(resolveConfig({ worker: { kind: 'hf', model: 'm', ranks: 2 } }).worker.ranks).toBe(2);
    expect(initArgs(resolveConfig({ worker: { kind: 'hf', model: 'm', ranks: 2 } })).ranks).toBe(2); // the init arg
    expect(initArgs(resolveConfig({ worker: { kind: 'hf', model: 'm' } }))).not.toHaveProperty('ranks');
    expect(errorOf(() => resolveConfig({ worker: { ranks: 0 } }))).toMatch(/^configuration key "worker\.ranks": .*1/);
    expect(errorOf(() => resolveConfig({ worker: { ranks: 1.5 } }))).toMatch(/^configuration key "worker\.ranks": .*integer/);
    expect(errorOf(() => resolveConfig({ worker: { ranks: '2' } }))).toMatch(/^configuration key "worker\.ranks"/);
    expect(errorOf(() => resolveConfig({ worker: { kind: 'sim', ranks: 2 } }))).toMatch(/^worker\.ranks: 2 ranks need a PyTorch worker/);
  });
});

describe('presets', () => {
  it('every preset resolves to a valid configuration: its keys set, every other key at its default', () => {
    const defaults = leaves(DEFAULTS);
    expect(Object.keys(PRESETS)).toContain('dare');
    expect(Object.keys(PRESETS)).toContain('dare-reference');
    for (const [name, preset] of Object.entries(PRESETS)) {
      const cfg: RunConfig = resolveConfig({ method: name });
      expect(Value.Check(ConfigSchema, cfg), name).toBe(true);
      expect(cfg.method).toBe(name);
      const set = leaves(preset);
      for (const [key, value] of leaves(cfg)) {
        if (key === 'method') continue;
        expect(value, `${name}: ${key}`).toEqual(set.has(key) ? set.get(key) : defaults.get(key));
      }
    }
  });

  it('the reference preset follows the reference code (spec §14): global clip, reference buffer, 2·round(n·d)', () => {
    const cfg = resolveConfig({ method: 'dare-reference' });
    expect(cfg.learner.clipMode).toBe('global');
    expect(cfg.learner.bufferMode).toBe('reference');
    expect(cfg.sampler.tiers).toBe('reference');
    expect(cfg.learner.shaping).toBe('reference');
  });

  it('a configuration logged before the sim job durations existed resolves with them at 0 (replay reads RunStarted so)', () => {
    const logged = structuredClone(resolveConfig({ method: 'dare', worker: { kind: 'sim' }, task: { source: 'sim' } })) as unknown as { worker: Record<string, unknown> };
    for (const k of ['simRolloutMs', 'simScoreMs', 'simUpdateMs', 'simEvalMs']) delete logged.worker[k];
    const cfg = resolveConfig(logged);
    expect([cfg.worker.simRolloutMs, cfg.worker.simScoreMs, cfg.worker.simUpdateMs, cfg.worker.simEvalMs]).toEqual([0, 0, 0, 0]);
    expect(cfg).toEqual(resolveConfig({ method: 'dare', worker: { kind: 'sim' }, task: { source: 'sim' } }));
  });
});
