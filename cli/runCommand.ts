/** The `dare run` and `dare resume` commands: run, then print what a user wants to know at the end. */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { UserError } from '../events/errors.ts';
import { createLogger, type LogFormat } from '../run/logger.ts';
import { natsTargetOf, type NatsFlags } from './natsOptions.ts';
import { resumeRun, runScenario, type NatsTarget, type RunOutcome, type Summary } from '../run/runner.ts';
import { writeRunReport } from '../views/report/html.ts';

/** run and resume: --nats-creds and --nats-ca are for servers of one's own, given with --nats */
function runNats(o: NatsFlags): NatsTarget | undefined {
  const t = natsTargetOf(o);
  if (t && !t.url) throw new UserError('--nats-token, --nats-creds and --nats-ca go with --nats (without it the run starts a private server of its own)');
  return t;
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '  -  ' : `${(100 * x).toFixed(1).padStart(5)}%`;
}

export function printSummary(s: Summary, runDir: string): void {
  const out: string[] = [];
  out.push('');
  // paths as the user would type them: relative under the working directory, absolute elsewhere
  const under = relative(process.cwd(), runDir);
  const rel = under === '' ? '.' : under.startsWith('..') || isAbsolute(under) ? runDir : under;
  const state = s.completed ? '' : s.stopped ? ` (stopped: \`npx dare resume ${rel}\` continues it)` : ' (not completed)';
  out.push(`run ${s.runId} (${s.method}): ${s.steps} steps, policy version ${s.policyVersion}${state}`);
  const tiers = [...new Set([...Object.keys(s.baseline.byTier), ...Object.keys(s.eval.byTier)])].sort();
  out.push('eval accuracy       before   after');
  out.push(`  overall           ${pct(s.baseline.accuracy)}  ${pct(s.eval.accuracy)}`);
  for (const t of tiers) out.push(`  ${t.padEnd(16)}  ${pct(s.baseline.byTier[t]?.accuracy)}  ${pct(s.eval.byTier[t]?.accuracy)}`);
  const r = s.rollouts;
  out.push(`rollouts: ${r.generated} generated, ${r.trained} trained, ${r.discarded} discarded, ${r.buffered} buffered, ${r.inFlight} in flight`);
  out.push(`time: ${s.seconds.wall.toFixed(1)} s (rollout ${s.seconds.rollout.toFixed(1)}, update ${s.seconds.update.toFixed(1)}, score ${s.seconds.score.toFixed(1)}, other ${s.seconds.orchestration.toFixed(1)})`);
  out.push(`log: ${rel}/log   metrics: ${rel}/metrics.csv   summary: ${rel}/summary.json   report: ${rel}/report.html`);
  if (existsSync(join(runDir, 'final'))) out.push(`model: ${rel}/final (the final policy as a Hugging Face directory; transformers loads it)`);
  out.push(`look closer: npx dare serve ${rel}   (or: npx dare log ${rel} --type EvalCompleted)`);
  process.stdout.write(out.join('\n') + '\n');
}

export async function runCommand(o: { scenario: string; runDir?: string; steps?: number; seed?: number; set: string[]; logFormat: LogFormat; external?: string[] } & NatsFlags): Promise<void> {
  const logger = createLogger('dare', undefined, o.logFormat);
  const res = await runScenario({
    scenario: o.scenario, runDir: o.runDir, steps: o.steps, seed: o.seed, sets: o.set, nats: runNats(o), logger, external: o.external,
    logFormat: o.logFormat, onEnd: (log, dir) => writeRunReport(log, dir, logger),
  });
  printSummary(res.summary, res.runDir);
  await printSelection(res.runDir);
  interruptedExit(res);
}

/** The selection's closing lines (views/selectionSummary.ts); a log that cannot be folded prints none. */
async function printSelection(runDir: string): Promise<void> {
  const { selectionSummary, selectionLines } = await import('../views/selectionSummary.ts');
  try {
    process.stdout.write(selectionLines(await selectionSummary(runDir)).join('\n') + '\n');
  } catch {
    // the summary above already said what the run did
  }
}

/** A run a signal stopped (gracefully) still ends as interrupted, 128 + the signal's number, for scripts. */
function interruptedExit(res: RunOutcome): void {
  if (res.interruptedBy) process.exitCode = res.interruptedBy === 'SIGINT' ? 130 : 143;
}

export async function resumeCommand(o: { dir: string; steps?: number; logFormat: LogFormat } & NatsFlags): Promise<void> {
  const logger = createLogger('dare', undefined, o.logFormat);
  const res = await resumeRun({ runDir: o.dir, steps: o.steps, nats: runNats(o), logger, logFormat: o.logFormat, onEnd: (log, dir) => writeRunReport(log, dir, logger) });
  if ('finished' in res) {
    const what = res.repaired.map((r) => (r === 'summary' ? 'its summary and report' : `its final model (${o.dir}/final)`)).join(' and ');
    const repaired = what ? ` (${what} ${res.repaired.length > 1 ? 'were' : 'was'} missing: written now from the log)` : '';
    process.stdout.write(`${o.dir}: the run is complete after ${res.steps} steps${repaired}; \`dare resume ${o.dir} --steps N\` extends it\n`);
    return;
  }
  printSummary(res.summary, res.runDir);
  interruptedExit(res);
}
