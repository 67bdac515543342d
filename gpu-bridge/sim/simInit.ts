/**
 * The sim worker's `init` args: its configuration (SimConfig) and what they make of it, checked field by
 * field: the prompt bank, the policy's constants, the initial weights [θ0, θ_c…, φ], the optimiser settings
 * and the prompt-id index.
 */
import type { OptimConfig } from './optimizer.ts';
import { PromptBank, type PromptBankConfig } from './promptBank.ts';
import { arr, bad, map, num, str, uint } from './simArgs.ts';
import type { SimConstants } from './simPolicy.ts';

export interface SimConfig extends PromptBankConfig {
  /** Slope s of the correctness logit (default 1). */
  slope?: number;
  /** δ: wrong answers have η = φ + δ, i.e. longer when δ > 0 (default 0.5). */
  wrongLengthDelta?: number;
  /** Initial shared skill θ0 (default 0). */
  theta0?: number;
  /** Initial per-category skill θ_c: one number for all or one per category (default 0). */
  thetaCategory?: number | number[];
  /** Initial verbosity φ; the mean uncapped length of a correct answer is 1 + e^φ tokens (default ln 255). */
  phi?: number;
  optimizer?: 'adam' | 'sgd';
  /** Prompt ids in bank order (index = position). */
  promptIds?: string[];
}

/** A sim's state right after `init`. */
export interface SimInit {
  bank: PromptBank;
  constants: SimConstants;
  /** [θ0, θ_c for each category, φ] */
  weights: Float64Array;
  optimCfg: OptimConfig;
  /** bank index of each prompt id, when `sim.promptIds` gives them (else ids are mapped by their number) */
  idIndex: Map<string, number> | null;
}

/** The initial state a sim's `init` args (`seed`, `kind`, `sim`: SimConfig, `optim`) describe, every field checked. */
export function parseSimInit(a: Record<string, unknown>): SimInit {
  const seed = uint(a.seed, 'args.seed');
  if (a.kind !== undefined && a.kind !== 'sim') throw bad(`args.kind must be "sim" for the sim worker, got ${JSON.stringify(a.kind)}`);
  const cfg = (a.sim === undefined ? {} : map(a.sim, 'args.sim')) as SimConfig;
  let bank: PromptBank;
  try {
    bank = new PromptBank(seed, cfg);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const C = bank.numCategories;
  const k: SimConstants = {
    numCategories: C,
    slope: num(cfg.slope, 'args.sim.slope', 1),
    wrongLengthDelta: num(cfg.wrongLengthDelta, 'args.sim.wrongLengthDelta', 0.5),
  };
  if (!(k.slope > 0)) throw bad('args.sim.slope must be > 0');
  const w = new Float64Array(C + 2);
  w[0] = num(cfg.theta0, 'args.sim.theta0', 0);
  const tc = cfg.thetaCategory ?? 0;
  if (Array.isArray(tc)) {
    if (tc.length !== C) throw bad(`args.sim.thetaCategory must have ${C} entries, got ${tc.length}`);
    tc.forEach((t, c) => (w[1 + c] = num(t, `args.sim.thetaCategory[${c}]`)));
  } else {
    w.fill(num(tc, 'args.sim.thetaCategory'), 1, 1 + C);
  }
  w[C + 1] = num(cfg.phi, 'args.sim.phi', Math.log(255));

  const o = a.optim === undefined ? {} : map(a.optim, 'args.optim');
  const kind = cfg.optimizer ?? 'adam';
  if (kind !== 'adam' && kind !== 'sgd') throw bad(`args.sim.optimizer must be adam|sgd, got ${JSON.stringify(kind)}`);
  const optimCfg: OptimConfig = {
    kind,
    lr: num(o.lr, 'args.optim.lr', 0.05),
    weightDecay: num(o.weightDecay, 'args.optim.weightDecay', 0),
    beta1: num(o.beta1, 'args.optim.beta1', 0.9),
    beta2: num(o.beta2, 'args.optim.beta2', 0.999),
    eps: num(o.eps, 'args.optim.eps', 1e-8),
    gradClip: num(o.gradClip, 'args.optim.gradClip', 0),
  };

  let idIndex: Map<string, number> | null = null;
  if (cfg.promptIds !== undefined) {
    const ids = arr(cfg.promptIds, 'args.sim.promptIds');
    if (ids.length !== bank.n) throw bad(`args.sim.promptIds has ${ids.length} ids, the bank has ${bank.n} prompts`);
    idIndex = new Map();
    ids.forEach((id, i) => {
      const s = str(id, `args.sim.promptIds[${i}]`);
      if (idIndex!.has(s)) throw bad(`args.sim.promptIds[${i}] repeats ${JSON.stringify(s)}`);
      idIndex!.set(s, i);
    });
  }
  return { bank, constants: k, weights: w, optimCfg, idIndex };
}
