/**
 * The final policy of a completed hf run as a Hugging Face model directory, DIR/final/ (what `dare export
 * DIR -o DIR/final` writes: safetensors, config, tokenizer; LoRA merged), so a finished run hands over a
 * model plain transformers loads. Written after the run, from the final checkpoint (its sha256 checked
 * against the log), never as part of the log: the log stays the run's only source of truth, and a run
 * killed before or during the export gets it at its next `dare resume` (which finds the run complete).
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RunConfig } from '../events/config.ts';
import { exportCheckpoint } from '../gpu-bridge/export.ts';

export const FINAL_MODEL_DIR = 'final';

/** Does this run hand over a model directory at its end? (hf runs only; the sim and tiny have no HF format) */
export function exportsFinalModel(config: RunConfig): boolean {
  return config.worker.kind === 'hf';
}

/**
 * Write DIR/final/ unless it is there. Returns its path, or null for runs of other workers. The export goes
 * to a temporary sibling first and is renamed into place, so DIR/final/ is either whole or absent.
 */
export async function writeFinalModel(runDir: string, config: RunConfig, logger: Logger): Promise<string | null> {
  if (!exportsFinalModel(config)) return null;
  const out = join(runDir, FINAL_MODEL_DIR);
  if (existsSync(out) && readdirSync(out).length > 0) return out;
  const partial = join(runDir, `${FINAL_MODEL_DIR}.partial`);
  rmSync(partial, { recursive: true, force: true });
  const t0 = performance.now();
  const r = await exportCheckpoint({ runDir, out: partial, log: (line) => logger.debug({ worker: 'export' }, line) });
  rmSync(out, { recursive: true, force: true });
  renameSync(partial, out);
  logger.info({ out, policyVersion: r.policyVersion, seconds: +((performance.now() - t0) / 1000).toFixed(1) }, 'final policy exported as a Hugging Face model directory');
  return out;
}
