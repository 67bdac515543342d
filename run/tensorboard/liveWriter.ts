/**
 * The event files `dare run` writes into DIR/tensorboard/ while it goes (run.tensorboard=true): the run's
 * monitor hands each Event of scalars (scalars.ts) over as its source event lands, and the writes go to the
 * thread pool, one at a time, batched — never on the path a step's hops wait for (as metrics.csv's writes).
 *
 * A resumed run must neither lose nor repeat a step. Each process writes a file of its own (created at its
 * first Event, named to sort after every file already there, as TensorBoard reads a directory's files in name
 * order) and never touches the files earlier processes left: at start it reads them back — up to a record a
 * kill left half-written, which TensorBoard's reader also stops at — and notes which source events
 * (`UpdateCompleted/<step>`, `EvalCompleted/<step>`, `DifficultyEstimated/<step>`) they already hold. It then
 * writes those the log has and the files lack (what the killed process logged but had not written yet: looked
 * up by id, with the restored metrics fold's rows), and from then on every new one. So the directory holds
 * each source event once, whatever the kills, at the cost of reading back the event files (about 1 KB a step)
 * and a few id look-ups per step at resume — not a pass over the whole log, which the monitor's snapshot
 * exists to avoid (a rewrite of the file from the log at every resume would cost that pass: 14 s for a
 * 900k-event run). Files are derived data, not durable state: there is no fsync (the log is the truth, and
 * the next resume fills in what a crash lost).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { eventId, type EventOf } from '../../events/catalogue.ts';
import type { MetricsFold } from '../metrics.ts';
import { decodeEvent, encodeScalarEvent, encodeVersionEvent, eventFileName, isEventFileName } from './eventFile.ts';
import { estimateScalars, evalScalars, sourceOfValues, trainScalars, type ScalarRecord } from './scalars.ts';
import { readTfRecords, tfRecord } from './tfrecord.ts';
import type { ReadableLog } from './export.ts';

export const TENSORBOARD_DIR = 'tensorboard';

/** What the event files in a directory already hold: the ids of their source events, and the files' names. */
export function eventFilesIn(dir: string): { files: string[]; written: Set<string>; torn: string[] } {
  const written = new Set<string>();
  const torn: string[] = [];
  const files = existsSync(dir) ? readdirSync(dir).filter(isEventFileName).sort() : [];
  for (const f of files) {
    const { records, stopped } = readTfRecords(readFileSync(join(dir, f)));
    if (stopped) torn.push(f);
    for (const r of records) {
      let e;
      try {
        e = decodeEvent(r);
      } catch {
        continue; // not an Event of ours
      }
      const source = e.values ? sourceOfValues(e.values) : null;
      if (source) written.add(eventId(source, e.step));
    }
  }
  return { files, written, torn };
}

export class LiveEventFiles {
  private readonly written: Set<string>;
  private readonly existing: string[];
  private path: string | null = null;
  private pending: Uint8Array[] = [];
  private writing: Promise<void> | null = null;
  private failed = false;

  private constructor(
    readonly dir: string,
    private readonly host: string,
    private readonly warn: (o: object, msg: string) => void,
  ) {
    mkdirSync(dir, { recursive: true });
    const found = eventFilesIn(dir);
    this.written = found.written;
    this.existing = found.files;
    if (found.torn.length) warn({ files: found.torn }, 'tensorboard: an event file ends in a record cut short (a kill); its later events are written again');
  }

  /** The writer of DIR/tensorboard/, with what the files already there hold. */
  static open(runDir: string, warn: (o: object, msg: string) => void, host = hostname()): LiveEventFiles {
    return new LiveEventFiles(join(runDir, TENSORBOARD_DIR), host, warn);
  }

  /** Has an event file in the directory the Event of this source event (an id `<type>/<step>`)? */
  has(id: string): boolean {
    return this.written.has(id);
  }

  /** The file this process writes (null before its first Event). */
  file(): string | null {
    return this.path;
  }

  /** Append an Event (written soon, in the background), unless a file already holds its source event. */
  add(r: ScalarRecord): void {
    if (this.failed || this.written.has(r.id)) return;
    this.written.add(r.id);
    if (this.path === null) {
      this.path = join(this.dir, this.newFileName(r.wallTime));
      this.pending.push(tfRecord(encodeVersionEvent(r.wallTime)));
    }
    this.pending.push(tfRecord(encodeScalarEvent(r)));
    this.writing ??= this.drain();
  }

  /**
   * Resuming: the Events of the source events logged up to `upTo` that no file holds, in log order, from the
   * metrics fold restored at `upTo` (its rows: a step's row no longer changes once its update landed) and the
   * events themselves, looked up by id. Returns how many were added.
   */
  catchUp(log: ReadableLog, fold: MetricsFold, upTo: number): number {
    const m = fold.result();
    const found: Array<{ seq: number; make: () => ScalarRecord | null }> = [];
    const want = (id: string, make: (e: unknown) => ScalarRecord | null) => {
      if (this.written.has(id)) return;
      const seq = log.seqOf(id);
      if (seq === undefined || seq > upTo) return;
      found.push({ seq, make: () => make(log.read(seq, seq + 1)[0]?.event) });
    };
    let last = 0;
    for (const row of m.steps) {
      last = Math.max(last, row.step);
      if (row.step === 0) continue;
      want(eventId('UpdateCompleted', row.step), (e) => {
        const r = fold.stepRow(row.step);
        return r && (e as { type?: string })?.type === 'UpdateCompleted' ? trainScalars(r, e as EventOf<'UpdateCompleted'>) : null;
      });
    }
    for (const ev of m.evals) {
      want(eventId('EvalCompleted', ev.step), (e) => ((e as { type?: string })?.type === 'EvalCompleted' ? evalScalars(e as EventOf<'EvalCompleted'>) : null));
    }
    for (let s = 0; s <= last; s++) {
      want(eventId('DifficultyEstimated', s), (e) => ((e as { type?: string })?.type === 'DifficultyEstimated' ? estimateScalars(e as EventOf<'DifficultyEstimated'>) : null));
    }
    let n = 0;
    for (const { make } of found.sort((a, b) => a.seq - b.seq)) {
      const r = make();
      if (r) {
        this.add(r);
        n++;
      }
    }
    return n;
  }

  /** Every Event handed over so far, written. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** `events.out.tfevents.<secs>.<host>`, with secs moved past every file already in the directory if need be. */
  private newFileName(wallTime: number): string {
    let secs = Math.floor(wallTime);
    const after = (name: string) => this.existing.every((f) => f < name);
    if (!after(eventFileName(secs, this.host))) {
      for (const f of this.existing) {
        const s = /^events\.out\.tfevents\.(\d+)/.exec(f);
        if (s) secs = Math.max(secs, Number(s[1]) + 1);
      }
    }
    return eventFileName(secs, this.host);
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failed) {
        const parts = this.pending.splice(0);
        const buf = Buffer.concat(parts);
        await appendFile(this.path!, buf);
      }
    } catch (e) {
      // a write cut short leaves a record TensorBoard's reader stops at: write no more (the next resume fills in)
      this.failed = true;
      this.warn({ err: (e as Error).message, file: this.path }, 'tensorboard: could not write the event file; no more Events this process');
    } finally {
      this.writing = null;
    }
  }
}
