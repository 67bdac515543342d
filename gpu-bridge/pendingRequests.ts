/**
 * Requests in the log that have no (complete) completion yet: what a resume re-issues, with their ids.
 * Uses the same completion ids the bridge's jobs write (jobs/, and bridge.ts's request table).
 */
import { eventId, type Logged } from '../events/catalogue.ts';

/** The log as the scan needs it: the id index (exact completion look-ups) and reads by seq. */
export interface PendingLog {
  seqOf(id: string): number | undefined;
  read(from: number, to?: number): Logged[];
}

export function pendingRequests(log: PendingLog & { iterate(from?: number): Iterable<Logged> }): string[] {
  const scan = new PendingScan(log);
  for (const e of log.iterate(1)) scan.add(e);
  return scan.result().map((r) => r.id);
}

interface Open {
  seq: number;
  /** a rollout request's prompts (0 for other requests) */
  prompts: number;
  /** the request's completion is in the log (checked against the id index) */
  done: () => boolean;
}

/**
 * pendingRequests as a fold: feed it every event in order, then ask. It keeps only the requests still
 * open: a rollout request counts its completions as they pass (each is caused by it and names one of its
 * prompts) and closes at the last, any other closes when the event with its completion id passes. What is
 * left when asked is checked against the log's id index (a completion logged out of the usual order), as
 * pendingRequests always did. Closing early never drops a request the final check would keep: a
 * completion once logged stays logged.
 *
 * `snapshot()` is the open requests (seq and completions so far; a handful, in flight at that moment) and
 * `restore` rebuilds the scan from them by reading those requests back from the log, so a resume folds only
 * the log after the snapshot.
 */
export class PendingScan {
  /** open requests by id, in log order */
  private readonly open = new Map<string, Open>();
  /** rollout request id -> completions seen (open requests only) */
  private readonly completions = new Map<string, number>();
  /** completion id -> id of the open request it completes (every request but rollouts) */
  private readonly awaiting = new Map<string, string>();

  constructor(private readonly log: PendingLog) {}

  /** A request (not a rollout) open until the event with id `completion` is logged. */
  private waitFor(id: string, seq: number, completion: string): void {
    const log = this.log;
    this.open.set(id, { seq, prompts: 0, done: () => log.seqOf(completion) !== undefined });
    this.awaiting.set(completion, id);
  }

  add({ seq, event: e }: Logged): void {
    const log = this.log;
    switch (e.type) {
      case 'RolloutRequested': {
        const { step, purpose, prompts } = e.data;
        const train = purpose === 'train';
        this.completions.set(e.id, 0);
        this.open.set(e.id, {
          seq,
          prompts: prompts.length,
          done: () =>
            this.completions.get(e.id) === prompts.length ||
            !Array.from(prompts).some((p) => log.seqOf(train ? eventId('RolloutCompleted', step, p) : eventId('RolloutCompleted', purpose, step, p)) === undefined),
        });
        return;
      }
      case 'RolloutCompleted': {
        const c = e.cause;
        if (c === null || !this.completions.has(c)) return;
        const n = this.completions.get(c)! + 1;
        // every prompt of the request completed (completion ids are per prompt: n ≤ its distinct prompts)
        if (n === this.open.get(c)?.prompts) this.close(c);
        else this.completions.set(c, n);
        return;
      }
      case 'ScoreRequested':
        return this.waitFor(e.id, seq, eventId('ScoreCompleted', e.data.step));
      case 'UpdateRequested':
        return this.waitFor(e.id, seq, eventId('UpdateCompleted', e.data.step));
      case 'CheckpointRequested':
        return this.waitFor(e.id, seq, eventId('CheckpointSaved', e.data.policyVersion));
      case 'EvalRequested':
        return this.waitFor(e.id, seq, eventId('EvalCompleted', e.data.step));
      case 'SignalRequested':
        return this.waitFor(e.id, seq, eventId('SignalCompleted', e.data.step, e.data.kind));
    }
    const req = this.awaiting.get(e.id);
    if (req !== undefined) {
      this.awaiting.delete(e.id);
      this.close(req);
    }
  }

  private close(id: string): void {
    this.open.delete(id);
    this.completions.delete(id);
  }

  /** The requests without a completion, in log order, with their sequence numbers. */
  result(): Array<{ id: string; seq: number }> {
    const out: Array<{ id: string; seq: number }> = [];
    for (const [id, r] of this.open) if (!r.done()) out.push({ id, seq: r.seq });
    return out.sort((a, b) => a.seq - b.seq);
  }

  /**
   * The open requests as plain data: [seq, completions so far] each (see the class comment). Those whose
   * completion the log already holds are left out: a completion once logged stays logged.
   */
  snapshot(): PendingScanState {
    const open: Array<[number, number]> = [];
    for (const [id, r] of this.open) if (!r.done()) open.push([r.seq, this.completions.get(id) ?? 0]);
    return { v: PENDING_STATE_VERSION, open };
  }

  /** The scan as it was at its snapshot, its requests read back from `log`. Throws on a foreign state. */
  static restore(state: unknown, log: PendingLog): PendingScan {
    const x = state as PendingScanState;
    if (!x || x.v !== PENDING_STATE_VERSION || !Array.isArray(x.open)) throw new Error(`pending-request snapshot: not version ${PENDING_STATE_VERSION}`);
    const scan = new PendingScan(log);
    for (const [seq, n] of x.open) {
      const l = log.read(seq, seq + 1)[0];
      if (!l || l.seq !== seq) throw new Error(`pending-request snapshot: seq ${seq} is not in the log`);
      scan.add(l);
      if (!scan.open.has(l.event.id)) throw new Error(`pending-request snapshot: seq ${seq} (${l.event.type}) is not a request`);
      if (l.event.type === 'RolloutRequested') scan.completions.set(l.event.id, n);
    }
    return scan;
  }
}

const PENDING_STATE_VERSION = 1;

export interface PendingScanState {
  v: number;
  open: Array<[number, number]>;
}
