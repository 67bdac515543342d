/**
 * The cold starts against the truth: from a run's log, the prompts of the first `--steps` training steps
 * (measured by their fresh rollouts, the policy barely moved yet) are split by a seeded shuffle into a
 * reference half and a held-out half; each cold start predicts the held-out prompts' failure rates from the
 * reference half's measured ones, and the mean absolute error against the measured rates is printed:
 * the constant at the reference mean (what the kernels must beat), the hashed TF-IDF kernel and the
 * all-MiniLM-L6-v2 embedding kernel (needs `make setup-venv`), each at several temperatures. On the sim the
 * rollouts carry the true pass rate (oracleSuccess): the error against it is printed too (the measured rates
 * of a few rollouts are noisy; the truth is what a cold start should predict).
 *
 *   npx tsx bench/coldstart/measure.ts RUN_DIR [--steps 5] [--seed 1] [--json]
 */
import { embeddingColdStart, tfidfColdStart } from '../../actors/estimator/coldStart.ts';
import { Prng } from '../../events/prng.ts';
import { EventLog } from '../../store/eventLog.ts';
import { EmbeddingCache, pythonEmbedder } from '../../gpu-bridge/embedder.ts';

interface Args { dir: string; steps: number; seed: number; json: boolean }

function parse(argv: string[]): Args {
  const a: Args = { dir: '', steps: 5, seed: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--steps') a.steps = Number(argv[++i]);
    else if (argv[i] === '--seed') a.seed = Number(argv[++i]);
    else if (argv[i] === '--json') a.json = true;
    else a.dir = argv[i];
  }
  if (!a.dir) throw new Error('usage: npx tsx bench/coldstart/measure.ts RUN_DIR [--steps N] [--seed S] [--json]');
  return a;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const log = EventLog.open(`${a.dir}/log`, { readOnly: true });
  const measured = new Map<number, { fail: number; n: number; oracle: number }>();
  let count = 0;
  const texts: string[] = [];
  try {
    for (const l of log.iterate(1)) {
      const e = l.event;
      if (e.type === 'PromptsRegistered') count = e.data.count;
      if (e.type === 'RolloutCompleted' && e.data.purpose === 'train' && e.data.step <= a.steps) {
        // the first group's oracle: the policy's true failure rate when the prompt was first measured
        const m = measured.get(e.data.promptIndex) ?? { fail: 0, n: 0, oracle: e.data.oracleSuccess === null ? NaN : 1 - e.data.oracleSuccess };
        for (const r of e.data.reward) {
          m.n++;
          if (!(r > 0)) m.fail++;
        }
        measured.set(e.data.promptIndex, m);
      }
    }
    for (let q = 0; q < count; q++) texts.push((log.getPrompt(q) as { question?: string } | undefined)?.question ?? String(q));
  } finally {
    await log.close();
  }
  const ids = Uint32Array.from([...measured.keys()].sort((x, y) => x - y));
  const order = new Prng({ seed: a.seed, step: 0, purpose: 'coldstart/split' }).shuffle(ids) as Uint32Array;
  const half = Math.floor(order.length / 2);
  const ref = { prompt: order.slice(0, half), difficulty: Float64Array.from(order.slice(0, half), (q) => measured.get(q)!.fail / measured.get(q)!.n) };
  const held = order.slice(half);
  const truth = (q: number) => measured.get(q)!.fail / measured.get(q)!.n;
  const oracle = (q: number) => measured.get(q)!.oracle;
  const maeVs = (t: (q: number) => number) => (pred: (q: number) => number) => held.reduce((s, q) => s + Math.abs(Math.min(1, Math.max(0, pred(q))) - t(q)), 0) / held.length;
  const hasOracle = held.length > 0 && Number.isFinite(oracle(held[0]));
  const mae = (pred: (q: number) => number) => ({ mae: maeVs(truth)(pred), oracleMae: hasOracle ? maeVs(oracle)(pred) : NaN });
  const mean = ref.difficulty.reduce((s, x) => s + x, 0) / ref.difficulty.length;
  const rows: Array<{ coldStart: string; tau: number | null; mae: number; oracleMae: number }> = [
    { coldStart: 'constant 0.5', tau: null, ...mae(() => 0.5) },
    { coldStart: 'constant (reference mean)', tau: null, ...mae(() => mean) },
  ];
  for (const tau of [0.02, 0.05, 0.1]) {
    const t = tfidfColdStart(texts, ref, { tau });
    rows.push({ coldStart: 'tfidf', tau, ...mae((q) => t.difficulty[q]) });
  }
  let embedError = '';
  try {
    const cache = new EmbeddingCache();
    const r = await cache.embed(texts, pythonEmbedder()).finally(() => cache.close());
    for (const tau of [0.02, 0.05, 0.1]) {
      const e = embeddingColdStart({ dim: r.dim, vectors: r.vectors }, ref, { tau });
      rows.push({ coldStart: 'embedding', tau, ...mae((q) => e.difficulty[q]) });
    }
  } catch (e) {
    embedError = (e as Error).message;
  }
  const head = { run: a.dir, prompts: count, measured: ids.length, reference: half, heldOut: held.length, steps: a.steps, seed: a.seed, rolloutsPerPrompt: measured.get(ids[0])?.n };
  if (a.json) process.stdout.write(JSON.stringify({ ...head, rows, embedError: embedError || undefined }) + '\n');
  else {
    process.stdout.write(`${JSON.stringify(head)}\n| cold start | τ | MAE vs measured rate | MAE vs true rate (sim) |\n|---|---|---|---|\n`);
    for (const r of rows) process.stdout.write(`| ${r.coldStart} | ${r.tau ?? '–'} | ${r.mae.toFixed(3)} | ${Number.isFinite(r.oracleMae) ? r.oracleMae.toFixed(3) : '–'} |\n`);
    if (embedError) process.stdout.write(`embedding: ${embedError}\n`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench/coldstart: ${e.message}\n`);
  process.exit(1);
});
