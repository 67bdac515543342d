/**
 * Output for people (#19 item 5), from a real `dare run` of a short sim scenario. Off a terminal (stderr a
 * pipe) the default is concise text — a line per step, a few lines of its start and end, no JSON;
 * `--log-format json` (or DARE_LOG_FORMAT=json) gives pino JSON records, as the tests that parse stderr
 * need. On a terminal (`script` gives the run a pseudo-terminal) the progress bar is the last row under
 * the step lines. The rendering itself is unit-tested in test/unit/progressRender.unit.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simScenario, testDir } from '../support/live.ts';

const { dir, file } = testDir('dare-output-', { sim: simScenario() });

/** `dare ARGS` with DARE_LOG_FORMAT as given (undefined: unset), stderr a pipe. */
function dare(args: string[], format?: string): Promise<{ code: number; stderr: string; stdout: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DARE_LOG_FORMAT;
  delete env.DARE_LOG_LEVEL;
  if (format !== undefined) env.DARE_LOG_FORMAT = format;
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['cli/dare.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.once('exit', (code) => resolve({ code: code ?? 1, stderr: err, stdout: out }));
  });
}

const STEP = /^\d\d:\d\d:\d\d step [1-6]\/6  reward \d\.\d{3}  success \d\.\d{3}(  eval \d\.\d{3})?  rollouts \d+  \d+\.\d s$/;

describe('dare run output', () => {
  it('off a terminal: concise text lines by default, one per step, no JSON', async () => {
    const r = await dare(['run', file('sim'), '--run-dir', join(dir, 'text')]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(lines.filter((l) => STEP.test(l)).map((l) => l.match(/step (\d)/)![1])).toEqual(['1', '2', '3', '4', '5', '6']);
    // every other line: a time, a message, its fields (no level word: nothing went wrong)
    for (const l of lines.filter((x) => !STEP.test(x))) expect(l).toMatch(/^\d\d:\d\d:\d\d [a-z]/);
    expect(lines.some((l) => / run completed  steps=6/.test(l))).toBe(true);
    // concise: the per-job reports are summed up by the step lines
    expect(lines.some((l) => /rollout chunk logged|score completed/.test(l))).toBe(false);
    expect(lines.length).toBeLessThan(20);
    expect(r.stdout).toMatch(/eval accuracy +before +after/);
  }, 120_000);

  it('--log-format json: one pino record per line, the job reports and a step record per step included', async () => {
    const r = await dare(['run', file('sim'), '--run-dir', join(dir, 'json'), '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const recs = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: number; step?: number });
    expect(recs.filter((x) => x.msg === 'step').map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(recs.some((x) => x.msg === 'rollout chunk logged')).toBe(true);
    expect(recs.some((x) => x.msg === 'run completed')).toBe(true);
  }, 120_000);

  it('DARE_LOG_FORMAT=json does the same for resume; a bad format is a user error', async () => {
    const r = await dare(['resume', join(dir, 'json')], 'json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the run is complete after 6 steps/);
    const bad = await dare(['run', file('sim'), '--run-dir', join(dir, 'bad'), '--log-format', 'yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--log-format.*yaml/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  }, 120_000);

  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)('on a terminal: the step lines scroll above a progress bar with an ETA, which ends on its own row', () => {
    const log = join(dir, 'tty.log');
    // util-linux script: a pseudo-terminal for the command; stdout to /dev/null so only stderr is seen
    const cmd = `stty cols 100; ${process.execPath} cli/dare.js run ${file('sim')} --run-dir ${join(dir, 'tty')} >/dev/null`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DARE_LOG_FORMAT;
    const r = spawnSync('script', ['-qefc', cmd, log], { encoding: 'utf8', env, timeout: 110_000 });
    expect(r.status, r.stderr).toBe(0);
    const raw = readFileSync(log, 'utf8');
    // what the terminal shows: each row as the last write left it (\r: column 0, ESC[2K: cleared)
    const rows: string[] = [''];
    for (const part of raw.replace(/^Script started.*\n/, '').split(/(\r\n|\n|\r|\x1b\[2K)/)) {
      if (part === '\r') continue;
      if (part === '\n' || part === '\r\n') rows.push('');
      else if (part === '\x1b[2K') rows[rows.length - 1] = '';
      else rows[rows.length - 1] += part;
    }
    const steps = rows.filter((l) => STEP.test(l));
    expect(steps).toHaveLength(6);
    const bar = rows.findIndex((l) => /^\[#+\]  6\/6  100%  ETA \d+s$/.test(l));
    expect(bar, rows.join('\n')).toBeGreaterThan(rows.indexOf(steps[5]));
    // no copy of the bar is left between the step lines
    expect(rows.slice(0, bar).filter((l) => l.startsWith('['))).toEqual([]);
    expect(raw).toContain('… start-up:');
  }, 120_000);
});
