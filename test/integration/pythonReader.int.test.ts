/**
 * docs/examples/read_log.py reads a log these tests wrote, with Debian's python3-lmdb and python3-msgpack,
 * and sees exactly the events (binary fields included) that `dare log --json` prints.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../events/catalogue.ts';
import { EventLog } from '../../store/eventLog.ts';
import { toJsonSafe } from '../../views/format.ts';
import { stepEvent } from '../support/events.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-pyread-');
const events = [
  stepEvent('py', 1),
  makeEvent('BatchSelected', {
    step: 1, epoch: 0, key: { seed: 9, step: 1, purpose: 'select' }, strategy: 'beta',
    prompts: new Uint32Array([4, 0, 4_000_000_000]), difficulty: new Float32Array([0.5, 0.25, NaN]),
    tier: new Uint8Array([2, 1, 3]), rollouts: new Uint16Array([8, 4, 16]), hints: new Uint16Array([0, 0, 4]), filled: 1,
  }, { run: 'py', id: 'BatchSelected/1', cause: 'StepStarted/1', ts: 5 }),
  makeEvent('UpdateRequested', {
    step: 1, policyVersion: 0, key: { seed: 9, step: 1, purpose: 'replay' }, groups: ['g/1/4', 'g/1/0'], freshGroups: 2,
    rowGroup: new Uint32Array([0, 1]), rowIndex: new Uint16Array([0, 0]), rawReward: new Float32Array([1, 0]),
    shapedReward: new Float32Array([0.99, 0.01]), advantage: new Float32Array([0.70710677, -0.70710677]),
    clipLo: new Float32Array([0.8, 0.8]), clipHi: new Float32Array([1.28, 1.2]), weight: new Float32Array([1, 1]),
    bin: new Int32Array([-1, 3]), aggregation: 'token-mean', lConst: 0, entropyCoeff: 0.001, klCoeff: 0, maskTruncated: false,
  }, { run: 'py', id: 'UpdateRequested/1', cause: 'BatchSelected/1', ts: 6 }),
];

beforeAll(async () => {
  mkdirSync(join(dir, 'log'), { recursive: true });
  const log = EventLog.open(join(dir, 'log'));
  await log.append(events);
  await log.close();
});
afterAll(cleanup);

describe('docs/examples/read_log.py', () => {
  it('reads every event, binary fields decoded by the dtypes recorded in the log', () => {
    const py = spawnSync('/usr/bin/python3', ['docs/examples/read_log.py', dir], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    expect(py.status).toBe(0);
    const lines = py.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(3);
    lines.forEach((l, i) => {
      const expected = JSON.parse(JSON.stringify({ seq: i + 1, ...(toJsonSafe(events[i]) as object) }));
      // float32 values come back as the doubles they are exactly; compare with float32 rounding
      expect(l.seq).toBe(expected.seq);
      expect(l.type).toBe(expected.type);
      expect(l.id).toBe(expected.id);
      for (const [k, v] of Object.entries(expected.data)) {
        if (Array.isArray(v) && v.every((x) => x === null || typeof x === 'number')) {
          const got = l.data[k] as Array<number | null>;
          expect(got.length).toBe(v.length);
          got.forEach((g, j) => (v[j] === null ? expect(g).toBeNull() : expect(g).toBeCloseTo(v[j] as number, 6)));
        } else expect(l.data[k]).toEqual(v);
      }
    });
    expect(lines[1].data.prompts).toEqual([4, 0, 4_000_000_000]);
    expect(lines[2].data.bin).toEqual([-1, 3]);
  });

  it('filters by type and says when a directory is not a run', () => {
    const py = spawnSync('/usr/bin/python3', ['docs/examples/read_log.py', dir, '--type', 'BatchSelected'], { encoding: 'utf8' });
    expect(py.stdout.trim().split('\n').length).toBe(1);
    const bad = spawnSync('/usr/bin/python3', ['docs/examples/read_log.py', '/nonexistent'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/not a run directory/);
  });
});
