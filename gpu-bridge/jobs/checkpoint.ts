/**
 * Checkpoints (DESIGN §6): CheckpointRequested → the worker saves its weights under the run directory, the
 * file is registered (path, sha256, policy version, log sequence) and then CheckpointSaved is logged; and,
 * for a resume, the newest registered checkpoint whose file is still there and still has its sha256.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { eventId, makeEvent, type EventOf } from '../../events/catalogue.ts';
import { fail, type BridgeLog, type BridgeLogger, type CheckpointEntry } from '../bridgeTypes.ts';
import { faultPause } from '../faults.ts';
import { finite } from '../jobInputs.ts';
import type { JobContext } from './jobContext.ts';

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function checkpoint(ctx: JobContext, ev: EventOf<'CheckpointRequested'>): Promise<void> {
  const d = ev.data;
  const { log, runDir } = ctx;
  if (d.policyVersion !== ctx.version.value) fail(`${ev.id} asks for version ${d.policyVersion}; the worker's weights are at ${ctx.version.value}`);
  const abs = resolve(runDir, d.path);
  const rel = isAbsolute(d.path) ? relative(resolve(runDir), abs) : d.path;
  mkdirSync(dirname(abs), { recursive: true });
  const res = await ctx.worker.request('save', { path: abs }, { id: ev.id });
  if (typeof res.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(res.sha256)) fail(`save ${ev.id}: the worker returned no valid sha256`);
  if (typeof res.policyVersion === 'number' && res.policyVersion - ctx.version.offset !== d.policyVersion) {
    fail(`save ${ev.id}: the worker saved version ${res.policyVersion}, expected ${d.policyVersion + ctx.version.offset}`);
  }
  const bytes = Math.max(0, Math.round(finite(res.bytes, `save ${ev.id}: bytes`)));
  await faultPause('checkpoint');
  await log.registerCheckpoint({ path: rel, sha256: res.sha256, policyVersion: d.policyVersion, seq: log.lastSeq() });
  await ctx.append([
    makeEvent(
      'CheckpointSaved',
      { policyVersion: d.policyVersion, path: rel, sha256: res.sha256, bytes },
      { run: ctx.run, id: eventId('CheckpointSaved', d.policyVersion), cause: ev.id },
    ),
  ]);
  ctx.logger.info({ request: ev.id, path: rel, policyVersion: d.policyVersion, bytes }, 'checkpoint saved');
}

/** Newest registered checkpoint whose file exists and whose sha256 matches (others skipped with a warning). */
export async function findCheckpoint(log: BridgeLog, runDir: string, logger: BridgeLogger, atMost = Infinity): Promise<CheckpointEntry | null> {
  const list = log.checkpoints().map((c, i) => ({ c, i })).filter(({ c }) => c.policyVersion <= atMost);
  list.sort((a, b) => b.c.policyVersion - a.c.policyVersion || b.i - a.i);
  for (const { c } of list) {
    const abs = resolve(runDir, c.path);
    if (!existsSync(abs)) {
      logger.warn({ path: c.path, policyVersion: c.policyVersion }, 'registered checkpoint is missing: skipped');
      continue;
    }
    const sha = await fileSha256(abs);
    if (sha !== c.sha256) {
      logger.warn({ path: c.path, policyVersion: c.policyVersion, expected: c.sha256, actual: sha }, 'checkpoint sha256 mismatch: skipped');
      continue;
    }
    return c;
  }
  return null;
}
