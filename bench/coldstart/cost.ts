/**
 * What the dare preset's cold start costs a round on a real training set: the TF-IDF kernel over DeepScaleR's
 * 10,240 questions (data/deepscaler.parquet), with the buffer's estimates as the reference set capped at
 * estimator.coldStartReferenceMax (the preset's 256, ranked as round.ts ranks them). The estimated set grows by
 * `growth` prompts a round, as a run's buffer does. The first round pays for the corpus (idf, vectors, the
 * inverted index) and every reference's cosines; a later round only for the references new to it.
 */
import { join } from 'node:path';
import { tfidfColdStart } from '../../actors/estimator/coldStart.ts';
import { capReference } from '../../actors/estimator/round.ts';
import { loadVerlParquet } from '../../tasks/parquet.ts';

export async function coldStartCostBench(opts: { file: string; rounds: number; growth: number; cap: number }): Promise<Record<string, number>> {
  const texts = Object.freeze((await loadVerlParquet(opts.file)).rows.map((r) => r.question));
  const N = texts.length;
  const estimated = new Map<number, number>();
  const ms: number[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    // a spread of new prompts each round (7919 is prime to N's factors: no prompt twice until N)
    for (let k = 0; k < opts.growth; k++) {
      const q = ((round * opts.growth + k) * 7919) % N;
      estimated.set(q, (q * 0.37 + round * 0.01) % 1);
    }
    const ref = capReference([...estimated].sort((a, b) => a[0] - b[0]), opts.cap, 1);
    const t0 = process.hrtime.bigint();
    tfidfColdStart(texts, { prompt: Uint32Array.from(ref, ([q]) => q), difficulty: Float64Array.from(ref, ([, d]) => d) });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const later = ms.slice(1).sort((a, b) => a - b);
  return {
    'estimator.coldStart.firstRoundMs': Number(ms[0].toFixed(0)),
    'estimator.coldStart.roundMs': Number(later[Math.floor(later.length / 2)].toFixed(1)),
    'estimator.coldStart.prompts': N,
    'estimator.coldStart.references': Math.min(opts.cap, estimated.size),
  };
}

export const DEEPSCALER = join(import.meta.dirname, '..', '..', 'data', 'deepscaler.parquet');
