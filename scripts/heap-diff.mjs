/**
 * Compare two V8 heap snapshots (node --heapsnapshot-signal=SIGUSR2, then `kill -USR2 PID` twice): total
 * self size, and the 30 (type, constructor) pairs whose self size grew most, with their object counts.
 * Usage: node --max-old-space-size=8000 scripts/heap-diff.mjs A.heapsnapshot B.heapsnapshot
 */
import { readFileSync } from 'node:fs';
function agg(f) {
  const s = JSON.parse(readFileSync(f, 'utf8'));
  const m = s.snapshot.meta; const F = m.node_fields.length; const types = m.node_types[0];
  const ti = m.node_fields.indexOf('type'), ni = m.node_fields.indexOf('name'), si = m.node_fields.indexOf('self_size');
  const out = new Map(); let total = 0;
  for (let i = 0; i < s.nodes.length; i += F) {
    const t = types[s.nodes[i + ti]]; let name = s.strings[s.nodes[i + ni]];
    if (t === 'string' || t === 'concatenated string' || t === 'sliced string') name = '(string)';
    if (t === 'number') name = '(number)';
    if (t === 'code') name = '(code)';
    const k = t + ' ' + (name.length > 60 ? name.slice(0, 60) : name);
    const e = out.get(k) ?? [0, 0]; e[0]++; e[1] += s.nodes[i + si]; out.set(k, e); total += s.nodes[i + si];
  }
  return { out, total };
}
if (process.argv.length < 4) {
  console.error('usage: node scripts/heap-diff.mjs A.heapsnapshot B.heapsnapshot');
  process.exit(2);
}
const a = agg(process.argv[2]), b = agg(process.argv[3]);
console.log('total', (a.total / 1e6).toFixed(1), '->', (b.total / 1e6).toFixed(1), 'MB');
const keys = new Set([...a.out.keys(), ...b.out.keys()]);
const rows = [...keys].map((k) => { const x = a.out.get(k) ?? [0, 0], y = b.out.get(k) ?? [0, 0]; return [k, y[0] - x[0], y[1] - x[1], y[1]]; });
rows.sort((p, q) => q[2] - p[2]);
for (const r of rows.slice(0, 30)) console.log((r[2] / 1e6).toFixed(2).padStart(8), 'MB', String(r[1]).padStart(9), 'objs', (r[3] / 1e6).toFixed(1).padStart(7), 'MB now ', r[0]);
