/**
 * Following a live log from another process: one read-only handle, refreshed (EventLog.refresh), sees every
 * batch the writer process acknowledged, and so does a new open per look; neither maps the file again (with
 * lmdb-js's format-1 build every open mapped 64 GiB that close() kept, which ran a polling test out of
 * address space after ~1,900 opens: store/readerEnvs.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../store/eventLog.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-follow-');
afterAll(cleanup);
const mappings = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(dir)).length;

describe('a reader following a writer process', () => {
  it('sees each acknowledged batch after a refresh, with one mapping for all its looks', async () => {
    const logDir = join(dir, 'log');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fault/appendWriter.ts', logDir, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = [...out.matchAll(/ack \d+ (\d+)/g)];
      if (m.length) acked = Number(m[m.length - 1][1]);
    });
    try {
      while (acked === 0) await new Promise((r) => setTimeout(r, 10));
      const reader = EventLog.open(logDir, { readOnly: true });
      const mapped = mappings();
      let looks = 0;
      let behind = 0;
      while (reader.lastSeq() < 3000 && looks < 100_000) {
        const before = acked; // acknowledged before this look: a refresh must see at least that far
        reader.refresh();
        looks++;
        if (reader.lastSeq() < before) behind++;
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(reader.lastSeq()).toBeGreaterThanOrEqual(3000);
      expect(behind).toBe(0);
      expect(looks).toBeGreaterThan(10);
      expect(mappings()).toBe(mapped);
      // opening anew for each look: the same, and still no new mapping after more opens than once fitted
      for (let i = 0; i < 2500; i++) {
        const before = acked;
        const again = EventLog.open(logDir, { readOnly: true });
        if (again.lastSeq() < before) behind++;
        await again.close();
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      expect(behind).toBe(0);
      expect(mappings()).toBe(mapped);
      // what it sees is whole: every seq up to the last, in order, each decodable
      const seqs = [...reader.iterate(1)].map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      await reader.close();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
