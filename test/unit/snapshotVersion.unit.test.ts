/**
 * Snapshots carry the version of their actor's snapshot shape (ActorDef.snapshotVersion, absent = 1), and
 * restoreFolded restores only a snapshot of the actor's current version: one of another shape (written by
 * older code) is ignored, and the run folds that actor from the start of the log (DESIGN §3: correctness
 * never depends on snapshots).
 */
import { describe, expect, it } from 'vitest';
import { restoreFolded } from '../../actors/host.ts';
import { sessionActor, type SessionState } from '../../actors/session.ts';
import { resolveConfig } from '../../events/config.ts';
import { packState, unpackState } from '../../events/codec.ts';

const config = resolveConfig({});
const state: SessionState = { ...sessionActor.initialState(config), step: 3, epoch: 1, policyVersion: 3, updatedStep: 3 };
const recent: Array<[number, string, string, string]> = [[40, 'UpdateRequested', 'rollingOut', 'updating']];
/** what EventLog.putSnapshot / getSnapshot do to a snapshot (MessagePack with typed arrays and Maps) */
const stored = (s: unknown) => unpackState(packState({ seq: 41, state: s })) as { seq: number; state: unknown };
/** the session as it was at snapshot version 1 (same state shape for these fields) */
const v1 = { ...sessionActor, snapshotVersion: undefined };

describe('snapshot versions', () => {
  it('a snapshot of the actor\'s version is restored as written', () => {
    const f = restoreFolded(v1, stored({ version: 1, state: sessionActor.snapshot(state), phase: 'updating', recent }), config);
    expect(f).toEqual({ state, phase: 'updating', seq: 41, recent });
  });

  it('a snapshot without a version (written before versions) is version 1: restored for an actor still at 1', () => {
    const f = restoreFolded(v1, stored({ state: sessionActor.snapshot(state), phase: 'updating', recent }), config);
    expect(f?.state).toEqual(state);
  });

  it('a snapshot of another version is ignored, as one of a phase the actor no longer has or a malformed one', () => {
    const v2 = { ...sessionActor, snapshotVersion: 2 };
    expect(restoreFolded(v2, stored({ state: sessionActor.snapshot(state), phase: 'updating', recent }), config)).toBeUndefined();
    expect(restoreFolded(v2, stored({ version: 1, state: sessionActor.snapshot(state), phase: 'updating', recent }), config)).toBeUndefined();
    expect(restoreFolded(v2, stored({ version: 2, state: sessionActor.snapshot(state), phase: 'updating', recent }), config)?.state).toEqual(state);
    expect(restoreFolded(v1, stored({ version: 1, state, phase: 'warming-up', recent }), config)).toBeUndefined();
    expect(sessionActor.snapshotVersion).toBe(2); // the stop / extend fields (halted, extensions) came with 2
    expect(restoreFolded(sessionActor, stored(null), config)).toBeUndefined();
  });
});
