/**
 * Regenerates docs/screenshots/report.png: the report of a run (default runs/quickstart-1, what `make demo`
 * writes), full page, in Debian's chromium at 1280 px wide.
 *   npx tsx scripts/screenshot-report.ts [RUN_DIR] [OUT_PNG]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { openRunLog } from '../run/openLog.ts';
import { writeReport } from '../views/report/html.ts';
import { openBrowser } from '../test/support/browser.ts';

const runDir = process.argv[2] ?? 'runs/quickstart-1';
const out = resolve(process.argv[3] ?? 'docs/screenshots/report.png');
const tmp = mkdtempSync(join(tmpdir(), 'dare-shot-'));
const log = openRunLog(runDir);
try {
  const html = join(tmp, 'report.html');
  writeReport(log, html);
  const b = await openBrowser();
  try {
    const page = await b.page({ width: 1280, height: 900 });
    await page.goto(`file://${html}`);
    await page.waitForSelector('section.dare-chart');
    const errors = b.errors(page);
    if (errors.length) throw new Error(`the report logged errors: ${errors.join('; ')}`);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    process.stdout.write(`${out}\n`);
  } finally {
    await b.close();
  }
} finally {
  void log.close();
  rmSync(tmp, { recursive: true, force: true });
}
