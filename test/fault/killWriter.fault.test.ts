/**
 * kill -9 a writer at ≥ 20 moments; after each kill the log reopens, is contiguous, and holds every event
 * whose append had been acknowledged (acknowledged = resolved after flush).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../../events/prng.ts';
import { EventLog } from '../../store/eventLog.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-kill-');
afterAll(cleanup);

async function runAndKill(logDir: string, round: number, delayMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fault/appendWriter.ts', logDir, String(round)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = 0;
  let buf = '';
  let started: () => void;
  const firstAck = new Promise<void>((r) => (started = r));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      const m = /^ack (\d+) (\d+)$/.exec(l);
      if (m) {
        acked = Math.max(acked, Number(m[2]));
        started();
      }
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([firstAck, exited]);
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await exited;
  return acked;
}

describe('kill -9 while appending', () => {
  it('never loses an acknowledged event and stays contiguous (20 kills)', async () => {
    const logDir = join(dir, 'log');
    const prng = new Prng({ seed: 1, step: 0, purpose: 'kill-moments' });
    let maxAcked = 0;
    for (let round = 0; round < 20; round++) {
      const acked = await runAndKill(logDir, round, prng.nextInt(120));
      maxAcked = Math.max(maxAcked, acked);
      const log = EventLog.open(logDir);
      try {
        const last = log.lastSeq();
        expect(last).toBeGreaterThanOrEqual(maxAcked);
        let expected = 1;
        for (const { seq, event } of log.iterate(1)) {
          expect(seq).toBe(expected);
          expect(event.id).toBe(`w/${seq}`);
          expected++;
        }
        expect(expected - 1).toBe(last);
        expect(log.seqOf(`w/${maxAcked}`)).toBe(maxAcked);
      } finally {
        await log.close();
      }
    }
    expect(maxAcked).toBeGreaterThan(100);
  }, 240_000);
});
