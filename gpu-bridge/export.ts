/**
 * `dare export DIR [--version V] -o OUT`: a checkpoint of a run as a Hugging Face model directory. A fresh hf
 * worker is started with the run's logged configuration, loads the checkpoint (its sha256 checked against
 * the log's CheckpointSaved), and writes OUT with `save_pretrained` (float32 safetensors, config, generation
 * config) and the tokenizer; LoRA adapters are merged. Plain `transformers` then loads OUT.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { resolveLoggedConfig, type RunConfig } from '../events/config.ts';
import { EventLog } from '../store/eventLog.ts';
import { initArgs, pythonCommand, REPO_ROOT } from './workerFactory.ts';
import { ProcessWorker } from './workerClient.ts';

/** A user error of the export (missing run, version, or output directory): one line naming what is wrong. */
export class ExportError extends Error {}

export interface ExportOptions {
  runDir: string;
  /** policy version of the checkpoint (default: the newest checkpoint) */
  version?: number;
  out: string;
  /** stderr lines of the worker */
  log?: (line: string) => void;
}

export interface ExportResult {
  out: string;
  policyVersion: number;
  checkpoint: string;
  files: string[];
}

interface Checkpoint {
  policyVersion: number;
  path: string;
  sha256: string;
}

/** The run's logged configuration and its checkpoints (CheckpointSaved, oldest first). */
export function runCheckpoints(runDir: string): { config: RunConfig; checkpoints: Checkpoint[] } {
  if (!existsSync(join(runDir, 'log', 'data.mdb'))) throw new ExportError(`${runDir}: not a run directory (no log/data.mdb)`);
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  try {
    let config: RunConfig | undefined;
    const checkpoints: Checkpoint[] = [];
    for (const { event } of log.iterate(1)) {
      if (event.type === 'RunStarted' && !config) config = resolveLoggedConfig(event.data.config);
      else if (event.type === 'CheckpointSaved') {
        const p = event.data.path;
        checkpoints.push({ policyVersion: event.data.policyVersion, path: isAbsolute(p) ? p : resolve(runDir, p), sha256: event.data.sha256 });
      }
    }
    if (!config) throw new ExportError(`${runDir}: the log has no RunStarted event`);
    return { config, checkpoints };
  } finally {
    void log.close();
  }
}

export async function exportCheckpoint(opts: ExportOptions): Promise<ExportResult> {
  const runDir = resolve(opts.runDir);
  const out = resolve(opts.out);
  const { config, checkpoints } = runCheckpoints(runDir);
  if (config.worker.kind !== 'hf') throw new ExportError(`${runDir}: worker.kind is ${config.worker.kind}; only hf runs export to the Hugging Face format`);
  if (checkpoints.length === 0) throw new ExportError(`${runDir}: the run has no checkpoint yet (run.checkpointEvery)`);
  const ckpt = opts.version === undefined ? checkpoints[checkpoints.length - 1] : checkpoints.find((c) => c.policyVersion === opts.version);
  if (!ckpt) {
    throw new ExportError(`--version ${opts.version}: no checkpoint of that policy version; the run has ${checkpoints.map((c) => c.policyVersion).join(', ')}`);
  }
  if (!existsSync(ckpt.path)) throw new ExportError(`${ckpt.path}: the checkpoint file of version ${ckpt.policyVersion} is missing`);
  if (!existsSync(dirname(out))) throw new ExportError(`-o ${opts.out}: no directory ${dirname(out)}`);
  if (existsSync(out) && readdirSync(out).length > 0) throw new ExportError(`-o ${opts.out}: exists and is not empty`);

  const worker = ProcessWorker.spawn({
    name: 'export',
    command: pythonCommand(),
    args: ['-m', 'dare_worker', '--kind', 'hf'],
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PYTHONPATH: [join(REPO_ROOT, 'gpu-bridge', 'python'), process.env.PYTHONPATH].filter(Boolean).join(':'),
      OPENBLAS_NUM_THREADS: '1',
    },
    logger: opts.log ? (msg) => opts.log!(msg) : undefined,
  });
  try {
    await worker.request('init', initArgs(config), { id: 'export/init' });
    await worker.request('load', { path: ckpt.path, sha256: ckpt.sha256 }, { id: `export/load/${ckpt.policyVersion}` });
    const res = await worker.request('export', { path: out }, { id: `export/${ckpt.policyVersion}` });
    const files = Array.isArray(res.files) ? res.files.map(String) : [];
    return { out, policyVersion: ckpt.policyVersion, checkpoint: ckpt.path, files };
  } finally {
    await worker.close();
  }
}
