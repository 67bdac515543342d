/**
 * UpdateRequested → UpdateCompleted: one policy update on the logged rows (their stored bytes and behaviour
 * log-probs, with the learner's advantages, clip bounds and weights per row), which moves the policy version
 * on by one. applyUpdate is also what restore() and a replica use to re-apply a logged update.
 */
import { eventId, makeEvent, type EventOf } from '../../events/catalogue.ts';
import { mark, stepTrace } from '../../events/stepTrace.ts';
import { fail, type RowBytes } from '../bridgeTypes.ts';
import { faultPause } from '../faults.ts';
import { finite, isMap } from '../jobInputs.ts';
import type { JobContext } from './jobContext.ts';

/** Run the update job of an UpdateRequested (id = the request id) and move the version on. */
export async function applyUpdate(ctx: JobContext, ev: EventOf<'UpdateRequested'>): Promise<EventOf<'UpdateCompleted'>['data']> {
  const d = ev.data;
  if (d.policyVersion !== ctx.version.value) {
    fail(`${ev.id} was built at policy version ${d.policyVersion}; the worker's weights are at ${ctx.version.value}`);
  }
  const n = d.rowGroup.length;
  const perRow = { rowIndex: d.rowIndex, rawReward: d.rawReward, shapedReward: d.shapedReward, advantage: d.advantage, clipLo: d.clipLo, clipHi: d.clipHi, weight: d.weight, bin: d.bin };
  for (const [f, a] of Object.entries(perRow)) if (a.length !== n) fail(`${ev.id}: ${f} has ${a.length} entries for ${n} rows`);
  const rows: Record<string, unknown>[] = new Array(n);
  const groups = new Map<string, RowBytes[]>();
  for (let r = 0; r < n; r++) {
    const key = d.groups[d.rowGroup[r]];
    if (key === undefined) fail(`${ev.id}: rowGroup[${r}] = ${d.rowGroup[r]} is outside the ${d.groups.length} groups`);
    const g = ctx.rowCache.groupRows(key, ev.id, groups);
    const row = g[d.rowIndex[r]];
    if (!row) fail(`${ev.id}: row ${r} refers to row ${d.rowIndex[r]} of ${key}, which has ${g.length} rows`);
    rows[r] = {
      promptTokens: row.promptTokens,
      tokens: row.tokens,
      oldLogprobs: row.logprobs,
      advantage: d.advantage[r],
      clipLo: d.clipLo[r],
      clipHi: d.clipHi[r],
      weight: d.weight[r],
      bin: d.bin[r],
      truncated: row.finish === 'length',
    };
  }
  const args: Record<string, unknown> = {
    rows,
    aggregation: d.aggregation,
    maskTruncated: d.maskTruncated,
    entropyCoeff: d.entropyCoeff,
    klCoeff: d.klCoeff,
    temperature: ctx.config.task.temperature,
  };
  if (d.lConst > 0) args.lConst = d.lConst;
  const res = await ctx.worker.request('update', args, { id: ev.id });
  const next = d.policyVersion + 1;
  if (typeof res.policyVersion === 'number' && res.policyVersion - ctx.version.offset !== next) {
    fail(`update ${ev.id}: the worker reports version ${res.policyVersion}, expected ${next + ctx.version.offset} (log version ${next} + offset ${ctx.version.offset})`);
  }
  ctx.version.set(next);
  const bl = res.binLosses instanceof Map ? Object.fromEntries(res.binLosses) : isMap(res.binLosses) ? res.binLosses : {};
  const binLosses: Record<string, number> = {};
  for (const [b, v] of Object.entries(bl)) binLosses[String(b)] = finite(v, `update ${ev.id}: binLosses[${b}]`);
  const tokens = finite(res.tokens, `update ${ev.id}: tokens`);
  return {
    step: d.step,
    policyVersion: next,
    loss: finite(res.loss, `update ${ev.id}: loss`),
    clipFrac: finite(res.clipFrac, `update ${ev.id}: clipFrac`),
    kl: finite(res.kl, `update ${ev.id}: kl`),
    entropy: finite(res.entropy, `update ${ev.id}: entropy`),
    gradNorm: finite(res.gradNorm, `update ${ev.id}: gradNorm`),
    tokens: Math.max(0, Math.round(tokens)),
    binLosses,
  };
}

export async function update(ctx: JobContext, ev: EventOf<'UpdateRequested'>): Promise<void> {
  if (stepTrace.on) mark('update:start');
  const data = await applyUpdate(ctx, ev);
  if (stepTrace.on) mark('update:applied');
  await faultPause('update');
  await ctx.append([makeEvent('UpdateCompleted', data, { run: ctx.run, id: eventId('UpdateCompleted', data.step), cause: ev.id })]);
  ctx.logger.info({ request: ev.id, policyVersion: data.policyVersion, loss: data.loss, rows: ev.data.rowGroup.length }, 'update completed');
}
