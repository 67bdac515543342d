/**
 * Progress of a run, once per trained step. For people (text format): one line per step — step n/N, reward,
 * success, eval accuracy when there is a new one, rollouts, seconds — and on a terminal a progress bar with
 * the ETA as the status line under them. In the json format: one `step` record per step. Wall-clock time
 * here is for display only.
 */
import type { Logger } from 'pino';
import type { LogFormat } from './logger.ts';
import { clock } from './logText.ts';
import type { ProgressView } from './metrics.ts';
import type { StepMetrics } from './metrics.ts';
import { stderrTerminal, type StatusTerminal } from './terminal.ts';

export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--';
  const r = Math.round(s);
  const h = Math.floor(r / 3600);
  const m = Math.floor((r % 3600) / 60);
  const sec = r % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/**
 * Seconds left: the mean time of the steps this process has run, times the steps left (NaN before the first
 * one: start-up and the warm start say nothing about a step's length).
 */
export function etaSeconds(elapsedSinceFirstStep: number, stepsDone: number, stepsLeft: number): number {
  return stepsDone > 0 ? (elapsedSinceFirstStep / stepsDone) * stepsLeft : NaN;
}

const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '--');

/** One step's line: `step 3/60  reward 0.412  success 0.400  eval 0.525  rollouts 128  4.2 s`. */
export function stepLine(m: StepMetrics, total: number, evalAccuracy: number | null): string {
  const w = String(total).length;
  const parts = [`step ${String(m.step).padStart(w)}/${total}`, `reward ${num(m.rewardMean, 3)}`, `success ${num(m.successRate, 3)}`];
  if (evalAccuracy !== null) parts.push(`eval ${num(evalAccuracy, 3)}`);
  parts.push(`rollouts ${m.rollouts}`, `${num(m.secondsStep, 1)} s`);
  return parts.join('  ');
}

/** The status line: `[#########...............]  3/60   5%  ETA 1m12s`, the bar filling what `width` leaves. */
export function barLine(step: number, total: number, eta: number, width: number): string {
  const frac = total > 0 ? Math.min(1, step / total) : 0;
  const tail = `  ${step}/${total}  ${String(Math.floor(100 * frac)).padStart(3)}%  ETA ${fmtSeconds(eta)}`;
  const cells = Math.max(10, Math.min(40, width - tail.length - 2));
  const filled = Math.round(cells * frac);
  return `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}]${tail}`;
}

export class Progress {
  private lastStep = -1;
  /** the first step this process saw finish, and when (the ETA's base) */
  private first: { step: number; at: number } | null = null;
  private lastEval: number | null = null;

  constructor(
    private readonly total: number,
    private readonly format: LogFormat,
    private readonly logger: Logger,
    private readonly term: StatusTerminal = stderrTerminal,
    private readonly now: () => number = Date.now,
  ) {}

  update(m: ProgressView): void {
    const last = m.lastTrained;
    if (!last || last.step === this.lastStep) return;
    this.lastStep = last.step;
    const t = this.now();
    // the first step seen is the base: its own time is not known here (start-up ran before it)
    this.first ??= { step: last.step, at: t };
    const eta = etaSeconds((t - this.first.at) / 1000, last.step - this.first.step, this.total - last.step);
    // a step line names the eval accuracy only when a new evaluation landed since the last line
    const acc = m.evalAccuracy !== this.lastEval ? m.evalAccuracy : null;
    this.lastEval = m.evalAccuracy;
    if (this.format === 'json' || !this.logger.isLevelEnabled('info')) {
      this.logger.info(
        { step: last.step, of: this.total, eta: fmtSeconds(eta), reward: Number(last.rewardMean.toFixed(4)), success: Number(last.successRate.toFixed(4)), evalAccuracy: m.evalAccuracy, rollouts: last.rollouts, seconds: Number(last.secondsStep.toFixed(3)), loss: last.loss },
        'step',
      );
      return;
    }
    this.term.line(`${clock(t)}${stepLine(last, this.total, acc)}`);
    if (this.term.tty) this.term.setStatus(barLine(last.step, this.total, eta, (process.stderr.columns ?? 80) - 1));
  }

  finish(): void {
    this.term.finish();
  }
}
