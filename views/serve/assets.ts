/**
 * The dashboard's static files: its own page, script and style (views/serve/static/) and the report's chart
 * code with the bundled uPlot (views/report/assets.ts), all served from memory under fixed URLs — nothing
 * is fetched from the network by the page, and no URL is ever mapped onto the file system.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportAssets } from '../report/assets.ts';

export interface Asset {
  type: string;
  body: Buffer;
}

const STATIC = join(dirname(fileURLToPath(import.meta.url)), 'static');

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** URL path → asset, read once. */
export function dashboardAssets(): Map<string, Asset> {
  const own = (file: string, type: string): Asset => ({ type, body: readFileSync(join(STATIC, file)) });
  const r = reportAssets();
  return new Map<string, Asset>([
    ['/', own('index.html', 'text/html; charset=utf-8')],
    ['/assets/dashboard.js', own('dashboard.js', JS)],
    ['/assets/dashboard.css', own('dashboard.css', CSS)],
    ['/assets/uPlot.js', { type: JS, body: Buffer.from(r.uplotJs) }],
    ['/assets/uPlot.css', { type: CSS, body: Buffer.from(r.uplotCss) }],
    ['/assets/charts.js', { type: JS, body: Buffer.from(r.chartsJs) }],
    ['/assets/charts.css', { type: CSS, body: Buffer.from(r.chartsCss) }],
  ]);
}
