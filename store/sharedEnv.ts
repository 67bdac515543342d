/**
 * One LMDB environment per log file per process, shared by every EventLog open of that file.
 *
 * Why: LMDB 0.9 (the format-1 build) must not have one file open twice in one process. Its lock file is
 * guarded by fcntl locks, which are per process: a second environment's open takes the "exclusive" lock that
 * the process already holds, believes it is the only user, and re-initialises the reader table (mutexes
 * included, reader count 0). It then claims the reader slot of the first environment's read transaction and
 * frees it; the first environment's next read renews a transaction whose slot is gone (MDB_BAD_RSLOT), which
 * lmdb-js reports as `Invalid argument` from openDB and reads (its getReadTxn turns a failed renew into a null
 * transaction, and mdb_dbi_open / mdb_get of a null transaction give EINVAL). And lmdb-js built with
 * LMDB_DATA_V1 never really closes an environment (close() keeps its 64 GiB mapping and two fds: the native
 * close only releases environments in its env tracking, which only the format-2 build fills), so opening per
 * look also ran a process out of address space after ~1,850 opens.
 *
 * So: an environment per data file (device and inode of data.mdb), opened once and kept for the life of the
 * process (closing it is not possible); reference counted by the EventLogs using it. A reader gets a fresh
 * snapshot at each open; when the last user closes, the read transaction is ended, so no reader slot stays
 * claimed while the process is not reading (a slot held across another process's reader check after this
 * process lost its locks, or across a re-initialisation, is what fails). A read-only environment that a
 * writable open finds is replaced by a writable one (its users move with it).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';

export interface LogDbs {
  events?: Database<Buffer, Buffer>;
  ids?: Database<Buffer, string>;
  blobs?: Database<Buffer, string>;
  prompts?: Database<Buffer, Buffer>;
  snapshots?: Database<Buffer, string>;
  meta?: Database<Buffer, string>;
  sums?: Database<Buffer, Buffer>;
}

export interface SharedEnv {
  /** device:inode of data.mdb */
  readonly file: string;
  env: RootDatabase;
  writable: boolean;
  /** EventLogs open on it now */
  refs: number;
  /** its named databases (undefined: not there yet, in a read-only open of a log being created) */
  dbs: LogDbs;
  /** whether every database an EventLog needs is open (sums may be absent in old logs) */
  complete: boolean;
}

/** lmdb-js's read-transaction controls on the root store (resetReadTxn is public, _commitReadTxn internal). */
interface ReadTxnControl {
  resetReadTxn(): void;
  _commitReadTxn(): void;
}

/** the databases of a log, in the order a writable open creates them */
export const DB_NAMES = ['events', 'ids', 'blobs', 'prompts', 'snapshots', 'meta', 'sums'] as const satisfies ReadonlyArray<keyof LogDbs>;

const byFile = new Map<string, SharedEnv>();

/** The identity of a log's data file, or null when there is none. */
export function dataFileId(dir: string): string | null {
  try {
    const st = statSync(join(dir, 'data.mdb'));
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** End the environment's current read transaction (its reader slot is freed); the next read begins a new one. */
function endReadTxn(env: RootDatabase): void {
  try {
    (env as unknown as ReadTxnControl)._commitReadTxn();
  } catch {
    // none, or already ended
  }
}

/** A fresh snapshot for the next read (what other processes committed since). */
function freshSnapshot(env: RootDatabase): void {
  (env as unknown as ReadTxnControl).resetReadTxn();
}

/**
 * The process's environment of the log in `dir` with its databases, one more user counted. `openEnv` opens
 * a new environment (read-only or not), `openDb` finds (or, writable, creates) a database in one.
 * A caller that fails after this must `releaseEnv` it.
 */
export function acquireEnv(
  dir: string,
  writable: boolean,
  openEnv: (readOnly: boolean) => RootDatabase,
  openDb: (env: RootDatabase, name: keyof LogDbs) => Database<Buffer, any> | undefined,
): { shared: SharedEnv; fresh: boolean } {
  const id = dataFileId(dir);
  let s = id === null ? undefined : byFile.get(id);
  let fresh = false;
  if (s && writable && !s.writable) {
    // free the read-only environment's reader slot before the writable one's open re-initialises the table
    endReadTxn(s.env);
    const env = openEnv(false);
    s.env = env;
    s.writable = true;
    s.dbs = {};
    s.complete = false;
  } else if (s) {
    freshSnapshot(s.env);
  } else {
    const env = openEnv(!writable);
    const file = dataFileId(dir);
    if (file === null) throw new Error(`${join(dir, 'data.mdb')}: not there after LMDB opened it`);
    s = { file, env, writable, refs: 0, dbs: {}, complete: false };
    byFile.set(file, s);
    fresh = true;
  }
  if (!s.complete) {
    // the missing ones (all, for a new environment; in a read-only one, those not created yet)
    const dbs = s.dbs as Record<keyof LogDbs, Database<Buffer, any> | undefined>;
    for (const name of DB_NAMES) dbs[name] ??= openDb(s.env, name);
    s.complete = DB_NAMES.every((n) => dbs[n] !== undefined);
  }
  s.refs++;
  return { shared: s, fresh };
}

/** One user fewer; the last one ends the read transaction (the environment stays for the next open). */
export function releaseEnv(s: SharedEnv): void {
  if (s.refs <= 0) return;
  s.refs--;
  if (s.refs === 0) endReadTxn(s.env);
}

/** (tests, diagnostics) how many environments this process holds. */
export function sharedEnvCount(): number {
  return byFile.size;
}
