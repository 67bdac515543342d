/**
 * `dare check DIR`: is this run's log whole? The data file against its pages (before it is mapped), every
 * event's key contiguous from 1, every event decoding to a valid event of this run with its recorded
 * checksum, the id index against the events, every rollout group's blob present and decodable, the prompts
 * database against PromptsRegistered's count and content hash, and every CheckpointSaved's file against its
 * size and sha256. Reads only; never writes to the log. `dare resume` runs the log part (no blobs or
 * checkpoint hashes: the resume checks those it loads) and refuses a damaged log.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { DareEvent } from '../events/catalogue.ts';
import { decodeEvent } from '../events/codec.ts';
import { readDataFile } from '../store/dataFile.ts';
import { EventLog, StoreError } from '../store/eventLog.ts';
import { promptTableOf, type PromptRowLike } from './promptSet.ts';

export interface Problem {
  /** the event at fault, where there is one */
  seq?: number;
  what: string;
}

export interface CheckReport {
  runDir: string;
  events: number;
  /** events written with a checksum (logs from before 2026-12-07 have none) */
  checksummed: number;
  blobs: number;
  prompts: number;
  checkpoints: number;
  problems: Problem[];
}

export interface CheckOptions {
  /** also read every blob and hash every checkpoint file (default true) */
  deep?: boolean;
  /** stop after this many problems (default 20) */
  maxProblems?: number;
}

class Enough extends Error {}

export async function checkRun(runDir: string, o: CheckOptions = {}): Promise<CheckReport> {
  const deep = o.deep ?? true;
  const max = o.maxProblems ?? 20;
  const dir = join(resolve(runDir), 'log');
  const report: CheckReport = { runDir, events: 0, checksummed: 0, blobs: 0, prompts: 0, checkpoints: 0, problems: [] };
  const problem = (what: string, seq?: number) => {
    report.problems.push(seq === undefined ? { what } : { seq, what });
    if (report.problems.length >= max) throw new Enough();
  };
  if (!existsSync(join(dir, 'data.mdb'))) {
    report.problems.push({ what: `${runDir}: not a run directory (no log/data.mdb)` });
    return report;
  }
  let log: EventLog;
  try {
    readDataFile(dir);
    log = EventLog.open(dir, { readOnly: true });
  } catch (e) {
    report.problems.push({ what: (e as Error).message });
    return report;
  }
  try {
    const checkpoints: Array<{ seq: number; path: string; sha256: string; bytes: number }> = [];
    let registered: { seq: number; count: number; evalCount: number; contentHash: string } | null = null;
    let run: string | null = null;
    try {
      let expect = 1;
      for (const seq of log.eventKeys()) {
        if (seq !== expect) problem(`sequence numbers jump from ${expect - 1} to ${seq} (events ${expect}..${seq - 1} are missing)`, expect);
        expect = seq + 1;
      }
      for (const { seq, bytes } of log.iterateRaw(1)) {
        report.events++;
        if (log.checksumAt(seq) !== undefined) {
          report.checksummed++;
          if (!log.checksumMatches(seq)) problem(`event ${seq}: its bytes no longer match the checksum recorded when it was committed`, seq);
        }
        let ev: DareEvent;
        try {
          ev = decodeEvent(bytes, `event ${seq}`);
        } catch (e) {
          problem((e as Error).message, seq);
          continue;
        }
        run ??= ev.run;
        if (ev.run !== run) problem(`event ${seq} (${ev.id}) belongs to run "${ev.run}", the log's first event to "${run}"`, seq);
        const indexed = log.seqOf(ev.id);
        if (indexed !== seq) problem(`event ${seq} (${ev.id}): the id index says ${indexed === undefined ? 'nothing' : `seq ${indexed}`}`, seq);
        if (ev.type === 'PromptsRegistered') registered = { seq, count: ev.data.count, evalCount: ev.data.evalCount, contentHash: ev.data.contentHash };
        if (ev.type === 'CheckpointSaved') checkpoints.push({ seq, path: ev.data.path, sha256: ev.data.sha256, bytes: ev.data.bytes });
        if (ev.type === 'RolloutCompleted' && deep) {
          report.blobs++;
          if (!log.hasBlob(ev.data.group)) problem(`event ${seq} (${ev.id}): its blob ${ev.data.group} is missing`, seq);
          else {
            try {
              log.getBlob(ev.data.group);
            } catch (e) {
              problem(`event ${seq} (${ev.id}): ${(e as Error).message}`, seq);
            }
          }
        }
      }
      let indexEntries = 0;
      for (const { id, seq } of log.idEntries()) {
        indexEntries++;
        if (seq < 1 || seq > log.lastSeq()) problem(`the id index names seq ${seq} for ${id}, past the log's end (${log.lastSeq()})`);
      }
      if (indexEntries !== report.events) problem(`the id index holds ${indexEntries} ids for ${report.events} events`);

      report.prompts = log.promptCount();
      if (registered) {
        const want = registered.count + registered.evalCount;
        if (report.prompts !== want) problem(`PromptsRegistered (seq ${registered.seq}) announces ${want} prompts; the prompts database holds ${report.prompts}`, registered.seq);
        else {
          const rows: PromptRowLike[] = [];
          for (const { row } of log.iteratePrompts()) rows.push(row as PromptRowLike);
          const table = promptTableOf(rows, { count: registered.count, evalCount: registered.evalCount, source: '', conflicts: 0 });
          if (table.contentHash !== registered.contentHash) problem(`the prompts database does not hash to PromptsRegistered's content hash (seq ${registered.seq})`, registered.seq);
        }
      }
      for (const c of checkpoints) {
        report.checkpoints++;
        const file = isAbsolute(c.path) ? c.path : join(resolve(runDir), c.path);
        if (!existsSync(file)) {
          problem(`checkpoint ${c.path} (CheckpointSaved at seq ${c.seq}) is missing`, c.seq);
          continue;
        }
        const size = statSync(file).size;
        if (size !== c.bytes) problem(`checkpoint ${c.path} has ${size} bytes; CheckpointSaved (seq ${c.seq}) says ${c.bytes}`, c.seq);
        else if (deep && (await sha256Of(file)) !== c.sha256) problem(`checkpoint ${c.path} does not match the sha256 CheckpointSaved (seq ${c.seq}) recorded`, c.seq);
      }
    } catch (e) {
      if (e instanceof StoreError) report.problems.push({ what: e.message });
      else if (!(e instanceof Enough)) throw e;
    }
  } finally {
    await log.close();
  }
  report.problems.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
  return report;
}

function sha256Of(file: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('end', () => res(h.digest('hex'))).on('error', rej);
  });
}
