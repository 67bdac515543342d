/** `dare drift` and `--prompt`: the per-step calibration table and one prompt's timeline, as text or JSON lines. */
import { UserError } from '../events/errors.ts';
import type { EventLog } from '../store/eventLog.ts';
import { driftOf } from '../views/drift.ts';
import { toJsonSafe } from '../views/format.ts';
import { promptHistory, promptIndexOf } from '../views/promptHistory.ts';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');

export function driftCommand(log: EventLog, promptArg: string | undefined, json: boolean): void {
  if (promptArg !== undefined) {
    const q = promptIndexOf(log, promptArg);
    if (q === undefined) throw new UserError(`--prompt ${promptArg}: no such prompt id or index in this run (its prompts are indices 0..${log.promptCount() - 1}, or their ids)`);
    const h = promptHistory(log, q);
    if (json) for (const t of h.timeline) process.stdout.write(JSON.stringify(t) + '\n');
    else {
      process.stdout.write(`prompt ${q} ${h.row?.id ?? ''} ${JSON.stringify((h.row?.question ?? '').slice(0, 60))}\n`);
      for (const t of h.timeline) process.stdout.write(`${String(t.seq).padStart(8)}  step ${String(t.step).padStart(4)}  ${t.kind.padEnd(9)} ${JSON.stringify(t.detail)}\n`);
    }
    return;
  }
  const steps = driftOf(log);
  if (json) {
    for (const s of steps) process.stdout.write(JSON.stringify(toJsonSafe(s)) + '\n');
    return;
  }
  const out = [' step  est@  prompts   MAE    bias   spearman  oracle-MAE  meanESS  ESS<thr  clip+/-   by source (n: MAE)'];
  for (const s of steps) {
    const src = Object.entries(s.bySource).map(([k, c]) => `${k} ${c.n}: ${f3(c.mae)}`).join(', ');
    out.push(
      `${String(s.step).padStart(5)}  ${String(s.estimateStep).padStart(4)}  ${String(s.overall.n).padStart(7)}  ${f3(s.overall.mae)}  ${f3(s.overall.bias).padStart(6)}  ${f3(s.overall.spearman).padStart(8)}  ${f3(s.overall.oracleMae).padStart(10)}  ${f3(s.ess.mean).padStart(7)}  ${String(s.ess.belowThreshold).padStart(7)}  ${s.clipped.pos}/${s.clipped.neg}   ${src}`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}
