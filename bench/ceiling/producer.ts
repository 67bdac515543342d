/**
 * One producer process of the single-writer ceiling benchmark (ceiling.ts starts N of them): connects to
 * the benchmark's NATS server, says "ready" on stdout, waits for the go message, then appends its
 * RolloutCompleted events (with their group blobs, or, in `events` mode, without) as fast as the store
 * acknowledges them, with `window` requests in flight, for warmupMs + measureMs. Then it waits for the
 * requests still in flight and prints one JSON line: how many rollouts were acknowledged (they are rollouts
 * 0 .. acked-1: no request is abandoned), how many of them in the measured window, and the ack latencies
 * (ms) of the requests sent in that window.
 *
 * argv[2]: the ProducerConfig as JSON.
 */
import { connectNats } from '../../bus/connect.ts';
import { LogClient } from '../../bus/logClient.ts';
import { encodeEvent, pack, unpack } from '../../events/codec.ts';
import { CEILING_RUN, GO_SUBJECT, ROLLOUT_SUBJECT, RolloutFactory, type RolloutShape } from './rollouts.ts';

export interface ProducerConfig {
  url: string;
  token: string;
  producer: number;
  shape: RolloutShape;
  mode: 'blobs' | 'events';
  window: number;
  perRequest: number;
  warmupMs: number;
  measureMs: number;
}

export interface ProducerReport {
  producer: number;
  acked: number;
  ackedInWindow: number;
  requestBytes: number;
  latenciesMs: number[];
  cpuMs: number;
}

const cfg = JSON.parse(process.argv[2]) as ProducerConfig;
// the benchmark holds our stdin: when it is gone (killed, even with -9) so are we
process.stdin.on('end', () => process.exit(1));
process.stdin.resume();
const factory = new RolloutFactory(cfg.producer, cfg.shape);
const nc = await connectNats({ url: cfg.url, token: cfg.token, name: `ceiling/producer-${cfg.producer}` });
const bus = new LogClient(nc, CEILING_RUN, 60_000);
const go = new Promise<void>((resolve) => {
  const sub = nc.subscribe(GO_SUBJECT, { max: 1, callback: () => resolve() });
  void sub;
});
await nc.flush();
process.stdout.write('ready\n');
await go;

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const windowFrom = t0 + cfg.warmupMs;
const end = windowFrom + cfg.measureMs;
let next = 0;
let acked = 0;
let ackedInWindow = 0;
let requestBytes = 0;
const latencies: number[] = [];

async function send(first: number): Promise<void> {
  const rollouts = Array.from({ length: cfg.perRequest }, (_, j) => factory.rollout(first + j));
  if (cfg.mode === 'events') {
    await bus.append(rollouts.map((r) => r.event));
    return;
  }
  const body = pack({ events: rollouts.map((r) => encodeEvent(r.event)), blobs: rollouts.map((r) => [r.key, r.blob]) });
  if (requestBytes === 0) requestBytes = body.length;
  const msg = await nc.request(ROLLOUT_SUBJECT, body, { timeout: 60_000 });
  const reply = unpack(msg.data) as { ok: boolean; error?: string; results?: Array<{ duplicate: boolean }> };
  if (!reply.ok) throw new Error(`producer ${cfg.producer}: rollouts ${first}..: ${reply.error}`);
  if (reply.results!.some((r) => r.duplicate)) throw new Error(`producer ${cfg.producer}: rollouts ${first}..: logged before`);
}

async function lane(): Promise<void> {
  while (performance.now() < end) {
    const first = next;
    next += cfg.perRequest;
    const sent = performance.now();
    await send(first);
    const done = performance.now();
    acked += cfg.perRequest;
    if (sent >= windowFrom && done <= end) {
      ackedInWindow += cfg.perRequest;
      latencies.push(Math.round((done - sent) * 1000) / 1000);
    }
  }
}

await Promise.all(Array.from({ length: cfg.window }, () => lane()));
if (cfg.mode === 'events' && requestBytes === 0) {
  requestBytes = pack({ events: Array.from({ length: cfg.perRequest }, (_, j) => encodeEvent(factory.rollout(j).event)) }).length;
}
const cpu = process.cpuUsage(cpu0);
const report: ProducerReport = { producer: cfg.producer, acked, ackedInWindow, requestBytes, latenciesMs: latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
process.stdout.write(JSON.stringify(report) + '\n');
await nc.drain();
process.exit(0);
