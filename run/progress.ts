/**
 * Progress of a run: a bar with step, ETA, reward and accuracy on a terminal (stderr), one log line per
 * step otherwise. Wall-clock time here is for display only.
 */
import type { Logger } from 'pino';
import type { ProgressView } from './metrics.ts';

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export class Progress {
  private readonly t0 = Date.now();
  private lastStep = -1;

  constructor(
    private readonly total: number,
    private readonly tty: boolean,
    private readonly logger: Logger,
  ) {}

  update(m: ProgressView): void {
    const last = m.lastTrained;
    const step = last?.step ?? 0;
    if (step === this.lastStep) return;
    this.lastStep = step;
    const elapsed = (Date.now() - this.t0) / 1000;
    const eta = step > 0 ? (elapsed / step) * (this.total - step) : NaN;
    const acc = m.evalAccuracy;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * step) / Math.max(1, this.total));
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      process.stderr.write(
        `\r[${bar}] step ${step}/${this.total} ETA ${fmtSeconds(eta)} reward ${last ? last.rewardMean.toFixed(3) : '--'} acc ${acc === null ? '--' : acc.toFixed(3)}   `,
      );
    } else if (last) {
      this.logger.info(
        { step, of: this.total, eta: fmtSeconds(eta), reward: Number(last.rewardMean.toFixed(4)), success: Number(last.successRate.toFixed(4)), evalAccuracy: acc, loss: last.loss },
        'step',
      );
    }
  }

  finish(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
