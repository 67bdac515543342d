/**
 * The run report end to end: a short DARE run on the sim writes report.html; `dare report` rebuilds it
 * from the log alone; the file is self-contained (nothing fetched from a network) and holds every series;
 * opened from disk in Debian's chromium, every plot renders with data drawn and the console stays clean.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedNats } from '../support/scenarios.ts';
import type { ReportData } from '../../views/report/series.ts';
import { hasChromium, openBrowser, type BrowserSession } from '../support/browser.ts';
import { runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-report-');
// a run id of its own (the directory's name): simRun.int.test.ts runs "run" over the same shared nats-server
const run = join(dir, 'report-run');

// the simRun scenario, shorter: estimates from step 3 on are SNIS, evals at 0, 4, 8
const scenario = {
  method: 'dare',
  run: { steps: 8, batchSize: 64, stepsPerEpoch: 2, checkpointEvery: 4, evalEvery: 4, evalSize: 200 },
  task: { source: 'sim', count: 1000, evalCount: 200, maxResponseTokens: 256 },
  worker: { kind: 'sim', lr: 0.1 },
  learner: { sigma: 0.5, bufferSize: 512 },
};

function dataOf(html: string): ReportData {
  const m = html.match(/<script type="application\/json" id="dare-data">([^]*?)<\/script>/);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]) as ReportData;
}

const some = (a: Array<number | null>) => a.some((v) => v !== null && Number.isFinite(v));

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sim.json'), JSON.stringify(scenario));
  // through the command, which writes the report when the run ends
  const nats = sharedNats();
  const p = runDare(['run', join(dir, 'sim.json'), '--run-dir', run, '--nats', nats.url, '--nats-token', nats.token]);
  expect(await p.exit, p.stderr()).toBe(0);
}, 120_000);
afterAll(cleanup);

describe('dare report', () => {
  it('`dare run` wrote report.html; `dare report -o` rebuilds the same file from the log', async () => {
    const p = runDare(['report', run, '-o', join(dir, 'again.html')]);
    expect(await p.exit, p.stderr()).toBe(0);
    expect(p.stdout()).toContain('8 steps');
    expect(readFileSync(join(dir, 'again.html'), 'utf8')).toBe(readFileSync(join(run, 'report.html'), 'utf8'));
  });

  it('is self-contained and holds every series', () => {
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).not.toMatch(/\s(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    const d = dataOf(html);
    expect(d.run).toMatchObject({ stepsDone: 8, completed: true, sim: true, method: 'dare' });
    expect(d.step).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const perStep = {
      reward: d.reward, success: d.success.all, length: d.length, ...d.update, ...d.time,
      generated: d.rollouts.generated, trained: d.rollouts.trained,
    };
    for (const [name, s] of Object.entries(perStep)) {
      expect(s, name).toHaveLength(8);
      expect(some(s), name).toBe(true);
    }
    expect(d.rollouts.discarded).toHaveLength(8);
    expect(Object.values(d.success.byTier).filter(some).length).toBeGreaterThan(0);
    for (let i = 0; i < 8; i++) expect(Object.values(d.tiers).reduce((a, t) => a + t[i], 0), `prompts of step ${i + 1}`).toBeGreaterThan(0);
    expect(d.eval.step).toEqual([0, 4, 8]);
    expect(some(d.eval.accuracy) && some(d.eval.oracleAccuracy)).toBe(true);
    expect(Object.keys(d.eval.byTier).length).toBeGreaterThan(0);
    for (const t of Object.values(d.eval.byTier)) expect(some(t.accuracy) && some(t.meanLength)).toBe(true);
    expect(d.difficulty.counts.length).toBeGreaterThan(1);
    expect(d.difficulty.counts.at(-1)!.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(d.calibration.step.length).toBe(8);
    expect(some(d.calibration.mae) && some(d.calibration.oracleMae)).toBe(true);
    expect(Object.keys(d.calibration.reliability.bySource)).toContain('snis');
    expect(some(d.calibration.reliability.bySource.snis.realized)).toBe(true);
    expect(some(d.ess.mean)).toBe(true);
  });

  it('names a directory that is not a run', async () => {
    const p = runDare(['report', dir]);
    expect(await p.exit).toBe(1);
    expect(p.stderr()).toContain(`${dir}: not a run directory`);
  });
});

describe.skipIf(!hasChromium())('the report in a browser', () => {
  let b: BrowserSession;
  beforeAll(async () => {
    b = await openBrowser();
  });
  afterAll(async () => {
    await b?.close();
  });

  it('opens from disk with every plot rendered and non-empty, and no console error', async () => {
    const page = await b.page();
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(`file://${join(run, 'report.html')}`);
    await page.waitForSelector('section.dare-chart');
    const charts = await page.$$eval('section.dare-chart', (secs) =>
      secs.map((s) => {
        // data drawn: pixels of a series colour (saturated), not only the grey/black axes and grid
        let coloured = 0;
        for (const c of Array.from(s.querySelectorAll('canvas'))) {
          const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          for (let i = 0; i < px.length; i += 4) {
            const [r, g, bl, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
            if (a > 0 && Math.max(r, g, bl) - Math.min(r, g, bl) > 40) coloured++;
          }
        }
        return { id: s.getAttribute('data-chart'), points: Number(s.getAttribute('data-points')), coloured };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual([
      'eval-accuracy', 'eval-length', 'train-success', 'reward', 'length', 'difficulty', 'calibration', 'calibration-error', 'oracle-error',
      'ess', 'clip', 'kl', 'entropy', 'grad-norm', 'time', 'rollouts', 'tiers',
    ]);
    for (const c of charts) {
      expect(c.points, c.id!).toBeGreaterThan(0);
      expect(c.coloured, c.id!).toBeGreaterThan(50);
    }
    expect(await page.textContent('.dare-summary')).toContain('8 of 8');
    expect(b.errors(page)).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('redraws with new data in place (the dashboard updates the same view)', async () => {
    const page = await b.page();
    await page.goto(`file://${join(run, 'report.html')}`);
    await page.waitForSelector('section.dare-chart');
    const after = await page.evaluate(() => {
      const w = window as unknown as { dareView: { update(d: unknown): void; charts(): Array<{ id: string; points: number }> } };
      const d = JSON.parse(document.getElementById('dare-data')!.textContent!);
      const cut = (o: unknown): unknown => (Array.isArray(o) ? o.slice(0, 4) : o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'edges' || k === 'centers' ? v : cut(v)])) : o);
      const before = w.dareView.charts().find((c) => c.id === 'reward')!.points;
      w.dareView.update({ ...(cut(d) as object), run: d.run });
      return { before, after: w.dareView.charts().find((c) => c.id === 'reward')!.points, sections: document.querySelectorAll('section.dare-chart').length };
    });
    expect(after).toEqual({ before: 8, after: 4, sections: 17 });
    expect(b.errors(page)).toEqual([]);
  });
});
