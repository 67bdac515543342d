/**
 * Damaged logs (#19 items 3 and 4): a finished sim run's directory, copied and damaged in every way of
 * bench/reliability/damageCases.ts (truncated data.mdb at several sizes, changed event bytes, bad meta
 * magic, a missing blob, a missing or changed checkpoint, a start-up kill, no run at all), and every command
 * that reads a run directory run on it as a real `dare` process. Each gives the documented exit code — never
 * a signal death (SIGBUS 135, SIGABRT 134, SIGSEGV 139) nor an internal error with a stack — with one line
 * on stderr naming the file or seq at fault, and leaves the directory's files byte-identical. Then: resume
 * starts a run killed during start-up, and positions and prompts that do not exist are user errors.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { damageCases, damagedCopy, flippedSeq, type DamageCase } from '../../bench/reliability/damageCases.ts';
import { COMMANDS, damagedTable, expectedExit, messageOf, SERVING, sourceRun, type Outcome } from '../../bench/reliability/damaged.ts';
import { checkRun } from '../../run/check.ts';
import { dareSync, loggedEvents, simScenario, testDir } from '../support/live.ts';
import { runDare } from '../support/runs.ts';

const { dir } = testDir('dare-damaged-');
let source = '';
let cases: DamageCase[] = [];
let rows: Outcome[] = [];

beforeAll(async () => {
  source = await sourceRun(dir, simScenario());
  cases = damageCases(flippedSeq(source));
  rows = await damagedTable(source, join(dir, 'work'));
}, 900_000);

describe('a damaged run directory, every command', () => {
  it('covers every case with every command', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(rows.length).toBe(cases.length * COMMANDS.length);
  });

  // one test per case (names known before beforeAll runs: the list does not depend on the source run)
  for (const name of damageCases(0).map((c) => c.name)) {
    it(`${name}: the documented exit code, one line naming what is at fault, nothing changed`, () => {
      const c = cases.find((x) => x.name === name)!;
      for (const r of rows.filter((x) => x.case === name)) {
        const where = `${name} × ${r.command} (exit ${r.exit}):\n${r.stderr.slice(0, 3000)}`;
        expect([134, 135, 137, 139], where).not.toContain(r.exit);
        expect(r.stderr, where).not.toMatch(/internal error|\n\s+at /);
        expect(r.exit, where).toBe(expectedExit(c, r.command));
        expect(r.changed, where).toEqual([]);
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        if (r.exit === 1) {
          expect(lines, where).toHaveLength(1);
          expect(lines[0], where).toMatch(/^dare: /);
          expect(lines[0], where).toContain(c.names!(r.dir));
        } else {
          // success (or serving): no error line
          expect(lines.filter((l) => l.startsWith('dare:')), where).toEqual([]);
          expect([0, SERVING], where).toContain(r.exit);
        }
      }
    });
  }

  it('a truncated or changed log is named by every command that reads it, with the same first fault', () => {
    for (const name of ['truncated-mid-page', 'event-byte-changed', 'bad-magic-1']) {
      const msgs = rows.filter((r) => r.case === name && r.command !== 'resume').map((r) => messageOf(r.stderr));
      const fault = name === 'event-byte-changed' ? `seq ${flippedSeq(source)}` : 'data.mdb';
      for (const m of msgs) expect(m).toContain(fault);
    }
  });
});

describe('resume of a run killed during start-up', () => {
  it('config.json only: resume starts the run and completes it, with a whole log', async () => {
    const d = join(dir, 'startup');
    damagedCopy(source, d, cases.find((c) => c.name === 'config-only')!);
    expect(existsSync(join(d, 'log'))).toBe(false);
    const p = runDare(['resume', d]);
    expect(await p.exit, p.stderr().slice(-3000)).toBe(0);
    expect(loggedEvents(d).at(-1)?.event.type).toBe('RunCompleted');
    expect((await checkRun(d)).problems).toEqual([]);
    expect(existsSync(join(d, 'summary.json'))).toBe(true);
    // the same run as the uninterrupted source: same decisions, same final weights hash
    const v = dareSync('replay', d, '--verify');
    expect(v.status, v.stdout + v.stderr).toBe(0);
  }, 120_000);

  it('an empty data.mdb beside config.json (killed while LMDB created it): resume starts the run', async () => {
    const d = join(dir, 'startup-empty');
    damagedCopy(source, d, cases.find((c) => c.name === 'config-empty-log')!);
    const p = runDare(['resume', d]);
    expect(await p.exit, p.stderr().slice(-3000)).toBe(0);
    expect((await checkRun(d)).problems).toEqual([]);
    expect(loggedEvents(d).at(-1)?.event.type).toBe('RunCompleted');
  }, 120_000);
});

describe('what does not exist is a user error', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['drift --prompt past the prompts', ['drift', '@', '--prompt', '99999'], /--prompt 99999: no such prompt .*0\.\.159/],
    ['inspect --prompt past the prompts', ['inspect', '@', '--prompt', '99999'], /--prompt 99999: no such prompt/],
    ['inspect --prompt of an unknown id', ['inspect', '@', '--prompt', 'no-such-id'], /--prompt no-such-id: no such prompt/],
    ['inspect --at past the end', ['inspect', '@', '--at', '999999'], /--at 999999: the log ends at seq \d+/],
    ['replay --until past the end', ['replay', '@', '--until', '999999'], /--until 999999: the log ends at seq \d+/],
    ['log --from past the end', ['log', '@', '--from', '999999'], /--from 999999: the log ends at seq \d+/],
  ];
  for (const [what, args, want] of cases) {
    it(what, () => {
      const r = dareSync(...args.map((a) => (a === '@' ? source : a)));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(want);
    });
  }

  it('the last prompt and the position just past the end are fine', () => {
    expect(dareSync('drift', source, '--prompt', '159').status).toBe(0);
    const last = loggedEvents(source).length;
    const r = dareSync('log', source, '--from', String(last + 1));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  });
});
