/**
 * EvalRequested → EvalCompleted: greedy answers to the eval prompts in jobs of EVAL_CHUNK prompts, verified,
 * as accuracy and mean length per tier (the prompt's category; the sim's category name); with the sim also
 * the oracle's expected accuracy. In pipelined mode (run.offPolicySteps = 1) the next step may be under way,
 * and its update applied, when an evaluation runs: it names the version it evaluates (the worker keeps the
 * weights one update back). Otherwise an eval asked for another policy version evaluates the current weights.
 */
import { eventId, makeEvent, type EventOf } from '../../events/catalogue.ts';
import type { PromptRow } from '../../events/promptRow.ts';
import { fail } from '../bridgeTypes.ts';
import { asArray, finite, verifiedReward } from '../jobInputs.ts';
import { simCategoryName } from '../workerFactory.ts';
import { EVAL_CHUNK } from './chunks.ts';
import { jobPrompt, requestVersion, type JobContext } from './jobContext.ts';

export async function evaluate(ctx: JobContext, ev: EventOf<'EvalRequested'>): Promise<void> {
  const d = ev.data;
  const n = d.prompts.length;
  const at = requestVersion(ctx, ctx.config.run.offPolicySteps > 0 ? d.policyVersion : undefined);
  if (at.value !== ctx.version.value && ctx.config.run.offPolicySteps === 0) {
    ctx.logger.warn({ request: ev.id, requested: d.policyVersion, current: ctx.version.value }, 'eval requested for another policy version; evaluating the current weights');
  }
  const rows: Array<PromptRow | undefined> = [];
  const prompts: Array<{ promptId: string; text: string }> = [];
  for (let i = 0; i < n; i++) {
    const p = d.prompts[i];
    const row = jobPrompt(ctx, p, ev.id);
    rows.push(row);
    prompts.push({ promptId: String(p), text: row?.question ?? String(p) });
  }
  const tiers = new Map<string, { ok: number; len: number; count: number }>();
  let ok = 0;
  for (let k = 0; k * EVAL_CHUNK < n; k++) {
    const part = prompts.slice(k * EVAL_CHUNK, (k + 1) * EVAL_CHUNK);
    const res = await ctx.worker.request('eval', { prompts: part, maxTokens: ctx.config.task.maxResponseTokens, ...at.args }, { id: `${ev.id}#${k}` });
    const texts = asArray(res.texts, `eval ${ev.id}#${k}: texts`);
    const lengths = asArray(res.lengths, `eval ${ev.id}#${k}: lengths`);
    if (texts.length !== part.length || lengths.length !== part.length) fail(`eval ${ev.id}#${k}: ${texts.length} texts, ${lengths.length} lengths for ${part.length} prompts`);
    part.forEach((_, j) => {
      const i = k * EVAL_CHUNK + j;
      const p = d.prompts[i];
      const text = typeof texts[j] === 'string' ? (texts[j] as string) : fail(`eval ${ev.id}#${k}: texts[${j}] is not a string`);
      const row = rows[i];
      const correct = ctx.sim ? text === 'correct' : verifiedReward(ctx.tasks, row!, text, `${ev.id} prompt ${p}`) > 0;
      const cat = (ctx.sim ? simCategoryName(ctx.sim.bank.category[p]) : row!.category).slice(0, 32);
      const t = tiers.get(cat) ?? { ok: 0, len: 0, count: 0 };
      t.ok += correct ? 1 : 0;
      t.len += finite(lengths[j], `eval ${ev.id}#${k}: lengths[${j}]`);
      t.count++;
      tiers.set(cat, t);
      if (correct) ok++;
    });
  }
  const byTier: Record<string, { accuracy: number; meanLength: number; count: number }> = {};
  for (const [cat, t] of [...tiers.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    byTier[cat] = { accuracy: t.ok / t.count, meanLength: t.len / t.count, count: t.count };
  }
  const accuracy = n > 0 ? ok / n : 0;
  const oracleAccuracy = ctx.sim && n > 0 ? ctx.sim.oracle.expectedAccuracy(d.prompts, at.args.policyVersion === undefined ? {} : { version: at.worker, weights: ctx.sim.weightsAt(at.worker) }) : null;
  await ctx.append([
    makeEvent(
      'EvalCompleted',
      { step: d.step, policyVersion: at.value, accuracy, byTier, oracleAccuracy },
      { run: ctx.run, id: eventId('EvalCompleted', d.step), cause: ev.id },
    ),
  ]);
  ctx.logger.info({ request: ev.id, accuracy, prompts: n, policyVersion: at.value }, 'eval completed');
}
