/**
 * A hosted actor folds the log with the same `foldOne` as replay and inspect: over a real run's log, at every
 * position its state, phase, sequence number and recent transitions are those of the pure fold, its xstate
 * machine agrees with the fold on every transition (the host throws otherwise), and the transitions it
 * reports live are exactly the pure fold's phase changes, each once.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { foldOne, initialFolded, makeContext, type Folded } from '../../actors/actor.ts';
import { HostedActor, type BusHandle, type InspectMessage } from '../../actors/host.ts';
import { ACTORS } from '../../actors/index.ts';
import { runScenario } from '../../run/runner.ts';
import type { Logged } from '../../events/catalogue.ts';
import { resolveConfig } from '../../events/config.ts';
import { EventLog } from '../../store/eventLog.ts';
import { scenarioDir, sharedNats } from '../support/scenarios.ts';

const { dir, sc } = scenarioDir('dare-host-fold-', {
  run: { steps: 4, batchSize: 16, stepsPerEpoch: 2, checkpointEvery: 2, evalEvery: 2, evalSize: 50 },
  task: { source: 'sim', count: 40, evalCount: 50, maxResponseTokens: 64 },
  worker: { kind: 'sim', lr: 0.1 },
});

/** The host never touches the bus when it only folds (decideFrom past the log, no snapshots). */
const noBus: BusHandle = {
  append: () => Promise.reject(new Error('a folding host appended')),
  consume: () => {
    throw new Error('a folding host consumed');
  },
};

describe('HostedActor folds like replay', () => {
  it('every actor: the same state, phase, seq and recent transitions at every seq; each transition reported once', async () => {
    const runDir = join(dir, 'run');
    await runScenario({ scenario: sc, runDir, logger: pino({ level: 'silent' }), nats: sharedNats() });
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    let events: Logged[];
    try {
      events = log.read(1);
    } finally {
      await log.close();
    }
    const started = events.find((l) => l.event.type === 'RunStarted')!.event;
    if (started.type !== 'RunStarted') throw new Error('no RunStarted');
    const config = resolveConfig(started.data.config);
    const ctx = makeContext(started.run, config, { prompt: () => undefined, blob: () => undefined, promptTable: () => undefined });
    let transitions = 0;
    for (const def of ACTORS) {
      const reported: InspectMessage[] = [];
      const host = new HostedActor({ def, config, ctx, bus: noBus, decideFrom: Number.MAX_SAFE_INTEGER, onTransition: (m) => reported.push(m) });
      let pure: Folded<unknown, string> = initialFolded(def, config);
      const changes: Array<[number, string, string, string]> = [];
      for (const l of events) {
        const from = pure.phase;
        pure = foldOne(def, pure, l);
        if (pure.phase !== from) changes.push([l.seq, l.event.type, from, pure.phase]);
        expect(host.handle(l), `${def.name} seq ${l.seq}: nothing to await`).toBeUndefined();
        expect([host.seq, host.phase], `${def.name} seq ${l.seq}`).toEqual([pure.seq, pure.phase]);
        expect(host.recent, `${def.name} seq ${l.seq}`).toEqual(pure.recent);
      }
      expect(def.snapshot(host.state), def.name).toEqual(def.snapshot(pure.state));
      expect(reported.map((m) => [m.seq, m.event, m.from, m.to]), def.name).toEqual(changes);
      expect(reported.every((m) => m.actor === def.name)).toBe(true);
      // the last 20 transitions, once: the host keeps no second list
      expect(host.recent).toEqual(changes.slice(-20));
      transitions += changes.length;
    }
    // the session alone moves through every step's phases
    expect(transitions).toBeGreaterThan(4 * 4);
  }, 60_000);
});
