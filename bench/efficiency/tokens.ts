/**
 * The study at equal compute (issue 20 item 4): rollout TOKENS to the target and accuracy at a fixed token
 * budget, per arm and distribution, read back from the logs of a ledger's runs (DARE's tiers and length
 * shaping change response lengths, so rollouts alone can flatter or wrong it). Tokens are every generated
 * row's length (RolloutCompleted, train, refill and reference alike), cumulated through each evaluated step.
 *
 *   npx tsx bench/efficiency/tokens.ts LEDGER.jsonl [--target 0.8] [--budget TOKENS] [--json]
 *
 * Without --budget the budget is the smallest total any listed run generated (so every run spent it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventLog } from '../../store/eventLog.ts';
import { accuracyAtBudget, median, rolloutsToTarget, type CurvePoint } from './summary.ts';

interface Rec { worker: string; arm: string; distribution: string; seed: number; runDir: string }

/** (cumulative tokens, accuracy) at each evaluation of a run's log: the sim's oracle accuracy where logged. */
export function tokenCurve(runDir: string): { curve: CurvePoint[]; total: number } {
  const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
  const perStep = new Map<number, number>();
  const evals: Array<[number, number]> = [];
  try {
    for (const l of log.iterate(1)) {
      const e = l.event;
      if (e.type === 'RolloutCompleted') {
        let t = 0;
        for (const x of e.data.length) t += x;
        perStep.set(e.data.step, (perStep.get(e.data.step) ?? 0) + t);
      } else if (e.type === 'EvalCompleted') evals.push([e.data.step, e.data.oracleAccuracy ?? e.data.accuracy]);
    }
  } finally {
    void log.close();
  }
  const steps = [...perStep.keys()].sort((a, b) => a - b);
  const through = (s: number) => steps.filter((k) => k <= s).reduce((a, k) => a + perStep.get(k)!, 0);
  return { curve: evals.map(([s, acc]) => ({ rollouts: through(s), accuracy: acc })), total: through(Infinity) };
}

const k = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);

function main(): void {
  const argv = process.argv.slice(2);
  let target = 0.8;
  let budget: number | undefined;
  let json = false;
  let ledger = '';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') target = Number(argv[++i]);
    else if (argv[i] === '--budget') budget = Number(argv[++i]);
    else if (argv[i] === '--json') json = true;
    else ledger = argv[i];
  }
  if (!ledger) throw new Error('usage: npx tsx bench/efficiency/tokens.ts LEDGER.jsonl [--target 0.8] [--budget TOKENS] [--json]');
  const recs = readFileSync(ledger, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
  const runs = recs.map((r) => ({ ...r, ...tokenCurve(r.runDir) }));
  const B = budget ?? Math.min(...runs.map((r) => r.total));
  const groups = new Map<string, typeof runs>();
  for (const r of runs) {
    const key = `${r.distribution}|${r.arm}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const rows = [...groups].map(([key, rs]) => {
    const [distribution, arm] = key.split('|');
    const to = rs.map((r) => rolloutsToTarget(r.curve, target));
    const reached = to.filter((x): x is number => x !== null);
    const acc = rs.map((r) => accuracyAtBudget(r.curve, B)).filter((x): x is number => x !== null);
    return {
      distribution, arm, seeds: rs.map((r) => r.seed).sort((a, b) => a - b),
      tokensToTarget: reached.length === rs.length ? { median: median(reached), min: Math.min(...reached), max: Math.max(...reached) } : null,
      notReached: rs.length - reached.length,
      accuracyAtBudget: acc.length ? { median: median(acc), min: Math.min(...acc), max: Math.max(...acc) } : null,
      meanTokensPerRollout: rs.reduce((s, r) => s + r.total, 0) / rs.reduce((s, r) => s + (recsRollouts(r.runDir) || 1), 0),
    };
  });
  rows.sort((a, b) => a.distribution.localeCompare(b.distribution) || a.arm.localeCompare(b.arm));
  if (json) {
    process.stdout.write(JSON.stringify({ target, budget: B, rows }) + '\n');
    return;
  }
  process.stdout.write(`target ${target}, token budget ${k(B)}\n\n| distribution | method | seeds | rollout tokens to target: median (min–max) | × vs GRPO | accuracy % at ${k(B)} tokens: median (min–max) | tokens per rollout |\n|---|---|---|---|---|---|---|\n`);
  for (const r of rows) {
    const g = rows.find((x) => x.distribution === r.distribution && x.arm === 'grpo')?.tokensToTarget?.median;
    const t = r.tokensToTarget;
    const a = r.accuracyAtBudget;
    process.stdout.write(
      `| ${r.distribution} | ${r.arm} | ${r.seeds.join(',')} | ${t ? `${k(t.median)} (${k(t.min)}–${k(t.max)})` : `not reached (${r.notReached} of ${r.seeds.length})`} | ${t && g ? `${(g / t.median).toFixed(2)}×` : '–'} | ${a ? `${(100 * a.median).toFixed(1)} (${(100 * a.min).toFixed(1)}–${(100 * a.max).toFixed(1)})` : '–'} | ${r.meanTokensPerRollout.toFixed(1)} |\n`,
    );
  }
}

/** Rollouts a run generated (its summary.json), for the mean tokens per rollout. */
function recsRollouts(runDir: string): number {
  try {
    return (JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { rollouts: { generated: number } }).rollouts.generated;
  } catch {
    return 0;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
