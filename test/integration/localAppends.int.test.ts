/**
 * DESIGN §4: the actors `dare run` hosts append through the store's in-process side, and actors in their own
 * processes (`dare actor NAME DIR`) append over NATS; both are one contract, so one sim scenario run both
 * ways logs the same events (ids, and bytes with ts zeroed), in the same order. The hosted run's events
 * still reach a NATS subscriber of `dare.<run>.log` (what dashboards and other processes follow), every one,
 * in order.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTORS } from '../../actors/index.ts';
import { connectNats } from '../../bus/connect.ts';
import { LogClient } from '../../bus/logClient.ts';
import { verifyLog } from '../../run/replay.ts';
import { runIdOf } from '../../run/runDir.ts';
import { runScenario } from '../../run/runner.ts';
import { EventLog } from '../../store/eventLog.ts';
import { comparableContent, runDare, type DareProcess } from '../support/runs.ts';
import { sharedNats } from '../support/scenarios.ts';
import { tempDir } from '../support/tmp.ts';
import pino from 'pino';

const { dir, cleanup } = tempDir('dare-local-appends-');
afterAll(cleanup);

const scenario = {
  method: 'dare',
  run: { steps: 6, batchSize: 32, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 3, evalSize: 100 },
  task: { source: 'sim', count: 400, evalCount: 100, maxResponseTokens: 128 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { sigma: 0.5, bufferSize: 256 },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('in-process appends (hosted actors) and actors in their own processes', () => {
  it('log the same events, and the hosted run still publishes every event on NATS', { timeout: 240_000 }, async () => {
    const sc = join(dir, 'sim.json');
    writeFileSync(sc, JSON.stringify(scenario));
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));

    // A: every actor hosted (in-process appends), over the suite's nats-server, followed by a NATS subscriber
    const runA = join(dir, 'a', 'local-appends');
    const nats = sharedNats();
    const nc = await connectNats({ ...nats, name: 'local-appends-test' });
    const heard: number[] = [];
    const follower = new LogClient(nc, runIdOf(runA)).consume(1, (e) => void heard.push(e.seq));
    try {
      const out = await runScenario({ scenario: sc, runDir: runA, nats, logger: pino({ level: 'warn' }) });
      expect(out.summary.completed).toBe(true);
      const last = EventLog.open(join(runA, 'log'), { readOnly: true });
      const lastSeq = last.lastSeq();
      await last.close();
      for (let waited = 0; waited < 10_000 && heard.length < lastSeq; waited += 50) await sleep(50);
      expect(heard).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    } finally {
      await follower.stop();
      await nc.close();
    }

    // B: `dare run` hosts no actor; each runs as `dare actor NAME DIR` (its own process, appends over NATS)
    const runB = join(dir, 'b', 'local-appends');
    const names = ACTORS.map((d) => d.name);
    const run = runDare(['run', sc, '--run-dir', runB, '--external', names.join(',')]);
    for (let waited = 0; waited < 60_000 && !existsSync(join(runB, 'nats.json')); waited += 50) await sleep(50);
    expect(existsSync(join(runB, 'nats.json')), run.stderr().slice(-3000)).toBe(true);
    const actors: DareProcess[] = names.map((n) => runDare(['actor', n, runB]));
    const code = await run.exit;
    const codes = await Promise.all(actors.map((p) => p.exit));
    expect(code, run.stderr().slice(-3000)).toBe(0);
    expect(codes, actors.map((p) => p.stderr().slice(-1500)).join('\n---\n')).toEqual(names.map(() => 0));

    const ca = comparableContent(runA);
    const cb = comparableContent(runB);
    expect(ca.ids.length).toBeGreaterThan(100);
    expect(cb.ids).toEqual(ca.ids);
    const differ = cb.bytes.findIndex((b, i) => !b.equals(ca.bytes[i]));
    expect(differ, `first differing event: ${ca.ids[differ]}`).toBe(-1);
    for (const r of [runA, runB]) {
      const log = EventLog.open(join(r, 'log'), { readOnly: true });
      try {
        expect(verifyLog(log).mismatch).toBeNull();
      } finally {
        await log.close();
      }
    }
  });
});
