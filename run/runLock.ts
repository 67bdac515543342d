/**
 * One process per run directory: `dare run` and `dare resume` hold DIR/run.lock (pid, host, since) while
 * they run, so a second one is refused with one line naming the holder instead of failing deep inside with
 * an out-of-order append. A lock whose process is gone (kill -9, a crash) is stale and taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../events/errors.ts';

interface LockFile {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Take the run directory's lock; returns the function that gives it back. */
export function acquireRunLock(runDir: string): () => void {
  const file = join(runDir, 'run.lock');
  const mine: LockFile = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine) + '\n', { flag: 'wx' });
      return () => {
        try {
          const held = JSON.parse(readFileSync(file, 'utf8')) as LockFile;
          if (held.pid === mine.pid && held.host === mine.host) rmSync(file, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let held: LockFile | null = null;
    try {
      held = JSON.parse(readFileSync(file, 'utf8')) as LockFile;
    } catch {
      held = null; // unreadable: a holder that died while writing it
    }
    if (held && held.host === mine.host && held.pid !== process.pid && alive(held.pid)) {
      throw new UserError(`${runDir}: a run is going on here (pid ${held.pid}, since ${held.since}); stop it first (\`dare control ${runDir} stop\`) or wait for it to end`);
    }
    if (held && held.host !== mine.host) {
      throw new UserError(`${runDir}: held by a run on host ${held.host} (pid ${held.pid}, since ${held.since}); if no run is going on there, delete ${file}`);
    }
    rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new UserError(`${runDir}: could not take ${file}`);
}
