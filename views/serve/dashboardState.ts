/**
 * Everything the dashboard shows, folded from the log alone, one event at a time (a finished run's LMDB
 * log, then a live run's committed events in sequence order): every actor's phase and recent transitions
 * (the same pure fold `dare inspect` uses), the prompt table, the report's plot series, and the run's
 * status line. `version` counts folded events, so the server pushes only when something changed.
 */
import { ACTORS } from '../../actors/index.ts';
import { foldOne, initialFolded, type Folded } from '../../actors/actor.ts';
import type { SessionState } from '../../actors/session.ts';
import type { Logged } from '../../events/catalogue.ts';
import { resolveLoggedConfig, type RunConfig } from '../../events/config.ts';
import { toJsonSafe } from '../format.ts';
import { ReportFold, type ReportData } from '../report/series.ts';
import { PromptTable, type PromptText } from './promptTable.ts';

export interface ActorStatus {
  actor: string;
  phase: string;
  /** sequence number of the last event folded into it */
  seq: number;
  summary: unknown;
  /** the latest transitions, newest last: [seq, event type, from, to] */
  recent: Array<[number, string, string, string]>;
}

export interface RunStatus {
  run: string | null;
  scenario: string | null;
  method: string | null;
  /** last step started (0 before the first) */
  step: number;
  steps: number | null;
  epoch: number;
  policyVersion: number;
  paused: boolean;
  stopRequested: boolean;
  /** stopped (RunStopped): ended for now, `dare resume` goes on */
  stopped: boolean;
  completed: boolean;
  failed: boolean;
  lastSeq: number;
  /** informational wall-clock time (ms) of the last event */
  lastTs: number | null;
  /** the run is being followed over NATS (control works) */
  live: boolean;
}

const RECENT_SHOWN = 8;

export class DashboardState {
  private config: RunConfig | null = null;
  private folds: Map<string, Folded<any, any>> | null = null;
  private readonly report = new ReportFold();
  readonly prompts: PromptTable;
  private run: string | null = null;
  private scenario: string | null = null;
  private method: string | null = null;
  private lastSeq = 0;
  private lastTs: number | null = null;
  /** events before RunStarted (none in a well-formed log), folded once the configuration is known */
  private early: Logged[] = [];
  live = false;

  constructor(promptText: (index: number) => PromptText | undefined) {
    this.prompts = new PromptTable(promptText);
  }

  /** the number of events folded */
  get version(): number {
    return this.lastSeq;
  }

  add(l: Logged): void {
    if (l.seq !== this.lastSeq + 1) throw new Error(`dashboard fold: event ${l.seq} after ${this.lastSeq} (events must come in order, without gaps)`);
    this.lastSeq = l.seq;
    this.lastTs = l.event.ts;
    this.report.apply(l);
    this.prompts.add(l);
    const e = l.event;
    if (e.type === 'RunStarted' && !this.config) {
      this.run = e.run;
      this.scenario = e.data.scenario;
      this.method = e.data.method;
      this.config = resolveLoggedConfig(e.data.config);
      this.folds = new Map(ACTORS.map((d) => [d.name, initialFolded(d, this.config!)]));
      const early = this.early;
      this.early = [];
      for (const x of early) this.foldActors(x);
    }
    if (this.folds) this.foldActors(l);
    else this.early.push(l);
  }

  private foldActors(l: Logged): void {
    for (const d of ACTORS) this.folds!.set(d.name, foldOne(d, this.folds!.get(d.name)!, l));
  }

  actors(): ActorStatus[] {
    return ACTORS.map((d) => {
      const f = this.folds?.get(d.name);
      if (!f) return { actor: d.name, phase: d.initialPhase, seq: 0, summary: {}, recent: [] };
      return {
        actor: d.name,
        phase: f.phase,
        seq: f.seq,
        summary: toJsonSafe(d.summary(f.state)),
        recent: f.recent.slice(-RECENT_SHOWN).map((r) => [...r] as [number, string, string, string]),
      };
    });
  }

  status(): RunStatus {
    const s = this.folds?.get('session')?.state as SessionState | undefined;
    return {
      run: this.run,
      scenario: this.scenario,
      method: this.method,
      step: s?.step ?? 0,
      steps: this.config?.run.steps ?? null,
      epoch: s?.epoch ?? 0,
      policyVersion: s?.policyVersion ?? 0,
      paused: s?.paused ?? false,
      stopRequested: s?.stopRequested ?? false,
      stopped: s?.halted ?? false,
      completed: s?.done ?? false,
      failed: s?.failed ?? false,
      lastSeq: this.lastSeq,
      lastTs: this.lastTs,
      live: this.live,
    };
  }

  plots(): ReportData {
    return this.report.data();
  }
}
