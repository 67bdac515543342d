/**
 * The run report: one self-contained HTML file (uPlot, the chart code and the data inlined; opens with no
 * network), built from the log alone. Same input, same bytes: no timestamps of its own.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventLog } from '../../store/eventLog.ts';
import { reportAssets } from './assets.ts';
import { reportDataOf, type ReportData } from './series.ts';

/** JSON for a `<script type="application/json">`: no `<` (so no `</script>` or `<!--`), no JS line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Code or CSS inlined in a `<script>` / `<style>`: an end tag inside it would close the element early. */
function inline(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function reportHtml(data: ReportData): string {
  const a = reportAssets();
  const title = `dare report: ${data.run.id || 'run'} (${data.run.method || '?'})`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dare report">
<title>${escapeHtml(title)}</title>
<style>${inline(a.uplotCss, 'style')}</style>
<style>${inline(a.chartsCss, 'style')}
body { margin: 16px 24px; background: #fafafa; }
</style>
</head>
<body>
<main id="dare-report"></main>
<script type="application/json" id="dare-data">${scriptJson(data)}</script>
<script>${inline(a.uplotJs, 'script')}</script>
<script>${inline(a.chartsJs, 'script')}</script>
<script>
window.dareView = DareCharts.render(document.getElementById('dare-report'), JSON.parse(document.getElementById('dare-data').textContent));
</script>
</body>
</html>
`;
}

/** Fold a run's log and write its report to `file` (atomically: a reader never sees half a file). */
export function writeReport(log: EventLog, file: string): ReportData {
  const data = reportDataOf(log.iterate(1));
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, reportHtml(data));
  renameSync(tmp, file);
  return data;
}

/**
 * `dare run`'s report at the end of a run (`<runDir>/report.html`). A report that cannot be written costs
 * the run nothing: warn and carry on (`dare report` rebuilds it from the log).
 */
export function writeRunReport(log: EventLog, runDir: string, logger: { warn(o: object, msg: string): void }): void {
  try {
    writeReport(log, join(runDir, 'report.html'));
  } catch (e) {
    logger.warn({ err: e }, 'report.html not written (rebuild it with `dare report`)');
  }
}
