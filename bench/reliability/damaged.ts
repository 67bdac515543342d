/**
 * The damaged-log table of BENCHMARKS.md: every case of damageCases.ts × every command that reads a run
 * directory, each a real `dare` process on its own damaged copy of a finished sim run, with its exit code,
 * its stderr, and whether the run directory's files are byte-identical afterwards (a damaged log is never
 * made worse). `npx tsx bench/reliability/damaged.ts [--json]` prints the table; the fault test
 * (test/fault/damagedLog.fault.test.ts) asserts it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../orchestration.ts';
import { damageCases, damagedCopy, flippedSeq, type DamageCase } from './damageCases.ts';

/** The commands tried on each case, as typed after the run directory (serve on any free port). */
export const COMMANDS: ReadonlyArray<{ name: string; args: (dir: string) => string[] }> = [
  { name: 'check', args: (d) => ['check', d] },
  { name: 'replay --verify', args: (d) => ['replay', d, '--verify'] },
  { name: 'report', args: (d) => ['report', d] },
  { name: 'drift', args: (d) => ['drift', d] },
  { name: 'log', args: (d) => ['log', d] },
  { name: 'inspect', args: (d) => ['inspect', d] },
  { name: 'serve', args: (d) => ['serve', d, '--port', '0'] },
  { name: 'resume', args: (d) => ['resume', d] },
];

/** serve's "exit code" when it printed its URL (it opened the run and served it; then it was stopped). */
export const SERVING = -1;
const TIMEOUT_MS = 120_000;

export interface Outcome {
  case: string;
  command: string;
  /** the damaged copy it ran on (removed afterwards) */
  dir: string;
  /** the exit code (SERVING: serve was up and was stopped); 128+n for a death by signal n */
  exit: number;
  stderr: string;
  /** run-directory files (besides what the command is meant to write) whose bytes changed, added or removed */
  changed: string[];
}

/** Files a command may write into a run directory without touching the log (reports, the lock, LMDB's reader table). */
const OWN_OUTPUTS = /^(report\.html|summary\.json|metrics\.csv|run\.lock|nats\.json|log\/lock\.mdb|tensorboard\/.*)$/;

/** sha256 of every file under `dir` (relative paths), leaving out a command's own outputs. */
export function fileHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const rel = relative(dir, p);
        if (!OWN_OUTPUTS.test(rel)) out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
      }
    }
  };
  walk(dir);
  return out;
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

/** Run `dare ARGS` to its end; serve until it prints its URL (it opened the run), then SIGTERM. */
function dare(args: string[], serve: boolean): Promise<{ exit: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'cli', 'dare.js'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DARE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    let serving = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (serve && !serving && /http:\/\//.test(out)) {
        serving = true;
        child.kill('SIGTERM');
      }
    });
    // nothing here should take this long (resume of a config-only copy runs 6 sim steps: seconds)
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const n = signal ? 128 + ({ SIGBUS: 7, SIGABRT: 6, SIGSEGV: 11, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal]! : code ?? 1;
      resolve({ exit: serving ? SERVING : n, stderr: err });
    });
  });
}

/** One case × one command on a fresh damaged copy under `work`. */
export async function tryCase(source: string, work: string, c: DamageCase, command: (typeof COMMANDS)[number]): Promise<Outcome> {
  const dir = join(work, `${c.name}--${command.name.replace(/\W+/g, '-')}`);
  damagedCopy(source, dir, c);
  const before = fileHashes(dir);
  const r = await dare(command.args(dir), command.name === 'serve');
  // a resume that starts a run killed during start-up is meant to write its log
  const after = c.exits?.resume === 0 && c.name.startsWith('config-') && command.name === 'resume' ? before : fileHashes(dir);
  const changed = changedFiles(before, after);
  rmSync(dir, { recursive: true, force: true });
  return { case: c.name, command: command.name, dir, exit: r.exit, stderr: r.stderr, changed };
}

/** The exit code a command should give on a case. */
export function expectedExit(c: DamageCase, command: string): number {
  return c.exits?.[command] ?? 1;
}

/** The source run: test/support/live.ts's simScenario() (6 steps, checkpoints at 3 and 6; seconds on the sim). */
export const SOURCE_SCENARIO = {
  method: 'dare',
  run: { steps: 6, batchSize: 16, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 3, evalSize: 40 },
  task: { source: 'sim', count: 120, evalCount: 40, maxResponseTokens: 64 },
  worker: { kind: 'sim', lr: 0.05 },
  learner: { sigma: 0.5, bufferSize: 64 },
};

/** A finished 6-step sim run (test/support/live.ts's simScenario) in `work`/source. */
export async function sourceRun(work: string, scenario: object): Promise<string> {
  mkdirSync(work, { recursive: true });
  const file = join(work, 'source.json');
  writeFileSync(file, JSON.stringify(scenario));
  const runDir = join(work, 'source');
  const r = await dare(['run', file, '--run-dir', runDir], false);
  if (r.exit !== 0) throw new Error(`damaged: the source run failed (exit ${r.exit}): ${r.stderr.slice(-2000)}`);
  return runDir;
}

/** Every case × command, `parallel` processes at a time. */
export async function damagedTable(source: string, work: string, parallel = 2): Promise<Outcome[]> {
  const cases = damageCases(flippedSeq(source));
  const jobs = cases.flatMap((c) => COMMANDS.map((cmd) => () => tryCase(source, work, c, cmd)));
  const out: Outcome[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

/** The one line a user sees (the first `dare:` line of stderr, else its last line). */
export function messageOf(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  return lines.find((l) => l.startsWith('dare:')) ?? lines.at(-1) ?? '';
}

/** A message with the damaged copy's path shortened to DIR. */
function shortMessage(r: Outcome): string {
  return messageOf(r.stderr).split(r.dir).join('DIR');
}

/**
 * The markdown for BENCHMARKS.md: the exit code of every case × command (with whether any file changed),
 * then per case each distinct stderr line and the commands that gave it.
 */
export function markdownTables(rows: Outcome[], cases: DamageCase[]): string {
  const cmds = COMMANDS.map((c) => c.name);
  const cell = (r: Outcome) => `${r.exit === SERVING ? 'serves' : r.exit}${r.changed.length ? ` (changed ${r.changed.join(', ')})` : ''}`;
  const out = [`| case | ${cmds.join(' | ')} |`, `|---|${cmds.map(() => '---').join('|')}|`];
  for (const c of cases) {
    const byCmd = new Map(rows.filter((r) => r.case === c.name).map((r) => [r.command, r]));
    out.push(`| ${c.name} | ${cmds.map((n) => (byCmd.has(n) ? cell(byCmd.get(n)!) : '')).join(' | ')} |`);
  }
  out.push('', '| case | what was done | stderr (DIR: the damaged copy) | commands |', '|---|---|---|---|');
  for (const c of cases) {
    const msgs = new Map<string, string[]>();
    for (const r of rows.filter((x) => x.case === c.name)) {
      const m = shortMessage(r) || '(nothing)';
      msgs.set(m, [...(msgs.get(m) ?? []), r.command]);
    }
    for (const [m, by] of msgs) out.push(`| ${c.name} | ${c.what.replace(/\|/g, '\\|')} | ${m.replace(/\|/g, '\\|')} | ${by.length === cmds.length ? 'all' : by.join(', ')} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const work = join(process.env.DARE_BENCH_DIR ?? tmpdir(), `dare-damaged-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  try {
    const source = await sourceRun(work, SOURCE_SCENARIO);
    const rows = await damagedTable(source, work);
    const cases = damageCases(flippedSeq(source));
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows) + '\n');
    else {
      process.stdout.write(markdownTables(rows, cases) + '\n');
    }
    const bad = rows.filter((r) => r.exit !== expectedExit(cases.find((c) => c.name === r.case)!, r.command) || r.changed.length > 0);
    process.stderr.write(`damaged: ${rows.length} outcomes, ${bad.length} differ from the documented ones\n`);
    if (bad.length) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) void main();
