/**
 * The run monitor's persisted folds (run/monitorSnapshot.ts): the metrics fold and the pending-request
 * scan, snapshotted at seq N (through the snapshot codec), restored and fed the log after N, equal the
 * folds of the whole log — at every N, over prefixes of a real sim run's log (so requests are open at the
 * end) and over a log with hand-made irregular and duplicated rollout groups; and the snapshot the live
 * monitor of a real run wrote is the state after exactly its seq.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedNats } from '../support/scenarios.ts';
import { logPrior, MetricsFold } from '../../run/metrics.ts';
import { MONITOR_SNAPSHOT, monitorFoldsOf } from '../../run/monitorSnapshot.ts';
import { runScenario } from '../../run/runner.ts';
import type { DareEvent, EventOf, Logged } from '../../events/catalogue.ts';
import { packState, unpackState } from '../../events/codec.ts';
import { PendingScan } from '../../gpu-bridge/pendingRequests.ts';
import { EventLog } from '../../store/eventLog.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-monitor-snap-');
const logger = pino({ level: 'silent' });
const SNAPSHOT_EVERY = 50;
let events: Logged[] = [];
let copies = 0;

const scenario = {
  method: 'dare',
  run: { steps: 6, batchSize: 32, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 3, evalSize: 100, snapshotEvery: SNAPSHOT_EVERY },
  task: { source: 'sim', count: 400, evalCount: 100, maxResponseTokens: 128 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { sigma: 0.5, bufferSize: 256 },
};

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sim.json'), JSON.stringify(scenario));
  await runScenario({ scenario: join(dir, 'sim.json'), runDir: join(dir, 'monitor-snapshot-run'), logger, nats: sharedNats() });
  const log = EventLog.open(join(dir, 'monitor-snapshot-run', 'log'), { readOnly: true });
  try {
    events = log.read(1);
  } finally {
    await log.close();
  }
}, 120_000);
afterAll(cleanup);

/** A fresh real log holding exactly these events (seqs 1..n). */
async function logOf(evs: DareEvent[]): Promise<EventLog> {
  const log = EventLog.open(join(dir, `copy-${copies++}`));
  for (let i = 0; i < evs.length; i += 500) await log.append(evs.slice(i, i + 500));
  return log;
}

function fullFolds(log: EventLog, upTo: number): { metrics: MetricsFold; pending: PendingScan } {
  const metrics = new MetricsFold();
  const pending = new PendingScan(log);
  for (const e of log.iterate(1, upTo + 1)) {
    metrics.add(e);
    pending.add(e);
  }
  return { metrics, pending };
}

/** Fold to n, snapshot through the codec, restore, fold the rest of the log. */
function resumedFolds(log: EventLog, n: number): { metrics: MetricsFold; pending: PendingScan } {
  const at = fullFolds(log, n);
  const bytes = packState({ metrics: at.metrics.snapshot(), pending: at.pending.snapshot() });
  const state = unpackState(bytes) as { metrics: unknown; pending: unknown };
  const metrics = MetricsFold.restore(state.metrics, logPrior(log, n));
  const pending = PendingScan.restore(state.pending, log);
  for (const e of log.iterate(n + 1)) {
    metrics.add(e);
    pending.add(e);
  }
  return { metrics, pending };
}

function expectSameFolds(log: EventLog, n: number, full: { metrics: MetricsFold; pending: PendingScan }): void {
  const r = resumedFolds(log, n);
  const where = `snapshot at ${n} of ${log.lastSeq()}`;
  expect(r.metrics.result(), where).toEqual(full.metrics.result());
  // the state that shapes later events (last eval, ESS, rows per step in flight, ...) too
  expect(r.metrics.snapshot(), where).toEqual(full.metrics.snapshot());
  expect(r.pending.result(), where).toEqual(full.pending.result());
  expect(r.pending.snapshot(), where).toEqual(full.pending.snapshot());
}

describe('monitor folds from a snapshot', () => {
  it('the live monitor wrote the folds after exactly its snapshot seq', async () => {
    const log = EventLog.open(join(dir, 'monitor-snapshot-run', 'log'), { readOnly: true });
    try {
      const snap = log.getSnapshot(MONITOR_SNAPSHOT)!;
      expect(snap.seq).toBeGreaterThan(0);
      expect(snap.seq % SNAPSHOT_EVERY).toBe(0);
      const full = fullFolds(log, snap.seq);
      const st = snap.state as { metrics: unknown; pending: unknown };
      expect(st.metrics).toEqual(full.metrics.snapshot());
      expect(st.pending).toEqual(full.pending.snapshot());
      // and a resume's folds (the snapshot plus the rest of the log) are the whole log's
      const folds = monitorFoldsOf(log);
      expect(folds.snapshotSeq).toBe(snap.seq);
      const all = fullFolds(log, log.lastSeq());
      expect(folds.metrics.result()).toEqual(all.metrics.result());
      expect(folds.pending.result()).toEqual(all.pending.result());
      // our bridge's groups all carry their own completion id: nothing irregular to keep in the snapshot
      expect((st.metrics as { irregular: unknown[] }).irregular).toEqual([]);
    } finally {
      await log.close();
    }
  });

  it("the progress view (asked at every update) is what result()'s steps and evals say, at every seq", () => {
    const m = new MetricsFold();
    let checked = 0;
    for (const e of events) {
      m.add(e);
      const r = m.result();
      const trained = r.steps.filter((s) => s.step > 0 && Number.isFinite(s.loss));
      const want = trained[trained.length - 1];
      const got = m.progress();
      expect(got.lastTrained?.step).toBe(want?.step);
      if (want) expect({ ...got.lastTrained, step: want.step }).toMatchObject(want);
      expect(got.evalAccuracy).toBe(r.evals.length ? r.evals[r.evals.length - 1].accuracy : null);
      if (want) checked++;
    }
    // the run trained 6 steps and evaluated: the view moved through all of them
    expect(checked).toBeGreaterThan(0);
    expect(m.progress().lastTrained?.step).toBe(6);
    expect(m.progress().evalAccuracy).not.toBeNull();
  });

  it('snapshot at any seq + the log after it = the whole log, with requests open at the end', async () => {
    const evs = events.map((l) => l.event);
    const type = (i: number) => evs[i - 1].type;
    // prefixes ending inside a step: after a rollout request and some of its completions, with an update
    // requested, with a checkpoint requested, with a score requested; and the whole log
    const seqs = (t: string) => events.filter((l) => l.event.type === t).map((l) => l.seq);
    const rollout = seqs('RolloutRequested')[2];
    const ends = [rollout + 5, seqs('UpdateRequested')[3], seqs('CheckpointRequested')[0], seqs('ScoreRequested')[1], events.length];
    expect(type(rollout + 5)).toBe('RolloutCompleted');
    for (const m of ends) {
      const log = await logOf(evs.slice(0, m));
      try {
        const full = fullFolds(log, m);
        if (m < events.length) expect(full.pending.result().length, `open requests at ${m}`).toBeGreaterThan(0);
        for (let n = 0; n <= m; n += n < 40 ? 1 : 7) expectSameFolds(log, n, full);
        expectSameFolds(log, m, full);
      } finally {
        await log.close();
      }
    }
  }, 60_000);

  it('irregular and duplicated groups: the same duplicates, in first-seen order, from every snapshot', async () => {
    const evs = events.map((l) => l.event);
    const completions = evs.map((e, i) => [e, i + 1] as const).filter(([e]) => e.type === 'RolloutCompleted') as Array<readonly [EventOf<'RolloutCompleted'>, number]>;
    const [early, earlySeq] = completions[3];
    const k = completions[40][1];
    const like = (id: string, group: string): DareEvent => ({ ...early, id, data: { ...early.data, group } }) as DareEvent;
    const built: DareEvent[] = [
      ...evs.slice(0, k),
      like('RolloutCompleted/odd/1', 'g/900/1'), // g/900/1 first seen under an id not its own
      ...evs.slice(k, k + 20),
      like('RolloutCompleted/900/1', 'g/900/1'), // its own id: a duplicate of the irregular one
      like('RolloutCompleted/odd/2', early.data.group), // a duplicate of a group completed long before
      ...evs.slice(k + 20, k + 40),
      like('RolloutCompleted/odd/3', 'g/900/1'), // a third time
    ];
    const log = await logOf(built);
    try {
      const full = fullFolds(log, built.length);
      // by hand: early.data.group first seen at earlySeq < k, g/900/1 first seen at k + 1
      expect(earlySeq).toBeLessThan(k);
      expect(full.metrics.result().duplicateGroups).toEqual([early.data.group, 'g/900/1']);
      for (let n = 0; n <= built.length; n++) expectSameFolds(log, n, full);
      // a fold with the log at hand (the runner's monitor) finds the same, remembering the irregular group only
      const withLog = new MetricsFold(logPrior(log, 0));
      for (const e of log.iterate(1)) withLog.add(e);
      expect(withLog.result()).toEqual(full.metrics.result());
      expect(withLog.snapshot()).toEqual(full.metrics.snapshot());
      expect(withLog.rememberedGroups()).toBe(1);
      expect(full.metrics.rememberedGroups()).toBeGreaterThan(40); // every group up to the 41st completion and beyond
    } finally {
      await log.close();
    }
  }, 60_000);

  it('a log without a monitor snapshot (an older run) is folded from the start', async () => {
    const log = await logOf(events.map((l) => l.event));
    try {
      expect(log.getSnapshot(MONITOR_SNAPSHOT)).toBeUndefined();
      const folds = monitorFoldsOf(log);
      expect(folds.snapshotSeq).toBe(0);
      expect(folds.metrics.result()).toEqual(fullFolds(log, log.lastSeq()).metrics.result());
      // and one this code cannot read: a warning, then the same
      await log.putSnapshot(MONITOR_SNAPSHOT, 10, { metrics: { v: 999 }, pending: { v: 1, open: [] } });
      const warnings: string[] = [];
      const again = monitorFoldsOf(log, (_, m) => warnings.push(m));
      expect(again.snapshotSeq).toBe(0);
      expect(warnings).toHaveLength(1);
      expect(again.metrics.result()).toEqual(folds.metrics.result());
    } finally {
      await log.close();
    }
  });
});
