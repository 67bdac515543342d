/**
 * `dare inspect`: every actor's state machine at a log position, by the pure xstate transition() over the log
 * (DESIGN §1.3), and the live inspection stream of a running run.
 */
import type { AnyStateMachine } from 'xstate';
import { ACTORS } from '../actors/index.ts';
import { foldOne, initialFolded } from '../actors/actor.ts';
import { leafOf, machineOf, snapshotAt, step as machineStep } from '../actors/machine.ts';
import type { InspectMessage } from '../actors/host.ts';
import { connectNats, type NatsTarget } from '../bus/connect.ts';
import { unpack } from '../events/codec.ts';
import { subjectsFor } from '../events/subjects.ts';
import { liveRun, natsVia } from '../run/control.ts';
import { loggedConfig } from '../run/replay.ts';
import type { EventLog } from '../store/eventLog.ts';

export interface ActorView {
  actor: string;
  phase: string;
  machinePhase: string;
  seq: number;
  summary: Record<string, unknown>;
  recent: Array<[number, string, string, string]>;
}

/** Every actor's machine state at `at` (default: the end of the log), by the pure xstate transition(). */
export function inspectAt(log: EventLog, at?: number): ActorView[] {
  const { config } = loggedConfig(log);
  const until = at ?? log.lastSeq();
  const machines = ACTORS.map((d) => machineOf(d) as unknown as AnyStateMachine);
  let snaps = ACTORS.map((d, i) => snapshotAt(machines[i], d.initialPhase, d.initialState(config), 0, config));
  const folds = new Map(ACTORS.map((d) => [d.name, initialFolded(d, config)]));
  for (const l of log.iterate(1, until + 1)) {
    snaps = snaps.map((s, i) => machineStep(machines[i], s, l));
    for (const d of ACTORS) folds.set(d.name, foldOne(d, folds.get(d.name)!, l));
  }
  return ACTORS.map((d, i) => {
    const f = folds.get(d.name)!;
    return {
      actor: d.name,
      phase: f.phase,
      machinePhase: leafOf(snaps[i].value),
      seq: f.seq,
      summary: d.summary(f.state),
      recent: f.recent.slice(-8),
    };
  });
}

/** `inspect --live`: the inspection messages of the run going on in `runDir`, until `signal` aborts. */
export async function* followInspection(runDir: string, signal?: AbortSignal, via?: NatsTarget): AsyncGenerator<InspectMessage> {
  const { run, ...live } = liveRun(runDir);
  const nc = await connectNats({ ...natsVia(live, via), name: 'inspect' });
  try {
    const sub = nc.subscribe(subjectsFor(run).inspect);
    signal?.addEventListener('abort', () => sub.unsubscribe());
    for await (const m of sub) yield unpack(m.data) as InspectMessage;
  } finally {
    await nc.close();
  }
}
