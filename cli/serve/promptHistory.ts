/**
 * One prompt's history for the dashboard's timeline panel: `dare inspect --prompt`'s fold (every estimate,
 * selection with its tier, rollout group, replay and eviction, cli/drift.ts) over the run's log as it is
 * now, with the prompt's row from the prompts database.
 */
import { foldBuffer, initBufferFold, type BufferFold } from '../../actors/shared/bufferFold.ts';
import type { EventLog } from '../../store/eventLog.ts';
import { promptTimeline, type TimelineEntry } from '../drift.ts';
import { toJsonSafe } from '../format.ts';
import { loggedConfig } from '../replay.ts';

export interface PromptHistory {
  index: number;
  row: { id: string; question: string; answer: string; category: string } | null;
  timeline: TimelineEntry[];
}

export function promptHistory(log: EventLog, index: number): PromptHistory {
  const { config } = loggedConfig(log);
  let buf: BufferFold = initBufferFold(config);
  const timeline = promptTimeline(log, index, (l) => {
    buf = foldBuffer(buf, l);
    return buf.lastEvictions;
  });
  const r = log.getPrompt(index) as { id?: string; question?: string; answer?: string; category?: string } | undefined;
  return {
    index,
    row: r ? { id: String(r.id ?? index), question: String(r.question ?? ''), answer: String(r.answer ?? ''), category: String(r.category ?? '') } : null,
    timeline: toJsonSafe(timeline) as TimelineEntry[],
  };
}
