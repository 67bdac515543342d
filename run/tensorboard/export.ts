/**
 * `dare export DIR --tensorboard OUT`: the event file of a run's log (finished, killed or live), from the log
 * alone — read-only, no model, no clock: the same log gives the same bytes every time (the file's name also
 * carries the host name).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logged } from '../../events/catalogue.ts';
import { UserError } from '../../events/errors.ts';
import { logPrior, MetricsFold } from '../metrics.ts';
import { eventFileBytes, eventFileName, isEventFileName } from './eventFile.ts';
import { scalarRecordOf, type ScalarRecord } from './scalars.ts';

/** What the export reads: a log, as the store's EventLog opened read-only gives it. */
export interface ReadableLog {
  iterate(from?: number, to?: number): Iterable<Logged>;
  seqOf(id: string): number | undefined;
  read(from: number, to?: number): Logged[];
}

/** Every Event of scalars of the log, in log order (a fold of the whole log, as the run's monitor does it live). */
export function scalarRecordsOfLog(log: ReadableLog): { records: ScalarRecord[]; firstTs: number } {
  const fold = new MetricsFold(logPrior(log, 0));
  const records: ScalarRecord[] = [];
  let firstTs = 0;
  for (const l of log.iterate(1)) {
    if (l.seq === 1) firstTs = l.event.ts;
    fold.add(l);
    const r = scalarRecordOf(l.event, fold);
    if (r) records.push(r);
  }
  return { records, firstTs };
}

/** The event file of a log: its name (stamped like its first Event; a log without one: like its first event) and bytes. */
export function tensorboardFileOf(log: ReadableLog, host = hostname()): { name: string; bytes: Uint8Array; records: ScalarRecord[] } {
  const { records, firstTs } = scalarRecordsOfLog(log);
  const wallTime = records[0]?.wallTime ?? firstTs / 1000;
  return { name: eventFileName(wallTime, host), bytes: eventFileBytes(records, wallTime), records };
}

export interface TensorboardExport {
  file: string;
  /** Events of scalars written (besides the file_version record) */
  events: number;
  /** training steps with scalars */
  steps: number;
  tags: number;
}

/**
 * Write the log's event file into `outDir` (created if missing), replacing an earlier export of the same log
 * from this host (same name); an OUT that holds other event files is refused (TensorBoard would show both).
 */
export function exportTensorboard(log: ReadableLog, outDir: string, host = hostname()): TensorboardExport {
  const { name, bytes, records } = tensorboardFileOf(log, host);
  const dir = resolve(outDir);
  if (existsSync(dir)) {
    const others = readdirSync(dir).filter((f) => isEventFileName(f) && f !== name);
    if (others.length > 0) throw new UserError(`${outDir}: already holds other event files (${others.slice(0, 3).join(', ')}); TensorBoard would show them beside this export: choose another directory`);
  } else mkdirSync(dir, { recursive: true });
  // written under a name TensorBoard does not read, then renamed: a reader sees the whole file or none
  const tmp = join(dir, `.export-${process.pid}.tmp`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, join(dir, name));
  const tags = new Set(records.flatMap((r) => r.values.map(([t]) => t)));
  return { file: join(dir, name), events: records.length, steps: records.filter((r) => r.source === 'UpdateCompleted').length, tags: tags.size };
}
