/**
 * `dare resume` from the monitor's snapshot (run/monitorSnapshot.ts) and, for a log without one (as older
 * runs left), from the whole log: a sim run killed with -9 after its monitor snapshotted, resumed both ways
 * from copies, ends with the log content and weights of an uninterrupted run; each resumed run's
 * metrics.csv and summary.json are exactly those of a fold of its whole final log (a stale or wrong
 * restored fold would show there), and equal the uninterrupted run's in every column not taken from clocks.
 */
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { metricsCsv, metricsOf } from '../../run/metrics.ts';
import { MONITOR_SNAPSHOT } from '../../run/monitorSnapshot.ts';
import { simScenario, testDir, withRunLog } from '../support/live.ts';
import { expectSameRun, logHas, runDare } from '../support/runs.ts';

const SNAPSHOT_EVERY = 100;
const { dir, file } = testDir('dare-resume-monitor-', {
  sim: simScenario({
    run: { steps: 16, batchSize: 64, checkpointEvery: 5, evalEvery: 4, evalSize: 200, snapshotEvery: SNAPSHOT_EVERY },
    task: { count: 1200, evalCount: 200, maxResponseTokens: 256 },
    worker: { lr: 0.1 },
    learner: { bufferSize: 512 },
  }),
});

/** seconds* columns come from the events' clocks: they differ between two runs of the same decisions */
function withoutClockColumns(csv: string): string[] {
  const [head, ...rows] = csv.trim().split('\n').map((l) => l.split(','));
  const keep = head.map((c, i) => (c.startsWith('seconds') ? -1 : i)).filter((i) => i >= 0);
  return [head, ...rows].map((r) => keep.map((i) => r[i]).join(','));
}

function monitorRestoredFrom(stderr: string): number[] {
  return stderr
    .split('\n')
    .filter((l) => l.includes('"monitor folds restored"'))
    .map((l) => (JSON.parse(l) as { snapshotSeq: number }).snapshotSeq);
}

/** The run's metrics.csv and summary.json against a fold of its whole log. */
function expectMonitorMatchesLog(runDir: string): void {
  withRunLog(runDir, (log) => {
    const m = metricsOf(log.iterate(1));
    expect(readFileSync(join(runDir, 'metrics.csv'), 'utf8')).toBe(metricsCsv(m.steps));
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as { rollouts: unknown; seconds: unknown; policyVersion: number; weightsSha256: string };
    expect(summary.rollouts).toEqual(m.accounting);
    expect(summary.seconds).toEqual(m.seconds);
    expect(summary.policyVersion).toBe(m.policyVersion);
    expect(summary.weightsSha256).toBe(m.weightsSha256);
  });
}

describe('resume from the monitor snapshot, and without one', () => {
  it('ends as the uninterrupted run, with the metrics of a whole-log fold', async () => {
    const sc = file('sim');
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');
    const runC = join(dir, 'c', 'run');
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    mkdirSync(join(dir, 'c'), { recursive: true });

    const a = runDare(['run', sc, '--run-dir', runA]);
    expect(await a.exit, `the uninterrupted run failed:\n${a.stderr().slice(-4000)}`).toBe(0);
    expectMonitorMatchesLog(runA);

    // killed once the monitor has snapshotted twice (and the run is past that)
    const b = runDare(['run', sc, '--run-dir', runB]);
    const killed = await b.killWhen(() => logHas(runB, (l) => (l.getSnapshot(MONITOR_SNAPSHOT)?.seq ?? 0) >= 2 * SNAPSHOT_EVERY && l.lastSeq() > 2 * SNAPSHOT_EVERY + 20), 60_000);
    expect(killed, `the run ended before it could be killed:\n${b.stderr().slice(-2000)}`).toBe(true);
    expect(logHas(runB, 'RunCompleted')).toBe(false);

    // C: the same killed run as an older version would have left it, without the monitor snapshot
    cpSync(runB, runC, { recursive: true });
    const env = open({ path: join(runC, 'log'), maxDbs: 8, encoding: 'binary' });
    try {
      const snapshots = env.openDB<Buffer, string>('snapshots', { encoding: 'binary' });
      expect(await snapshots.remove(MONITOR_SNAPSHOT)).toBe(true);
    } finally {
      await env.close();
    }

    for (const [runDir, from] of [[runB, 'snapshot'], [runC, 'log']] as const) {
      const r = runDare(['resume', runDir]);
      expect(await r.exit, `resume (${from}) failed:\n${r.stderr().slice(-4000)}`).toBe(0);
      const restored = monitorRestoredFrom(r.stderr());
      expect(restored).toHaveLength(1);
      if (from === 'snapshot') expect(restored[0]).toBeGreaterThanOrEqual(2 * SNAPSHOT_EVERY);
      else expect(restored[0]).toBe(0);
      expectSameRun(runA, runDir);
      expectMonitorMatchesLog(runDir);
      expect(withoutClockColumns(readFileSync(join(runDir, 'metrics.csv'), 'utf8'))).toEqual(withoutClockColumns(readFileSync(join(runA, 'metrics.csv'), 'utf8')));
    }
  }, 180_000);
});
