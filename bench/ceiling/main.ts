/**
 * The ceiling's variants from the command line (BENCHMARKS.md "The single writer's ceiling"; `dare bench
 * --only ceiling` runs the default one):
 *   node --import tsx bench/ceiling/main.ts [--producers 1,2,4] [--mode blobs|events] [--window W]
 *     [--per-request R] [--warmup-ms MS] [--measure-ms MS] [--json]
 * Prints one Markdown table row per N (or one JSON object per line).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startNatsServer } from '../../bus/natsServer.ts';
import { writerCeiling } from './ceiling.ts';

const { values: a } = parseArgs({
  options: {
    producers: { type: 'string', default: '1,2,4' },
    mode: { type: 'string', default: 'blobs' },
    window: { type: 'string', default: '1' },
    'per-request': { type: 'string', default: '1' },
    'warmup-ms': { type: 'string', default: '1000' },
    'measure-ms': { type: 'string', default: '5000' },
    json: { type: 'boolean', default: false },
  },
});
if (a.mode !== 'blobs' && a.mode !== 'events') throw new Error(`--mode: blobs or events, not ${a.mode}`);
const dir = mkdtempSync(join(process.env.DARE_BENCH_DIR ?? tmpdir(), 'dare-ceiling-'));
const nats = await startNatsServer();
try {
  if (!a.json) {
    process.stdout.write('| wire | N | window | per request | rollouts/s | MB/s | ack p50 ms | ack p99 ms | store CPU | nats CPU | producers CPU | file bytes / rollout |\n');
    process.stdout.write('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n');
  }
  for (const n of a.producers.split(',').map(Number)) {
    const r = await writerCeiling(join(dir, `n${n}`), nats, {
      producers: n, mode: a.mode, window: Number(a.window), perRequest: Number(a['per-request']), warmupMs: Number(a['warmup-ms']), measureMs: Number(a['measure-ms']),
    });
    if (a.json) process.stdout.write(JSON.stringify(r) + '\n');
    else process.stdout.write(`| ${r.mode} | ${n} | ${r.window} | ${r.perRequest} | ${r.rolloutsPerSec} | ${r.MBps} | ${r.ackP50Ms} | ${r.ackP99Ms} | ${r.storeCpu} | ${r.natsCpu} | ${r.producerCpu} | ${r.fileBytesPerRollout} |\n`);
  }
} finally {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}
