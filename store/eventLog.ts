/**
 * The run's log: one LMDB environment per run (DIR/log/), LMDB data format 1, named databases
 *   events    8-byte big-endian sequence number -> MessagePack event (events/codec.ts)
 *   ids       event id (utf-8) -> 8-byte big-endian sequence number (idempotent append)
 *   blobs     rollout group id -> MessagePack map (token ids, log-probs, texts)
 *   prompts   8-byte big-endian prompt index -> MessagePack PromptRow
 *   snapshots name (utf-8) -> MessagePack {seq, state}
 *   meta      utf-8 key -> MessagePack (checkpoint registry, format info)
 *   sums      8-byte big-endian sequence number -> u32 little-endian CRC-32 of the event's stored bytes
 *             (written in the event's own commit; logs from before 2026-12-07 have none)
 * This class is the single writer: append() validates, assigns contiguous sequence numbers starting at 1,
 * de-duplicates by event id, commits, and resolves only after the commit is flushed to disk.
 * Every boolean lmdb-js returns is checked: a failed conditional write aborts the transaction.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { SCHEMA_VERSION, type DareEvent, type Logged } from '../events/catalogue.ts';
import { BINARY_FIELDS, decodeTrusted, encodeEvent, pack, packPlain, packState, unpack, unpackState } from '../events/codec.ts';
import { validateEvent, ValidationError } from '../events/validate.ts';
import { readDataFile } from './dataFile.ts';
import { acquireEnv, releaseEnv, type LogDbs, type SharedEnv } from './sharedEnv.ts';
import { StoreError } from './storeError.ts';

export { StoreError };

export interface AppendResult {
  seq: number;
  /** true when the event id was already in the log: nothing was written, `seq` is the original one */
  duplicate: boolean;
  /** the committed MessagePack bytes (only for newly written events), for publishing without re-encoding */
  bytes?: Buffer;
}

export interface CheckpointEntry {
  path: string;
  sha256: string;
  policyVersion: number;
  /** log sequence number of the CheckpointSaved event (or the last event when registered) */
  seq: number;
}

export interface OpenOptions {
  readOnly?: boolean;
  /** LMDB map size in bytes (the maximum size the log may grow to) */
  mapSize?: number;
  /**
   * check every event read against the checksum recorded at its commit (a StoreError naming the seq on a
   * mismatch): for the commands that show a log to a person, so changed bytes that still decode are not
   * shown as facts. Off on the hot paths (the run's own reads, benchmarks).
   */
  verify?: boolean;
}

/** The LMDB data-format version of an existing data.mdb (null when there is none yet); see dataFile.ts. */
export function lmdbFormatVersion(dir: string): number | null {
  return readDataFile(dir)?.version ?? null;
}

function formatError(dir: string, version: number): StoreError {
  return new StoreError(
    `${join(dir, 'data.mdb')}: LMDB data format ${version}; dare logs use the portable format 1 ` +
      '(readable by standard LMDB tools and Python). This lmdb-js build writes format 2: run `make setup`, ' +
      'which rebuilds it with LMDB_DATA_V1=true.',
  );
}

/**
 * putSync inside a transaction returns whether the write happened (false for a failed MDB_APPEND or
 * MDB_NOOVERWRITE condition); lmdb-js's typings say void, so go through this typed wrapper.
 */
function putSyncChecked(db: Database<Buffer, any>, key: unknown, value: Buffer, opts?: { append?: boolean; noOverwrite?: boolean }): boolean {
  return (db.putSync as unknown as (k: unknown, v: Buffer, o?: object) => boolean).call(db, key, value, opts) === true;
}

/** 8-byte big-endian key of a sequence number (< 2^53; two 32-bit halves avoid BigInt on the hot path). */
export function seqKey(seq: number): Buffer {
  const k = Buffer.allocUnsafe(8);
  writeSeqKey(k, seq);
  return k;
}

/** Write the key of `seq` into an existing 8-byte buffer. */
function writeSeqKey(k: Buffer, seq: number): void {
  k.writeUInt32BE(Math.floor(seq / 4294967296), 0);
  k.writeUInt32BE(seq >>> 0, 4);
}

const NO_OVERWRITE = { noOverwrite: true } as const;
const APPEND = { append: true } as const;

/** Blobs as stored: plain values packed by events/codec.ts packPlain (throws before anything is written). */
function encodeBlobs(entries: ReadonlyArray<readonly [string, unknown]>): Array<readonly [string, Buffer]> {
  return entries.map(([k, v]) => [k, packPlain(v)] as const);
}

/** The stored form of an event's checksum: CRC-32 (zlib's) of its bytes, u32 little-endian. */
function checksum(bytes: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(crc32(bytes), 0);
  return b;
}

export function keySeq(k: Uint8Array): number {
  const v = new DataView(k.buffer, k.byteOffset, 8);
  return v.getUint32(0) * 4294967296 + v.getUint32(4);
}

export class EventLog {
  readonly dir: string;
  readonly readOnly: boolean;
  private readonly verify: boolean;
  /** the process's environment of this log file, shared with every other open of it (store/sharedEnv.ts) */
  private readonly shared: SharedEnv;
  private closed = false;
  private last: number;
  private readonly keyBuf = Buffer.alloc(8);
  /** appends are serialised: sequence numbers are assigned in call order */
  private queue: Promise<unknown> = Promise.resolve();
  /** blobs staged for the next append's transaction (stageBlobs), already encoded */
  private staged: Array<readonly [string, Buffer]> = [];
  /** tickets: the last one handed out by stageBlobs, the last one whose blobs are committed */
  private stagedTicket = 0;
  private committedTicket = 0;

  private constructor(dir: string, opts: OpenOptions) {
    this.dir = dir;
    this.readOnly = !!opts.readOnly;
    this.verify = !!opts.verify;
    const existing = lmdbFormatVersion(dir);
    if (existing !== null && existing !== 1) throw formatError(dir, existing);
    if (!this.readOnly) mkdirSync(dir, { recursive: true });
    else if (existing === null) {
      const file = join(dir, 'data.mdb');
      throw new StoreError(existsSync(file) ? `${file}: empty (0 bytes): nothing was ever committed to it, or it was truncated` : `${dir}: no log here (data.mdb missing)`);
    }
    const bin = { encoding: 'binary' as const, keyEncoding: 'binary' as const };
    // string keys use lmdb-js's default ordered-binary key encoding: plain UTF-8 bytes for strings
    const str = { encoding: 'binary' as const };
    const dbOptions: Record<keyof LogDbs, typeof bin | typeof str> = { events: bin, ids: str, blobs: str, prompts: bin, snapshots: str, meta: str, sums: bin };
    const openEnv = (readOnly: boolean): RootDatabase => {
      try {
        return open({
          path: dir,
          maxDbs: 8,
          readOnly,
          mapSize: opts.mapSize ?? 64 * 1024 ** 3,
          // the codec is ours (standard MessagePack); lmdb-js stores bytes
          encoding: 'binary',
          // (no overlappingSync: the format-1 build is LMDB 0.9, for which lmdb-js turns it off, so a commit
          // syncs before it returns and `flushed` resolves at once; awaiting it keeps the code right for both)
          noSubdir: false,
        });
      } catch (e) {
        // LMDB's own refusal (MDB_INVALID, MDB_CORRUPTED, ...) names no file: name it
        throw new StoreError(`${join(dir, 'data.mdb')}: LMDB cannot open it (${(e as Error).message}); \`dare check\` describes the damage`);
      }
    };
    // one environment per file per process (LMDB 0.9 breaks with two; lmdb-js's format-1 build never closes one)
    const { shared, fresh } = acquireEnv(dir, !this.readOnly, openEnv, (env, name) => env.openDB<Buffer, any>(name, dbOptions[name]));
    this.shared = shared;
    if (this.readOnly && (!this.events || !this.ids || !this.blobs || !this.prompts || !this.snapshots || !this.meta)) {
      // a reader that arrives while the writer is still creating the environment
      this.release();
      throw new StoreError(`${dir}: the log is not initialised yet`);
    }
    if (existing === null && fresh && !this.readOnly) {
      // A fresh environment: make sure this build writes format 1 before anything is logged.
      const v = lmdbFormatVersion(dir);
      if (v !== null && v !== 1) {
        this.release();
        throw formatError(dir, v);
      }
    }
    this.last = this.scanLastSeq();
    if (!this.readOnly) this.writeFormatInfo();
  }

  /** The shared environment's databases; a closed log reads nothing. */
  private dbs(): LogDbs {
    if (this.closed) throw new StoreError(`${this.dir}: the log is closed`);
    return this.shared.dbs;
  }
  private get env(): RootDatabase {
    if (this.closed) throw new StoreError(`${this.dir}: the log is closed`);
    return this.shared.env;
  }
  private get events(): Database<Buffer, Buffer> {
    return this.dbs().events!;
  }
  private get ids(): Database<Buffer, string> {
    return this.dbs().ids!;
  }
  private get blobs(): Database<Buffer, string> {
    return this.dbs().blobs!;
  }
  private get prompts(): Database<Buffer, Buffer> {
    return this.dbs().prompts!;
  }
  private get snapshots(): Database<Buffer, string> {
    return this.dbs().snapshots!;
  }
  private get meta(): Database<Buffer, string> {
    return this.dbs().meta!;
  }
  /** absent in a read-only open of a log from before checksums */
  private get sums(): Database<Buffer, Buffer> | undefined {
    return this.dbs().sums;
  }

  /** Stop using the shared environment (once). */
  private release(): void {
    if (this.closed) return;
    this.closed = true;
    releaseEnv(this.shared);
  }

  /**
   * The log describes itself: `meta/format` names the codec and, per event type, the binary fields and
   * their dtypes, so a reader in another language (docs/examples/read_log.py) needs no copy of our schemas.
   */
  private writeFormatInfo(): void {
    const info = { lmdbDataFormat: 1, codec: 'msgpack', schemaVersion: SCHEMA_VERSION, keys: 'u64be', binaryFields: BINARY_FIELDS };
    const bytes = pack(info);
    const prev = this.meta.getBinary('format');
    if (prev && Buffer.from(prev).equals(bytes)) return;
    this.env.transactionSync(() => {
      if (!putSyncChecked(this.meta, 'format', bytes)) throw new StoreError('meta/format: write failed');
    });
  }

  /** The format description stored in the log (see writeFormatInfo). */
  formatInfo(): unknown {
    const v = this.meta.getBinary('format');
    return v === undefined ? undefined : unpack(v);
  }

  /** Open (creating if needed) the log in `dir` (normally RUN_DIR/log). */
  static open(dir: string, opts: OpenOptions = {}): EventLog {
    return new EventLog(dir, opts);
  }

  private scanLastSeq(): number {
    for (const k of this.events.getKeys({ reverse: true, limit: 1 })) return keySeq(k as Buffer);
    return 0;
  }

  /** The highest sequence number in the log (0 when empty). */
  lastSeq(): number {
    return this.last;
  }

  /** The sequence number an event id was committed at, if any. */
  seqOf(id: string): number | undefined {
    const v = this.ids.getBinary(id);
    return v ? keySeq(v) : undefined;
  }

  /**
   * Validate and append events. Contiguous sequence numbers in call order; an id already in the log (or
   * earlier in the same batch) is not written again and reports its original sequence number. Resolves after
   * the commit is durable. On a validation error nothing of the batch is written. `encoded`, when given,
   * holds each event's encodeEvent bytes, taken by the caller at its call (the store's in-process side), and
   * is what is written.
   */
  append(events: readonly unknown[], encoded?: readonly Buffer[]): Promise<AppendResult[]> {
    if (this.readOnly) return Promise.reject(new StoreError(`${this.dir}: log opened read-only`));
    if (encoded && encoded.length !== events.length) return Promise.reject(new StoreError(`append: ${encoded.length} encodings for ${events.length} events`));
    const run = this.queue.then(() => this.appendNow(events, encoded));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(input: readonly unknown[], given?: readonly Buffer[]): Promise<AppendResult[]> {
    const evs = input.map((e, i) => validateEvent(e, `event ${i}`));
    const encoded = given ?? evs.map((e) => encodeEvent(e));
    const results: AppendResult[] = new Array(evs.length);
    // lmdb-js copies keys and values into the transaction: one key buffer serves every put
    const key = this.keyBuf;
    let next = this.last;
    const staged = this.staged;
    const ticket = this.stagedTicket;
    const ok = this.env.transactionSync(() => {
      // staged blobs first, in the same commit: the events that refer to them never precede them
      this.writeBlobs(staged, 'append: staged blob');
      for (let i = 0; i < evs.length; i++) {
        const id = evs[i].id;
        writeSeqKey(key, next + 1);
        // the id index's no-overwrite put doubles as the duplicate check (one B-tree descent, not two); reads
        // inside the transaction see its own writes, so an id repeated within the batch is found here too
        if (!putSyncChecked(this.ids, id, key, NO_OVERWRITE)) {
          const prior = this.ids.getBinary(id);
          if (!prior) throw new StoreError(`append: event id ${id}: index write failed`);
          results[i] = { seq: keySeq(prior), duplicate: true };
          continue;
        }
        const seq = ++next;
        if (!putSyncChecked(this.events, key, encoded[i], APPEND)) {
          throw new StoreError(`append: sequence ${seq} out of order or already present (event ${id})`);
        }
        if (!putSyncChecked(this.sums!, key, checksum(encoded[i]), APPEND)) {
          throw new StoreError(`append: checksum of sequence ${seq} out of order or already present (event ${id})`);
        }
        results[i] = { seq, duplicate: false, bytes: encoded[i] };
      }
      return true;
    });
    if (ok !== true) throw new StoreError('append: transaction did not commit');
    this.last = next;
    // (nothing can be staged between reading `staged` and the commit: both are synchronous)
    if (staged.length > 0) this.staged = [];
    await this.env.flushed;
    this.committedTicket = ticket;
    return results;
  }

  /** Events with from ≤ seq < to (to defaults to the end), in order. */
  read(from: number, to = this.last + 1): Logged[] {
    const out: Logged[] = [];
    for (const e of this.iterate(from, to)) out.push(e);
    return out;
  }

  /**
   * Stream events with from ≤ seq < to, up to the end of the log. Sequence numbers are contiguous from 1,
   * so this reads key by key with one reused key buffer: a third of the cost of a cursor's getRange, whose
   * entries each allocate a key, a value view and an entry object. The decoder bounds every read of the
   * reused value buffer by its `length` and copies everything out of it (see storedAt).
   */
  *iterate(from = 1, to = Number.MAX_SAFE_INTEGER): Generator<Logged> {
    const key = Buffer.alloc(8);
    for (let seq = Math.max(1, from); seq < to; seq++) {
      const value = this.storedAt(key, seq);
      if (value === undefined) return;
      if (!this.verify) {
        yield { seq, event: this.decodeAt(seq, value) };
        continue;
      }
      // the checksum's read reuses lmdb-js's value buffer: hash and decode (a copy) before it
      const crc = crc32(value.subarray(0, value.length));
      const event = this.decodeAt(seq, value);
      this.verifyAt(seq, crc);
      yield { seq, event };
    }
  }

  /** (verify) the CRC-32 of event `seq`'s stored bytes against the recorded one; a log from before checksums passes. */
  private verifyAt(seq: number, crc: number): void {
    const want = this.checksumAt(seq);
    if (want !== undefined && want !== crc) {
      throw new StoreError(`${join(this.dir, 'data.mdb')}: the event at seq ${seq}: its bytes no longer match the checksum recorded when it was committed: the log is damaged; \`dare check\` lists what is wrong`);
    }
  }

  /** Decode the stored event `seq`; a value that does not decode is damage, reported with its seq. */
  private decodeAt(seq: number, value: Buffer): DareEvent {
    try {
      return decodeTrusted(value);
    } catch (e) {
      throw new StoreError(`${join(this.dir, 'data.mdb')}: the event at seq ${seq} does not decode (${(e as Error).message}): the log is damaged; \`dare check\` lists what is wrong`);
    }
  }

  /** Raw encoded bytes (a copy) of events with from ≤ seq < to, up to the end of the log (range reads over the bus). */
  *iterateRaw(from = 1, to = Number.MAX_SAFE_INTEGER): Generator<{ seq: number; bytes: Buffer }> {
    const key = Buffer.alloc(8);
    for (let seq = Math.max(1, from); seq < to; seq++) {
      const value = this.storedAt(key, seq);
      if (value === undefined) return;
      // exactly `length` bytes (see storedAt)
      const copy = Uint8Array.prototype.slice.call(value, 0, value.length);
      if (this.verify) this.verifyAt(seq, crc32(copy));
      yield { seq, bytes: Buffer.from(copy.buffer, 0, copy.length) };
    }
  }

  /**
   * The stored bytes of event `seq` (undefined past the end), looked up with the caller's reused 8-byte `key`.
   * They are lmdb-js's reused buffer, valid until the next read, and carry the value's size as an own `length`
   * property while their byteLength is the whole buffer's.
   */
  private storedAt(key: Buffer, seq: number): Buffer | undefined {
    writeSeqKey(key, seq);
    try {
      return this.events.getBinaryFast(key);
    } catch (e) {
      // a damaged page (MDB_PAGE_NOTFOUND, MDB_CORRUPTED) on the way to this key
      throw new StoreError(`${join(this.dir, 'data.mdb')}: the event at seq ${seq} cannot be read (${(e as Error).message}): the log is damaged; \`dare check\` lists what is wrong`);
    }
  }

  /**
   * The CRC-32 recorded for event `seq` when it was committed, or undefined (past the end, or a log written
   * before checksums). A stored event whose bytes no longer give it is damaged (`dare check`).
   */
  checksumAt(seq: number): number | undefined {
    if (!this.sums) return undefined; // read-only open of a log written before checksums
    const v = this.sums.getBinary(seqKey(seq));
    return v === undefined ? undefined : Buffer.from(v).readUInt32LE(0);
  }

  /** Whether the stored bytes of event `seq` still give its recorded checksum (true when none was recorded). */
  checksumMatches(seq: number): boolean {
    const want = this.checksumAt(seq);
    if (want === undefined) return true;
    const value = this.storedAt(Buffer.alloc(8), seq);
    return value !== undefined && crc32(value.subarray(0, value.length)) === want;
  }

  /** Every key of the events database, in order, as sequence numbers (`dare check`: contiguity). */
  *eventKeys(): Generator<number> {
    for (const k of this.events.getKeys({})) yield keySeq(k as Buffer);
  }

  /** Every (id, seq) of the id index (`dare check`: the index against the events). */
  *idEntries(): Generator<{ id: string; seq: number }> {
    for (const { key, value } of this.ids.getRange({})) yield { id: String(key), seq: keySeq(value as Buffer) };
  }

  /** The last `n` events, oldest first. */
  tail(n = 20): Logged[] {
    return this.read(Math.max(1, this.last - n + 1));
  }

  // ---- blobs ---------------------------------------------------------------------------------------

  /** Store a blob: a plain value (events/codec.ts packPlain: typed arrays are stored as `bin` of their bytes). */
  async putBlob(key: string, value: unknown): Promise<void> {
    this.assertWritable();
    const ok = await this.blobs.put(key, packPlain(value));
    if (ok !== true) throw new StoreError(`putBlob ${key}: write failed`);
    await this.env.flushed;
  }

  /**
   * Stage blobs for the next append's transaction: they are committed with (before) the next events appended
   * through this log, in one commit instead of two. For a caller in the store's process whose events reach
   * this same EventLog (the runner's bridge through its store); `blobsCommitted(ticket)` says whether they
   * are durable. Encoded now, so the caller may reuse what it passed. A process that dies first loses them
   * together with the events that would refer to them.
   */
  stageBlobs(entries: ReadonlyArray<readonly [string, unknown]>): number {
    this.assertWritable();
    this.staged.push(...encodeBlobs(entries)); // all encoded before any is staged
    return ++this.stagedTicket;
  }

  /** LMDB's id of the last committed write transaction (diagnostics and tests: counts commits). */
  lastTxnId(): number {
    return (this.env.getStats() as { lastTxnId: number }).lastTxnId;
  }

  /** Whether the blobs staged with `ticket` (and every earlier ticket) are committed and durable. */
  blobsCommitted(ticket: number): boolean {
    return this.committedTicket >= ticket;
  }

  /** Write encoded blobs inside the current transaction (a failed put aborts it, naming `where` and the key). */
  private writeBlobs(blobs: ReadonlyArray<readonly [string, Buffer]>, where: string): void {
    for (const [k, v] of blobs) {
      if (!putSyncChecked(this.blobs, k, v)) throw new StoreError(`${where} ${k}: write failed`);
    }
  }

  /** Store many blobs in one durable transaction. */
  async putBlobs(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void> {
    this.assertWritable();
    const encoded = encodeBlobs(entries);
    this.env.transactionSync(() => this.writeBlobs(encoded, 'putBlobs'));
    await this.env.flushed;
  }

  getBlob(key: string): unknown {
    const v = this.blobs.getBinary(key);
    return v === undefined ? undefined : this.unpackOr(v, `blob ${key}`);
  }

  /** Unpack a stored plain value; one that does not decode is damage, reported with what it is. */
  private unpackOr(v: Buffer, what: string): unknown {
    try {
      return unpack(v);
    } catch (e) {
      throw new StoreError(`${this.dir}: ${what} does not decode (${(e as Error).message}): the log is damaged; \`dare check\` lists what is wrong`);
    }
  }

  hasBlob(key: string): boolean {
    return this.blobs.doesExist(key);
  }

  // ---- prompts -------------------------------------------------------------------------------------

  async putPrompts(rows: ReadonlyArray<unknown>, firstIndex = 0): Promise<void> {
    this.assertWritable();
    const CHUNK = 50_000;
    for (let s = 0; s < rows.length; s += CHUNK) {
      this.env.transactionSync(() => {
        for (let i = s; i < Math.min(rows.length, s + CHUNK); i++) {
          if (!putSyncChecked(this.prompts, seqKey(firstIndex + i), pack(rows[i]))) {
            throw new StoreError(`putPrompts: row ${firstIndex + i} write failed`);
          }
        }
      });
    }
    await this.env.flushed;
  }

  getPrompt(index: number): unknown {
    const v = this.prompts.getBinary(seqKey(index));
    return v === undefined ? undefined : this.unpackOr(v, `prompt ${index}`);
  }

  *iteratePrompts(): Generator<{ index: number; row: unknown }> {
    for (const { key, value } of this.prompts.getRange({})) {
      const index = keySeq(key as Buffer);
      yield { index, row: this.unpackOr(value as Buffer, `prompt ${index}`) };
    }
  }

  promptCount(): number {
    return this.prompts.getCount();
  }

  // ---- snapshots -----------------------------------------------------------------------------------

  /** Store the state of actor `name` as of sequence `seq` (plain data, typed arrays and Maps allowed). */
  async putSnapshot(name: string, seq: number, state: unknown): Promise<void> {
    this.assertWritable();
    if (!Number.isInteger(seq) || seq < 0 || seq > this.last) {
      throw new StoreError(`putSnapshot ${name}: seq ${seq} is not in the log (last ${this.last})`);
    }
    const ok = await this.snapshots.put(name, packState({ seq, state }));
    if (ok !== true) throw new StoreError(`putSnapshot ${name}: write failed`);
    await this.env.flushed;
  }

  getSnapshot(name: string): { seq: number; state: unknown } | undefined {
    const v = this.snapshots.getBinary(name);
    if (v === undefined) return undefined;
    const s = unpackState(v) as { seq: number; state: unknown };
    if (typeof s?.seq !== 'number') throw new StoreError(`snapshot ${name}: malformed`);
    return s;
  }

  // ---- checkpoint registry -------------------------------------------------------------------------

  async registerCheckpoint(entry: CheckpointEntry): Promise<void> {
    this.assertWritable();
    if (!/^[0-9a-f]{64}$/.test(entry.sha256)) throw new ValidationError(`checkpoint ${entry.path}: bad sha256`);
    const list = this.checkpoints();
    if (list.some((c) => c.policyVersion === entry.policyVersion && c.sha256 === entry.sha256)) return;
    list.push(entry);
    const ok = await this.meta.put('checkpoints', pack(list));
    if (ok !== true) throw new StoreError('registerCheckpoint: write failed');
    await this.env.flushed;
  }

  /** Registered checkpoints, oldest first. */
  checkpoints(): CheckpointEntry[] {
    const v = this.meta.getBinary('checkpoints');
    return v === undefined ? [] : (unpack(v) as CheckpointEntry[]);
  }

  private assertWritable(): void {
    if (this.readOnly) throw new StoreError(`${this.dir}: log opened read-only`);
  }

  /**
   * Close this handle. The environment stays open for the process's next open of the file (see
   * store/sharedEnv.ts); its read transaction ends when no handle of the file is open.
   */
  async close(): Promise<void> {
    await this.queue;
    if (this.closed) return;
    if (!this.readOnly) await this.shared.env.flushed;
    this.release();
  }
}

export type { DareEvent };
