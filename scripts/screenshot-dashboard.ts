/**
 * Regenerates docs/screenshots/dashboard.png (the top of the page: status, statecharts, first plots) and
 * docs/screenshots/dashboard-timeline.png (the prompt table with one prompt's timeline open) from a real
 * live run: scenarios/sim-smoke.json in a temporary directory, `dare serve` on it, Debian's chromium; the
 * shots are taken while the run goes (at step AT, default 24), then the run is stopped from the page.
 *   npx tsx scripts/screenshot-dashboard.ts [OUT_DIR] [AT]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveRun } from '../cli/serveCommand.ts';
import { openBrowser } from '../test/support/browser.ts';

const outDir = resolve(process.argv[2] ?? 'docs/screenshots');
const at = Number(process.argv[3] ?? 24);
const tmp = mkdtempSync(join(tmpdir(), 'dare-dashboard-shot-'));
const runDir = join(tmp, 'sim-smoke');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// updates held 150 ms: slow enough that the page is caught mid-run
const child = spawn(process.execPath, ['cli/dare.js', 'run', 'scenarios/sim-smoke.json', '--run-dir', runDir], {
  env: { ...process.env, DARE_FAULT_PAUSE: 'update:150', DARE_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
try {
  while (!existsSync(join(runDir, 'nats.json'))) await sleep(100);
  const serving = await serveRun({ dir: runDir, port: 0 });
  const b = await openBrowser();
  try {
    const page = await b.page({ width: 1400, height: 1000 });
    await page.goto(serving.url);
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForFunction((n) => Number(document.getElementById('step')?.textContent) >= n, at, { timeout: 120_000 });
    await page.waitForSelector('section.dare-chart');
    await sleep(600); // the charts of the last update are drawn
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'dashboard.png'), clip: { x: 0, y: 0, width: 1400, height: 1750 }, fullPage: true });

    await page.locator('#prompt-table th[data-sort="timesSampled"]').click();
    await page.waitForFunction(() => Number(document.querySelector('#prompt-table tbody tr td:nth-child(8)')?.textContent) > 0);
    await page.locator('#prompt-table tbody tr:first-child').click();
    await page.waitForSelector('#timeline:not([hidden]) #timeline-table tbody tr');
    await page.evaluate(() => window.scrollTo(0, document.getElementById('prompts')!.offsetTop - document.getElementById('top')!.offsetHeight - 8));
    await sleep(300);
    await page.screenshot({ path: join(outDir, 'dashboard-timeline.png') });
    const errors = b.errors(page);
    if (errors.length) throw new Error(`the dashboard logged errors: ${errors.join('; ')}`);
    await page.keyboard.press('Escape');
    await page.locator('#stop').click();
    await exited;
    process.stdout.write(`${join(outDir, 'dashboard.png')}\n${join(outDir, 'dashboard-timeline.png')}\n`);
  } finally {
    await b.close();
    await serving.close();
  }
} finally {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
