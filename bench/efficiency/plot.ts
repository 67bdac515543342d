/**
 * A line chart of accuracy against rollouts, written as plain SVG (no dependency, diff-friendly): one line
 * per method (the median curve across seeds), DARE and GRPO drawn thick, a dashed line at the target.
 */
import type { CurvePoint } from './summary.ts';

export interface Series {
  name: string;
  points: CurvePoint[];
}

const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354', '#756bb1', '#636363',
];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round numbers for axis ticks: 1, 2 or 5 × 10^k, about `n` of them. */
function ticks(lo: number, hi: number, n: number): number[] {
  const raw = (hi - lo) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtCount(v: number): string {
  return v >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(v);
}

/** The SVG text of the chart. `highlight` names are drawn thick (in that order, on top). */
export function lineChartSvg(o: { title: string; xLabel: string; yLabel: string; series: Series[]; target?: number; highlight?: string[] }): string {
  const W = 900;
  const H = 520;
  const m = { l: 64, r: 190, t: 40, b: 52 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = o.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.rollouts));
  let yMin = Math.min(...all.map((p) => p.accuracy), o.target ?? 1);
  let yMax = Math.max(...all.map((p) => p.accuracy), o.target ?? 0);
  if (!Number.isFinite(yMin)) [yMin, yMax] = [0, 1];
  yMin = Math.max(0, Math.floor(yMin * 20) / 20);
  yMax = Math.min(1, Math.ceil(yMax * 20) / 20);
  if (yMax <= yMin) yMax = yMin + 0.05;
  const X = (x: number) => m.l + (x / xMax) * pw;
  const Y = (y: number) => m.t + (1 - (y - yMin) / (yMax - yMin)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`);
  for (const t of ticks(0, xMax, 8)) {
    out.push(`<line x1="${X(t).toFixed(1)}" y1="${m.t}" x2="${X(t).toFixed(1)}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${X(t).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${fmtCount(t)}</text>`);
  }
  for (const t of ticks(yMin, yMax, 6)) {
    out.push(`<line x1="${m.l}" y1="${Y(t).toFixed(1)}" x2="${m.l + pw}" y2="${Y(t).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end">${Number(t.toFixed(2))}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  if (o.target !== undefined && o.target >= yMin && o.target <= yMax) {
    out.push(`<line x1="${m.l}" y1="${Y(o.target).toFixed(1)}" x2="${m.l + pw}" y2="${Y(o.target).toFixed(1)}" stroke="#000" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${m.l + pw - 4}" y="${(Y(o.target) - 5).toFixed(1)}" text-anchor="end">target ${o.target}</text>`);
  }
  const hl = o.highlight ?? [];
  const order = [...o.series.filter((s) => !hl.includes(s.name)), ...hl.map((h) => o.series.find((s) => s.name === h)).filter((s): s is Series => !!s)];
  const color = new Map(o.series.map((s, i) => [s.name, PALETTE[i % PALETTE.length]]));
  for (const s of order) {
    if (s.points.length === 0) continue;
    const thick = hl.includes(s.name);
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${X(p.rollouts).toFixed(1)} ${Y(p.accuracy).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color.get(s.name)}" stroke-width="${thick ? 3 : 1.2}"${thick ? '' : ' stroke-opacity="0.8"'}><title>${esc(s.name)}</title></path>`);
  }
  o.series.forEach((s, i) => {
    const y = m.t + 10 + i * 16;
    const thick = hl.includes(s.name);
    out.push(`<line x1="${m.l + pw + 12}" y1="${y}" x2="${m.l + pw + 34}" y2="${y}" stroke="${color.get(s.name)}" stroke-width="${thick ? 3 : 1.5}"/>`);
    out.push(`<text x="${m.l + pw + 40}" y="${y + 4}"${thick ? ' font-weight="bold"' : ''}>${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
