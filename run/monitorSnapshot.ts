/**
 * The run monitor's folds — the metrics (metrics.ts) and the requests without completion
 * (gpu-bridge/pendingRequests.ts) — persisted beside the actor snapshots (snapshot `monitor`, written at
 * every seq divisible by `run.snapshotEvery`), so that `dare resume` folds only the log after the newest one
 * instead of the whole log. DESIGN §3: correctness never depends on a snapshot — a log without one (older
 * runs) or with one this code cannot read is folded from the start, with the same result.
 */
import type { Logged } from '../events/catalogue.ts';
import { PendingScan } from '../gpu-bridge/pendingRequests.ts';
import type { EventLog } from '../store/eventLog.ts';
import { logPrior, MetricsFold } from './metrics.ts';

export const MONITOR_SNAPSHOT = 'monitor';

export interface MonitorFolds {
  metrics: MetricsFold;
  pending: PendingScan;
  /** seq of the snapshot the folds started from (0: folded from the start of the log) */
  snapshotSeq: number;
  /** the last seq folded (the log's last when folded) */
  lastSeq: number;
}

type SnapshotLog = Pick<EventLog, 'getSnapshot' | 'lastSeq' | 'seqOf' | 'read' | 'iterate'>;

/** The monitor's folds up to the log's last event: from the newest monitor snapshot plus the log after it. */
export function monitorFoldsOf(log: SnapshotLog, warn: (o: object, m: string) => void = () => undefined): MonitorFolds {
  const last = log.lastSeq();
  let folds: { metrics: MetricsFold; pending: PendingScan; seq: number } | null = null;
  try {
    const snap = log.getSnapshot(MONITOR_SNAPSHOT);
    if (snap && snap.seq <= last) {
      const st = snap.state as { metrics?: unknown; pending?: unknown } | null;
      folds = { metrics: MetricsFold.restore(st?.metrics, logPrior(log, snap.seq)), pending: PendingScan.restore(st?.pending, log), seq: snap.seq };
    }
  } catch (e) {
    warn({ reason: (e as Error).message }, 'monitor snapshot not usable: folding the whole log');
  }
  folds ??= { metrics: new MetricsFold(logPrior(log, 0)), pending: new PendingScan(log), seq: 0 };
  for (const e of log.iterate(folds.seq + 1, last + 1)) {
    folds.metrics.add(e);
    folds.pending.add(e);
  }
  return { metrics: folds.metrics, pending: folds.pending, snapshotSeq: folds.seq, lastSeq: last };
}

/**
 * Writes the monitor snapshot after the event at every seq divisible by `every` (0: never). Call `after`
 * with each event once both folds have taken it; its promise (when it writes) resolves once durable.
 */
export class MonitorSnapshots {
  constructor(
    private readonly log: Pick<EventLog, 'putSnapshot'>,
    private readonly every: number,
    private readonly metrics: MetricsFold,
    private readonly pending: PendingScan,
  ) {}

  after(e: Logged): Promise<void> | undefined {
    if (!this.every || e.seq % this.every !== 0) return undefined;
    // the states are packed before putSnapshot's first await: they are those after exactly e.seq
    return this.log.putSnapshot(MONITOR_SNAPSHOT, e.seq, { metrics: this.metrics.snapshot(), pending: this.pending.snapshot() });
  }
}
