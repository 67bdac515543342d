/**
 * A private nats-server for one run (DESIGN §8): 127.0.0.1, a free port, a random auth token, stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authorizationBlock, type NatsUser } from './permissions.ts';

/** Private servers still running: detached, so stopped here when this process exits (the watchdog covers kill -9). */
const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of liveServers) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Largest message the private server accepts (nats-server's own ceiling is 64 MiB). */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

export interface NatsServerHandle {
  url: string;
  /** the auth token ('' when the server has per-role users instead) */
  token: string;
  port: number;
  pid: number;
  /** Stop the server (SIGTERM, then SIGKILL after `graceMs`). Resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Kill -9 (fault tests) and resolve when it is gone. */
  kill(): Promise<void>;
}

export class NatsServerMissingError extends Error {}

/** Ask the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function natsServerBinary(): string {
  const bin = process.env.DARE_NATS_SERVER ?? 'nats-server';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new NatsServerMissingError(
      `nats-server not found (${bin}); install it with \`make setup\` (Debian package nats-server) or pass --nats URL`,
    );
  }
  return bin;
}

async function waitListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs; // wall clock only for a start-up timeout, never for decisions
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode} during start-up`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface StartNatsOptions {
  port?: number;
  token?: string;
  /** enable JetStream with this store directory */
  jetstreamDir?: string;
  /** where server log lines go (default: dropped) */
  onLog?: (line: string) => void;
  /** stop the server when this process dies, even by SIGKILL (default true) */
  dieWithParent?: boolean;
  /** a member of a cluster on 127.0.0.1: its route port and the route ports of the others */
  cluster?: { name: string; port: number; routes: number[] };
  /** per-role users (bus/permissions.ts) instead of one token */
  users?: readonly NatsUser[];
  /** TLS for client connections: PEM certificate and key files */
  tls?: { cert: string; key: string };
}

export async function startNatsServer(opts: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const bin = natsServerBinary();
  const port = opts.port ?? (await freePort());
  const token = opts.users ? '' : (opts.token ?? randomBytes(18).toString('base64url'));
  // A config file, not flags: it keeps the token out of `ps` and raises max_payload (flags cannot) so that
  // a per-prompt decision over 1M prompts (several MB) fits in one message.
  const confDir = mkdtempSync(join(tmpdir(), 'dare-nats-'));
  const conf = join(confDir, 'nats.conf');
  const lines = [
    `listen: 127.0.0.1:${port}`,
    opts.users ? authorizationBlock(opts.users) : `authorization { token: ${JSON.stringify(token)} }`,
    `max_payload: ${MAX_PAYLOAD}`,
    `max_pending: ${4 * MAX_PAYLOAD}`,
  ];
  if (opts.tls) lines.push(`tls { cert_file: ${JSON.stringify(opts.tls.cert)}, key_file: ${JSON.stringify(opts.tls.key)} }`);
  if (opts.jetstreamDir) lines.push(`jetstream { store_dir: ${JSON.stringify(opts.jetstreamDir)} }`);
  if (opts.cluster) {
    const routes = opts.cluster.routes.map((p) => JSON.stringify(`nats-route://127.0.0.1:${p}`)).join(', ');
    lines.push(`cluster { name: ${JSON.stringify(opts.cluster.name)}, listen: "127.0.0.1:${opts.cluster.port}", routes: [${routes}] }`);
  }
  writeFileSync(conf, lines.join('\n') + '\n', { mode: 0o600 });
  // Its own process group: a terminal's Ctrl-C must not kill the server under a run that is still stopping.
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  liveServers.add(child);
  child.once('exit', () => liveServers.delete(child));
  child.once('exit', () => rmSync(confDir, { recursive: true, force: true }));
  // A private server must not outlive its run, even when the run is killed with -9 (no exit handler runs
  // then): a detached watchdog stops it once this process is gone.
  if (opts.dieWithParent !== false && child.pid) {
    const dog = spawn('/bin/sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 0.5; done; kill -9 ${child.pid} 2>/dev/null; rm -rf '${confDir}'`], {
      detached: true,
      stdio: 'ignore',
    });
    dog.unref();
  }
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => opts.onLog?.(d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitListening(port, child, 10_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const pid = child.pid!;
  return {
    url: `nats://127.0.0.1:${port}`,
    token,
    port,
    pid,
    async stop(graceMs = 2000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
