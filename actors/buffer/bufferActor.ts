/** The buffer actor: per-prompt FIFO of rollout groups; its state is a fold, it emits nothing. */
import type { Logged } from '../../events/catalogue.ts';
import type { ActorDef } from '../actor.ts';
import { bufferFromJSON, bufferToJSON, type BufferJSON } from '../shared/replayBuffer.ts';
import { foldBuffer, initBufferFold, type BufferFold } from '../shared/bufferFold.ts';
import { GrowOnlyList } from '../shared/growOnly.ts';
import type { RolloutGroup } from '../shared/replayBuffer.ts';

type BufferPhase = 'collecting' | 'holding';

export const bufferActor: ActorDef<BufferFold, BufferPhase> = {
  name: 'buffer',
  description: 'replay buffer of rollout groups with behaviour log-probs; a pure fold',
  phases: ['holding', 'collecting'],
  initialPhase: 'holding',
  edges: { holding: { RolloutCompleted: 'collecting' }, collecting: { UpdateRequested: 'holding' } },
  initialState: initBufferFold,
  evolve: (s: BufferFold, e: Logged) => foldBuffer(s, e),
  decide: () => [],
  summary: (s) => ({
    groups: s.buffer.groups.length,
    rows: s.buffer.groups.reduce((n, g) => n + g.rewards.length, 0),
    pendingFresh: s.pending.size,
    semantics: s.buffer.config.semantics,
  }),
  snapshot: (s) => ({ buffer: bufferToJSON(s.buffer), pending: s.pending.toArray() }),
  restore: (snap) => {
    const x = snap as { buffer: BufferJSON; pending: RolloutGroup[] };
    return { buffer: bufferFromJSON(x.buffer), pending: GrowOnlyList.from(x.pending), lastEvictions: [] };
  },
};
