/**
 * `dare nats-config` end to end: the configuration it writes starts a real nats-server, and a run spread over
 * processes of every role — `dare run` with the run's credentials, one actor as `dare actor` with an actor's,
 * a replica `dare bridge` with a bridge's — completes with the log of the same run in one process: the
 * permissions of each role are enough for what its process does, and no more (rolePermissions.int).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, natsServerBinary } from '../../bus/natsServer.ts';
import { NATS_ROLES } from '../../bus/permissions.ts';
import { expectSameRun, runDare } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-natsconf-');
afterAll(cleanup);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dare nats-config', () => {
  it('refuses a server off loopback without TLS, and an existing configuration without --force', async () => {
    const open = runDare(['nats-config', join(dir, 'open'), '--listen', '0.0.0.0:4222']);
    expect(await open.exit).toBe(1);
    expect(open.stderr()).toContain('is not loopback: give the server a certificate');
    expect(existsSync(join(dir, 'open', 'nats.conf'))).toBe(false);
    const half = runDare(['nats-config', join(dir, 'half'), '--listen', '127.0.0.1:4222', '--tls-cert', join(dir, 'x.pem')]);
    expect(await half.exit).toBe(1);
    expect(half.stderr()).toContain('--tls-cert and --tls-key go together');
  });

  it('writes a configuration a run across roles completes on, with the log of a run in one process', async () => {
    const port = await freePort();
    const confDir = join(dir, 'conf');
    const made = runDare(['nats-config', confDir, '--listen', `127.0.0.1:${port}`]);
    expect(await made.exit, made.stderr()).toBe(0);
    for (const f of ['nats.conf', ...NATS_ROLES.map((r) => `${r}.creds.json`)]) {
      expect(statSync(join(confDir, f)).mode & 0o077, `${f} is readable by others`).toBe(0);
    }
    const again = runDare(['nats-config', confDir, '--listen', `127.0.0.1:${port}`]);
    expect(await again.exit).toBe(1);
    expect(again.stderr()).toContain('exists (--force overwrites it');
    const creds = (role: string) => join(confDir, `${role}.creds.json`);
    expect(JSON.parse(readFileSync(creds('bridge'), 'utf8')).user).toBe('dare-bridge');

    const server = spawn(natsServerBinary(), ['-c', join(confDir, 'nats.conf')], { stdio: 'ignore' });
    try {
      const url = `nats://127.0.0.1:${port}`;
      mkdirSync(join(dir, 'a'), { recursive: true });
      mkdirSync(join(dir, 'b'), { recursive: true });
      const sc = join(dir, 'sim.json');
      writeFileSync(sc, JSON.stringify({
        method: 'dare',
        run: { steps: 6, batchSize: 128, stepsPerEpoch: 2, checkpointEvery: 3, evalEvery: 3, evalSize: 100 },
        task: { source: 'sim', count: 1000, evalCount: 100, maxResponseTokens: 128 },
        worker: { kind: 'sim', lr: 0.1, shareJobs: true },
        learner: { sigma: 0.5, bufferSize: 256 },
      }));
      const runA = join(dir, 'a', 'run');
      const a = runDare(['run', sc, '--run-dir', runA]);
      expect(await a.exit, a.stderr().slice(-2000)).toBe(0);

      const runB = join(dir, 'b', 'run');
      const b = runDare(['run', sc, '--run-dir', runB, '--nats', url, '--nats-creds', creds('run'), '--external', 'sampler'], { DARE_FAULT_PAUSE: 'update:500' }); // long enough for the observers below
      for (let waited = 0; waited < 60_000 && !existsSync(join(runB, 'nats.json')); waited += 50) await sleep(50);
      expect(existsSync(join(runB, 'nats.json')), b.stderr().slice(-2000)).toBe(true);
      const sampler = runDare(['actor', 'sampler', runB, '--nats', url, '--nats-creds', creds('actor')]);
      const replica = runDare(['bridge', runB, '--nats', url, '--nats-creds', creds('bridge')]);
      // an observer follows the actors' transitions live, and may not stop the run
      const watcher = runDare(['inspect', runB, '--live', '--json', '--nats', url, '--nats-creds', creds('observer')]);
      const stop = runDare(['control', runB, 'stop', '--nats', url, '--nats-creds', creds('observer')]);
      expect(await stop.exit, stop.stderr()).toBe(1);
      expect(stop.stderr()).toContain(`control stop: this NATS user may not publish on dare.`);
      const transitions = () => watcher.stdout().split('\n').filter((l) => l.startsWith('{')).length;
      await watcher.killWhen(() => transitions() >= 3, 60_000);
      expect(transitions(), watcher.stderr().slice(-1500)).toBeGreaterThanOrEqual(3);
      expect(await b.exit, b.stderr().slice(-2000)).toBe(0);
      expect(await sampler.exit, sampler.stderr().slice(-2000)).toBe(0);
      expect(await replica.exit, replica.stderr().slice(-2000)).toBe(0);
      // the replica took part (its job replies passed the bridge's permissions), and nothing was refused
      expect(replica.stderr()).toContain('"shared job served"');
      for (const p of [b, sampler, replica]) expect(p.stderr()).not.toMatch(/Permissions Violation|rejected append/);
      expectSameRun(runA, runB);
    } finally {
      server.kill('SIGKILL');
    }
  }, 180_000);
});
