/**
 * `dare run` and `dare resume` (DESIGN §1, §6): a run directory and its configuration, then the composed run
 * (compose.ts) from start to end. The caller writes the report when a run ends (run/ never imports views/).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { resolveLoggedConfig, type RunConfig } from '../events/config.ts';
import { UserError } from '../events/errors.ts';
import { EventLog } from '../store/eventLog.ts';
import { composeRun, type ComposeArgs, type NatsTarget, type RunOutcome } from './compose.ts';
import { readJson, writeAtomic } from './runDir.ts';
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
  progress?: boolean;
  onEnd?: ComposeArgs['onEnd'];
}

export async function runScenario(args: RunArgs): Promise<RunOutcome> {
  const config = configFromScenario(args.scenario, args);
  const name = basename(args.scenario).replace(/\.json$/, '');
  const runDir = resolve(args.runDir ?? join('runs', `${name}-${config.run.seed}`));
  if (existsSync(join(runDir, 'log', 'data.mdb'))) {
    throw new UserError(`${runDir}: a run already exists here; continue it with \`dare resume ${runDir}\` or choose --run-dir`);
  }
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  writeAtomic(join(runDir, 'config.json'), JSON.stringify({ scenario: name, ...config }, null, 2) + '\n');
  return execute({ runDir, config, scenario: name, fresh: true, nats: args.nats, logger: args.logger, progress: args.progress ?? false, onEnd: args.onEnd });
}

export interface ResumeArgs {
  runDir: string;
  steps?: number;
  nats?: NatsTarget;
  logger: Logger;
  progress?: boolean;
  onEnd?: ComposeArgs['onEnd'];
}

export async function resumeRun(args: ResumeArgs): Promise<RunOutcome | { runDir: string; finished: true }> {
  const runDir = resolve(args.runDir);
  const hasLog = existsSync(join(runDir, 'log', 'data.mdb'));
  // `dare run` writes config.json before it creates the log: a run killed in between starts afresh from it
  if (!hasLog && !existsSync(join(runDir, 'config.json'))) throw new UserError(`${args.runDir}: not a run directory (no log/data.mdb)`);
  const saved = readJson(join(runDir, 'config.json'), 'config.json') as RunConfig & { scenario?: string };
  const { scenario = 'unknown', ...rest } = saved;
  let config: RunConfig;
  try {
    config = resolveLoggedConfig(rest);
  } catch (e) {
    throw new UserError(`${join(runDir, 'config.json')}: ${(e as Error).message}`);
  }
  let started = hasLog;
  if (hasLog) {
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      if (log.seqOf('RunCompleted') !== undefined) return { runDir, finished: true };
      // killed before RunStarted was logged: nothing was decided yet, so start it from config.json
      started = log.seqOf('RunStarted') !== undefined;
    } finally {
      await log.close();
    }
  }
  // The logged configuration is authoritative (replay recomputes every decision from it): a different
  // step count would make the resumed decisions disagree with the log's own RunStarted.
  if (args.steps !== undefined && args.steps !== config.run.steps) {
    throw new UserError(`--steps ${args.steps}: this run was started with run.steps=${config.run.steps}; a logged run keeps its configuration`);
  }
  return execute({ runDir, config, scenario, fresh: !started, nats: args.nats, logger: args.logger, progress: args.progress ?? false, onEnd: args.onEnd });
}

async function execute(a: ComposeArgs): Promise<RunOutcome> {
  const composed = await composeRun(a);
  try {
    await composed.go();
    return await composed.finish();
  } finally {
    await composed.close();
  }
}
