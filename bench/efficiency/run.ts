/**
 * The learning-efficiency study: every method preset on the sim worker (several difficulty distributions,
 * several seeds) and DARE against GRPO on the tiny PyTorch worker, each a real `dare run` (its own LMDB
 * log; all runs share one nats-server), every figure read back from the run's log.
 *
 *   npx tsx bench/efficiency/run.ts [--quick] [--out DIR] [--jobs N] [--only sim|tiny] [--arms ID,...] [--dists NAME,...] [--seeds S,...] [--set K=V ...] [--report-only]
 *
 * `--set K=V` (repeatable) applies to every run of the invocation: a variant of the study (say the sim with
 * `worker.simOptimizer=sgd`), which needs its own --out and writes its report there only, never to docs/.
 * Finished runs are remembered in DIR/runs.jsonl, so an interrupted study continues where it stopped.
 * Writes DIR/results.json, the plots and the tables (full study: docs/efficiency/ and the tables block of
 * BENCHMARKS.md; --quick: DIR only). Run bulk work under `nice -n 10` on a shared machine.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { startNatsServer } from '../../bus/natsServer.ts';
import type { RunConfig } from '../../events/config.ts';
import { fullPlan, quickPlan, type Arm, type StudyPlan } from './grid.ts';
import { figuresOfRun } from './runLog.ts';
import { markdownTable, pairedTable, plotSvg, sensitivityTable, summarize, type ArmSummary, type RunRecord } from './report.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface Job {
  worker: 'sim' | 'tiny';
  arm: Arm;
  distribution: string;
  seed: number;
  scenario: string;
  steps: number;
  /** `--set`s of the task variant (tiny). */
  extraSets: string[];
}

function jobsOf(plan: StudyPlan, only?: string): Job[] {
  const jobs: Job[] = [];
  if (only !== 'tiny') {
    // seeds outermost: a partial study already has every arm at the first seeds
    for (const seed of plan.sim.seeds)
      for (const distribution of plan.sim.distributions)
        for (const arm of plan.sim.arms) jobs.push({ worker: 'sim', arm, distribution, seed, scenario: plan.sim.scenario, steps: plan.sim.steps, extraSets: [] });
  }
  if (only !== 'sim') {
    for (const v of plan.tiny.variants)
      for (const seed of plan.tiny.seeds)
        for (const arm of plan.tiny.arms) jobs.push({ worker: 'tiny', arm, distribution: v.id, seed, scenario: plan.tiny.scenario, steps: plan.tiny.steps, extraSets: v.sets });
  }
  return jobs;
}

function runName(j: Job): string {
  return `${j.worker}-${j.distribution}-${j.arm.id}-s${j.seed}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

function jobKey(j: { worker: string; distribution: string; arm: string | Arm; seed: number }): string {
  return `${j.worker}|${j.distribution}|${typeof j.arm === 'string' ? j.arm : j.arm.id}|${j.seed}`;
}

/**
 * Run one `dare run` to completion. A run whose log has not grown for `stallMs` is stuck (a method that
 * cannot make progress, e.g. an empty batch) and is killed, as is one that outlives `limitMs`; the caller
 * keeps what its log holds. Wall-clock time here only guards the study, it never enters a figure.
 */
function runOne(j: Job, runDir: string, nats: { url: string; token: string }, stallMs: number, limitMs: number): Promise<void> {
  const args = [join(ROOT, 'cli/dare.js'), 'run', join(ROOT, j.scenario), '--run-dir', runDir, '--seed', String(j.seed), '--steps', String(j.steps), '--nats', nats.url];
  args.push('--set', `method=${j.arm.method}`);
  if (j.worker === 'sim') args.push('--set', `worker.simDistribution=${j.distribution}`);
  for (const s of [...j.extraSets, ...j.arm.sets]) args.push('--set', s);
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, DARE_NATS_TOKEN: nats.token, OPENBLAS_NUM_THREADS: '1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    let killedFor = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const t0 = Date.now();
    let lastChange = t0;
    let lastStamp = '';
    const watch = setInterval(() => {
      const f = join(runDir, 'log', 'data.mdb');
      const stamp = existsSync(f) ? String(statSync(f).mtimeMs) : '';
      const now = Date.now();
      if (stamp !== lastStamp) {
        lastStamp = stamp;
        lastChange = now;
      }
      if (now - lastChange > stallMs) killedFor = `stalled: its log did not grow for ${stallMs / 1000} s`;
      else if (now - t0 > limitMs) killedFor = `timed out after ${limitMs / 1000} s`;
      if (killedFor) child.kill('SIGKILL');
    }, 2000);
    child.on('error', (e) => {
      clearInterval(watch);
      rej(e);
    });
    child.on('exit', (code) => {
      clearInterval(watch);
      if (code === 0) res();
      else rej(new Error(killedFor || `dare run exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

function readRecords(path: string): RunRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);
}

export interface Args {
  quick: boolean;
  out: string;
  jobs: number;
  only?: string;
  /** Run only these arms (comma-separated ids); the report still covers every run in the ledger. */
  arms?: string[];
  /** Run only these distributions / task variants (comma-separated). */
  dists?: string[];
  /** `--set`s for every run (a variant of the study) */
  sets: string[];
  /** Run only these seeds (comma-separated); the report still covers every run in the ledger. */
  seeds?: number[];
  reportOnly: boolean;
  /** Whether --out was given: then the report goes there only, never to docs/ and BENCHMARKS.md. */
  ownOut: boolean;
}

export function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, out: '', jobs: 1, sets: [], reportOnly: false, ownOut: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '--quick') a.quick = true;
    else if (x === '--report-only') a.reportOnly = true;
    else if (x === '--out') a.out = argv[++i];
    else if (x === '--jobs') a.jobs = Number(argv[++i]);
    else if (x === '--only') a.only = argv[++i];
    else if (x === '--arms') a.arms = argv[++i].split(',');
    else if (x === '--dists') a.dists = argv[++i].split(',');
    else if (x === '--set') a.sets.push(argv[++i]);
    else if (x === '--seeds') a.seeds = argv[++i].split(',').map(Number);
    else if (x === '-h' || x === '--help') {
      process.stdout.write('usage: npx tsx bench/efficiency/run.ts [--quick] [--out DIR] [--jobs N] [--only sim|tiny] [--arms ID,...] [--dists NAME,...] [--seeds S,...] [--set K=V ...] [--report-only]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${x} (see --help)`);
  }
  if (!Number.isInteger(a.jobs) || a.jobs < 1) throw new Error('--jobs must be a positive integer');
  if (a.seeds && !a.seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new Error('--seeds takes non-negative integers, comma-separated');
  if (a.only !== undefined && a.only !== 'sim' && a.only !== 'tiny') throw new Error('--only must be sim or tiny');
  if (a.sets.some((x) => x === undefined || !x.includes('='))) throw new Error('--set takes KEY=VALUE');
  if (a.sets.length > 0 && !a.out) throw new Error('--set makes a variant of the study: give it its own --out DIR');
  a.ownOut = a.out !== '';
  a.out = resolve(a.out || join(ROOT, 'runs', a.quick ? 'efficiency-quick' : 'efficiency'));
  return a;
}

export interface StudyResult {
  /** the plan's targets and budgets at the top level, its grids under `plan` */
  meta: Omit<StudyPlan, 'sim' | 'tiny'> & {
    command: string;
    date: string;
    machine: string;
    loadAverage: number[];
    quick: boolean;
    plan: Pick<StudyPlan, 'sim' | 'tiny'>;
  };
  summary: ArmSummary[];
  runs: Array<Omit<RunRecord, 'figures'> & { figures: Omit<RunRecord['figures'], 'curve'> & { curve: Array<[number, number, number]> } }>;
}

/** Write results.json, the plots and the tables; returns the result. */
/** `command`: the invocation that produced the records (written into results.json). */
export function writeReport(records: RunRecord[], plan: StudyPlan, outDir: string, quick: boolean, docsDir: string | null, command: string): StudyResult {
  const arms = [...plan.sim.arms, ...plan.tiny.arms.filter((a) => !plan.sim.arms.some((b) => b.id === a.id))];
  const summary = summarize(records, plan, arms);
  const { sim, tiny, ...targets } = plan;
  const result: StudyResult = {
    meta: {
      command,
      date: new Date().toISOString(),
      machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
      quick,
      plan: { sim, tiny },
      ...targets,
    },
    summary,
    // curves as [step, rollouts, accuracy] triples keep the file small
    runs: records.map((r) => ({ ...r, figures: { ...r.figures, curve: r.figures.curve.map((p) => [p.step, p.rollouts, Number(p.accuracy.toFixed(6))] as [number, number, number]) } })),
  };
  const dest = docsDir ?? outDir;
  mkdirSync(dest, { recursive: true });
  // plots are linked from the repository root when they lie inside it (BENCHMARKS.md, docs/), else by path
  const rel = relative(ROOT, dest);
  const linkDir = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : dest;
  // summary indented for reading, one line per run (its curve is long) to keep the file small
  const runs = result.runs.map((r) => '  ' + JSON.stringify(r)).join(',\n');
  writeFileSync(join(dest, 'results.json'), `{"meta": ${JSON.stringify(result.meta, null, 1)},\n"summary": ${JSON.stringify(result.summary, null, 1)},\n"runs": [\n${runs}\n]}\n`);

  const tables: string[] = [];
  const cells = [...new Set(summary.map((s) => `${s.worker}|${s.distribution}`))];
  for (const c of cells) {
    const [worker, distribution] = c.split('|') as ['sim' | 'tiny', string];
    const rows = summary.filter((s) => s.worker === worker && s.distribution === distribution);
    const lastRollouts = (r: ArmSummary) =>
      Math.min(...records.filter((x) => x.worker === r.worker && x.distribution === r.distribution && x.arm === r.arm).map((x) => x.figures.curve.at(-1)?.rollouts ?? 0));
    const target = worker === 'sim' ? plan.simTarget : plan.tinyTarget;
    const budget = worker === 'sim' ? plan.simBudget : plan.tinyBudget;
    const file = `${worker}-${distribution}.svg`;
    writeFileSync(join(dest, file), plotSvg(records, worker, distribution, arms, target));
    const targets = worker === 'sim' ? plan.simTargets : plan.tinyTargets;
    tables.push(
      `**${worker === 'sim' ? `Sim, ${distribution} difficulties` : `Tiny arithmetic worker (CPU), ${plan.tiny.variants.find((v) => v.id === distribution)?.note ?? distribution}`}** — target ${worker === 'sim' ? 'oracle expected' : 'greedy eval'} accuracy ${target}, budget ${budget} rollouts, ${rows[0]?.seeds ?? 0} seeds. Plot: [${linkDir}/${file}](${linkDir}/${file})\n\n` +
        markdownTable(rows, lastRollouts) +
        (targets.length ? `\n\nRollouts to other targets (${worker}, ${distribution}):\n\n${sensitivityTable(records, worker, distribution, arms, targets)}` : '') +
        (worker === 'tiny' && plan.tinyGains.length
          ? `\n\nRollouts to a gain over each seed's own baseline (the warm start differs by seed):\n\n${sensitivityTable(records, worker, distribution, arms, plan.tinyGains, true)}` +
            `\n\nPer seed (paired: same warm start, same eval set):\n\n${pairedTable(records, worker, distribution, arms, budget)}`
          : ''),
    );
  }
  const legend =
    'Columns: median across seeds with (min–max); "not reached" = the run ended below the target. × vs GRPO = GRPO\'s median ' +
    'rollouts-to-target ÷ the method\'s. Final accuracy = after the last update (same number of updates for every method: ' +
    'progress per update). Easy-prompt length = mean length of the training rollouts of prompts with success ≥ 0.7 (the sim\'s ' +
    'true pass rate, else the group\'s) in the last quarter of the run. Rollouts/step include refills and reference rollouts. ' +
    'Zero-var. groups = fresh groups whose rows all got the same reward. True d of picks = mean true failure rate of the trained ' +
    'prompts (sim). Estimator MAE = mean |estimate − realized failure rate| of the trained prompts (in brackets: against the ' +
    'sim\'s true rate). Cold-start picks = share of trained prompts whose estimate was the cold start. Tiers e/m/h = prompts ' +
    'selected per tier over the run ("off": no tier codes — tiers off, or dare-reference\'s 2·round(n·d) rule).';
  const md = legend + '\n\n' + tables.join('\n\n') + '\n';
  writeFileSync(join(dest, 'tables.md'), md);
  if (docsDir) {
    // only the generated block of the "Learning efficiency" section; the prose around it is written by hand
    const bm = join(ROOT, 'BENCHMARKS.md');
    const text = readFileSync(bm, 'utf8');
    const a = '<!-- efficiency:tables:start -->';
    const b = '<!-- efficiency:tables:end -->';
    const i = text.indexOf(a);
    const j = text.indexOf(b);
    if (i >= 0 && j > i) writeFileSync(bm, text.slice(0, i + a.length) + '\n' + md + text.slice(j));
  }
  return result;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const plan = a.quick ? quickPlan() : fullPlan();
  mkdirSync(a.out, { recursive: true });
  const ledger = join(a.out, 'runs.jsonl');
  const done = new Set(readRecords(ledger).map(jobKey));
  const todo = a.reportOnly ? [] : jobsOf(plan, a.only).map((j) => ({ ...j, extraSets: [...j.extraSets, ...a.sets] })).filter((j) => !done.has(jobKey(j)) && (!a.arms || a.arms.includes(j.arm.id)) && (!a.dists || a.dists.includes(j.distribution)) && (!a.seeds || a.seeds.includes(j.seed)));
  const say = (s: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  if (todo.length) {
    say(`${todo.length} runs to do (${done.size} already in ${ledger}), ${a.jobs} at a time`);
    const nats = await startNatsServer();
    try {
      let next = 0;
      let finished = 0;
      const worker = async () => {
        while (next < todo.length) {
          const j = todo[next++];
          const runDir = join(a.out, runName(j));
          rmSync(runDir, { recursive: true, force: true }); // a half-finished run from an interrupted study
          const t0 = performance.now();
          let error: string | undefined;
          try {
            await runOne(j, runDir, nats, j.worker === 'sim' ? 45_000 : 180_000, j.worker === 'sim' ? 600_000 : 1_500_000);
          } catch (e) {
            error = (e as Error).message;
          }
          finished++;
          try {
            // a failed run still has a log: keep the curve up to where it stopped, and say why
            const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfig;
            const figures = await figuresOfRun(runDir, config);
            const rec: RunRecord = { worker: j.worker, arm: j.arm.id, method: j.arm.method, sets: j.arm.sets, distribution: j.distribution, seed: j.seed, runDir, figures, ...(error ? { error } : {}) };
            appendFileSync(ledger, JSON.stringify(rec) + '\n');
            const last = figures.curve.at(-1);
            say(`${finished}/${todo.length} ${runName(j)}: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${figures.rollouts.generated} rollouts, accuracy ${last?.accuracy.toFixed(3)}${error ? ` — FAILED at step ${figures.steps}: ${error}` : ''}`);
          } catch (e) {
            say(`${finished}/${todo.length} ${runName(j)}: no figures (${error ?? ''} ${(e as Error).message}); not recorded, a later invocation retries it`);
          }
        }
      };
      await Promise.all(Array.from({ length: a.jobs }, worker));
    } finally {
      await nats.stop();
    }
  }
  const records = readRecords(ledger);
  // a variant (--set), a study with its own --out (a re-measure of a few arms) or the quick study report to
  // their directory only: only the study's own ledger rewrites docs/efficiency and BENCHMARKS.md's tables
  const docs = a.quick || a.ownOut || a.sets.length > 0 ? null : join(ROOT, 'docs/efficiency');
  const res = writeReport(records, plan, a.out, a.quick, docs, `npx tsx bench/efficiency/run.ts ${process.argv.slice(2).join(' ')}`.trim());
  say(`${records.length} runs summarized → ${join(docs ?? a.out, 'results.json')}`);
  for (const s of res.summary) {
    say(`${s.worker}/${s.distribution}/${s.arm}: to target ${s.rolloutsToTarget.median?.toFixed(0) ?? '–'} rollouts (${s.speedupVsGrpo?.toFixed(2) ?? '–'}× vs grpo), accuracy at budget ${s.accuracyAtBudget.median?.toFixed(3) ?? '–'}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => {
    process.stderr.write(`bench/efficiency: ${e.message}\n`);
    process.exit(1);
  });
}
