/**
 * Following a live log from another process (EventLog.refresh): one read-only handle, refreshed, sees every
 * batch the writer process acknowledged, and its refreshes map nothing new (an open per look mapped 64 GiB
 * each time, which ran a polling test out of address space).
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
      // what it sees is whole: every seq up to the last, in order, each decodable
      const seqs = [...reader.iterate(1)].map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      await reader.close();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
