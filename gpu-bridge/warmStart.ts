/**
 * The tiny worker's supervised warm start (it starts from random weights), run once by Bridge.start when no
 * registered checkpoint will be restored. Its save is registered as the policy-version-0 checkpoint, so a
 * restart before the first learner checkpoint loads the warm-started weights instead of bare init weights.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PromptRow } from '../events/promptRow.ts';
import { fail } from './bridgeTypes.ts';
import { promptRow } from './jobInputs.ts';
import type { JobContext } from './jobs/jobContext.ts';

/** Where the tiny worker's warm-started weights are saved (relative to the run directory). */
export const WARMSTART_PATH = 'checkpoints/warmstart.ckpt';
const SFT_BATCH = 64;
const SFT_MAX_EXAMPLES = 4096;

/** Training prompts for the warm start: the easier half by arithmetic level (then index), at most 4096. */
function warmStartExamples(ctx: JobContext): Array<{ text: string; completion: string }> {
  const log = ctx.log;
  const total = log.promptCount();
  const n = ctx.config.task.count > 0 ? Math.min(ctx.config.task.count, total) : total;
  const rows: Array<{ i: number; level: number; row: PromptRow }> = [];
  for (let i = 0; i < n; i++) {
    const row = promptRow(ctx.log, i);
    if (!row) continue;
    const lv = row.meta?.level;
    rows.push({ i, level: typeof lv === 'number' ? lv : 0, row });
  }
  rows.sort((a, b) => a.level - b.level || a.i - b.i);
  return rows.slice(0, Math.min(SFT_MAX_EXAMPLES, Math.ceil(rows.length / 2))).map(({ row }) => ({ text: row.question, completion: row.answer }));
}

/**
 * Supervised warm start of the tiny model (it starts from random weights): `sft` on the easiest training
 * prompts, then a save registered as the policy-version-0 checkpoint, so a supervised restart or a resume
 * gets these weights back without repeating the sft.
 */
export async function warmStart(ctx: JobContext, replica: boolean): Promise<void> {
  const { config, logger, log, runDir } = ctx;
  const examples = warmStartExamples(ctx);
  if (examples.length === 0) {
    logger.warn({}, 'warm start skipped: no training prompts in the prompts database');
    return;
  }
  // `phase`: a terminal's status line shows it with its elapsed seconds until `phaseDone` (run/logger.ts)
  logger.info({ phase: 'warm start', examples: examples.length, steps: config.worker.warmStartSteps }, 'warm start: supervised training from random weights');
  const res = await ctx.worker.request(
    'sft',
    { examples, steps: config.worker.warmStartSteps, batchSize: Math.min(SFT_BATCH, examples.length), lr: config.worker.warmStartLr, seed: config.run.seed },
    { id: 'warmstart/sft' },
  );
  ctx.version.offset = typeof res.policyVersion === 'number' ? res.policyVersion : ctx.version.offset + 1;
  // a replica's warm start is the primary's (same seed, deterministic): the primary saves and registers it
  if (replica) {
    logger.info({ phaseDone: 'warm start', loss: res.loss }, 'warm start done');
    return;
  }
  const abs = resolve(runDir, WARMSTART_PATH);
  mkdirSync(dirname(abs), { recursive: true });
  const saved = await ctx.worker.request('save', { path: abs }, { id: 'warmstart/save' });
  if (typeof saved.sha256 !== 'string') fail('warm start save: the worker returned no sha256');
  await log.registerCheckpoint({ path: WARMSTART_PATH, sha256: saved.sha256, policyVersion: 0, seq: log.lastSeq() });
  logger.info({ phaseDone: 'warm start', examples: examples.length, steps: config.worker.warmStartSteps, loss: res.loss, path: WARMSTART_PATH }, 'warm start done');
}
