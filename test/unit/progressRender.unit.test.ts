/**
 * Output for people (#19 item 5): the step line, the progress bar and its ETA, the status line a terminal
 * keeps under the log lines, and log records as text — rendered into a fake terminal of a given width.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { textDestination } from '../../run/logger.ts';
import { textOfRecord } from '../../run/logText.ts';
import type { StepMetrics } from '../../run/metrics.ts';
import { barLine, etaSeconds, fmtSeconds, Progress, stepLine } from '../../run/progress.ts';
import { fitWidth, phaseLine, StatusTerminal } from '../../run/terminal.ts';

function fakeOut(tty: boolean, columns = 80) {
  const chunks: string[] = [];
  return { out: { isTTY: tty, columns, write: (s: string) => chunks.push(s) }, chunks, text: () => chunks.join('') };
}

/** What a terminal shows after the writes: \r returns to column 0, ESC[2K clears the row, \n moves down. */
function screen(written: string): string[] {
  const rows: string[] = [''];
  for (const part of written.split(/(\r|\n|\x1b\[2K)/)) {
    if (part === '\r') continue;
    else if (part === '\n') rows.push('');
    else if (part === '\x1b[2K') rows[rows.length - 1] = '';
    else rows[rows.length - 1] += part;
  }
  return rows;
}

const step = (n: number, o: Partial<StepMetrics> = {}): StepMetrics => ({
  step: n, epoch: 0, policyVersion: n, prompts: 16, rollouts: 128, rewardMean: 0.4123, successRate: 0.4, meanLength: 10, tierEasy: 0, tierMedium: 0,
  tierHard: 0, freshGroups: 16, replayGroups: 0, trainedRows: 128, loss: 0.1, clipFrac: 0, kl: 0, entropy: 0, gradNorm: 0, evalAccuracy: null,
  oracleAccuracy: null, meanEss: null, secondsRollout: 3, secondsUpdate: 1, secondsStep: 4.25, ...o,
});

describe('ETA and durations', () => {
  it('the ETA is the mean time of the steps run so far times the steps left', () => {
    // 3 steps in 30 s: 10 s a step; 57 left → 570 s
    expect(etaSeconds(30, 3, 57)).toBe(570);
    expect(etaSeconds(12.5, 5, 0)).toBe(0);
    expect(etaSeconds(7, 0, 10)).toBeNaN(); // nothing measured yet
  });

  it('durations read as s, m+s, h+m', () => {
    expect(fmtSeconds(0)).toBe('0s');
    expect(fmtSeconds(59.4)).toBe('59s');
    expect(fmtSeconds(570)).toBe('9m30s');
    expect(fmtSeconds(3 * 3600 + 7 * 60 + 10)).toBe('3h07m');
    expect(fmtSeconds(NaN)).toBe('--');
    expect(fmtSeconds(-1)).toBe('--');
  });
});

describe('the step line and the bar', () => {
  it('one line per step: step n/N, reward, success, eval when new, rollouts, seconds', () => {
    expect(stepLine(step(3), 60, null)).toBe('step  3/60  reward 0.412  success 0.400  rollouts 128  4.3 s');
    expect(stepLine(step(10), 60, 0.525)).toBe('step 10/60  reward 0.412  success 0.400  eval 0.525  rollouts 128  4.3 s');
  });

  it('the bar fills in proportion and fits the width it is given', () => {
    const b = barLine(15, 60, 570, 60);
    // the tail takes 24 columns, the brackets 2: 34 cells, a quarter of them (8.5) rounds to 9
    expect(b).toBe(`[${'#'.repeat(9)}${'.'.repeat(25)}]  15/60   25%  ETA 9m30s`);
    expect(b.length).toBeLessThanOrEqual(60);
    expect(barLine(60, 60, 0, 60)).toMatch(/^\[#+\]  60\/60  100%  ETA 0s$/);
    expect(barLine(0, 60, NaN, 200)).toMatch(/^\[\.{40}\]  0\/60 +0%  ETA --$/); // at most 40 cells
    expect(fitWidth('abcdefgh', 5)).toBe('abcd…');
  });
});

describe('the status line on a terminal', () => {
  it('log lines go above the bar; the bar stays the last row and never exceeds the width', () => {
    const f = fakeOut(true, 40);
    const term = new StatusTerminal(f.out);
    term.setStatus(barLine(1, 6, NaN, 39));
    term.line('09:00:00 worker joined  worker=sim');
    term.line('step 2/6  reward 0.5');
    term.setStatus(barLine(2, 6, 8, 39));
    const rows = screen(f.text());
    expect(rows).toEqual(['09:00:00 worker joined  worker=sim', 'step 2/6  reward 0.5', barLine(2, 6, 8, 39)]);
    expect(rows.at(-1)!.length).toBeLessThanOrEqual(39);
    term.finish();
    expect(f.text().endsWith('\n')).toBe(true); // the final bar keeps its own row
  });

  it('a phase (the warm start) shows its name and elapsed seconds until it ends', () => {
    const f = fakeOut(true, 80);
    const term = new StatusTerminal(f.out);
    term.startPhase('warm start');
    expect(screen(f.text()).at(-1)).toBe(phaseLine('warm start', 0));
    expect(phaseLine('warm start', 31.7)).toBe('… warm start: 31 s');
    term.endPhase('something else'); // not the current phase: nothing happens
    expect(screen(f.text()).at(-1)).toBe(phaseLine('warm start', 0));
    term.endPhase('warm start');
    expect(screen(f.text()).at(-1)).toBe('');
  });

  it('off a terminal: plain lines, no status line, no escape codes', () => {
    const f = fakeOut(false);
    const term = new StatusTerminal(f.out);
    term.startPhase('warm start');
    term.setStatus('[###]');
    term.line('a line');
    term.finish();
    expect(f.text()).toBe('a line\n');
  });

  it('Progress prints a line per new step and redraws the bar under it', () => {
    const f = fakeOut(true, 80);
    const term = new StatusTerminal(f.out);
    let now = 1_000_000;
    const p = new Progress(6, 'text', pino({ level: 'info' }, { write: () => undefined }), term, () => now);
    p.update({ lastTrained: step(1), evalAccuracy: 0.4 });
    now += 10_000;
    p.update({ lastTrained: step(2), evalAccuracy: 0.4 });
    p.update({ lastTrained: step(2), evalAccuracy: 0.4 }); // the same step again: nothing new
    const rows = screen(f.text());
    expect(rows.filter((r) => /step \d\/6/.test(r))).toHaveLength(2);
    expect(rows[0]).toMatch(/step 1\/6 .* eval 0\.400 /);
    expect(rows[1]).not.toMatch(/eval/); // no new evaluation since the last line
    // one step measured, 10 s: 4 left → 40 s
    expect(rows.at(-1)).toBe(barLine(2, 6, 40, 79));
  });
});

describe('log records as text', () => {
  it('concise: time, message, fields; no pid, hostname or level word for info', () => {
    const t = new Date(2026, 0, 1, 9, 5, 7).getTime();
    expect(textOfRecord({ level: 30, time: t, pid: 1, hostname: 'h', name: 'dare', msg: 'worker joined', worker: 'sim', loss: 0.123456 })).toBe('09:05:07 worker joined  worker=sim loss=0.1235');
    expect(textOfRecord({ level: 40, msg: 'worker lost', reason: 'exit 1' })).toBe('warn: worker lost  reason="exit 1"');
    expect(textOfRecord({ level: 50, msg: 'actor failed', err: 'Error: x\n    at f (a.ts:1)' })).toBe('error: actor failed  err="Error: x"');
  });

  it("a job's own report (it names its request) is detail: hidden at info, shown at debug", () => {
    const rec = { level: 30, msg: 'rollout chunk logged', request: 'RolloutRequested/1', chunk: 0 };
    expect(textOfRecord(rec, 30)).toBeNull();
    expect(textOfRecord(rec, 20)).toBe('rollout chunk logged  request=RolloutRequested/1 chunk=0');
  });

  it('the text destination turns pino records into lines and drives phases', () => {
    const f = fakeOut(true, 80);
    const term = new StatusTerminal(f.out);
    const log = pino({ level: 'info', base: null, timestamp: false }, textDestination(term, 30));
    log.info({ phase: 'warm start', examples: 64 }, 'warm start: supervised training');
    expect(screen(f.text()).at(-1)).toBe(phaseLine('warm start', 0));
    log.info({ request: 'UpdateRequested/1' }, 'update applied');
    log.info({ phaseDone: 'warm start', loss: 0.5 }, 'warm start done');
    expect(screen(f.text())).toEqual(['warm start: supervised training  examples=64', 'warm start done  loss=0.5', '']);
  });
});
