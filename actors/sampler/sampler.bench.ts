/**
 * Hand-run benchmark: draw 1024 of 1M prompts without replacement (Gumbel-top-k).
 *   npx tsx actors/sampler/sampler.bench.ts [prompts] [k] [repeats]
 * Two logit sets: uniform (all 0: every item's uniform must be computed — the worst case) and Beta κ=100
 * over random difficulties (most items are skipped by the heap bound). Median/min wall time of the draw
 * only (logit construction excluded). Not a test: no assertions.
 */
import { Prng } from '../../events/prng.ts';
import { betaLogWeights } from './betaSampler.ts';
import { gumbelTopK } from './gumbelTopK.ts';

const n = Number(process.argv[2] ?? 1_000_000);
const k = Number(process.argv[3] ?? 1024);
const repeats = Number(process.argv[4] ?? 9);

const prng = new Prng({ seed: 7, step: 0, purpose: 'bench/sampler' });
const d = new Float64Array(n);
for (let i = 0; i < n; i++) d[i] = prng.nextFloat();
const sets: Record<string, Float64Array> = {
  uniform: new Float64Array(n),
  'beta-k100': betaLogWeights(d, { kappa: 100 }),
};

for (const [name, logits] of Object.entries(sets)) {
  const times: number[] = [];
  let check = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    const res = gumbelTopK(logits, k, { seed: 1, step: r, purpose: 'select' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    check += res.indices[0];
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      bench: 'gumbelTopK',
      logits: name,
      n,
      k,
      repeats,
      firstMs: Number(times[0].toFixed(1)),
      medianMs: Number(sorted[Math.floor(sorted.length / 2)].toFixed(1)),
      minMs: Number(sorted[0].toFixed(1)),
      check,
    }),
  );
}
