/** `dare bench`: every benchmark's named figures in one object (BENCHMARKS.md records them). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { algorithmBench } from './algorithmBench.ts';
import { logBench } from './logBench.ts';

export interface BenchOptions {
  quick: boolean;
  log?: (msg: string) => void;
}

export async function runBenchmarks(opts: BenchOptions): Promise<Record<string, number>> {
  const say = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(process.env.DARE_BENCH_DIR ?? tmpdir(), 'dare-bench-'));
  try {
    const figures: Record<string, number> = {};
    say(`bench: log (${opts.quick ? 'quick' : 'full'})`);
    Object.assign(figures, await logBench(dir, { events: opts.quick ? 100_000 : 500_000, batch: 1000 }));
    say('bench: estimator and sampler (1M prompts)');
    Object.assign(figures, algorithmBench({ prompts: 1_000_000, rowsPerPrompt: 8, select: 1024, repeats: opts.quick ? 3 : 7 }));
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
