/**
 * Who may say what, across hosts (issue #18 item 5): a nats-server with one user per role (bus/permissions.ts)
 * and the store's check of each role's subject (events/roles.ts). A bridge's credentials append worker facts
 * and cannot append a decision, a lifecycle or a control event, by either route: the server refuses the
 * publish outright, and the store refuses the wrong type on the bridge's own subject. An observer's
 * credentials read and follow the log and cannot append at all. The same over TLS.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../bus/connect.ts';
import { AppendRejected, LogClient } from '../../bus/logClient.ts';
import { startNatsServer, type NatsServerHandle } from '../../bus/natsServer.ts';
import { newUsers, type NatsRole, type NatsUser } from '../../bus/permissions.ts';
import { makeEvent, type DareEvent } from '../../events/catalogue.ts';
import { pack } from '../../events/codec.ts';
import { EventLog } from '../../store/eventLog.ts';
import { serveLog, type LogServer } from '../../store/logServer.ts';
import { stepEvent } from '../support/events.ts';
import { tempDir } from '../support/tmp.ts';

const RUN = 'roles1';
const { dir, cleanup } = tempDir('dare-roles-');

const joined = (n: number): DareEvent =>
  makeEvent('WorkerJoined', { worker: `replica-${n}`, kind: 'sim', device: 'cpu', dtype: 'float32', host: 'h2' }, { run: RUN, id: `WorkerJoined/replica-${n}`, ts: 0 });
const stop = (n: number): DareEvent => makeEvent('ControlApplied', { command: 'stop', source: 'forged' }, { run: RUN, id: `ControlApplied/stop/${n}`, ts: 0 });
const failed = (n: number): DareEvent => makeEvent('RunFailed', { reason: 'forged' }, { run: RUN, id: `RunFailed/forged/${n}`, ts: 0 });

interface Setup {
  server: NatsServerHandle;
  users: NatsUser[];
  log: EventLog;
  store: LogServer;
  warnings: string[];
  conns: NatsConnection[];
  ca?: string;
}

async function setUp(name: string, tls?: { cert: string; key: string; ca: string }): Promise<Setup> {
  const users = newUsers();
  const server = await startNatsServer({ users, tls: tls && { cert: tls.cert, key: tls.key } });
  const log = EventLog.open(join(dir, name));
  const warnings: string[] = [];
  const s = { server, users, log, warnings, conns: [], ca: tls?.ca } as unknown as Setup;
  const storeNc = await as(s, 'run');
  s.store = serveLog(storeNc, log, RUN, {
    warn: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`),
    error: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`),
  });
  return s;
}

async function as(s: Setup, role: NatsRole): Promise<NatsConnection> {
  const u = s.users.find((x) => x.role === role)!;
  const nc = await connectNats({ url: s.server.url, user: u.user, pass: u.pass, ca: s.ca, name: role });
  s.conns.push(nc);
  return nc;
}

async function tearDown(s: Setup): Promise<void> {
  await s.store.stop();
  for (const nc of s.conns) await nc.close().catch(() => undefined);
  await s.log.close();
  await s.server.stop();
}

/** The refusal's message (the append must be refused, never time out or succeed). */
async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'the append was accepted').toBeInstanceOf(AppendRejected);
  return (e as Error).message;
}

afterAll(cleanup);

describe('per-role NATS users and the store\'s check of each role', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp('plain');
  });
  afterAll(async () => tearDown(s));

  it('a bridge appends worker facts, never a decision, a lifecycle or a control event', async () => {
    const bridge = new LogClient(await as(s, 'bridge'), RUN).as('bridge');
    const [r] = await bridge.append([joined(1)], 5_000);
    expect(r.seq).toBeGreaterThan(0);
    const last = s.log.lastSeq();

    // on its own subject, the store refuses the types a bridge does not emit, naming what a bridge may say
    for (const ev of [stepEvent(RUN, 1), stop(1), failed(1)]) {
      const msg = await refusal(bridge.append([ev], 5_000));
      expect(msg).toContain(`${ev.type} ${ev.id}`);
      expect(msg).toContain('a bridge appends only worker facts');
    }
    // a request mixing a fact with a decision is refused whole: nothing of it is logged
    await refusal(bridge.append([joined(2), stepEvent(RUN, 2)], 5_000));

    // the run's own subject and an actor's: the NATS server refuses the publish itself
    const bridgeNc = await as(s, 'bridge');
    const asRun = new LogClient(bridgeNc, RUN);
    expect(await refusal(asRun.append([stop(2)], 5_000))).toContain('refused by the NATS server');
    const asActor = new LogClient(bridgeNc, RUN).as('actor');
    expect(await refusal(asActor.append([stepEvent(RUN, 3)], 5_000))).toContain('refused by the NATS server');
    // nor can it ask the run to stop on the control subject (the request is refused, never delivered)
    await expect(bridgeNc.request(`dare.${RUN}.control`, pack({ command: 'stop' }), { timeout: 2_000 })).rejects.toThrow(/Permissions Violation|permission/i);

    expect(s.log.lastSeq()).toBe(last);
    expect([...s.log.iterate(1)].map((e) => e.event.type)).toEqual(['WorkerJoined']);
    expect(s.warnings.filter((w) => w.startsWith('rejected append')).length).toBe(4);
  });

  it('an actor appends decisions, not worker facts or control', async () => {
    const actor = new LogClient(await as(s, 'actor'), RUN).as('actor');
    const [r] = await actor.append([stepEvent(RUN, 10)], 5_000);
    expect([...s.log.iterate(r.seq)][0].event.type).toBe('StepStarted');
    expect(await refusal(actor.append([joined(10)], 5_000))).toContain('an actor appends only decisions');
    expect(await refusal(actor.append([stop(10)], 5_000))).toContain('not ControlApplied');
    expect(await refusal(new LogClient(actor.nc, RUN).append([stop(11)], 5_000))).toContain('refused by the NATS server');
  });

  it('an observer reads and follows the log, and cannot append at all', async () => {
    const observer = new LogClient(await as(s, 'observer'), RUN);
    const { events } = await observer.read(1);
    expect(events.map((e) => e.event.type)).toEqual(['WorkerJoined', 'StepStarted']);
    const seen: string[] = [];
    const consumer = observer.consume(1, (e) => void seen.push(e.event.type));
    await consumer.reached(3);
    expect(seen).toEqual(['WorkerJoined', 'StepStarted']);
    await consumer.stop();
    const before = s.log.lastSeq();
    for (const c of [observer, new LogClient(observer.nc, RUN).as('bridge'), new LogClient(observer.nc, RUN).as('actor')]) {
      expect(await refusal(c.append([joined(20)], 5_000))).toContain('refused by the NATS server');
    }
    expect(s.log.lastSeq()).toBe(before);
  });

  it('a subject of no known role is refused by the store', async () => {
    const run = new LogClient(await as(s, 'run'), RUN);
    const msg = await run.nc.request(`dare.${RUN}.append.admin`, pack({ events: [] }), { timeout: 5_000 });
    expect(new TextDecoder().decode(msg.data)).toContain('no such role');
  });
});

describe('over TLS', () => {
  let s: Setup;
  let tlsFiles: { cert: string; key: string; ca: string };
  beforeAll(async () => {
    // a self-signed certificate for 127.0.0.1, which is also the CA the clients trust
    const cert = join(dir, 'server.pem');
    const key = join(dir, 'server.key');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    tlsFiles = { cert, key, ca: cert };
    s = await setUp('tls', tlsFiles);
  });
  afterAll(async () => tearDown(s));

  it('roles hold over TLS, and a client that does not trust the certificate cannot connect', async () => {
    const bridge = new LogClient(await as(s, 'bridge'), RUN).as('bridge');
    await bridge.append([joined(30)], 5_000);
    expect(await refusal(bridge.append([stop(30)], 5_000))).toContain('a bridge appends only worker facts');
    const u = s.users.find((x) => x.role === 'observer')!;
    await expect(connectNats({ url: s.server.url, user: u.user, pass: u.pass })).rejects.toThrow();
    expect([...s.log.iterate(1)].map((e) => e.event.type)).toEqual(['WorkerJoined']);
  });
});
