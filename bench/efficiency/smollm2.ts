/**
 * DARE against GRPO on the pretrained SmolLM2-135M-Instruct (scenarios/smollm2-arith.json, the hf worker on
 * the CPU): a short comparison of real language-model RL, each arm a real `dare run`, every figure read
 * back from the run's summary.json and metrics.csv. Needs `make setup-model`; about 15 min a run on 2 cores.
 *
 *   npx tsx bench/efficiency/smollm2.ts --out DIR [--arms dare,grpo] [--seeds 1,2] [--steps 20] [--report-only]
 *
 * Runs already finished in DIR (their summary.json says completed) are kept, so an interrupted study goes
 * on where it stopped. Writes DIR/results.json and DIR/tables.md. Eval: 64 held-out problems, greedy, at
 * steps 0, 10 and the last; no checkpoints (a 2.3 GB one per save on this model).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median } from './summary.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface StudyArgs {
  out: string;
  arms: string[];
  seeds: number[];
  steps: number;
  reportOnly: boolean;
}

export function parseStudyArgs(argv: string[]): StudyArgs {
  const a: StudyArgs = { out: '', arms: ['dare', 'grpo'], seeds: [1, 2], steps: 20, reportOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${x} needs a value`);
      return v;
    };
    if (x === '--out') a.out = value();
    else if (x === '--arms') a.arms = value().split(',').filter(Boolean);
    else if (x === '--seeds') a.seeds = value().split(',').map(Number);
    else if (x === '--steps') a.steps = Number(value());
    else if (x === '--report-only') a.reportOnly = true;
    else throw new Error(`unknown argument ${x} (see the header of bench/efficiency/smollm2.ts)`);
  }
  if (!a.out) throw new Error('--out DIR is required (the run directories hold 540 MB final models each)');
  if (!a.seeds.every((s) => Number.isInteger(s) && s > 0)) throw new Error(`--seeds: positive integers, got ${a.seeds.join(',')}`);
  if (!(Number.isInteger(a.steps) && a.steps >= 1)) throw new Error(`--steps: a positive integer, got ${a.steps}`);
  return a;
}

/** One run's figures: accuracies are fractions of the eval set answered right (greedy). */
export interface SmolRun {
  arm: string;
  seed: number;
  steps: number;
  evalBefore: number;
  /** eval accuracy by step (the evals the run made) */
  evalAt: Record<number, number>;
  evalAfter: number;
  byTierBefore: Record<string, number>;
  byTierAfter: Record<string, number>;
  rollouts: number;
  /** response tokens generated for training: Σ rollouts × mean length over the steps */
  rolloutTokens: number;
  /** mean training success rate over the steps, weighted by rollouts */
  trainSuccess: number;
  /** prompts picked per tier over the run */
  tiers: { easy: number; medium: number; hard: number };
  seconds: { wall: number; rollout: number; update: number; score: number };
}

/** Parse a run's metrics.csv (header row, one row per step). */
export function readMetrics(file: string): Array<Record<string, string>> {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const head = lines[0].split(',');
  return lines.slice(1).map((l, row) => {
    const cells = l.split(',');
    if (cells.length !== head.length) throw new Error(`${file}: row ${row + 2} has ${cells.length} cells, the header ${head.length}`);
    return Object.fromEntries(head.map((h, i) => [h, cells[i]]));
  });
}

const num = (s: string | undefined) => (s === undefined || s === '' ? NaN : Number(s));

export function readRun(dir: string, arm: string, seed: number): SmolRun {
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const rows = readMetrics(join(dir, 'metrics.csv'));
  const evalAt: Record<number, number> = { 0: summary.baseline.accuracy };
  const every = Number(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).run?.evalEvery ?? 0);
  let tokens = 0;
  let wins = 0;
  let rollouts = 0;
  const tiers = { easy: 0, medium: 0, hard: 0 };
  for (const r of rows) {
    const step = num(r.step);
    const acc = num(r.evalAccuracy);
    // the csv repeats the last eval on every step after it; evals run every `evalEvery` steps and at the end
    if (Number.isFinite(acc) && every > 0 && step % every === 0) evalAt[step] = acc;
    const n = num(r.rollouts);
    rollouts += n;
    tokens += n * num(r.meanLength);
    wins += n * num(r.successRate);
    tiers.easy += num(r.tierEasy);
    tiers.medium += num(r.tierMedium);
    tiers.hard += num(r.tierHard);
  }
  evalAt[rows.length] = summary.eval.accuracy;
  const byTier = (b: Record<string, { accuracy: number }>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.accuracy]));
  return {
    arm,
    seed,
    steps: rows.length,
    evalBefore: summary.baseline.accuracy,
    evalAt,
    evalAfter: summary.eval.accuracy,
    byTierBefore: byTier(summary.baseline.byTier),
    byTierAfter: byTier(summary.eval.byTier),
    rollouts,
    rolloutTokens: Math.round(tokens),
    trainSuccess: rollouts ? wins / rollouts : NaN,
    tiers,
    seconds: { wall: summary.seconds.wall, rollout: summary.seconds.rollout, update: summary.seconds.update, score: summary.seconds.score ?? 0 },
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}`;
const spread = (xs: number[], f: (x: number) => string) =>
  xs.length === 1 ? f(xs[0]) : `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

/** The report: per arm, medians over seeds with min–max, and every run. */
export function tables(runs: SmolRun[]): string {
  const arms = [...new Set(runs.map((r) => r.arm))];
  const out: string[] = [];
  out.push('| arm | seeds | eval before, % | eval after, % | Δ, points | rollouts | rollout tokens | Δ points per 1k rollout tokens | train success, % | tiers easy/medium/hard |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const arm of arms) {
    const rs = runs.filter((r) => r.arm === arm);
    const d = rs.map((r) => r.evalAfter - r.evalBefore);
    const t = rs.map((r) => r.tiers);
    out.push(`| ${arm} | ${rs.map((r) => r.seed).join(',')} | ${spread(rs.map((r) => r.evalBefore), pct)} | ${spread(rs.map((r) => r.evalAfter), pct)} | ` +
      `${spread(d, pct)} | ${spread(rs.map((r) => r.rollouts), String)} | ${spread(rs.map((r) => r.rolloutTokens), String)} | ` +
      `${spread(rs.map((r, i) => (1000 * 100 * d[i]) / r.rolloutTokens), (x) => x.toFixed(2))} | ${spread(rs.map((r) => r.trainSuccess), pct)} | ` +
      `${t.map((x) => `${x.easy}/${x.medium}/${x.hard}`).join(', ')} |`);
  }
  out.push('');
  out.push('Every run (eval accuracy by step, %; accuracy by category before → after):');
  out.push('');
  out.push('| run | eval by step | by category | rollouts | tokens | wall s (rollout / update / score) |');
  out.push('|---|---|---|---|---|---|');
  for (const r of runs) {
    const by = Object.keys(r.byTierAfter).map((k) => `${k} ${pct(r.byTierBefore[k] ?? NaN)} → ${pct(r.byTierAfter[k])}`).join('; ');
    const at = Object.entries(r.evalAt).map(([s, a]) => `${s}: ${pct(a)}`).join(', ');
    out.push(`| ${r.arm} s${r.seed} | ${at} | ${by} | ${r.rollouts} | ${r.rolloutTokens} | ${r.seconds.wall.toFixed(0)} (${r.seconds.rollout.toFixed(0)} / ${r.seconds.update.toFixed(0)} / ${r.seconds.score.toFixed(0)}) |`);
  }
  return out.join('\n') + '\n';
}

function completed(dir: string): boolean {
  try {
    return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).completed === true;
  } catch {
    return false;
  }
}

function main(): void {
  const a = parseStudyArgs(process.argv.slice(2));
  mkdirSync(a.out, { recursive: true });
  const runs: SmolRun[] = [];
  for (const seed of a.seeds) {
    for (const arm of a.arms) {
      const dir = join(a.out, `${arm}-s${seed}`);
      if (!completed(dir) && !a.reportOnly) {
        rmSync(dir, { recursive: true, force: true });
        process.stderr.write(`smollm2 study: ${arm} seed ${seed} (${a.steps} steps)\n`);
        const r = spawnSync(process.execPath, [
          join(ROOT, 'cli/dare.js'), 'run', join(ROOT, 'scenarios/smollm2-arith.json'), '--run-dir', dir, '--seed', String(seed), '--steps', String(a.steps),
          '--set', `method=${arm}`, '--set', 'run.evalEvery=10', '--set', 'run.evalSize=64', '--set', 'task.evalCount=64', '--set', 'run.checkpointEvery=0',
        ], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
        if (r.status !== 0) throw new Error(`${dir}: dare run exited with ${r.status}`);
      }
      if (completed(dir)) runs.push(readRun(dir, arm, seed));
      else process.stderr.write(`smollm2 study: ${dir} has not completed; left out of the report\n`);
    }
  }
  writeFileSync(join(a.out, 'results.json'), JSON.stringify(runs, null, 1) + '\n');
  writeFileSync(join(a.out, 'tables.md'), tables(runs));
  process.stdout.write(tables(runs));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) main();
