/**
 * The prompts actor: the dataset. The run's prompt rows are written to the prompts database before
 * RunStarted; on RunStarted this actor announces them (count, content hash, categories) and folds the
 * per-prompt category table that the category-aware samplers (SEC) use.
 */
import { eventId, makeEvent, type DareEvent, type Logged } from '../events/catalogue.ts';
import type { ActorDef, DecideContext } from './actor.ts';

export interface PromptsState {
  count: number;
  evalCount: number;
  contentHash: string;
  categories: string[];
  categoryOf: Uint16Array;
}

type PromptsPhase = 'unregistered' | 'registered';

function decide(_s: PromptsState, { event: e }: Logged, ctx: DecideContext): DareEvent[] {
  if (e.type !== 'RunStarted') return [];
  const t = ctx.promptTable();
  if (!t) return [];
  return [
    makeEvent(
      'PromptsRegistered',
      { count: t.count, evalCount: t.evalCount, contentHash: t.contentHash, source: t.source, categories: t.categories, categoryOf: t.categoryOf, conflicts: t.conflicts },
      { run: ctx.run, id: eventId('PromptsRegistered'), cause: e.id },
    ),
  ];
}

export const promptsActor: ActorDef<PromptsState, PromptsPhase> = {
  name: 'prompts',
  description: 'the dataset: ids, text, answers, categories, held-out eval set',
  phases: ['unregistered', 'registered'],
  initialPhase: 'unregistered',
  edges: { unregistered: { PromptsRegistered: 'registered' } },
  initialState: () => ({ count: 0, evalCount: 0, contentHash: '', categories: [], categoryOf: new Uint16Array(0) }),
  evolve: (s, { event: e }) =>
    e.type === 'PromptsRegistered'
      ? { count: e.data.count, evalCount: e.data.evalCount, contentHash: e.data.contentHash, categories: e.data.categories, categoryOf: e.data.categoryOf }
      : s,
  decide,
  summary: (s) => ({ count: s.count, evalCount: s.evalCount, categories: s.categories.length, contentHash: s.contentHash.slice(0, 12) }),
  snapshot: (s) => s,
  restore: (snap) => snap as PromptsState,
};
