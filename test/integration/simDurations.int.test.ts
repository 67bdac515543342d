/**
 * worker.simRolloutMs / simScoreMs / simUpdateMs / simEvalMs give the sim's jobs durations (a GPU-like step)
 * and change nothing logged but time: the same scenario with and without them logs the same events (ids and
 * bytes with ts zeroed; RunStarted differs only by the keys themselves), and the worker clock counts the
 * simulated time as the worker's.
 */
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { decodeTrusted, encodeEvent } from '../../events/codec.ts';
import type { DareEvent } from '../../events/catalogue.ts';
import { verifyLog } from '../../run/replay.ts';
import { runScenario } from '../../run/runner.ts';
import { EventLog } from '../../store/eventLog.ts';
import { comparableContent } from '../support/runs.ts';
import { scenarioDir, sharedNats } from '../support/scenarios.ts';

const scenario = {
  method: 'dare',
  run: { steps: 4, batchSize: 32, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 2, evalSize: 100 },
  task: { source: 'sim', count: 400, evalCount: 100, maxResponseTokens: 128 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { sigma: 0.5, bufferSize: 256 },
};
const DURATIONS = { simRolloutMs: 40, simScoreMs: 30, simUpdateMs: 120, simEvalMs: 30 };

describe('simulated job durations of the sim worker', () => {
  it('leave every logged decision as it was, and count as worker time', { timeout: 120_000 }, async () => {
    const { dir, sc } = scenarioDir('dare-sim-durations-', scenario);
    const logger = pino({ level: 'warn' });
    const plain = await runScenario({ scenario: sc, runDir: join(dir, 'a', 'durations'), nats: sharedNats(), logger });
    const sets = Object.entries(DURATIONS).map(([k, v]) => `worker.${k}=${v}`);
    const shaped = await runScenario({ scenario: sc, runDir: join(dir, 'b', 'durations'), nats: sharedNats(), logger, sets });
    expect(plain.summary.completed && shaped.summary.completed).toBe(true);

    const ca = comparableContent(plain.runDir);
    const cb = comparableContent(shaped.runDir);
    expect(cb.ids).toEqual(ca.ids);
    // RunStarted logs the configuration: the same once the durations are put back to their defaults
    const started = (b: Buffer) => {
      const ev = decodeTrusted(b) as DareEvent & { data: { config: { worker: Record<string, unknown> } } };
      for (const k of Object.keys(DURATIONS)) ev.data.config.worker[k] = 0;
      return encodeEvent(ev);
    };
    const differ = cb.bytes.findIndex((b, i) => !(ca.ids[i].startsWith('RunStarted') ? started(b).equals(started(ca.bytes[i])) : b.equals(ca.bytes[i])));
    expect(differ, `first differing event: ${ca.ids[differ]}`).toBe(-1);
    expect(cb.bytes.filter((b, i) => !b.equals(ca.bytes[i])).length).toBe(1); // RunStarted alone

    // the updates alone take ≥ steps × simUpdateMs of worker time, which the plain run does not spend
    expect(shaped.workerClock.seconds - plain.workerClock.seconds).toBeGreaterThan((scenario.run.steps * DURATIONS.simUpdateMs) / 1000);
    const log = EventLog.open(join(shaped.runDir, 'log'), { readOnly: true });
    try {
      expect(verifyLog(log).mismatch).toBeNull();
    } finally {
      await log.close();
    }
  });
});
