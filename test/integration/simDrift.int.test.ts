/**
 * scenarios/sim-drift.json: half the prompts get harder at update 24. `dare drift` must show the estimator
 * lagging the shift (its error against the sim's true failure rates rises) and catching up (it falls again).
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedNats } from '../support/scenarios.ts';
import { driftOf, type DriftStep } from '../../views/drift.ts';
import { runScenario } from '../../run/runner.ts';
import { verifyLog } from '../../run/replay.ts';
import { EventLog } from '../../store/eventLog.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-simdrift-');
let drift: DriftStep[];
let verified: unknown = 'not run';

beforeAll(async () => {
  await runScenario({
    scenario: 'scenarios/sim-drift.json', runDir: join(dir, 'drift'), logger: pino({ level: 'silent' }),
    nats: sharedNats(),
  });
  const log = EventLog.open(join(dir, 'drift', 'log'), { readOnly: true });
  drift = driftOf(log);
  verified = verifyLog(log).mismatch;
  await log.close();
}, 180_000);
afterAll(cleanup);

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const oracleError = (from: number, to: number) => mean(drift.filter((d) => d.step >= from && d.step <= to).map((d) => d.overall.oracleMae));

describe('dare drift on sim-drift', () => {
  it('replay --verify recomputes every decision of the run', () => {
    expect(verified).toBeNull();
  });

  it('has the oracle error of every trained step', () => {
    expect(drift.length).toBe(48);
    for (const d of drift) expect(Number.isFinite(d.overall.oracleMae)).toBe(true);
  });

  it('the estimator lags the shift at update 24, then catches up', () => {
    const before = oracleError(18, 23);
    const shifted = Math.max(...drift.filter((d) => d.step >= 24 && d.step <= 25).map((d) => d.overall.oracleMae));
    const after = oracleError(28, 34);
    expect(shifted).toBeGreaterThan(1.5 * before);
    expect(after).toBeLessThan(0.75 * shifted);
    // the lag shows as estimates that are too easy (predicted failure below the realized one)
    const bias = Math.min(...drift.filter((d) => d.step >= 24 && d.step <= 25).map((d) => d.overall.bias));
    expect(bias).toBeLessThan(0);
  });
});
