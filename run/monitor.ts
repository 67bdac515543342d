/**
 * The run's monitor: the live folds `dare run` keeps beside the actors — the metrics (metrics.csv, the
 * progress line, summary.json, and with run.tensorboard the event files in DIR/tensorboard/) and the requests
 * without completion (what a resume re-issues) — and the run's end (RunCompleted / RunFailed). Resuming, it
 * starts from the folds' newest snapshot plus the log after it.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Consumer, LogClient } from '../bus/logClient.ts';
import type { Logged } from '../events/catalogue.ts';
import { PendingScan } from '../gpu-bridge/pendingRequests.ts';
import type { EventLog } from '../store/eventLog.ts';
import { logPrior, metricsCsv, MetricsFold, type RunMetrics } from './metrics.ts';
import { monitorFoldsOf, MonitorSnapshots } from './monitorSnapshot.ts';
import { Progress } from './progress.ts';
import { writeAtomic, writeAtomicAsync } from './runDir.ts';
import { LiveEventFiles } from './tensorboard/liveWriter.ts';
import { scalarRecordOf } from './tensorboard/scalars.ts';

export type RunEnd = 'completed' | 'stopped' | 'failed';

export interface MonitorOptions {
  /** write TensorBoard event files into DIR/tensorboard/ (run.tensorboard) */
  tensorboard?: boolean;
}

export class RunMonitor {
  /** the requests without completion when the process started (what this resume re-issues), in log order */
  readonly pending: ReadonlyArray<{ id: string; seq: number }>;
  /** the last seq the folds had seen when the process started */
  readonly scanned: number;
  /** resolves when the log says the run ended (or `fail` is called) */
  readonly finished: Promise<RunEnd>;
  private done!: (v: RunEnd) => void;
  private consumer: Consumer | null = null;
  // metrics.csv is rewritten whole: at most once a second while the run goes on (a write and a rename per
  // step cost the sim ~5 ms a step), and always at the end
  private csvWritten = 0;
  // written by the thread pool, not on the event loop the step's hops wait for; one at a time
  private csvWrite: Promise<unknown> = Promise.resolve();
  /** run.tensorboard: the event files (appended as each step's update, eval and estimate lands) */
  private readonly tensorboard: LiveEventFiles | null;

  private constructor(
    private readonly log: EventLog,
    private readonly runDir: string,
    private readonly metrics: MetricsFold,
    private readonly scan: PendingScan,
    scanned: number,
    private readonly logger: Logger,
    opts: MonitorOptions,
  ) {
    this.scanned = scanned;
    this.tensorboard = opts.tensorboard ? LiveEventFiles.open(runDir, (o, m) => logger.warn(o, m)) : null;
    this.pending = scan.result();
    this.finished = new Promise<RunEnd>((r) => (this.done = r));
  }

  /**
   * The folds for a fresh run (empty), or for a resume (from the log; the rollout accounting identity is
   * checked over what the log already has before anything is added to it).
   */
  static open(log: EventLog, runDir: string, fresh: boolean, logger: Logger, opts: MonitorOptions = {}): RunMonitor {
    if (fresh) return new RunMonitor(log, runDir, new MetricsFold(logPrior(log, 0)), new PendingScan(log), 0, logger, opts);
    const folds = monitorFoldsOf(log, (o, m) => logger.warn(o, m));
    logger.info({ snapshotSeq: folds.snapshotSeq, folded: folds.lastSeq - folds.snapshotSeq }, 'monitor folds restored');
    const acc = folds.metrics.accounting();
    if (acc.generated !== acc.trained + acc.buffered + acc.discarded + acc.inFlight) {
      throw new Error(`${runDir}: rollout accounting does not balance: ${JSON.stringify(acc)}`);
    }
    logger.info({ ...acc }, 'rollout accounting checked');
    return new RunMonitor(log, runDir, folds.metrics, folds.pending, folds.lastSeq, logger, opts);
  }

  /** Follow the log from the first event the folds have not seen (in the background: timing only). */
  start(bus: LogClient, progress: Progress, snapshotEvery: number, onError: (e: unknown) => void): void {
    const { metrics, scan } = this;
    if (this.scanned > 0) {
      const m = metrics.result();
      progress.update(metrics.progress());
      writeAtomic(join(this.runDir, 'metrics.csv'), metricsCsv(m.steps));
      if (m.failed !== null) this.done('failed');
    }
    const tb = this.tensorboard;
    if (tb && this.scanned > 0) {
      const added = tb.catchUp(this.log, metrics, this.scanned);
      if (added > 0) this.logger.info({ events: added, file: tb.file() }, 'tensorboard: wrote what the event files lacked');
    }
    const snapshots = new MonitorSnapshots(this.log, snapshotEvery, metrics, scan);
    this.consumer = bus.consume(this.scanned + 1, (e: Logged) => {
      metrics.add(e);
      scan.add(e);
      const ev = e.event;
      if (tb) {
        const r = scalarRecordOf(ev, metrics);
        if (r) tb.add(r);
      }
      if (ev.type === 'UpdateCompleted' || ev.type === 'EvalCompleted') {
        progress.update(metrics.progress());
        if (Date.now() - this.csvWritten >= 1000) this.writeCsvSoon();
      }
      if (ev.type === 'RunCompleted') this.done('completed');
      if (ev.type === 'RunStopped') this.done('stopped');
      if (ev.type === 'RunFailed') this.done('failed');
      return snapshots.after(e);
    }, { onError, background: true });
  }

  private writeCsvSoon(): void {
    this.csvWritten = Date.now();
    const text = metricsCsv(this.metrics.result().steps);
    this.csvWrite = this.csvWrite
      .then(() => writeAtomicAsync(join(this.runDir, 'metrics.csv'), text))
      .catch((e: unknown) => this.logger.warn({ err: (e as Error).message }, 'could not write metrics.csv'));
  }

  /** End the wait for the run's end: an actor failed. */
  fail(): void {
    this.done('failed');
  }

  /** The final metrics, with metrics.csv written last (after any periodic write still under way). */
  async close(): Promise<RunMetrics> {
    const m = this.metrics.result();
    await this.csvWrite;
    writeAtomic(join(this.runDir, 'metrics.csv'), metricsCsv(m.steps));
    await this.tensorboard?.close();
    return m;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
