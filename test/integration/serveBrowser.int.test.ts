/**
 * The dashboard in a real browser (Debian's chromium, playwright-core) over a live sim run: the step
 * counter advances, a statechart's highlighted phase changes, a click on a prompt opens its timeline, and
 * the Pause button really pauses the run — the log holds ControlApplied(pause, source dashboard) and no
 * step starts while paused — then Resume lets it go on and Stop ends it.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { serveRun, type Serving } from '../../cli/serveCommand.ts';
import { hasChromium, openBrowser, type BrowserSession } from '../support/browser.ts';
import { layoutOf, settled } from '../support/layout.ts';
import { loggedEvents, simScenario, sleep, testDir, until, untilLive } from '../support/live.ts';
import { runDare, type DareProcess } from '../support/runs.ts';

// few prompts, many steps; every update is held 150 ms (DARE_FAULT_PAUSE below) so the run is slow enough to watch
const { dir, file } = testDir('dare-serve-browser-', { sim: simScenario({ run: { steps: 500, checkpointEvery: 500, evalEvery: 500 } }) });
let browser: BrowserSession | undefined;
let serving: Serving | undefined;
let run: DareProcess | undefined;
afterAll(async () => {
  await browser?.close();
  await serving?.close();
  if (run) await run.killWhen(() => true, 0);
});

/** [seq, type, data] of the log's events. */
function logged(runDir: string): Array<{ seq: number; type: string; data: Record<string, unknown> }> {
  return loggedEvents(runDir).map((l) => ({ seq: l.seq, type: l.event.type, data: l.event.data as Record<string, unknown> }));
}

const text = (page: Page, sel: string) => page.locator(sel).textContent();

describe.skipIf(!hasChromium())('dare serve in a browser, over a live run', () => {
  it('shows the run advancing, a state change and a prompt timeline; pause really pauses, resume and stop work', async () => {
    const runDir = join(dir, 'run');
    run = runDare(['run', file('sim'), '--run-dir', runDir], { DARE_FAULT_PAUSE: 'update:150' });
    await untilLive(runDir);
    serving = await serveRun({ dir: runDir, port: 0 });
    browser = await openBrowser();
    const page = await browser.page({ width: 1400, height: 1000 });
    await page.goto(serving.url);
    await page.waitForSelector('body[data-ready="1"]');
    await until('the page to show the live run', async () => (await text(page, '#mode')) === 'live');
    expect(await page.locator('#controls').isVisible()).toBe(true);

    // the step counter grows
    const step0 = Number(await text(page, '#step'));
    await until('the step counter to grow', async () => Number(await text(page, '#step')) >= step0 + 3);

    // the session's highlighted state changes (exactly one state is highlighted at a time)
    const session = page.locator('.machine[data-actor="session"] g.state.current');
    const seen = new Set<string>();
    await until('the session to be seen in two highlighted states', async () => {
      expect(await session.count()).toBe(1);
      seen.add((await session.getAttribute('data-state'))!);
      return seen.size >= 2;
    });
    expect([...seen].every((s) => ['estimating', 'selecting', 'rollingOut', 'updating', 'evaluating', 'checkpointing'].includes(s))).toBe(true);
    expect(await page.locator('.machine[data-actor="session"] .recent li').count()).toBeGreaterThan(0);
    // the statechart nests: the step's phases in `active`, inside `open`, both marked while a step runs
    expect(await page.locator('.machine[data-actor="session"] g.group').evaluateAll((gs) => gs.map((g) => (g as SVGElement).dataset.group))).toEqual(['open', 'active']);
    expect(await page.locator('.machine[data-actor="session"] g.group.current').count()).toBe(2);
    // the arrow of the last transition is marked
    expect(await page.locator('.machine[data-actor="session"] g.edge.last').count()).toBe(1);

    // plots are drawn and the table lists the run's prompts
    await until('the plots', async () => (await page.locator('.dare-chart').count()) > 0);
    await until('the prompt table', async () => (await page.locator('#prompt-table tbody tr').count()) > 0);

    // plots and statecharts stay inside their cards, which never overlap, as the window changes width
    for (const width of [1920, 1280, 700, 1400]) {
      await page.setViewportSize({ width, height: 1000 });
      await settled(page);
      const plots = await layoutOf(page, 'section.dare-chart', '.uplot, canvas.dare-heat');
      const machines = await layoutOf(page, '.machine', 'svg.statechart');
      expect([plots.cards, machines.cards], `${width} px`).toEqual([plots.plots, machines.plots]);
      expect(machines.cards, `${width} px`).toBe(6);
      expect({ width, plots: [plots.outside, plots.overlapping, plots.narrow], machines: [machines.outside, machines.overlapping] })
        .toEqual({ width, plots: [[], [], []], machines: [[], []] });
    }
    expect(await text(page, '#prompt-count')).toMatch(/of 120 prompts/);

    // a prompt that was sampled: its timeline opens on click
    await page.locator('#prompt-table th[data-sort="timesSampled"]').click();
    await until('the most-sampled prompt first', async () => Number(await page.locator('#prompt-table tbody tr:first-child td:nth-child(8)').textContent()) > 0);
    const index = await page.locator('#prompt-table tbody tr:first-child').getAttribute('data-index');
    // the table follows the run (its order may change under the pointer): search for that one prompt
    await page.locator('#prompt-search').fill(`#${index}`);
    await until('the search to leave one row', async () => {
      const rows = await page.locator('#prompt-table tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.index));
      return rows.length === 1 && rows[0] === index;
    });
    await page.locator(`#prompt-table tbody tr[data-index="${index}"]`).click();
    await page.waitForSelector('#timeline:not([hidden])');
    expect(await text(page, '#timeline-title')).toContain(`prompt #${index}`);
    await until('timeline entries', async () => (await page.locator('#timeline-table tbody tr').count()) > 0);
    const kinds = await page.locator('#timeline-table tbody tr td:nth-child(3)').allTextContents();
    expect(kinds).toContain('selected');
    expect(kinds).toContain('rollout');
    expect(await page.locator('#timeline-chart svg .sel').count()).toBeGreaterThan(0);
    await page.locator('#timeline-close').click();

    // Pause: the log shows it, and no step starts while paused
    await page.locator('#pause').click();
    await until('the page to show the pause', async () => (await text(page, '#mode')) === 'paused');
    const pause = logged(runDir).find((e) => e.type === 'ControlApplied');
    expect(pause?.data).toEqual({ command: 'pause', source: 'dashboard' });
    // the step in flight (or one the barrier started just before the pause) finishes its update
    await until('the last started step to be updated', async () => {
      const evs = logged(runDir);
      const last = Math.max(...evs.filter((e) => e.type === 'StepStarted').map((e) => e.data.step as number));
      return evs.some((e) => e.type === 'UpdateCompleted' && e.data.step === last);
    });
    const held = logged(runDir).filter((e) => e.type === 'StepStarted').length;
    const shown = await text(page, '#step');
    await sleep(1500);
    expect(logged(runDir).filter((e) => e.type === 'StepStarted').length).toBe(held);
    expect(logged(runDir).filter((e) => e.type === 'StepStarted' && e.seq > pause!.seq).length).toBeLessThanOrEqual(1);
    expect(await text(page, '#step')).toBe(shown);
    expect(await page.locator('#pause').isDisabled()).toBe(true);

    // Resume: steps start again
    await page.locator('#resume').click();
    await until('steps to start again', async () => logged(runDir).filter((e) => e.type === 'StepStarted').length > held);
    await until('the page to follow', async () => Number(await text(page, '#step')) > Number(shown));

    // Stop: the run ends early (stopped: `dare resume` would go on), the page says so and offers no more control
    await page.locator('#stop').click();
    expect(await run.exit).toBe(0);
    run = undefined;
    await until('the page to show the stop', async () => (await text(page, '#mode')) === 'stopped');
    expect(await page.locator('#controls').isVisible()).toBe(false);
    const events = logged(runDir);
    expect(events.filter((e) => e.type === 'ControlApplied').map((e) => e.data)).toEqual([
      { command: 'pause', source: 'dashboard' }, { command: 'resume', source: 'dashboard' }, { command: 'stop', source: 'dashboard' },
    ]);
    expect(events.at(-1)?.type).toBe('RunStopped');
    expect(events.filter((e) => e.type === 'StepStarted').length).toBeLessThan(500);
    expect(await text(page, '#last-seq')).toBe(String(events.length));
    expect(browser.errors(page)).toEqual([]);
  }, 90_000);
});
