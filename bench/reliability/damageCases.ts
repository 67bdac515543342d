/**
 * Ways a finished run's directory gets damaged, each applied to a fresh copy of it: a truncated data.mdb
 * (a full disk, a copy cut short), changed bytes in an event or a meta page (bit rot, a bad write), a blob
 * or checkpoint that is missing or changed, a run killed during start-up (config.json only), a directory
 * that is no run at all. Each case names what a command should point at (`names`: a file, a seq).
 */
import { cpSync, mkdirSync, openSync, readFileSync, closeSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { EventLog } from '../../store/eventLog.ts';

export interface DamageCase {
  name: string;
  /** what was done, for the table */
  what: string;
  /** damage the copy of the run in `dir` */
  damage(dir: string): void;
  /** a word the one-line error must hold (the file, the seq, the key at fault); undefined: no error expected */
  names?: (dir: string) => string;
  /** the exit code each command should give (default 1: a user error naming the damage) */
  exits?: Partial<Record<string, number>>;
}

const PAGE = 4096;

function dataFile(dir: string): string {
  return join(dir, 'log', 'data.mdb');
}

/** The seq and stored bytes of the first event of `type` in the run's log. */
function firstOf(dir: string, type: string): { seq: number; bytes: Buffer } {
  const log = EventLog.open(join(dir, 'log'), { readOnly: true });
  try {
    for (const { seq, event } of log.iterate(1)) {
      if (event.type === type) {
        for (const r of log.iterateRaw(seq, seq + 1)) return r;
      }
    }
  } finally {
    void log.close();
  }
  throw new Error(`damage: no ${type} event in ${dir}`);
}

/** Overwrite bytes of data.mdb in place at `offset`. */
function patch(dir: string, offset: number, bytes: Buffer): void {
  const fd = openSync(dataFile(dir), 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * Change a byte inside the stored value of the first RolloutCompleted, found in the file by its bytes (values
 * this small lie whole in a leaf page): `at` picks which byte, `to` what it becomes.
 */
function flipEventByte(dir: string, pick: (bytes: Buffer) => { at: number; to: number }): number {
  const { seq, bytes } = firstOf(dir, 'RolloutCompleted');
  const file = readFileSync(dataFile(dir));
  const where = file.indexOf(bytes);
  if (where < 0 || file.indexOf(bytes, where + 1) >= 0) throw new Error(`damage: event ${seq}'s bytes are not in ${dataFile(dir)} exactly once`);
  const { at, to } = pick(bytes);
  patch(dir, where + at, Buffer.from([to]));
  return seq;
}

/** The seq that the flip cases damage (the first RolloutCompleted), read from an undamaged copy. */
export function flippedSeq(sourceDir: string): number {
  return firstOf(sourceDir, 'RolloutCompleted').seq;
}

function truncateTo(dir: string, size: (now: number) => number): void {
  truncateSync(dataFile(dir), size(statSync(dataFile(dir)).size));
}

/** Every case; `flipSeq` is flippedSeq(source) (the message must name it). */
export function damageCases(flipSeq: number): DamageCase[] {
  const data = (dir: string) => dataFile(dir);
  return [
    { name: 'truncated-0', what: 'data.mdb truncated to 0 bytes (an empty file)', damage: (d) => truncateTo(d, () => 0), names: data },
    { name: 'truncated-100', what: 'data.mdb truncated to 100 bytes (inside meta page 0)', damage: (d) => truncateTo(d, () => 100), names: data },
    { name: 'truncated-6000', what: 'data.mdb truncated to 6000 bytes (inside meta page 1)', damage: (d) => truncateTo(d, () => 6000), names: data },
    { name: 'truncated-half-page', what: 'data.mdb truncated to half its pages, at a page boundary', damage: (d) => truncateTo(d, (n) => Math.floor(n / PAGE / 2) * PAGE), names: data },
    { name: 'truncated-mid-page', what: 'data.mdb truncated in the middle of a page (3 pages and 1000 bytes short)', damage: (d) => truncateTo(d, (n) => n - 3 * PAGE - 1000), names: data },
    { name: 'truncated-1-byte', what: 'data.mdb one byte short', damage: (d) => truncateTo(d, (n) => n - 1), names: data },
    {
      name: 'event-byte-changed',
      what: `one byte of event ${flipSeq}'s value changed (still decodes: its group id "g/…" becomes "h/…")`,
      damage: (d) =>
        void flipEventByte(d, (b) => {
          const at = b.indexOf(Buffer.from('g/'));
          return { at, to: 'h'.charCodeAt(0) };
        }),
      names: () => `seq ${flipSeq}`,
    },
    {
      name: 'event-undecodable',
      what: `event ${flipSeq}'s first byte set to 0xc1 (never used in MessagePack: no longer decodes)`,
      damage: (d) => void flipEventByte(d, () => ({ at: 0, to: 0xc1 })),
      names: () => `seq ${flipSeq}`,
    },
    { name: 'bad-magic-0', what: 'meta page 0: magic overwritten', damage: (d) => patch(d, 16, Buffer.from([0, 0, 0, 0])), names: data },
    { name: 'bad-magic-1', what: 'meta page 1: magic overwritten', damage: (d) => patch(d, PAGE + 16, Buffer.from([0, 0, 0, 0])), names: data },
    {
      name: 'blob-missing',
      what: 'the first rollout blob deleted (through LMDB, so the file is otherwise sound)',
      damage: (d) => {
        const env = open({ path: join(d, 'log'), maxDbs: 8, encoding: 'binary' });
        const blobs = env.openDB<Buffer, string>('blobs', { encoding: 'binary' });
        let key: string | undefined;
        for (const k of blobs.getKeys({ limit: 1 })) key = String(k);
        if (key === undefined || !blobs.removeSync(key)) throw new Error(`damage: no blob to remove in ${d}`);
        void env.close();
      },
      names: () => 'blob',
      // only `check` reads every blob; the others use the events (resume: the last step's blobs, if unfinished)
      exits: { 'replay --verify': 0, report: 0, drift: 0, log: 0, inspect: 0, resume: 0, serve: -1 },
    },
    {
      name: 'checkpoint-missing',
      what: 'checkpoints/v3.ckpt deleted',
      damage: (d) => rmSync(join(d, 'checkpoints', 'v3.ckpt')),
      names: () => 'checkpoints/v3.ckpt',
      // the log is whole: the views read it, not the weights; resume refuses (its quick check sees the file)
      exits: { 'replay --verify': 0, report: 0, drift: 0, log: 0, inspect: 0, serve: -1 },
    },
    {
      name: 'checkpoint-changed',
      what: 'one byte of checkpoints/v6.ckpt changed (same size)',
      damage: (d) => {
        const f = join(d, 'checkpoints', 'v6.ckpt');
        const b = readFileSync(f);
        b[b.length >> 1] ^= 0xff;
        writeFileSync(f, b);
      },
      names: () => 'checkpoints/v6.ckpt',
      // only the deep check hashes checkpoints; the run is complete, so resume loads none
      exits: { 'replay --verify': 0, report: 0, drift: 0, log: 0, inspect: 0, resume: 0, serve: -1 },
    },
    {
      name: 'config-only',
      what: 'config.json only (killed during start-up, before the log existed)',
      damage: (d) => {
        for (const f of ['log', 'checkpoints', 'summary.json', 'metrics.csv', 'report.html']) rmSync(join(d, f), { recursive: true, force: true });
      },
      names: () => 'only config.json',
      // resume starts the run: a run killed at any moment, start-up included, is continued
      exits: { resume: 0 },
    },
    {
      name: 'config-empty-log',
      what: 'config.json and an empty log/data.mdb (killed while LMDB was creating the file)',
      damage: (d) => {
        for (const f of ['checkpoints', 'summary.json', 'metrics.csv', 'report.html']) rmSync(join(d, f), { recursive: true, force: true });
        truncateTo(d, () => 0);
      },
      names: data,
      exits: { resume: 0 },
    },
    {
      name: 'not-a-run',
      what: 'a directory holding one unrelated file',
      damage: (d) => {
        rmSync(d, { recursive: true, force: true });
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'notes.txt'), 'not a run\n');
      },
      names: () => 'not a run directory',
    },
  ];
}

/** A fresh copy of the source run directory at `dest`, damaged as the case says. */
export function damagedCopy(source: string, dest: string, c: DamageCase): void {
  rmSync(dest, { recursive: true, force: true });
  cpSync(source, dest, { recursive: true });
  // a finished run's copy: no live lock or NATS address travels with it
  rmSync(join(dest, 'run.lock'), { force: true });
  rmSync(join(dest, 'nats.json'), { force: true });
  c.damage(dest);
}
