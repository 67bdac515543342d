/**
 * Estimator and sampler figures (issue: the algorithm): SNIS over 1M prompts × 8 buffered rows, and
 * selecting 1024 of 1M prompts without replacement from the symmetric Beta weights (log-weights + Gumbel
 * top-k). Median of several runs after one warm-up call; inputs generated outside the timed region.
 */
import { snisEstimate } from '../actors/estimator/snis.ts';
import { betaLogWeights } from '../actors/sampler/betaSampler.ts';
import { gumbelTopK } from '../actors/shared/gumbelTopK.ts';
import { Prng } from '../events/prng.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export function algorithmBench(opts: { prompts: number; rowsPerPrompt: number; select: number; repeats: number }): Record<string, number> {
  const { prompts, rowsPerPrompt, select, repeats } = opts;
  const n = prompts * rowsPerPrompt;
  const prng = new Prng({ seed: 1, step: 0, purpose: 'bench/snis' });
  const prompt = new Uint32Array(n);
  const mu = new Float64Array(n);
  const pi = new Float64Array(n);
  const reward = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    prompt[i] = Math.floor(i / rowsPerPrompt);
    const m = -50 - 200 * prng.nextFloat();
    mu[i] = m;
    pi[i] = m + 3 * prng.nextNormal();
    reward[i] = prng.nextFloat() < 0.4 ? 1 : 0;
  }
  const snis = () => snisEstimate({ prompt, behaviourLogProb: mu, currentLogProb: pi, reward }, { numPrompts: prompts, clip: 4, essThreshold: 2 });
  snis();
  const snisMs = median(Array.from({ length: repeats }, () => timeMs(snis)));

  const d = new Float64Array(prompts);
  for (let q = 0; q < prompts; q++) d[q] = prng.nextFloat();
  let step = 0;
  // what the sampler does per selection: the log-weights over every prompt, then the draw
  const sample = () => gumbelTopK(betaLogWeights(d, { kappa: 100 }), select, { seed: 1, step: step++, purpose: 'select' });
  sample();
  const betaMs = median(Array.from({ length: repeats }, () => timeMs(sample)));
  return {
    'estimator.snis.ms': Number(snisMs.toFixed(1)),
    'estimator.snis.rows': n,
    'sampler.beta.ms': Number(betaMs.toFixed(1)),
    'sampler.beta.prompts': prompts,
  };
}
