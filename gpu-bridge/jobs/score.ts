/**
 * ScoreRequested → ScoreCompleted: the current policy's log-prob sum of every row of the requested groups
 * (the estimator's importance weights), in jobs of SCORE_CHUNK rows; the rows are sent as the stored bytes.
 */
import { eventId, makeEvent, type EventOf } from '../../events/catalogue.ts';
import { fail } from '../bridgeTypes.ts';
import { asArray, finite } from '../jobInputs.ts';
import { SCORE_CHUNK } from './chunks.ts';
import { requestVersion, type JobContext } from './jobContext.ts';

export async function score(ctx: JobContext, ev: EventOf<'ScoreRequested'>): Promise<void> {
  const d = ev.data;
  const rowOffsets = new Uint32Array(d.groups.length + 1);
  const rows: Array<{ promptTokens: Uint8Array; tokens: Uint8Array }> = [];
  d.groups.forEach((key, gi) => {
    for (const r of ctx.rowCache.groupRows(key, ev.id)) rows.push({ promptTokens: r.promptTokens, tokens: r.tokens });
    rowOffsets[gi + 1] = rows.length;
  });
  if (rows.length !== d.rows) fail(`${ev.id}: its groups hold ${rows.length} rows, the request says ${d.rows}`);
  const at = requestVersion(ctx, d.policyVersion);
  const current = new Float64Array(rows.length);
  for (let k = 0; k * SCORE_CHUNK < rows.length; k++) {
    const part = rows.slice(k * SCORE_CHUNK, (k + 1) * SCORE_CHUNK);
    const res = await ctx.job('score', { rows: part, temperature: ctx.config.task.temperature, ...at.args }, `${ev.id}#${k}`);
    const sums = asArray(res.sums, `score ${ev.id}#${k}: sums`);
    if (sums.length !== part.length) fail(`score ${ev.id}#${k}: ${sums.length} sums for ${part.length} rows`);
    sums.forEach((s, i) => (current[k * SCORE_CHUNK + i] = finite(s, `score ${ev.id}#${k}: sums[${i}]`)));
  }
  await ctx.append([
    makeEvent(
      'ScoreCompleted',
      { groups: d.groups, rowOffsets, current, policyVersion: at.value },
      { run: ctx.run, id: eventId('ScoreCompleted', d.step), cause: ev.id },
    ),
  ]);
  ctx.logger.info({ request: ev.id, groups: d.groups.length, rows: rows.length, policyVersion: at.value }, 'score completed');
}
