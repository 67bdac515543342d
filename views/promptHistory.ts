/**
 * One prompt's history (`dare inspect --prompt`, `dare drift --prompt`, the dashboard's timeline panel):
 * every estimate, selection with its tier, rollout group, replay and eviction over the run's log as it is
 * now, with the prompt's row from the prompts database.
 */
import { foldBuffer, initBufferFold, type BufferFold } from '../actors/shared/bufferFold.ts';
import { labelSourceName } from '../actors/shared/labels.ts';
import { TIER_NAMES, type Logged } from '../events/catalogue.ts';
import type { EventLog } from '../store/eventLog.ts';
import { toJsonSafe } from './format.ts';
import { loggedConfig } from '../run/replay.ts';

export interface TimelineEntry {
  seq: number;
  step: number;
  kind: 'estimate' | 'selected' | 'rollout' | 'replayed' | 'evicted';
  detail: Record<string, unknown>;
}

/** Resolve a prompt argument (index or id) to its index. */
export function promptIndexOf(log: EventLog, idOrIndex: string): number | undefined {
  // an index names a prompt of this run only below the prompts database's count (train and eval prompts)
  if (/^\d+$/.test(idOrIndex)) return Number(idOrIndex) < log.promptCount() ? Number(idOrIndex) : undefined;
  for (const { index, row } of log.iteratePrompts()) if ((row as { id?: string }).id === idOrIndex) return index;
  return undefined;
}

/** One prompt's history: each estimate, selection, tier, rollout group, replay and eviction. */
export function promptTimeline(log: EventLog, q: number, evictions: (e: Logged) => Array<{ promptIndex: number; groupId: string; reason: string }>): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  let step = 0;
  for (const l of log.iterate(1)) {
    const e = l.event;
    if (e.type === 'StepStarted') step = e.data.step;
    if (e.type === 'DifficultyEstimated' && q < e.data.difficulty.length) {
      out.push({ seq: l.seq, step: e.data.step, kind: 'estimate', detail: { difficulty: e.data.difficulty[q], source: labelSourceName(e.data.source[q]), ess: e.data.ess[q] } });
    } else if (e.type === 'BatchSelected') {
      const i = e.data.prompts.indexOf(q);
      if (i >= 0) out.push({ seq: l.seq, step: e.data.step, kind: 'selected', detail: { difficulty: e.data.difficulty[i], tier: TIER_NAMES[e.data.tier[i]], rollouts: e.data.rollouts[i], hints: e.data.hints[i] } });
    } else if (e.type === 'RolloutCompleted' && e.data.promptIndex === q) {
      let ok = 0;
      for (const r of e.data.reward) if (r > 0) ok++;
      out.push({ seq: l.seq, step: e.data.step, kind: 'rollout', detail: { group: e.data.group, correct: ok, of: e.data.reward.length, purpose: e.data.purpose, oracleSuccess: e.data.oracleSuccess } });
    } else if (e.type === 'UpdateRequested') {
      e.data.groups.forEach((g, gi) => {
        if (gi >= e.data.freshGroups && g.startsWith('g/') && Number(g.split('/')[2]) === q) {
          out.push({ seq: l.seq, step: e.data.step, kind: 'replayed', detail: { group: g } });
        }
      });
    }
    for (const ev of evictions(l)) if (ev.promptIndex === q) out.push({ seq: l.seq, step, kind: 'evicted', detail: { group: ev.groupId, reason: ev.reason } });
  }
  return out;
}

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
