/**
 * The worker a run configuration asks for (DESIGN §7): the in-process `sim` (a SimWorker, no process, no
 * supervision: it cannot crash independently of us), or a `tiny`/`hf` PyTorch worker process behind a
 * Supervisor (restart, restore, re-issue). Also the sim's prompt table, which the runner registers: the
 * sim's bank and the table must come from the same SimConfig, so both are derived here.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { RunConfig } from '../events/config.ts';
import { Supervisor } from './supervisor.ts';
import type { WorkerHandle, WorkerInfo } from './workerClient.ts';
import { PromptBank } from './sim/promptBank.ts';
import { SimWorker } from './sim/simWorker.ts';
import type { SimConfig } from './sim/simInit.ts';

/** Repository root (this file is gpu-bridge/workerFactory.ts). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The project's venv interpreter (`make setup-venv`: Debian's torch plus transformers and the rest). */
export const VENV_PYTHON = join(REPO_ROOT, '.venv', 'bin', 'python');

/**
 * The Python interpreter of the workers: DARE_PYTHON, else the project's venv when it exists (the hf worker
 * needs its transformers), else Debian's /usr/bin/python3 (torch only: enough for the tiny worker; the pyenv
 * python3 first on PATH has no torch).
 */
export function pythonCommand(env: NodeJS.ProcessEnv = process.env, venvPython = VENV_PYTHON): string {
  if (env.DARE_PYTHON) return env.DARE_PYTHON;
  return existsSync(venvPython) ? venvPython : '/usr/bin/python3';
}

/**
 * The sim's configuration for a run: a bank of task.count + task.evalCount prompts (prompt id = String(index)),
 * latent-difficulty distribution worker.simDistribution, its optimizer worker.simOptimizer, and the drift shift. The sim's clock is its
 * policy version (updates applied); step t's rollouts are generated at version t − 1, so a shift "at step
 * S" holds from version S − 1 on (the rollouts of step S are the first to see it).
 */
export function simConfig(config: RunConfig): SimConfig {
  const w = config.worker;
  const n = config.task.count + config.task.evalCount;
  if (n <= 0) throw new Error('task.count + task.evalCount: the sim needs at least one prompt');
  const cfg: SimConfig = { numPrompts: n, distribution: w.simDistribution, optimizer: w.simOptimizer };
  if (w.simShiftStep > 0) {
    cfg.shifts = [{ atVersion: w.simShiftStep - 1, delta: w.simShiftDelta, fraction: w.simShiftFraction }];
  }
  return cfg;
}

/** Name of sim category c (the sim's categories are numbered; these are the names the run registers). */
export function simCategoryName(c: number): string {
  return `c${c}`;
}

/** The sim's prompt table: category per prompt index (training then eval prompts) and category names. */
export function simPromptTable(config: RunConfig): { categories: string[]; categoryOf: Uint16Array; count: number; evalCount: number } {
  const bank = new PromptBank(config.run.seed, simConfig(config));
  const categories = Array.from({ length: bank.numCategories }, (_, c) => simCategoryName(c));
  return { categories, categoryOf: Uint16Array.from(bank.category), count: config.task.count, evalCount: config.task.evalCount };
}

/** Longest prompt (tokens) the PyTorch workers accept: the tiny model's positions minus the response cap. */
export function promptTokenLimit(config: RunConfig): { maxLen: number; maxPromptTokens: number } {
  const r = config.task.maxResponseTokens;
  if (config.worker.kind === 'tiny') {
    // arithmetic questions are ≤ 16 tokens with BOS; keep ≥ 32 for prompts, the tiny default of 64 positions
    const maxLen = Math.max(64, 32 + r);
    return { maxLen, maxPromptTokens: maxLen - r };
  }
  return { maxLen: 0, maxPromptTokens: config.worker.maxPromptTokens || 1024 };
}

/** The `init` job's args for the configured worker (docs/worker-protocol.md). */
export function initArgs(config: RunConfig): Record<string, unknown> {
  const w = config.worker;
  const optim = { lr: w.lr, weightDecay: w.weightDecay, gradClip: w.gradClip };
  if (w.kind === 'sim') return { seed: config.run.seed, kind: 'sim', sim: simConfig(config) as unknown as Record<string, unknown>, optim };
  const { maxLen, maxPromptTokens } = promptTokenLimit(config);
  const args: Record<string, unknown> = {
    seed: config.run.seed,
    kind: w.kind,
    device: w.device,
    deterministic: true,
    optim,
    maxPromptTokens,
    maxResponseTokens: config.task.maxResponseTokens,
  };
  if (w.batchTokens > 0) args.batchTokens = w.batchTokens;
  if (w.rolloutRows > 0) args.rolloutRows = w.rolloutRows;
  // pipelined mode: rollouts and scores name the version one update back, which the worker then keeps
  if (config.run.offPolicySteps > 0) args.keepPrevious = true;
  if (w.ranks > 1) args.ranks = w.ranks; // data-parallel update: the worker starts ranks 1..N-1 (dare_worker/ranks.py)
  if (w.kind === 'tiny') {
    args.model = { maxLen };
    return args;
  }
  args.modelPath = w.model; // relative paths: the worker's cwd is the repository root
  args.chatTemplate = w.chatTemplate;
  if (w.attnImplementation !== 'auto') args.attnImplementation = w.attnImplementation;
  if (w.gradientCheckpointing) args.gradientCheckpointing = true;
  if (w.loraRank > 0) {
    const targets = w.loraTargets.split(',').map((t) => t.trim()).filter(Boolean);
    args.lora = { rank: w.loraRank, alpha: w.loraAlpha > 0 ? w.loraAlpha : 2 * w.loraRank, targets };
  }
  return args;
}

export interface WorkerHooks {
  /** A supervised worker process was lost (generation = the lost incarnation); its jobs will be re-issued. */
  onLost?: (reason: string, pendingIds: string[], generation: number) => void;
  /** A supervised worker (re)joined: generation 0 at start, then once per restart. */
  onJoined?: (info: WorkerInfo) => void;
  /** The supervisor gave up restarting. */
  onGaveUp?: (reason: string) => void;
  /** Worker stderr lines and lifecycle messages. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * Make (not initialise) the worker for a configuration. Process workers get a Supervisor whose restore
 * recipe is init → load(last checkpoint) → updates since, with `replayUpdates` on: the bridge never
 * re-applies updates after a restart itself (its restore() runs once, at start, and goes through this same
 * Supervisor, which then counts those updates in its recipe), so nothing is applied twice.
 */
export function makeWorker(config: RunConfig, hooks: WorkerHooks = {}): WorkerHandle {
  const w = config.worker;
  if (w.kind === 'sim') {
    const durationsMs = { rollout: w.simRolloutMs, score: w.simScoreMs, update: w.simUpdateMs, eval: w.simEvalMs };
    return new SimWorker({ name: 'sim', durationsMs });
  }
  const timeoutMs = Math.round(w.jobTimeoutSec * 1000);
  let sup: Supervisor | null = null;
  sup = new Supervisor({
    name: w.kind,
    process: {
      name: w.kind,
      command: pythonCommand(),
      args: ['-m', 'dare_worker', '--kind', w.kind],
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PYTHONPATH: [join(REPO_ROOT, 'gpu-bridge', 'python'), process.env.PYTHONPATH].filter(Boolean).join(':'),
        OPENBLAS_NUM_THREADS: '1',
      },
      defaultTimeoutMs: timeoutMs,
      logger: hooks.log,
    },
    restoreTimeoutMs: timeoutMs,
    replayUpdates: true,
    onLost: (reason, pendingIds) => hooks.onLost?.(reason, pendingIds, sup!.info.generation),
    onJoined: hooks.onJoined,
    onGaveUp: hooks.onGaveUp,
    logger: hooks.log,
  });
  return sup;
}
