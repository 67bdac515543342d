/**
 * The `dare` command line (DESIGN §11). Exit codes: 0 success, 1 user error (one line naming the file, row,
 * key or message at fault), 2 internal error.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { EVENT_TYPES } from '../events/catalogue.ts';
import { PRESETS } from '../events/config.ts';
import { EventLog, StoreError } from '../store/eventLog.ts';
import { openRunLog } from '../run/openLog.ts';
import { natsTargetOf, withNatsFlags, type NatsFlags } from './natsOptions.ts';
import { EXIT, UserError } from '../events/errors.ts';
import { SCHEMA_VERSION } from '../events/catalogue.ts';
import { eventJson, eventLine } from '../views/format.ts';

function intArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${name}: expected a non-negative integer, got "${v}"`);
    return n;
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** A command that ran to its end and says so with a non-zero exit code (e.g. replay --verify's mismatch). */
class CommandExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** A log position given on the command line must be in the log. */
function inLog(log: EventLog, flag: string, seq: number | undefined): number | undefined {
  if (seq !== undefined && seq > log.lastSeq()) throw new UserError(`${flag} ${seq}: the log ends at seq ${log.lastSeq()}`);
  return seq;
}

/** How `dare run` and `resume` write stderr: lines for people (the default) or pino JSON records for programs. */
function logFormatOption(): Option {
  return new Option('--log-format <format>', 'stderr: text (lines for people; a progress bar on a terminal) or json (one pino record per line); default DARE_LOG_FORMAT or text').choices(['text', 'json']);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { version: string };
  return `dare ${pkg.version} (log schema ${SCHEMA_VERSION}, node ${process.version})`;
}

export function buildProgram(): Command {
  const program = new Command('dare')
    .description('Difficulty-adaptive RL post-training (DARE) as an event-sourced actor system over NATS and LMDB')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const runCmd = program
    .command('run')
    .description('start a run from a scenario file')
    .argument('<scenario>', 'scenario JSON file (scenarios/*.json)')
    .option('--run-dir <dir>', 'run directory (default runs/<scenario>-<seed>)')
    .option('--steps <n>', 'number of training steps', intArg('--steps'))
    .option('--seed <s>', 'run seed (uint32)', intArg('--seed'))
    .option('--set <key=value>', 'override a configuration key (repeatable)', collect, []);
  withNatsFlags(runCmd, 'use existing NATS servers instead of a private one (comma-separated: members of one cluster, failed over among)')
    .addOption(logFormatOption())
    .option('--external <actors>', 'comma-separated actors this process does not host: each runs as `dare actor NAME DIR`', (v: string) => v.split(',').filter(Boolean))
    .action(async (scenario: string, o: { runDir?: string; steps?: number; seed?: number; set: string[]; logFormat?: string; external?: string[] } & NatsFlags) => {
      const { runCommand } = await import('./runCommand.ts');
      const { logFormatOf } = await import('../run/logger.ts');
      await runCommand({ scenario, ...o, logFormat: logFormatOf(o.logFormat) });
    });

  const resumeCmd = program
    .command('resume')
    .description('continue a run where its log ends')
    .argument('<dir>', 'run directory')
    .option('--steps <n>', 'the run\'s step total (higher than its own: extends it, a completed run too)', intArg('--steps'));
  withNatsFlags(resumeCmd, 'use existing NATS servers (comma-separated: members of one cluster)')
    .addOption(logFormatOption())
    .action(async (dir: string, o: { steps?: number; logFormat?: string } & NatsFlags) => {
      const { resumeCommand } = await import('./runCommand.ts');
      const { logFormatOf } = await import('../run/logger.ts');
      await resumeCommand({ dir, ...o, logFormat: logFormatOf(o.logFormat) });
    });

  program
    .command('replay')
    .description('fold a run log without NATS or workers; --verify recomputes every decision')
    .argument('<dir>', 'run directory')
    .option('--verify', 'recompute every decision and compare it with the logged one')
    .option('--set <key=value>', 'counterfactual setting (repeatable)', collect, [])
    .option('--until <seq>', 'stop at this sequence number', intArg('--until'))
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { verify?: boolean; set: string[]; until?: number; json?: boolean }) => {
      const { replayVerifyCommand, printCounterfactual } = await import('./replayCommand.ts');
      const { counterfactual } = await import('../run/counterfactual.ts');
      const { inspectAt } = await import('../views/inspect.ts');
      const { printInspect } = await import('./inspectCommand.ts');
      const log = openRunLog(dir);
      try {
        if (o.verify) {
          inLog(log, '--until', o.until);
          const code = replayVerifyCommand(log, !!o.json);
          if (code !== EXIT.ok) throw new CommandExit(code);
        } else if (o.set.length) {
          printCounterfactual(counterfactual(log, o.set), !!o.json);
        } else {
          printInspect(inspectAt(log, inLog(log, '--until', o.until)), !!o.json);
        }
      } finally {
        void log.close();
      }
    });

  program
    .command('drift')
    .description('estimated difficulty against what the policy then did, per step and per prompt')
    .argument('<dir>', 'run directory')
    .option('--prompt <id>', 'one prompt\'s timeline')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { prompt?: string; json?: boolean }) => {
      const { driftCommand } = await import('./driftCommand.ts');
      const log = openRunLog(dir);
      try {
        driftCommand(log, o.prompt, !!o.json);
      } finally {
        void log.close();
      }
    });

  const inspectCmd = program
    .command('inspect')
    .description('every actor\'s state machine, at the end of the log, at a position, or live')
    .argument('<dir>', 'run directory')
    .option('--at <seq>', 'log position', intArg('--at'))
    .option('--prompt <id>', 'one prompt\'s history')
    .option('--live', 'follow a running run over NATS')
    .option('--json', 'machine-readable output');
  withNatsFlags(inspectCmd, 'with --live: NATS servers to follow it through instead of the run\'s own (nats.json)')
    .action(async (dir: string, o: { at?: number; prompt?: string; live?: boolean; json?: boolean } & NatsFlags) => {
      const { inspectAt } = await import('../views/inspect.ts');
      const { printInspect, inspectLive } = await import('./inspectCommand.ts');
      const { driftCommand } = await import('./driftCommand.ts');
      if (o.live) return inspectLive(dir, !!o.json, undefined, natsTargetOf(o));
      const log = openRunLog(dir);
      try {
        if (o.prompt !== undefined) driftCommand(log, o.prompt, !!o.json);
        else printInspect(inspectAt(log, inLog(log, '--at', o.at)), !!o.json);
      } finally {
        void log.close();
      }
    });

  const actorCmd = program
    .command('actor')
    .description('one actor of a running run in its own process (the run was started with --external NAME)')
    .argument('<name>', 'session, prompts, buffer, estimator, sampler or learner')
    .argument('<dir>', 'run directory of a running run');
  withNatsFlags(actorCmd, 'NATS servers to connect through instead of the run\'s own (nats.json)')
    .action(async (name: string, dir: string, o: NatsFlags) => {
      const { runActorProcess } = await import('../run/actorProcess.ts');
      await runActorProcess(name, dir, natsTargetOf(o));
    });

  const bridgeCmd = program
    .command('bridge')
    .description('one more gpu-bridge for a running run that shares its jobs (worker.shareJobs=true)')
    .argument('<dir>', 'run directory of a running run');
  withNatsFlags(bridgeCmd, 'NATS servers to connect through instead of the run\'s own (comma-separated: members of one cluster; the bridge fails over among them)')
    .action(async (dir: string, o: NatsFlags) => {
      const { runReplicaBridge } = await import('../run/replicaBridge.ts');
      await runReplicaBridge(dir, natsTargetOf(o));
    });

  const controlCmd = program
    .command('control')
    .description('pause, resume or stop a running run (over its NATS control subject)')
    .argument('<dir>', 'run directory of a running run')
    .addArgument(new Argument('<command>', 'what to do').choices(['pause', 'resume', 'stop']));
  withNatsFlags(controlCmd, 'NATS servers to send it through instead of the run\'s own (nats.json)')
    .action(async (dir: string, command: 'pause' | 'resume' | 'stop', o: NatsFlags) => {
      const { sendControl } = await import('../run/control.ts');
      await sendControl(dir, command, natsTargetOf(o));
      process.stdout.write(`${command}: applied (see \`dare log ${dir} --type ControlApplied\`)\n`);
    });

  program
    .command('nats-config')
    .description('a nats-server configuration for a run across hosts: one user per role (run, actor, bridge, observer, operator) with its subject permissions, and a credentials file per role')
    .argument('<out>', 'directory to write nats.conf and <role>.creds.json into (created; files mode 0600)')
    .option('--listen <host:port>', 'where clients connect', '0.0.0.0:4222')
    .option('--cluster <name>', 'cluster name (with --routes)')
    .option('--cluster-listen <host:port>', 'where the other servers\' routes connect', '0.0.0.0:6222')
    .option('--routes <urls>', 'the other servers\' route URLs, comma-separated (nats-route://host:6222)')
    .option('--tls-cert <file>', 'the server\'s TLS certificate (PEM); required unless --listen is on loopback')
    .option('--tls-key <file>', 'its key (PEM)')
    .option('--force', 'overwrite existing files')
    .action(async (out: string, o: { listen: string; cluster?: string; clusterListen: string; routes?: string; tlsCert?: string; tlsKey?: string; force?: boolean }) => {
      const { natsConfigCommand } = await import('./natsConfigCommand.ts');
      natsConfigCommand(out, o);
    });

  program
    .command('check')
    .description('is the run\'s log whole? events, checksums, the id index, blobs, prompts, checkpoints (exit 1 naming the first problem)')
    .argument('<dir>', 'run directory')
    .option('--quick', 'the log only: no blob reads, no checkpoint hashes')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { quick?: boolean; json?: boolean }) => {
      const { checkCommand } = await import('./checkCommand.ts');
      const code = await checkCommand(dir, { deep: !o.quick, json: !!o.json });
      if (code !== EXIT.ok) throw new CommandExit(code);
    });

  program
    .command('log')
    .description('print the events of a run log')
    .argument('<dir>', 'run directory')
    .addOption(new Option('--type <type>', 'only events of this type').choices(EVENT_TYPES))
    .option('--from <seq>', 'first sequence number', intArg('--from'), 1)
    .option('--limit <n>', 'at most this many events', intArg('--limit'))
    .option('--json', 'one JSON object per line')
    .action((dir: string, o: { type?: string; from: number; limit?: number; json?: boolean }) => {
      const log = openRunLog(dir);
      try {
        let n = 0;
        const out: string[] = [];
        // (the position just past the end is allowed: nothing new yet in a live run's log)
        if (o.from > log.lastSeq() + 1) throw new UserError(`--from ${o.from}: the log ends at seq ${log.lastSeq()}`);
        for (const e of log.iterate(Math.max(1, o.from))) {
          if (o.type && e.event.type !== o.type) continue;
          if (o.limit !== undefined && n >= o.limit) break;
          out.push(o.json ? eventJson(e) : eventLine(e));
          n++;
          if (out.length >= 1000) process.stdout.write(out.splice(0).join('\n') + '\n');
        }
        if (out.length) process.stdout.write(out.join('\n') + '\n');
      } finally {
        void log.close();
      }
    });

  program
    .command('estimate')
    .description('offline difficulty estimation from rows {promptId, reward, behaviorLogprob, currentLogprob}')
    .argument('<rows>', 'JSONL file')
    .option('--method <name>', 'snis | raw', 'snis')
    .option('--set <key=value>', 'configuration key or DARE README alias (repeatable)', collect, [])
    .option('--json', 'one JSON object per line')
    .action(async (rows: string, o: { method: string; set: string[]; json?: boolean }) => {
      const { runEstimate } = await import('./estimate.ts');
      await runEstimate(rows, o);
    });

  program
    .command('select')
    .description('the sampler alone: which prompts a draw picks from rows {promptId, difficulty}, with tiers and rollouts')
    .argument('<estimates>', 'JSONL file of {promptId, difficulty} (failure rate; optional source, e.g. cold-constant)')
    .option('--method <name>', 'method preset (dare, dare-reference, grpo, dots, ...)')
    .option('--set <key=value>', 'configuration key or DARE README alias (repeatable)', collect, [])
    .option('--budget <k>', 'prompts to draw (default run.batchSize)')
    .option('--seed <s>', 'run seed of the draw (default run.seed)')
    .option('--trials <n>', 'draw n times and print each prompt\'s inclusion frequency')
    .option('--json', 'one JSON object per line')
    .action(async (rows: string, o: { method?: string; set: string[]; budget?: string; seed?: string; trials?: string; json?: boolean }) => {
      const { runSelect } = await import('./select.ts');
      await runSelect(rows, o);
    });

  program
    .command('export')
    .description('a checkpoint of an hf run as a Hugging Face model directory (-o), or the run\'s metrics as TensorBoard event files (--tensorboard)')
    .argument('<dir>', 'run directory')
    .option('--version <v>', 'policy version of the checkpoint (default: the newest)', intArg('--version'))
    .option('-o, --output <dir>', 'model output directory (must not exist, or be empty)')
    .option('--tensorboard <dir>', 'write the per-step metrics of the run\'s log (finished, killed or live) as a TensorBoard event file into this directory; no model needed')
    .action(async (dir: string, o: { version?: number; output?: string; tensorboard?: string }) => {
      if (o.output === undefined && o.tensorboard === undefined) throw new UserError('export: name an output: -o DIR (the model) or --tensorboard DIR (event files)');
      if (o.version !== undefined && o.output === undefined) throw new UserError('--version: chooses the checkpoint of the model export (-o DIR)');
      if (o.tensorboard !== undefined) {
        const { exportTensorboard } = await import('../run/tensorboard/export.ts');
        const log = openRunLog(dir);
        try {
          const r = exportTensorboard(log, o.tensorboard);
          process.stdout.write(`${r.file}: ${r.steps} steps, ${r.events} events of ${r.tags} scalar tags (tensorboard --logdir ${o.tensorboard})\n`);
        } finally {
          void log.close();
        }
      }
      if (o.output === undefined) return;
      const { exportCheckpoint, ExportError } = await import('../gpu-bridge/export.ts');
      try {
        const r = await exportCheckpoint({ runDir: dir, version: o.version, out: o.output });
        process.stdout.write(`${r.out}: policy version ${r.policyVersion} from ${r.checkpoint} (${r.files.join(', ')})\n`);
      } catch (e) {
        if (e instanceof ExportError) throw new UserError(e.message);
        throw e;
      }
    });

  program
    .command('report')
    .description('a self-contained HTML report of a run')
    .argument('<dir>', 'run directory')
    .option('-o, --output <file>', 'output file (default <dir>/report.html)')
    .action(async (dir: string, o: { output?: string }) => {
      const { writeReport } = await import('../views/report/html.ts');
      const log = openRunLog(dir);
      try {
        const file = o.output ?? join(dir, 'report.html');
        if (!existsSync(dirname(resolve(file)))) throw new UserError(`${file}: cannot write the report (no directory ${dirname(resolve(file))})`);
        const d = writeReport(log, file);
        process.stdout.write(`${file}: ${d.run.stepsDone} steps, ${d.run.events} events (open it in a browser; it needs no network)\n`);
      } finally {
        void log.close();
      }
    });

  const serveCmd = program
    .command('serve')
    .description('a local web dashboard of a run: plots, statecharts, prompts; live (with pause/resume/stop) while it runs')
    .argument('<dir>', 'run directory')
    .option('--port <p>', 'port (0: any free port)', intArg('--port'), 8470)
    .option('--host <addr>', 'address to listen on (other than loopback: anyone who can reach it can pause the run)', '127.0.0.1');
  withNatsFlags(serveCmd, 'NATS servers to follow the run through instead of its own (nats.json); observer credentials give no control')
    .action(async (dir: string, o: { port: number; host: string } & NatsFlags) => {
      const { serveCommand } = await import('./serveCommand.ts');
      await serveCommand({ dir, port: o.port, host: o.host, via: natsTargetOf(o) });
    });

  program
    .command('bench')
    .description('benchmarks of the log, the estimator and sampler, and the control plane (figures for BENCHMARKS.md)')
    .option('--quick', 'a shorter run printing the same figures')
    .option('--json', 'one JSON object of named figures')
    .option('--only <groups>', 'comma-separated: log, algorithms, sim, tiny, replay (replay, resume and bytes per rollout), ceiling (the single writer\'s RolloutCompleted/s from 1, 2, 4 producer processes), anatomy (where a sim step goes; only when named)')
    .option('--method <preset>', 'the sim and anatomy groups run this method preset instead of dare (same batch, group size and replay mix)')
    .action(async (o: { quick?: boolean; json?: boolean; only?: string; method?: string }) => {
      const { runBenchmarks, BENCH_GROUPS } = await import('../bench/index.ts');
      const only = o.only?.split(',').map((g) => g.trim()).filter(Boolean);
      const unknown = only?.filter((g) => !(BENCH_GROUPS as readonly string[]).includes(g)) ?? [];
      if (unknown.length > 0) throw new UserError(`--only: unknown group ${unknown.join(', ')} (groups: ${BENCH_GROUPS.join(', ')})`);
      if (o.method !== undefined && !(o.method in PRESETS)) throw new UserError(`--method: unknown preset ${o.method} (presets: ${Object.keys(PRESETS).join(', ')})`);
      const figures = await runBenchmarks({ quick: !!o.quick, only: only as never, method: o.method, log: (m) => process.stderr.write(`${m}\n`) });
      if (o.json) process.stdout.write(JSON.stringify(figures) + '\n');
      else for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(32)} ${v}\n`);
    });

  program
    .command('machines')
    .description('export every actor\'s statechart')
    .option('--mermaid', 'as Mermaid state diagrams')
    .action(async (o: { mermaid?: boolean }) => {
      const { machinesCommand } = await import('./inspectCommand.ts');
      machinesCommand(!!o.mermaid);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command may end normally yet say so in its exit code (a run a signal stopped: 130 / 143).
    return typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommandExit) return e.code;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return EXIT.ok;
      if (e.code === 'commander.executeSubCommandAsync') return EXIT.internal;
      return EXIT.user; // commander already printed the message
    }
    if (e instanceof UserError || (e as Error)?.name === 'UserError') {
      process.stderr.write(`dare: ${(e as Error).message}\n`);
      return EXIT.user;
    }
    if (e instanceof StoreError) {
      process.stderr.write(`dare: ${e.message}\n`);
      return EXIT.user;
    }
    process.stderr.write(`dare: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}
