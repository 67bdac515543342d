/**
 * A run directory's log opened for a person to look at (dare replay, drift, inspect, log, report, export,
 * serve): read-only, every event checked against its checksum as it is read, and a directory without a log
 * refused with one line that says what it is instead: a run killed during start-up (config.json only:
 * `dare resume` starts it) or no run at all.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../events/errors.ts';
import { EventLog } from '../store/eventLog.ts';

/** Why `dir` has no log to read (undefined: it has one). */
export function noLogReason(dir: string): string | undefined {
  const runDir = resolve(dir);
  if (existsSync(join(runDir, 'log', 'data.mdb'))) return undefined;
  if (existsSync(join(runDir, 'config.json'))) {
    return `${dir}: no log yet: only config.json (the run was killed during start-up); \`dare resume ${dir}\` starts it`;
  }
  return `${dir}: not a run directory (no log/data.mdb)`;
}

export function openRunLog(dir: string): EventLog {
  const why = noLogReason(dir);
  if (why !== undefined) throw new UserError(why);
  return EventLog.open(join(resolve(dir), 'log'), { readOnly: true, verify: true });
}
