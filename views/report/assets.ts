/**
 * The browser assets of the report and the dashboard, as text: uPlot (from its npm package) and our chart
 * code and styles. Read once; the report inlines them, `dare serve` may serve them as files.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
  chartsJs: string;
  chartsCss: string;
}

let cached: ReportAssets | null = null;

export function reportAssets(): ReportAssets {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot'));
  cached = {
    uplotJs: readFileSync(join(uplot, 'uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(join(uplot, 'uPlot.min.css'), 'utf8'),
    chartsJs: readFileSync(join(here, 'charts.client.js'), 'utf8'),
    chartsCss: readFileSync(join(here, 'charts.client.css'), 'utf8'),
  };
  return cached;
}
