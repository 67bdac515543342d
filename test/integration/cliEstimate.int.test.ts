/**
 * `dare estimate` (DESIGN §11, dare-reference §2) against values computed by hand. The cases the issue names
 * run as a real process (`node cli/dare.js estimate ...`: exit code, stdout, the one-line stderr); the
 * variations of the same paths call the command's implementation in-process (each process costs ~1 s of CPU).
 *
 * Fixture test/fixtures/estimate/two-prompts.jsonl (rows of two prompts interleaved, q-7 first, a blank line):
 *   q-7: (reward, μ, π) = (0, −10, −4), (1, −7.5, −4), (1, −5, −1.5)  ⇒ ℓ = π − μ = 6, 3.5, 3.5
 *   q-3: (reward, μ, π) = (1, −3, −2.5), (0, −4, −4), (0, −2, −2.5)  ⇒ ℓ = 0.5, 0, −0.5
 * Raw success: q-7 2/3, q-3 1/3.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEstimate } from '../../cli/estimate.ts';
import { UserError } from '../../events/errors.ts';
import { tempDir } from '../support/tmp.ts';

const FIXTURE = 'test/fixtures/estimate/two-prompts.jsonl';
const { dir, cleanup } = tempDir('dare-estimate-');
afterAll(cleanup);

/** Run `dare ...` as a real process. */
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

/** Run the command in-process; resolves to what it writes to stdout, rejects with its UserError. */
async function estimateIn(file: string, o: { method?: string; set?: string[]; json?: boolean } = {}): Promise<string> {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  await runEstimate(file, { method: o.method ?? 'snis', set: o.set ?? [], json: o.json }, sink);
  return text;
}

async function userError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  return (err as Error).message;
}

function jsonRows(stdout: string) {
  return stdout.trim().split('\n').map((l) => JSON.parse(l));
}

const e = Math.exp;

describe('dare estimate (real process)', () => {
  // The cases, side by side (the machine has 2 cores; these are six ~1 s processes).
  let runs: Promise<Array<Awaited<ReturnType<typeof dare>>>>;
  beforeAll(() => {
    runs = Promise.all([
      dare('estimate', FIXTURE, '--json'),
      dare('estimate', FIXTURE, '--json', '--set', 'IS_CLIP_RANGE=0.1'),
      dare('estimate', FIXTURE, '--json', '--set', 'IS_ESS_THRESHOLD=3'),
      dare('estimate', FIXTURE, '--method', 'raw'),
      dare('estimate', 'test/fixtures/estimate/bad-json.jsonl'),
      dare('estimate', FIXTURE, '--set', 'IS_CLIP_RANG=3'),
    ]);
  });

  it('default c = 4, ESS threshold 2: hand-computed SNIS, one JSON object per line', async () => {
    const r = (await runs)[0];
    expect(r.status, r.stderr).toBe(0);
    const [q7, q3, ...more] = jsonRows(r.stdout);
    expect(more).toEqual([]);
    // first-appearance order, not sorted
    expect(q7.promptId).toBe('q-7');
    expect(q3.promptId).toBe('q-3');
    expect(Object.keys(q7)).toEqual(['promptId', 'difficulty', 'success', 'ess', 'source']);

    // q-7: ℓ̂ = clip(6, 3.5, 3.5; ±4) = 4, 3.5, 3.5; max 4 ⇒ w̃ = 1, e^−0.5, e^−0.5 = 1, 0.60653, 0.60653
    //   Σw̃ = 1 + 2e^−0.5 = 2.2130613; Σw̃² = 1 + 2e^−1 = 1.7357589; ESS = 2.2130613²/1.7357589 = 2.8216133 ≥ 2
    //   success = (0·1 + e^−0.5 + e^−0.5)/Σw̃ = 1.2130613/2.2130613 = 0.5481372; difficulty = 0.4518628
    //   (unclipped, the first weight would be e^2.5 times the others)
    expect(q7.ess).toBeCloseTo((1 + 2 * e(-0.5)) ** 2 / (1 + 2 * e(-1)), 12);
    expect(q7.ess).toBeCloseTo(2.8216133, 6);
    expect(q7.success).toBeCloseTo((2 * e(-0.5)) / (1 + 2 * e(-0.5)), 12);
    expect(q7.difficulty).toBeCloseTo(0.4518628, 6);
    expect(q7.source).toBe('snis');
    // q-3: ℓ̂ = 0.5, 0, −0.5 (inside ±4); max 0.5 ⇒ w̃ = 1, e^−0.5, e^−1 = 1, 0.60653, 0.36788
    //   Σw̃ = 1.9744101; Σw̃² = 1 + e^−1 + e^−2 = 1.5032147; ESS = 1.9744101²/1.5032147 = 2.5933057 ≥ 2
    //   success = 1/Σw̃ = 0.5064804; difficulty = 0.4935196
    expect(q3.ess).toBeCloseTo((1 + e(-0.5) + e(-1)) ** 2 / (1 + e(-1) + e(-2)), 12);
    expect(q3.ess).toBeCloseTo(2.5933057, 6);
    expect(q3.success).toBeCloseTo(1 / (1 + e(-0.5) + e(-1)), 12);
    expect(q3.difficulty).toBeCloseTo(0.4935196, 6);
    expect(q3.source).toBe('snis');
  });

  it('--set IS_CLIP_RANGE=0.1 (README alias of estimator.clip) changes the estimate', async () => {
    const r = (await runs)[1];
    expect(r.status, r.stderr).toBe(0);
    const [q7, q3] = jsonRows(r.stdout);
    // q-7: ℓ̂ = 0.1, 0.1, 0.1 ⇒ equal weights ⇒ ESS = 9/3 = 3, success = raw 2/3, difficulty 1/3 (was 0.4518628)
    expect(q7.ess).toBeCloseTo(3, 12);
    expect(q7.success).toBeCloseTo(2 / 3, 12);
    expect(q7.difficulty).toBeCloseTo(1 / 3, 12);
    expect(q7.source).toBe('snis');
    // q-3: ℓ̂ = 0.1, 0, −0.1 ⇒ w̃ = 1, e^−0.1, e^−0.2 = 1, 0.90484, 0.81873; Σw̃ = 2.7235682
    //   Σw̃² = 1 + e^−0.2 + e^−0.4 = 2.4890508; ESS = 2.7235682²/2.4890508 = 2.9801817
    //   success = 1/2.7235682 = 0.3671654; difficulty = 0.6328346 (was 0.4935196 at c = 4)
    expect(q3.ess).toBeCloseTo(2.9801817, 6);
    expect(q3.success).toBeCloseTo(1 / (1 + e(-0.1) + e(-0.2)), 12);
    expect(q3.difficulty).toBeCloseTo(0.6328346, 6);
    expect(q3.source).toBe('snis');
    // the configuration key itself does the same
    expect(await estimateIn(FIXTURE, { json: true, set: ['estimator.clip=0.1'] })).toBe(r.stdout);
  });

  it('--set IS_ESS_THRESHOLD=3 falls back to the raw rate (ESS < 3 whenever the 3 weights differ)', async () => {
    const r = (await runs)[2];
    expect(r.status, r.stderr).toBe(0);
    const [q7, q3] = jsonRows(r.stdout);
    // ESS 2.8216 and 2.5933 (as at c = 4; reported unchanged) are < 3 ⇒ raw: q-7 success 2/3, q-3 1/3
    expect(q7).toMatchObject({ promptId: 'q-7', source: 'fallback-raw' });
    expect(q7.success).toBeCloseTo(2 / 3, 12);
    expect(q7.difficulty).toBeCloseTo(1 / 3, 12);
    expect(q7.ess).toBeCloseTo(2.8216133, 6);
    expect(q3).toMatchObject({ promptId: 'q-3', source: 'fallback-raw' });
    expect(q3.success).toBeCloseTo(1 / 3, 12);
    expect(q3.difficulty).toBeCloseTo(2 / 3, 12);
    expect(q3.ess).toBeCloseTo(2.5933057, 6);
  });

  it('--method raw: pooled raw rate per prompt (Previous-FR) as an aligned table with a header', async () => {
    const r = (await runs)[3];
    expect(r.status, r.stderr).toBe(0);
    // q-7 rewards 0, 1, 1 ⇒ success 2/3, difficulty 1/3; q-3 rewards 1, 0, 0 ⇒ success 1/3, difficulty 2/3;
    // equal weights ⇒ ESS = row count 3
    expect(r.stdout.split('\n')).toEqual([
      'promptId  difficulty  success     ess  source',
      'q-7           0.3333   0.6667  3.0000  previous-fr',
      'q-3           0.6667   0.3333  3.0000  previous-fr',
      '',
    ]);
    const [q7, q3] = jsonRows(await estimateIn(FIXTURE, { method: 'raw', json: true }));
    expect(q7).toMatchObject({ promptId: 'q-7', ess: 3, source: 'previous-fr' });
    expect(q7.difficulty).toBeCloseTo(1 / 3, 12);
    expect(q7.success).toBeCloseTo(2 / 3, 12);
    expect(q3).toMatchObject({ promptId: 'q-3', ess: 3, source: 'previous-fr' });
    expect(q3.difficulty).toBeCloseTo(2 / 3, 12);
  });

  it('a bad line exits 1 with one line naming file:line', async () => {
    const r = (await runs)[4];
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    // line 1 is good, line 2 is a blank line, line 3 is cut short
    expect(r.stderr.trim()).toMatch(/^dare: test\/fixtures\/estimate\/bad-json\.jsonl:3: invalid JSON \(.+\)$/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
  });

  it('an unknown --set key exits 1 naming the key', async () => {
    const r = (await runs)[5];
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('dare: --set IS_CLIP_RANG=3: unknown configuration key "IS_CLIP_RANG"');
  });
});

describe('dare estimate (in-process)', () => {
  it('text output is an aligned table: ids left, numbers right to 4 decimals', async () => {
    expect((await estimateIn(FIXTURE)).split('\n')).toEqual([
      'promptId  difficulty  success     ess  source',
      'q-7           0.4519   0.5481  2.8216  snis',
      'q-3           0.4935   0.5065  2.5933  snis',
      '',
    ]);
  });

  it('the fallback is strict (ESS < threshold): at c = 0.1 q-7 has ESS exactly 3 and keeps SNIS', async () => {
    const [q7, q3] = jsonRows(await estimateIn(FIXTURE, { json: true, set: ['IS_CLIP_RANGE=0.1', 'estimator.essThreshold=3'] }));
    // q-7: equal weights, ESS = 9/3 = 3, not < 3 ⇒ snis (= 2/3); q-3: ESS 2.9802 < 3 ⇒ raw 1/3
    expect(q7.source).toBe('snis');
    expect(q7.success).toBeCloseTo(2 / 3, 12);
    expect(q3.source).toBe('fallback-raw');
    expect(q3.success).toBeCloseTo(1 / 3, 12);
  });

  it('streams a large file: 20 000 rows over 1 000 interleaved prompts; line numbers count across chunks', async () => {
    // row i: prompt p(i mod 1000), success iff ⌊i/1000⌋ mod 4 = 0 ⇒ each prompt has 20 rows with 5 successes
    // ⇒ difficulty 15/20 = 0.75; a numeric promptId is echoed as a number
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const id = i % 1000 === 999 ? 999 : `p${i % 1000}`;
      lines.push(JSON.stringify({ promptId: id, reward: Math.floor(i / 1000) % 4 === 0 ? 1 : 0, behaviorLogprob: -7.25, currentLogprob: -7 }));
    }
    const big = join(dir, 'big.jsonl');
    writeFileSync(big, lines.join('\n') + '\n');
    const rows = jsonRows(await estimateIn(big, { method: 'raw', json: true }));
    expect(rows.length).toBe(1000);
    expect(rows.map((x) => x.promptId)).toEqual(Array.from({ length: 1000 }, (_, k) => (k === 999 ? 999 : `p${k}`)));
    for (const x of rows) expect(x).toEqual({ promptId: x.promptId, difficulty: 0.75, success: 0.25, ess: 20, source: 'previous-fr' });
    // all rows of a prompt have ℓ = 0.25 ⇒ equal weights ⇒ SNIS = raw with ESS 20 (to float rounding of w̃)
    const snis = jsonRows(await estimateIn(big, { json: true }));
    expect(snis.length).toBe(1000);
    expect(snis[5]).toMatchObject({ promptId: 'p5', source: 'snis' });
    expect(snis[5].difficulty).toBeCloseTo(0.75, 12);
    expect(snis[5].ess).toBeCloseTo(20, 12);

    const bad = join(dir, 'big-bad.jsonl');
    writeFileSync(bad, lines.join('\n') + '\n{"promptId": "p0", "reward": 2, "behaviorLogprob": -1, "currentLogprob": -1}\n');
    expect(await userError(estimateIn(bad, { method: 'raw' }))).toBe(`${bad}:20001: reward: 2 is outside [0, 1]`);
  });

  it('every bad line names file:line and the field', async () => {
    const good = '{"promptId":"a","reward":1,"behaviorLogprob":-1,"currentLogprob":-1}';
    const cases: Array<{ name: string; lines: string[]; line: number; message: string | RegExp }> = [
      { name: 'missing promptId', lines: [good, '{"reward":1,"behaviorLogprob":-1,"currentLogprob":-1}'], line: 2, message: 'missing promptId' },
      { name: 'empty promptId', lines: ['{"promptId":"","reward":1,"behaviorLogprob":-1,"currentLogprob":-1}'], line: 1, message: 'promptId: expected a non-empty string or a number, got ""' },
      { name: 'missing reward', lines: ['{"promptId":"a","behaviorLogprob":-1,"currentLogprob":-1}'], line: 1, message: 'missing reward' },
      { name: 'non-numeric reward', lines: ['{"promptId":"a","reward":"1","behaviorLogprob":-1,"currentLogprob":-1}'], line: 1, message: 'reward: expected a number in [0, 1], got "1"' },
      { name: 'reward outside [0,1]', lines: ['', '{"promptId":"a","reward":-0.5,"behaviorLogprob":-1,"currentLogprob":-1}'], line: 2, message: 'reward: -0.5 is outside [0, 1]' },
      { name: 'non-finite log-prob (1e999 parses to −Infinity)', lines: [good, '{"promptId":"a","reward":0,"behaviorLogprob":-1,"currentLogprob":-1e999}'], line: 2, message: 'currentLogprob: expected a finite log-prob sum (nats), got -Infinity' },
      { name: 'null log-prob', lines: ['{"promptId":"a","reward":0,"behaviorLogprob":null,"currentLogprob":-1}'], line: 1, message: 'behaviorLogprob: expected a finite log-prob sum (nats), got null' },
      { name: 'string log-prob', lines: ['{"promptId":"a","reward":0,"behaviorLogprob":"-1","currentLogprob":-1}'], line: 1, message: 'behaviorLogprob: expected a finite log-prob sum (nats), got "-1"' },
      { name: 'missing log-prob (snis needs both)', lines: ['{"promptId":"a","reward":0,"behaviorLogprob":-1}'], line: 1, message: 'missing currentLogprob' },
      { name: 'invalid JSON', lines: [good, '{"promptId":"a","reward":0,', good], line: 2, message: /^invalid JSON \(.+\)$/ },
      { name: 'not an object', lines: ['[1,2]'], line: 1, message: 'expected a JSON object, got [1,2]' },
    ];
    for (const [k, c] of cases.entries()) {
      const file = join(dir, `bad-${k}.jsonl`);
      writeFileSync(file, c.lines.join('\n') + '\n');
      const msg = await userError(estimateIn(file));
      const prefix = `${file}:${c.line}: `;
      expect(msg.startsWith(prefix), `${c.name}: ${msg}`).toBe(true);
      if (typeof c.message === 'string') expect(msg.slice(prefix.length), c.name).toBe(c.message);
      else expect(msg.slice(prefix.length), c.name).toMatch(c.message);
    }
  });

  it('raw does not need log-probs', async () => {
    const file = join(dir, 'rewards-only.jsonl');
    writeFileSync(file, '{"promptId":"a","reward":1}\n{"promptId":"a","reward":0}\n');
    // rewards 1, 0 ⇒ difficulty 1/2, ESS of two equal weights 2
    expect(jsonRows(await estimateIn(file, { method: 'raw', json: true }))).toEqual([
      { promptId: 'a', difficulty: 0.5, success: 0.5, ess: 2, source: 'previous-fr' },
    ]);
    expect(await userError(estimateIn(file))).toBe(`${file}:1: missing behaviorLogprob`);
  });

  it('a missing or empty file, an unknown method, non-estimator keys and bad values are user errors', async () => {
    expect(await userError(estimateIn(join(dir, 'nope.jsonl')))).toBe(`${join(dir, 'nope.jsonl')}: no such file`);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n');
    expect(await userError(estimateIn(empty))).toBe(`${empty}: no rows`);
    expect(await userError(estimateIn(dir))).toBe(`${dir}: not a file`);
    expect(await userError(estimateIn(FIXTURE, { method: 'bayes' }))).toBe('--method bayes: expected one of snis, raw');
    expect(await userError(estimateIn(FIXTURE, { set: ['estimator.clipp=3'] }))).toMatch(/unknown configuration key "estimator\.clipp"/);
    // real configuration keys and aliases that the estimate does not read
    expect(await userError(estimateIn(FIXTURE, { set: ['BETA_KAPPA=20'] }))).toMatch(/^--set BETA_KAPPA=20: "sampler\.kappa" is not read by dare estimate/);
    expect(await userError(estimateIn(FIXTURE, { set: ['IS_DEFAULT_LABEL=0.5'] }))).toMatch(/"estimator\.coldStartDifficulty" is not read/);
    expect(await userError(estimateIn(FIXTURE, { set: ['method=grpo'] }))).toMatch(/"method" is not read/);
    expect(await userError(estimateIn(FIXTURE, { set: ['IS_CLIP_RANGE=wide'] }))).toMatch(/"estimator\.clip" expects a number/);
    expect(await userError(estimateIn(FIXTURE, { set: ['IS_CLIP_RANGE=-1'] }))).toMatch(/estimator\.clip/);
    expect(await userError(estimateIn(FIXTURE, { set: ['IS_CLIP_RANGE'] }))).toMatch(/expected key=value/);
  });
});
