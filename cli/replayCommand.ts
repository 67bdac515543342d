/** `dare replay`: the printing of replay --verify (exit code 1 on a mismatch) and of a counterfactual replay. */
import type { CounterfactualResult } from '../run/counterfactual.ts';
import { verifyLog } from '../run/replay.ts';
import type { EventLog } from '../store/eventLog.ts';
import { toJsonSafe } from '../views/format.ts';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');

/** Recompute every decision of the log and print the first mismatch; returns the exit code. */
export function replayVerifyCommand(log: EventLog, json: boolean): number {
  const r = verifyLog(log);
  if (json) process.stdout.write(JSON.stringify(toJsonSafe(r)) + '\n');
  else if (r.mismatch) {
    const m = r.mismatch;
    process.stdout.write(`replay --verify: MISMATCH at seq ${m.seq} (${m.id}, actor ${m.actor}): ${m.reason}\n`);
    if (m.logged !== undefined) process.stdout.write(`  logged:     ${JSON.stringify(toJsonSafe(m.logged))}\n`);
    if (m.recomputed !== undefined) process.stdout.write(`  recomputed: ${JSON.stringify(toJsonSafe(m.recomputed))}\n`);
  } else {
    process.stdout.write(`replay --verify: ok — ${r.decisionsChecked} decisions recomputed identically over ${r.events} events\n`);
  }
  // the one line for a script's log: stdout may be a file or JSON
  if (r.mismatch) process.stderr.write(`dare: ${log.dir}: replay --verify: mismatch at seq ${r.mismatch.seq} (${r.mismatch.id}, actor ${r.mismatch.actor})\n`);
  return r.mismatch ? 1 : 0;
}

export function printCounterfactual(r: CounterfactualResult, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(toJsonSafe(r)) + '\n');
    return;
  }
  const out = [`counterfactual replay with ${r.sets.join(' ')}: ${r.changedDecisions} estimator/sampler decisions change`];
  out.push(' step  selected  overlap  tier-changes  mean d (logged → counterfactual)');
  for (const s of r.steps) {
    out.push(`${String(s.step).padStart(5)}  ${String(s.selected).padStart(8)}  ${(100 * s.overlap).toFixed(1).padStart(6)}%  ${String(s.tierChanges).padStart(12)}  ${f3(s.meanD)} → ${f3(s.counterfactualMeanD)}`);
  }
  out.push('difficulty histogram of the last estimate (10 bins of d):');
  out.push(`  logged:         ${r.histogram.original.join(' ')}`);
  out.push(`  counterfactual: ${r.histogram.counterfactual.join(' ')}`);
  process.stdout.write(out.join('\n') + '\n');
}
