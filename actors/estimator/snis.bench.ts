/**
 * Hand-run benchmark: SNIS over 1M prompts × 8 rows (8M rows).
 *   npx tsx actors/estimator/snis.bench.ts [prompts] [rowsPerPrompt] [repeats] [clip]
 * Prints the first, median and min wall time of snisEstimate (input generation excluded; the first call
 * includes JIT warm-up). clip defaults to 4 (the fixed-shift path); clip > 150 or Infinity exercises the
 * per-prompt max-shift path. Not a test: no assertions.
 */
import { Prng } from '../../events/prng.ts';
import { snisEstimate } from './snis.ts';

const numPrompts = Number(process.argv[2] ?? 1_000_000);
const perPrompt = Number(process.argv[3] ?? 8);
const repeats = Number(process.argv[4] ?? 7);
const clip = Number(process.argv[5] ?? 4);
const n = numPrompts * perPrompt;

const prng = new Prng({ seed: 1, step: 0, purpose: 'bench/snis' });
const prompt = new Uint32Array(n);
const mu = new Float64Array(n);
const pi = new Float64Array(n);
const reward = new Uint8Array(n);
for (let i = 0; i < n; i++) {
  prompt[i] = Math.floor(i / perPrompt);
  const m = -50 - 200 * prng.nextFloat();
  mu[i] = m;
  pi[i] = m + 3 * prng.nextNormal();
  reward[i] = prng.nextFloat() < 0.4 ? 1 : 0;
}

const times: number[] = [];
let checksum = 0;
for (let r = 0; r < repeats; r++) {
  const t0 = process.hrtime.bigint();
  const res = snisEstimate(
    { prompt, behaviourLogProb: mu, currentLogProb: pi, reward },
    { numPrompts, clip, essThreshold: 2 },
  );
  const t1 = process.hrtime.bigint();
  times.push(Number(t1 - t0) / 1e6);
  checksum += res.diagnostics.meanEss;
}
const first = times[0];
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    bench: 'snisEstimate',
    prompts: numPrompts,
    rows: n,
    repeats,
    clip,
    firstMs: Number(first.toFixed(1)),
    medianMs: Number(times[Math.floor(times.length / 2)].toFixed(1)),
    minMs: Number(times[0].toFixed(1)),
    maxMs: Number(times[times.length - 1].toFixed(1)),
    checksum,
  }),
);
