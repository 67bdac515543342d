/**
 * `dare select` (issue 20 item 6): the sampler alone, against values worked out by hand. The cases the issue
 * names run as a real process (`node cli/dare.js select ...`: exit code, stdout, the one-line stderr); the
 * variations call the command's implementation in-process (each process costs ~1 s of CPU).
 *
 * Rows a, b, c with failure rates 0.1, 0.5, 0.9; a budget of 3 picks all three, so the tiers and rollouts
 * are fixed whatever the draw:
 *   paper tiers (dare): d < 0.3 easy 4, 0.3 ≤ d ≤ 0.8 medium 8, d > 0.8 hard 16 ⇒ 4 + 8 + 16 = 28 rollouts;
 *   reference tiers (dare-reference): 2·round(8·d) = 2, 8, 14, no tier names.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runSelect, type SelectOptions } from '../../cli/select.ts';
import { UserError } from '../../events/errors.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-select-');
afterAll(cleanup);

function file(name: string, rows: object[]): string {
  const p = join(dir, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return p;
}

const THREE = file('three.jsonl', [
  { promptId: 'a', difficulty: 0.1 },
  { promptId: 'b', difficulty: 0.5 },
  { promptId: 'c', difficulty: 0.9 },
]);

function dare(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['cli/dare.js', ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function selectIn(f: string, o: Partial<SelectOptions> = {}): Promise<string> {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  await runSelect(f, { set: [], ...o }, sink);
  return text;
}

const rows = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const byId = (r: Array<Record<string, unknown>>) => Object.fromEntries(r.map((x) => [x.promptId, x]));

describe('dare select', () => {
  it('as a process, the dare preset: every pick with its paper tier and rollouts, and the totals line', async () => {
    const r = await dare('select', THREE, '--budget', '3');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^promptId\s+difficulty\s+tier\s+rollouts$/);
    const body = Object.fromEntries(lines.slice(1, 4).map((l) => l.trim().split(/\s+/)).map(([id, d, t, g]) => [id, [Number(d), t, Number(g)]]));
    expect(body).toEqual({ a: [0.1, 'easy', 4], b: [0.5, 'medium', 8], c: [0.9, 'hard', 16] });
    expect(lines[4]).toBe('3 prompts, 28 rollouts (easy 1, medium 1, hard 1, no tier 0)');
  });

  it('as a process, --json with dare-reference: 2·round(8·d) rollouts, no tiers', async () => {
    const r = await dare('select', THREE, '--budget', '3', '--method', 'dare-reference', '--json');
    expect(r.status).toBe(0);
    expect(byId(rows(r.stdout))).toEqual({
      a: { promptId: 'a', difficulty: 0.1, tier: 'none', rollouts: 2 },
      b: { promptId: 'b', difficulty: 0.5, tier: 'none', rollouts: 8 },
      c: { promptId: 'c', difficulty: 0.9, tier: 'none', rollouts: 14 },
    });
  });

  it('as a process, a bad row is a one-line error naming file and line, exit 1', async () => {
    const bad = file('bad.jsonl', [{ promptId: 'a', difficulty: 0.2 }, { promptId: 'b', difficulty: 1.5 }]);
    const r = await dare('select', bad);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`dare: ${bad}:2: difficulty: 1.5 is outside [0, 1]`);
  });

  it('--trials: uniform GRPO with budget 2 of 3 includes 2 prompts a draw, so the frequencies sum to 2', async () => {
    const inc = rows(await selectIn(THREE, { method: 'grpo', budget: '2', trials: '50', json: true }));
    expect(inc.map((x) => x.promptId)).toEqual(['a', 'b', 'c']);
    const sum = inc.reduce((s, x) => s + (x.inclusion as number), 0);
    expect(sum).toBeCloseTo(2, 12);
    for (const x of inc) expect((x.inclusion as number) * 50).toBe(Math.round((x.inclusion as number) * 50));
  });

  it('--trials with dare (κ = 100): the prompts at the mode are always drawn, d = 0.02 and 0.98 never', async () => {
    // Beta log-weight ratio 50·ln(0.25 / (0.02·0.98)) ≈ 127 nats: the tails never beat the mode's Gumbel draws
    const f = file('mode.jsonl', [0.5, 0.02, 0.5, 0.98].map((d, i) => ({ promptId: i, difficulty: d })));
    const inc = rows(await selectIn(f, { budget: '2', trials: '40', json: true }));
    expect(inc.map((x) => x.inclusion)).toEqual([1, 0, 1, 0]);
  });

  it('the same seed gives the same picks; --seed changes the draw', async () => {
    const f = file('many.jsonl', Array.from({ length: 40 }, (_, i) => ({ promptId: `p${i}`, difficulty: 0.5 })));
    const a = await selectIn(f, { budget: '5', json: true });
    expect(await selectIn(f, { budget: '5', json: true })).toBe(a);
    expect(await selectIn(f, { budget: '5', json: true, seed: '7' })).not.toBe(a);
  });

  it('a sampler that keeps state of its own is refused, as are bad flags', async () => {
    await expect(selectIn(THREE, { method: 'mopps' })).rejects.toThrow(UserError);
    await expect(selectIn(THREE, { method: 'mopps' })).rejects.toThrow(/keeps state that only a run's log provides/);
    await expect(selectIn(THREE, { budget: '0' })).rejects.toThrow(/--budget 0: expected an integer ≥ 1/);
    await expect(selectIn(THREE, { set: ['sampler.kappa=-1'] })).rejects.toThrow(UserError);
    await expect(selectIn(join(dir, 'none.jsonl'))).rejects.toThrow(/no such file/);
  });
});
