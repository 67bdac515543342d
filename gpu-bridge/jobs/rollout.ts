/**
 * RolloutRequested → RolloutCompleted per prompt, its samples' rows stored first as a group blob (or in the
 * same commit). A request runs in chunks of ROLLOUT_CHUNK prompts (chunks.ts); a chunk whose prompts all have
 * a completion in the log is skipped, and a chunk with some of them is run whole but logs only the missing
 * ones, so a re-issued request (DESIGN §6 step 4) samples exactly what the lost one would have. Hinted
 * rollouts get their prompt from a correct earlier response (BridgeTasks.hintPrompt). With the sim worker the
 * rewards, lengths and log-probs are the sim's exact facts, and every event carries the oracle's pass rate.
 */
import { groupId, makeEvent, rolloutCompletedId, type DareEvent, type EventOf } from '../../events/catalogue.ts';
import type { PromptRow } from '../../events/promptRow.ts';
import { mark, stepTrace } from '../../events/stepTrace.ts';
import { decodeRow, logprobSum, parseRowRef, type StoredGroupBlob } from '../blobs.ts';
import { fail, type StoredRow } from '../bridgeTypes.ts';
import { asArray, checkSample, finite, groupBlob, isMap, verifiedReward, type CheckedSample } from '../jobInputs.ts';
import { chunkSeed, ROLLOUT_CHUNK } from './chunks.ts';
import { jobPrompt, requestVersion, type JobContext } from './jobContext.ts';

/** Time (ms) after which finished rollout chunks are written (see rollout()). */
const ROLLOUT_FLUSH_MS = 250;

/** A sample kept as bytes: the stored form of the row, its token count and its behaviour log-prob sum. */
interface SampleRow {
  stored: StoredRow;
  tokens: number;
  logprobSum: number;
  text: string;
  finish: 'eos' | 'length';
}

/**
 * The stored rows of checked samples: their bins copied once, detached from the worker's buffers, into ONE
 * buffer for all of them (a chunk's samples: one allocation, not three per sample). Every bin's length is a
 * multiple of 4 and they lie end to end from offset 0, so every view is 4-byte aligned.
 */
function sampleRows(samples: readonly CheckedSample[]): SampleRow[] {
  let total = 0;
  for (const s of samples) total += s.promptTokens.byteLength + s.tokens.byteLength + s.logprobs.byteLength;
  const buf = new Uint8Array(total);
  let at = 0;
  const copy = (b: Uint8Array): Uint8Array => {
    buf.set(b, at);
    at += b.byteLength;
    return buf.subarray(at - b.byteLength, at);
  };
  return samples.map((s) => {
    const promptTokens = copy(s.promptTokens);
    const tokens = copy(s.tokens);
    const logprobs = copy(s.logprobs);
    return {
      stored: { promptTokens, tokens, logprobs, text: s.text, finish: s.finish },
      tokens: tokens.byteLength / 4,
      // the float32 entries summed in double precision (an aligned view of the copy)
      logprobSum: logprobSum(new Float32Array(buf.buffer, logprobs.byteOffset, logprobs.byteLength / 4)),
      text: s.text,
      finish: s.finish,
    };
  });
}

/** A sim sample's extra facts (simWorker.ts header). */
interface SimSample {
  correct: boolean;
  length: number;
  logprob: number;
}

export async function rollout(ctx: JobContext, ev: EventOf<'RolloutRequested'>): Promise<void> {
  const d = ev.data;
  const { log } = ctx;
  const n = d.prompts.length;
  if (d.rollouts.length !== n || d.hints.length !== n || d.hintSources.length !== n) {
    fail(`${ev.id}: prompts (${n}), rollouts (${d.rollouts.length}), hints (${d.hints.length}) and hintSources (${d.hintSources.length}) differ in length`);
  }
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (seen.has(d.prompts[i])) fail(`${ev.id}: prompt ${d.prompts[i]} appears twice`);
    seen.add(d.prompts[i]);
  }
  const at = requestVersion(ctx, d.policyVersion);
  const train = d.purpose === 'train';
  const groupKey = (p: number) => (train ? groupId(d.step, p) : `g/${d.purpose}/${d.step}/${p}`);
  const completionId = (p: number) => rolloutCompletedId(groupKey(p));

  let generated = 0;
  if (stepTrace.on) mark('rollout:start');
  // Finished chunks are written together until ROLLOUT_FLUSH_MS have passed since the last write (one commit
  // per write, or two: blobs with or before the events), so a fast worker (the sim: ms per chunk) writes a
  // request at once, while a slow one writes each chunk as it completes and a crash loses at most one chunk's
  // work. Only the commit grouping depends on the timing: the logged events and their ids do not.
  const held: { blobs: Array<readonly [string, StoredGroupBlob]>; events: DareEvent[]; chunks: Array<[number, number]> } = { blobs: [], events: [], chunks: [] };
  let heldSince = performance.now();
  const write = async () => {
    if (held.events.length > 0) {
      if (stepTrace.on) mark(`rollout:write ${held.events.length}`);
      // blobs first or in the same commit: a RolloutCompleted in the log always has its rows
      const ticket = ctx.blobsInAppend ? log.stageBlobs(held.blobs) : (await log.putBlobs(held.blobs), 0);
      if (stepTrace.on) mark('rollout:blobsPut');
      ctx.rowCache.add(held.blobs);
      await ctx.append(held.events);
      if (ticket > 0 && !log.blobsCommitted(ticket)) {
        throw new Error(`rollout ${ev.id}: events logged without their staged blobs (blobsInAppend, but the appends reach another log)`);
      }
      // one line per chunk that reached the log: the resume tests check no chunk is generated twice
      for (const [k, prompts] of held.chunks) ctx.logger.info({ request: ev.id, chunk: k, prompts }, 'rollout chunk logged');
    }
    held.blobs = [];
    held.events = [];
    held.chunks = [];
    heldSince = performance.now();
  };
  for (let k = 0; k * ROLLOUT_CHUNK < n; k++) {
    const lo = k * ROLLOUT_CHUNK;
    const hi = Math.min(n, lo + ROLLOUT_CHUNK);
    const missing: number[] = [];
    for (let pos = lo; pos < hi; pos++) if (log.seqOf(completionId(d.prompts[pos])) === undefined) missing.push(pos);
    if (missing.length === 0) continue;

    // the whole chunk, always: the job (and so every sample) must not depend on what was already logged
    const entries: Array<{ pos: number; hinted: boolean; n: number }> = [];
    const jobPrompts: Array<{ promptId: string; text: string; n: number }> = [];
    const rows = new Map<number, PromptRow | undefined>();
    for (let pos = lo; pos < hi; pos++) {
      const p = d.prompts[pos];
      const total = d.rollouts[pos];
      const h = d.hints[pos];
      if (h > total) fail(`${ev.id}: prompt ${p} has ${h} hinted rollouts of ${total}`);
      const row = jobPrompt(ctx, p, ev.id);
      rows.set(p, row);
      const question = row?.question ?? String(p);
      if (total - h > 0) {
        entries.push({ pos, hinted: false, n: total - h });
        jobPrompts.push({ promptId: String(p), text: question, n: total - h });
      }
      if (h > 0) {
        entries.push({ pos, hinted: true, n: h });
        jobPrompts.push({ promptId: String(p), text: hintPrompt(ctx, ev.id, p, row, d.hintSources[pos]), n: h });
      }
    }
    let groups: unknown[] = [];
    if (jobPrompts.length > 0) {
      const res = await ctx.job(
        'rollout',
        { prompts: jobPrompts, temperature: d.temperature, maxTokens: d.maxTokens, seed: chunkSeed(d.seed, k), ...at.args },
        `${ev.id}#${k}`,
      );
      groups = asArray(res.groups, `rollout ${ev.id}#${k}: groups`);
      if (groups.length !== jobPrompts.length) fail(`rollout ${ev.id}#${k}: ${groups.length} groups for ${jobPrompts.length} prompts`);
    }
    // samples per position, plain first then hinted
    // `at` indexes `checked` and, once its rows are copied out together, `sampled`
    const byPos = new Map<number, Array<{ at: number; sim: SimSample | null; hinted: boolean }>>();
    const checked: CheckedSample[] = [];
    entries.forEach((en, j) => {
      const g = groups[j];
      const samples = asArray(isMap(g) ? g.samples : undefined, `rollout ${ev.id}#${k}: groups[${j}].samples`);
      if (samples.length !== en.n) fail(`rollout ${ev.id}#${k}: groups[${j}] has ${samples.length} samples, asked for ${en.n}`);
      const list = byPos.get(en.pos) ?? [];
      samples.forEach((s, i) => {
        const row = checkSample(s);
        if (!row) {
          try {
            decodeRow(s, `rollout ${ev.id}#${k} groups[${j}].samples[${i}]`);
          } catch (err) {
            fail((err as Error).message);
          }
          fail(`rollout ${ev.id}#${k} groups[${j}].samples[${i}]: malformed sample`);
        }
        const sm = s as Record<string, unknown>;
        const sim = ctx.sim ? { correct: sm.correct === true, length: finite(sm.length, 'sim sample length'), logprob: finite(sm.logprob, 'sim sample logprob') } : null;
        list.push({ at: checked.length, sim, hinted: en.hinted });
        checked.push(row);
      });
      byPos.set(en.pos, list);
    });
    const sampled = sampleRows(checked);

    const blobs: Array<readonly [string, StoredGroupBlob]> = [];
    const events: DareEvent[] = [];
    for (const pos of missing) {
      const p = d.prompts[pos];
      const list = byPos.get(pos) ?? [];
      const m = list.length;
      const reward = new Float32Array(m);
      const length = new Uint32Array(m);
      const logprob = new Float64Array(m);
      const truncated = new Uint8Array(m);
      const hinted = new Uint8Array(m);
      list.forEach((x, i) => {
        const row = sampled[x.at];
        if (x.sim) {
          reward[i] = x.sim.correct ? 1 : 0;
          length[i] = x.sim.length;
          logprob[i] = x.sim.logprob;
        } else {
          reward[i] = verifiedReward(ctx.tasks, rows.get(p)!, row.text, `${ev.id} prompt ${p}`);
          length[i] = row.tokens;
          logprob[i] = row.logprobSum;
        }
        truncated[i] = row.finish === 'length' ? 1 : 0;
        hinted[i] = x.hinted ? 1 : 0;
      });
      const key = groupKey(p);
      blobs.push([key, { rows: list.map((x) => sampled[x.at].stored) } satisfies StoredGroupBlob]);
      const oracleSuccess = ctx.sim
        ? ctx.sim.oracle.passRate(p, { temperature: d.temperature, ...(d.policyVersion === undefined ? {} : { version: at.worker, weights: ctx.sim.weightsAt(at.worker) }) })
        : null;
      events.push(
        makeEvent(
          'RolloutCompleted',
          { step: d.step, promptIndex: p, group: key, purpose: d.purpose, policyVersion: at.value, reward, length, logprob, truncated, hinted, oracleSuccess },
          { run: ctx.run, id: completionId(p), cause: ev.id },
        ),
      );
      generated += m;
    }
    for (const b of blobs) held.blobs.push(b);
    for (const e of events) held.events.push(e);
    held.chunks.push([k, events.length]);
    if (performance.now() - heldSince >= ROLLOUT_FLUSH_MS) await write();
  }
  await write();
  if (generated > 0) ctx.logger.info({ request: ev.id, prompts: n, samples: generated, policyVersion: at.value }, 'rollouts completed');
}

/** The hint-augmented prompt of prompt p from its source row `<groupId>#<row>` (actors/learner/hints.ts). */
function hintPrompt(ctx: JobContext, reqId: string, p: number, row: PromptRow | undefined, source: string): string {
  if (!source) fail(`${reqId}: prompt ${p} asks for hinted rollouts without a hint source`);
  let ref: { group: string; row: number };
  try {
    ref = parseRowRef(source, `${reqId} hintSources of prompt ${p}`);
  } catch (err) {
    fail((err as Error).message);
  }
  const g = groupBlob(ctx.log, ref.group, `${reqId} hint source of prompt ${p}`);
  const src = g.rows[ref.row];
  if (!src) fail(`${reqId}: hint source ${source} of prompt ${p}: the group has ${g.rows.length} rows`);
  if (!ctx.tasks) fail(`${reqId}: no hint builder given to the bridge (BridgeDeps.tasks)`);
  return ctx.tasks!.hintPrompt(row?.question ?? String(p), src.text, row?.dataSource ?? '');
}
