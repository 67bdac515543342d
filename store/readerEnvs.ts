/**
 * One read-only LMDB environment per data file per process. lmdb-js 3.5 built for LMDB data format 1
 * (LMDB_DATA_V1, which the log needs to stay readable by other tools) never closes an environment: close()
 * leaves its 64 GiB mapping and two file descriptors behind (its env tracking is the format-2 build's), so a
 * process that opened a log ~1,900 times ran out of address space. Read-only opens of the same file therefore
 * share one environment, kept for the life of the process, each open starting from a fresh read snapshot.
 * A data.mdb replaced by another file (another inode) gets an environment of its own.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RootDatabase } from 'lmdb';

/** by file (path and inode): the environment, and the file's size when last opened */
const readers = new Map<string, { env: RootDatabase; size: number }>();

function fileOf(dir: string): { key: string; size: number } | null {
  try {
    const st = statSync(join(dir, 'data.mdb'));
    return { key: `${resolve(dir)}#${st.ino}`, size: st.size };
  } catch {
    return null;
  }
}

/** The process's read-only environment of `dir`, opened by `open` the first time; a fresh snapshot. */
export function readerEnv(dir: string, open: () => RootDatabase): { env: RootDatabase; shared: boolean } {
  const file = fileOf(dir);
  const known = file === null ? undefined : readers.get(file.key);
  // a log only grows: a smaller file was truncated under the old mapping (damage), and gets a mapping of its own
  if (known && file && file.size >= known.size) {
    known.size = file.size;
    // what the writer committed since the last look
    (known.env as unknown as { resetReadTxn(): void }).resetReadTxn();
    return { env: known.env, shared: true };
  }
  if (known && file) readers.delete(file.key);
  return { env: open(), shared: false };
}

/** Keep `env` (opened by readerEnv's `open`, its databases found) for the next read-only open of `dir`. */
export function keepReaderEnv(dir: string, env: RootDatabase): void {
  const file = fileOf(dir);
  if (file !== null) readers.set(file.key, { env, size: file.size });
}

/** Is `env` one of the kept ones (never closed: see above)? */
export function isKeptReader(env: RootDatabase): boolean {
  for (const r of readers.values()) if (r.env === env) return true;
  return false;
}
