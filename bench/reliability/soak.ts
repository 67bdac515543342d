/**
 * The reliability soak: `dare run` / `dare resume` interrupted again and again — kill -9 of the run's
 * process, SIGINT and SIGTERM to its whole process group (as a terminal's Ctrl-C or a scheduler sends
 * them) — at moments drawn from a seeded Prng, each run resumed until it completes, then compared with an
 * uninterrupted run of the same scenario and seed: completed rollouts lost, rollouts logged twice, the final
 * weights' hash, replay --verify.
 *
 *   npx tsx bench/reliability/soak.ts [--moments N] [--tiny-share F] [--seed S] [--out DIR] [--json]
 *
 * `--moments` counts interruptions across all runs (default 100); `--tiny-share` the share of them on the
 * tiny PyTorch worker (default 0.3; the rest on the sim worker). Run it alone on the machine: it measures
 * correctness, not speed, but a loaded machine stretches every run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '../../events/prng.ts';
import { metricsOf, type Accounting } from '../../run/metrics.ts';
import { verifyLog } from '../../run/replay.ts';
import { EventLog } from '../../store/eventLog.ts';

const ROOT = join(import.meta.dirname, '..', '..');

type Interrupt = 'kill -9' | 'SIGINT' | 'SIGTERM';
const INTERRUPTS: Interrupt[] = ['kill -9', 'SIGINT', 'SIGTERM'];

const SCENARIOS = {
  sim: {
    method: 'dare',
    run: { steps: 16, batchSize: 64, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 5, evalSize: 200, snapshotEvery: 400 },
    task: { source: 'sim', count: 1200, evalCount: 200, maxResponseTokens: 256 },
    worker: { kind: 'sim', lr: 0.1 },
    learner: { sigma: 0.5, bufferSize: 512 },
  },
  tiny: {
    method: 'dare',
    run: { steps: 6, batchSize: 8, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 3, evalSize: 16, snapshotEvery: 50 },
    task: { source: 'arithmetic', count: 64, evalCount: 16, maxResponseTokens: 6, levels: '1,2' },
    worker: { kind: 'tiny', device: 'cpu', lr: 0.0001, warmStartSteps: 20, warmStartLr: 0.001 },
    learner: { sigma: 0.5, bufferSize: 64, entropyCoeff: 0 },
  },
} as const;
type Kind = keyof typeof SCENARIOS;
/** the bridge holds each update (and the sim's checkpoints) a little, so kills land inside them too */
const FAULT_ENV = { DARE_FAULT_PAUSE: 'update:150,checkpoint:100', DARE_WORKER_FAULT_DELAY: 'update:150,save:100' };

interface Proc {
  pid: number;
  ended: () => boolean;
  exit: Promise<{ code: number | null; signal: string | null }>;
  stderr: () => string;
}

function startDare(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'cli', 'dare.js'), ...args], {
    cwd: ROOT,
    // JSON records on stderr: chunksLogged parses them
    env: { ...process.env, DARE_LOG_LEVEL: 'info', DARE_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true, // its own process group, as a shell's foreground job
  });
  let err = '';
  let ended = false;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<{ code: number | null; signal: string | null }>((res) => child.once('exit', (code, signal) => ((ended = true), res({ code, signal }))));
  return { pid: child.pid!, ended: () => ended, exit, stderr: () => err };
}

function deliver(p: Proc, what: Interrupt): void {
  try {
    if (what === 'kill -9') process.kill(p.pid, 'SIGKILL');
    else process.kill(-p.pid, what);
  } catch {
    // already gone
  }
}

/**
 * `fn` over the run's log, opened read-only and closed (awaited) again: a long-lived reader that left an
 * environment open would keep reading an old snapshot of a log another process is appending to.
 */
async function withLog<T>(runDir: string, fn: (log: EventLog) => T, otherwise: T): Promise<T> {
  if (!existsSync(join(runDir, 'log', 'data.mdb'))) return otherwise;
  let log: EventLog;
  try {
    log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  } catch {
    return otherwise;
  }
  try {
    return fn(log);
  } finally {
    await log.close();
  }
}
/**
 * Completed, as the run itself says it in summary.json (written after RunCompleted; a resume of a run killed
 * in between writes it). Not read from the log: this long-lived process was seen to keep reading an old
 * snapshot of a log other processes append to, even across open/close (lmdb-js's environment cache).
 */
const completed = async (runDir: string) => {
  try {
    return (JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { completed: boolean }).completed === true;
  } catch {
    return false;
  }
};
const started = (runDir: string) => existsSync(join(runDir, 'config.json'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunFigures {
  weightsSha256: string | null;
  accounting: Accounting;
  duplicateGroups: number;
  verified: boolean;
}

function figures(runDir: string): Promise<RunFigures> {
  return withLog(
    runDir,
    (l) => {
      const m = metricsOf(l.iterate(1));
      return { weightsSha256: m.weightsSha256, accounting: { ...m.accounting }, duplicateGroups: m.duplicateGroups.length, verified: verifyLog(l).mismatch === null };
    },
    { weightsSha256: null, accounting: { generated: 0, trained: 0, buffered: 0, discarded: 0, inFlight: 0 }, duplicateGroups: -1, verified: false },
  );
}

/** rollout chunks a process logged (its "rollout chunk logged" lines): the same chunk twice is a rollout logged twice */
function chunksLogged(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.includes('"rollout chunk logged"'))
    .map((l) => {
      const o = JSON.parse(l) as { request: string; chunk: number };
      return `${o.request}#${o.chunk}`;
    });
}

export interface SoakRow {
  worker: Kind;
  runs: number;
  moments: Record<Interrupt, number>;
  exitCodes: Record<string, number>;
  /** logged rollout rows neither trained, buffered nor discarded at the end (the accounting's gap) */
  lost: number;
  /** rollout chunks generated again after they were logged, and groups completed twice */
  loggedTwice: number;
  /** runs whose final accounting differs from the uninterrupted run's */
  accountingDiffers: number;
  weightsDiffer: number;
  verifyFailed: number;
  seconds: number;
}

async function soakKind(kind: Kind, moments: number, prng: Prng, dir: string): Promise<SoakRow> {
  const t0 = Date.now();
  const sc = join(dir, `${kind}.json`);
  writeFileSync(sc, JSON.stringify(SCENARIOS[kind]));
  const refDir = join(dir, `${kind}-reference`);
  const ref = startDare(['run', sc, '--run-dir', refDir], {});
  const refExit = await ref.exit;
  if (refExit.code !== 0) throw new Error(`${kind}: the uninterrupted run failed:\n${ref.stderr().slice(-3000)}`);
  const want = await figures(refDir);

  const row: SoakRow = {
    worker: kind, runs: 0, moments: { 'kill -9': 0, SIGINT: 0, SIGTERM: 0 }, exitCodes: {}, lost: 0, loggedTwice: 0, accountingDiffers: 0, weightsDiffer: 0, verifyFailed: 0, seconds: 0,
  };
  let done = 0;
  while (done < moments) {
    const runDir = join(dir, `${kind}-${row.runs}`);
    row.runs++;
    const chunks: string[] = [];
    // interrupt this run until it completes on its own (or the soak's moments are used up)
    for (let round = 0; round < 200 && !(await completed(runDir)); round++) {
      const p = startDare(started(runDir) ? ['resume', runDir] : ['run', sc, '--run-dir', runDir], FAULT_ENV);
      if (done < moments) {
        // a moment after this process's first logged rollout (start-up alone can outlast a short delay), or
        // during start-up one time in eight
        const inStartup = prng.nextInt(8) === 0;
        let waited = 0;
        if (!inStartup) for (; waited < 120_000 && !p.stderr().includes('"rollout chunk logged"') && !p.ended(); waited += 25) await sleep(25);
        await sleep(inStartup ? 300 + prng.nextInt(1500) : prng.nextInt(kind === 'sim' ? 2500 : 6000));
        const what = INTERRUPTS[prng.nextInt(INTERRUPTS.length)];
        deliver(p, what);
        row.moments[what]++;
        done++;
      }
      const { code, signal } = await p.exit;
      const key = signal ?? String(code);
      process.stderr.write(`soak ${kind} run ${row.runs} round ${round}: exit ${key} (${done}/${moments} moments)\n`);
      row.exitCodes[key] = (row.exitCodes[key] ?? 0) + 1;
      chunks.push(...chunksLogged(p.stderr()));
    }
    if (!(await completed(runDir))) throw new Error(`${runDir}: did not complete after 200 rounds`);
    const got = await figures(runDir);
    // a chunk generated again after it was logged (a resume that lost it), or a group completed twice
    row.loggedTwice += chunks.length - new Set(chunks).size + Math.max(0, got.duplicateGroups);
    // every logged rollout row is trained, buffered or discarded by the end, exactly as in the reference run
    const a = got.accounting;
    row.lost += Math.abs(a.generated - (a.trained + a.buffered + a.discarded + a.inFlight)) + a.inFlight;
    if (JSON.stringify(a) !== JSON.stringify(want.accounting)) row.accountingDiffers++;
    if (got.weightsSha256 === null || got.weightsSha256 !== want.weightsSha256) row.weightsDiffer++;
    if (!got.verified) row.verifyFailed++;
    rmSync(runDir, { recursive: true, force: true });
    process.stderr.write(`soak ${kind}: run ${row.runs} done, ${done}/${moments} moments\n`);
  }
  row.seconds = Math.round((Date.now() - t0) / 1000);
  return row;
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, dflt: string) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
  };
  const moments = Number(opt('--moments', '100'));
  const tinyShare = Number(opt('--tiny-share', '0.3'));
  const seed = Number(opt('--seed', '1'));
  if (!Number.isInteger(moments) || moments < 1) throw new Error(`--moments ${opt('--moments', '')}: a positive integer`);
  if (!(tinyShare >= 0 && tinyShare <= 1)) throw new Error(`--tiny-share ${tinyShare}: a share between 0 and 1`);
  const out = opt('--out', '');
  const dir = mkdtempSync(join(tmpdir(), 'dare-soak-'));
  const prng = new Prng({ seed, step: 0, purpose: 'soak-moments' });
  const tinyMoments = Math.round(moments * tinyShare);
  const rows: SoakRow[] = [];
  try {
    if (moments - tinyMoments > 0) rows.push(await soakKind('sim', moments - tinyMoments, prng, dir));
    if (tinyMoments > 0) rows.push(await soakKind('tiny', tinyMoments, prng, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result = { command: `npx tsx bench/reliability/soak.ts ${argv.join(' ')}`.trim(), seed, rows };
  if (out) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'soak.json'), JSON.stringify(result, null, 2) + '\n');
  }
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(markdown(rows) + '\n');
}

export function markdown(rows: SoakRow[]): string {
  const lines = [
    '| worker | runs | moments (kill -9 / SIGINT / SIGTERM) | exit codes | rollouts lost | logged twice | accounting ≠ uninterrupted | weights hash ≠ uninterrupted | replay --verify fails | time |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const codes = Object.entries(r.exitCodes).sort().map(([k, v]) => `${k}: ${v}`).join(', ');
    const m = r.moments;
    lines.push(`| ${r.worker} | ${r.runs} | ${m['kill -9'] + m.SIGINT + m.SIGTERM} (${m['kill -9']} / ${m.SIGINT} / ${m.SIGTERM}) | ${codes} | ${r.lost} | ${r.loggedTwice} | ${r.accountingDiffers} | ${r.weightsDiffer} | ${r.verifyFailed} | ${r.seconds} s |`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`soak: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
