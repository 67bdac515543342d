/**
 * `dare run` and `dare resume` (DESIGN §1, §6): a run directory and its configuration, then the composed run
 * (compose.ts) from start to end. The caller writes the report when a run ends (run/ never imports views/).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { resolveLoggedConfig, type RunConfig } from '../events/config.ts';
import { UserError } from '../events/errors.ts';
import { StoreError } from '../store/storeError.ts';
import { EventLog } from '../store/eventLog.ts';
import { composeRun, type ComposeArgs, type NatsTarget, type RunOutcome } from './compose.ts';
import { checkRun } from './check.ts';
import type { LogFormat } from './logger.ts';
import { lifecycleOf, type LoggedLifecycle } from './lifecycle.ts';
import { metricsCsv, metricsOf } from './metrics.ts';
import { readJson, runIdOf, writeAtomic } from './runDir.ts';
import { exportsFinalModel, FINAL_MODEL_DIR, writeFinalModel } from './finalModel.ts';
import { Interrupts } from './interrupts.ts';
import { acquireRunLock } from './runLock.ts';
import { summaryOf } from './summary.ts';
import { configFromScenario } from './scenario.ts';

export type { NatsTarget, RunOutcome } from './compose.ts';
export type { Summary } from './summary.ts';

export interface RunArgs {
  scenario: string;
  runDir?: string;
  steps?: number;
  seed?: number;
  sets?: string[];
  nats?: NatsTarget;
  logger: Logger;
  /** how progress is shown (default json: a `step` record through `logger`, which the caller controls) */
  logFormat?: LogFormat;
  onEnd?: ComposeArgs['onEnd'];
  /** actors run elsewhere (`dare actor NAME DIR`), see ComposeArgs */
  external?: readonly string[];
}

export async function runScenario(args: RunArgs): Promise<RunOutcome> {
  const config = configFromScenario(args.scenario, args);
  const name = basename(args.scenario).replace(/\.json$/, '');
  const runDir = resolve(args.runDir ?? join('runs', `${name}-${config.run.seed}`));
  if (existsSync(join(runDir, 'log', 'data.mdb'))) {
    throw new UserError(`${runDir}: a run already exists here; continue it with \`dare resume ${runDir}\` or choose --run-dir`);
  }
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  // before anything of the run exists: a Ctrl-C from here on is a stop, never a half-written directory
  const interrupts = new Interrupts(args.logger);
  try {
    const release = acquireRunLock(runDir);
    try {
      writeAtomic(join(runDir, 'config.json'), JSON.stringify({ scenario: name, ...config }, null, 2) + '\n');
      return await execute({ runDir, config, scenario: name, fresh: true, nats: args.nats, logger: args.logger, logFormat: args.logFormat ?? 'json', onEnd: args.onEnd, interrupts, external: args.external });
    } finally {
      release();
    }
  } finally {
    interrupts.dispose();
  }
}

export interface ResumeArgs {
  runDir: string;
  /** the run's new step total (higher than its own: extends it, a completed run too) */
  steps?: number;
  nats?: NatsTarget;
  logger: Logger;
  /** how progress is shown (default json: a `step` record through `logger`, which the caller controls) */
  logFormat?: LogFormat;
  onEnd?: ComposeArgs['onEnd'];
}

/** What a resume of a run that had nothing left to do did. */
export interface ResumeFinished {
  runDir: string;
  finished: true;
  steps: number;
  /** what was missing and is written now: 'summary' (summary.json, metrics.csv and what onEnd writes), 'final model' */
  repaired: string[];
}

export async function resumeRun(args: ResumeArgs): Promise<RunOutcome | ResumeFinished> {
  const runDir = resolve(args.runDir);
  const hasLog = existsSync(join(runDir, 'log', 'data.mdb')) && !emptyLogOfStartUp(runDir);
  // `dare run` writes config.json before it creates the log: a run killed in between starts afresh from it
  if (!hasLog && !existsSync(join(runDir, 'config.json'))) throw new UserError(`${args.runDir}: not a run directory (no log/data.mdb, no config.json)`);
  const interrupts = new Interrupts(args.logger);
  const release = (() => {
    try {
      return acquireRunLock(runDir);
    } catch (e) {
      interrupts.dispose();
      throw e;
    }
  })();
  try {
    const saved = readJson(join(runDir, 'config.json'), 'config.json') as RunConfig & { scenario?: string };
    const { scenario = 'unknown', ...rest } = saved;
    let config: RunConfig;
    try {
      config = resolveLoggedConfig(rest);
    } catch (e) {
      throw new UserError(`${join(runDir, 'config.json')}: ${(e as Error).message}`);
    }
    let state: LoggedLifecycle = { started: false, completed: false, stopped: false, steps: config.run.steps, stepsStarted: 0 };
    if (hasLog) {
      // never build on a damaged log: whatever it holds after the damage would be lost or made worse
      const check = await checkRun(runDir, { deep: false, maxProblems: 1 });
      if (check.problems.length > 0) {
        const p = check.problems[0];
        throw new UserError(
          `${args.runDir}: the log is damaged${p.seq !== undefined ? ` at seq ${p.seq}` : ''} (${p.what}); nothing was resumed. ` +
            `\`dare check ${args.runDir}\` lists every problem; restore the run directory from a copy, or start a new run`,
        );
      }
      const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
      try {
        state = lifecycleOf(log, config.run.steps);
      } finally {
        await log.close();
      }
    }
    let extendTo: number | undefined;
    if (args.steps !== undefined && args.steps !== state.steps) {
      if (args.steps < state.steps) {
        throw new UserError(`--steps ${args.steps}: the run's total is ${state.steps} steps; a logged run can be extended, not shortened`);
      }
      if (state.started) extendTo = args.steps;
      else {
        // nothing is logged yet (killed during start-up): the configuration is still config.json's to set
        config = { ...config, run: { ...config.run, steps: args.steps } };
        writeAtomic(join(runDir, 'config.json'), JSON.stringify({ scenario, ...config }, null, 2) + '\n');
      }
    }
    if (state.completed && extendTo === undefined) return await finishedRun(runDir, scenario, config, state.steps, args);
    return await execute({
      runDir, config, scenario, fresh: !state.started, extendTo, totalSteps: state.steps,
      nats: args.nats, logger: args.logger, logFormat: args.logFormat ?? 'json', onEnd: args.onEnd, interrupts,
    });
  } finally {
    release();
    interrupts.dispose();
  }
}

/**
 * A run killed while LMDB was creating its data file leaves it empty (LMDB writes its meta pages right after
 * creating it), or with the meta pages but none of the log's databases: nothing was logged, and the run
 * starts afresh over it. An empty data.mdb beside checkpoints or
 * a summary is a truncated log instead, refused as damaged.
 */
function emptyLogOfStartUp(runDir: string): boolean {
  const ckpts = join(runDir, 'checkpoints');
  const products = existsSync(join(runDir, 'summary.json')) || (existsSync(ckpts) && readdirSync(ckpts).length > 0);
  if (products) return false;
  if (statSync(join(runDir, 'log', 'data.mdb')).size === 0) return true;
  // killed after LMDB wrote its meta pages but before the log's databases were created: nothing was logged
  try {
    void EventLog.open(join(runDir, 'log'), { readOnly: true }).close();
    return false;
  } catch (e) {
    return e instanceof StoreError && / the log is not initialised yet$/.test(e.message);
  }
}

/**
 * A completed run has nothing left to run; if it was killed after RunCompleted but before its summary (and
 * report) or its final model were written, write them now from the log.
 */
async function finishedRun(runDir: string, scenario: string, config: RunConfig, steps: number, args: ResumeArgs): Promise<ResumeFinished> {
  const repaired: string[] = [];
  if (!existsSync(join(runDir, 'summary.json')) || !existsSync(join(runDir, 'metrics.csv'))) {
    writeSummaryFromLog(runDir, scenario, config, args);
    repaired.push('summary');
  }
  if (exportsFinalModel(config) && !existsSync(join(runDir, FINAL_MODEL_DIR))) {
    await writeFinalModel(runDir, config, args.logger);
    repaired.push('final model');
  }
  return { runDir, finished: true, steps, repaired };
}

function writeSummaryFromLog(runDir: string, scenario: string, config: RunConfig, args: ResumeArgs): void {
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    const m = metricsOf(log.iterate(1));
    writeAtomic(join(runDir, 'metrics.csv'), metricsCsv(m.steps));
    const summary = summaryOf(runIdOf(runDir), scenario, config, m, log.lastSeq());
    writeAtomic(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    args.onEnd?.(log, runDir);
    args.logger.info({ runDir }, 'completed run: summary.json and metrics.csv written from the log');
  } finally {
    void log.close();
  }
}

async function execute(a: ComposeArgs): Promise<RunOutcome> {
  const composed = await composeRun(a);
  let outcome: RunOutcome;
  try {
    await composed.go();
    outcome = await composed.finish();
  } finally {
    await composed.close();
  }
  // after close: the run's own worker is gone, so the export's worker has the machine to itself
  if (outcome.summary.completed) await writeFinalModel(outcome.runDir, a.config, a.logger);
  return outcome;
}
