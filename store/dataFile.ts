/**
 * The LMDB data file (data.mdb) checked before it is mapped. lmdb-js maps the whole file: a page the meta
 * says exists but that lies past the end of a truncated file is a SIGBUS in whatever command touches it, not
 * an error. So every open reads the two meta pages first (LMDB data format 1, 64-bit) and refuses a file
 * that is shorter than its newest committed transaction needs.
 *
 * Meta page layout (lmdb mdb.c, MDB_meta after the 16-byte page header): mm_magic u32 @16, mm_version u32
 * @20, mm_address @24, mm_mapsize @32, mm_dbs[2] (48 bytes each; mm_dbs[FREE_DBI].md_pad holds the page
 * size) @40, mm_last_pg u64 @136, mm_txnid u64 @144. Meta page 0 is at offset 0, meta page 1 at one page.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './storeError.ts';

export const META_MAGIC = 0xbeefc0de;

export interface DataFileInfo {
  /** LMDB data format version (1: portable; lmdb-js's default build writes 2) */
  version: number;
  pageSize: number;
  /** the last page the newest committed transaction uses */
  lastPage: number;
  txnId: number;
  /** the file's size in bytes */
  size: number;
}

/** Why a data file cannot be opened safely: what `dare check` and every opening command report. */
export class DataFileError extends StoreError {}

function u64(b: Buffer, off: number): number {
  return b.readUInt32LE(off) + b.readUInt32LE(off + 4) * 4294967296;
}

/**
 * Read and check the meta pages of DIR/data.mdb (null when there is no file yet). Throws DataFileError,
 * naming the file, for a file that is not LMDB, has no valid meta page, or is shorter than its pages.
 * The size check applies to format 1 only (the caller refuses other formats with its own message).
 */
export function readDataFile(dir: string): DataFileInfo | null {
  const file = join(dir, 'data.mdb');
  if (!existsSync(file)) return null;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(160);
    if (readSync(fd, head, 0, 160, 0) < 160) {
      const size = fstatSync(fd).size;
      if (size === 0) return null; // created by a writer that has not committed yet
      throw new DataFileError(`${file}: damaged: ${size} bytes, too short for an LMDB meta page`);
    }
    if (head.readUInt32LE(16) !== META_MAGIC) throw new DataFileError(`${file}: not an LMDB data file, or damaged (meta page 0 has a bad magic number)`);
    const version = head.readUInt32LE(20);
    const pageSize = head.readUInt32LE(40);
    if (version !== 1) return { version, pageSize, lastPage: 0, txnId: 0, size: fstatSync(fd).size };
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
      throw new DataFileError(`${file}: damaged: meta page 0 gives page size ${pageSize}`);
    }
    const metas = [head];
    const second = Buffer.alloc(160);
    if (readSync(fd, second, 0, 160, pageSize) === 160) {
      // LMDB refuses a file with either meta page bad (MDB_INVALID, naming no file): say which, first
      if (second.readUInt32LE(16) !== META_MAGIC) throw new DataFileError(`${file}: damaged: meta page 1 (bytes ${pageSize}..${2 * pageSize - 1}) has a bad magic number`);
      metas.push(second);
    }
    // LMDB uses the meta page with the larger transaction id
    const meta = metas.reduce((a, b) => (u64(b, 144) > u64(a, 144) ? b : a));
    const lastPage = u64(meta, 136);
    const txnId = u64(meta, 144);
    const need = (lastPage + 1) * pageSize;
    // the size after the meta: a live writer grows the file before it commits the meta that needs it, so a
    // size taken first could predate a commit read after it and look truncated
    const size = fstatSync(fd).size;
    if (size < need) {
      throw new DataFileError(
        `${file}: damaged: truncated to ${size} bytes, but its last transaction (${txnId}) uses pages up to ${lastPage} ` +
          `(${need} bytes); restore the run directory from a copy (\`dare check\` describes the damage)`,
      );
    }
    return { version, pageSize, lastPage, txnId, size };
  } finally {
    closeSync(fd);
  }
}
