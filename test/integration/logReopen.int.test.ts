/**
 * Opening and closing logs many times in one process (store/sharedEnv.ts). lmdb-js's format-1 build never
 * really closes an environment, and LMDB 0.9 breaks when one process has a file open twice: a second
 * environment re-initialises the lock file's reader table, takes the first one's reader slot and frees it,
 * and the first one's next read fails with `Invalid argument`. Before the shared environments, the handle
 * test below failed that way, and ~1,850 opens ran the process out of address space (a 64 GiB mapping each).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../store/eventLog.ts';
import { stepEvent } from '../support/events.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-reopen-');
afterAll(cleanup);

async function makeLog(path: string, n: number): Promise<void> {
  const log = EventLog.open(path);
  await log.append(Array.from({ length: n }, (_, i) => stepEvent('reopen', i + 1)));
  await log.close();
}

/** this process's mappings of files under `under` */
function mappingsUnder(under: string): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(under)).length;
}

const tick = () => new Promise((r) => setTimeout(r, 2));

describe('reopening logs in one process', () => {
  it('2,500 opens of one log, read each time, keep one environment', async () => {
    const path = join(dir, 'one', 'log');
    await makeLog(path, 5);
    const maps = mappingsUnder(path);
    const fds = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 2500; i++) {
      const log = EventLog.open(path, { readOnly: true });
      try {
        expect(log.read(1).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      } finally {
        await log.close();
      }
      if (i % 500 === 0) await tick(); // lmdb-js's read-transaction reset runs between looks too
    }
    expect(mappingsUnder(path)).toBe(maps);
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(fds + 2);
  });

  it('a set of logs opened over and over, read each time', async () => {
    const paths = Array.from({ length: 12 }, (_, k) => join(dir, 'set', String(k), 'log'));
    for (const [k, p] of paths.entries()) await makeLog(p, k + 1);
    for (let round = 0; round < 200; round++) {
      for (const [k, p] of paths.entries()) {
        const log = EventLog.open(p, { readOnly: true });
        try {
          expect(log.lastSeq()).toBe(k + 1);
          expect(log.read(1)).toHaveLength(k + 1);
        } finally {
          void log.close();
        }
      }
      if (round % 20 === 0) await tick();
    }
    expect(mappingsUnder(join(dir, 'set'))).toBeLessThanOrEqual(paths.length * 2);
  });

  it('a handle kept open reads on after other handles of the file opened and closed', async () => {
    const path = join(dir, 'kept', 'log');
    await makeLog(path, 3);
    const kept = EventLog.open(path, { readOnly: true });
    try {
      expect(kept.read(1)).toHaveLength(3);
      for (let i = 0; i < 20; i++) {
        await tick();
        const other = EventLog.open(path, { readOnly: true });
        expect(other.read(1)).toHaveLength(3);
        await other.close();
        await tick();
        expect(kept.read(1)).toHaveLength(3);
      }
      // and a writer of the same file in this process alongside it
      const writer = EventLog.open(path);
      await writer.append([stepEvent('reopen', 4)]);
      await tick();
      // (read's end defaults to the handle's lastSeq, taken at its open: iterate to the log's end)
      expect([...kept.iterate(1)]).toHaveLength(4);
      await writer.close();
      await tick();
      expect([...kept.iterate(1)]).toHaveLength(4);
    } finally {
      await kept.close();
    }
    const closed = EventLog.open(path, { readOnly: true });
    await closed.close();
    expect(() => closed.read(1)).toThrow(/closed/);
  });

  it("a reader opened after another process's commit sees it; a handle kept open sees it on a later turn", async () => {
    const path = join(dir, 'child', 'log');
    await makeLog(path, 1);
    const kept = EventLog.open(path, { readOnly: true });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fault/appendWriter.ts', path, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      let acks = 0;
      for await (const line of createInterface({ input: child.stdout! })) {
        const last = Number(/^ack \d+ (\d+)$/.exec(line)?.[1]);
        if (!Number.isFinite(last)) continue;
        // committed and durable before the ack: a handle opened now sees at least that much
        const look = EventLog.open(path, { readOnly: true });
        try {
          expect(look.lastSeq()).toBeGreaterThanOrEqual(last);
          expect(look.read(last, last + 1)[0]?.event.id).toBe(`w/${last}`);
        } finally {
          void look.close();
        }
        await tick();
        expect(kept.read(last, last + 1)[0]?.event.id).toBe(`w/${last}`);
        if (++acks >= 30) break;
      }
      expect(acks).toBe(30);
    } finally {
      child.kill('SIGKILL');
      await exited;
      await kept.close();
    }
  });
});
