/**
 * A run across a NATS cluster of three routed nats-servers on 127.0.0.1: the store, the actors and the
 * primary bridge on the first, replica bridges (`dare bridge DIR --nats …`) on the others, sharing the
 * rollout and score jobs over the queue group. Mid-run the server a replica is connected to is killed (the
 * replica fails over to another member), a replica is killed -9 while it holds shared jobs (they are given to
 * the group again), and a new replica joins and takes work. The run ends with the log content and weights
 * of an undisturbed run on one private server; no rollout is logged twice.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../bus/connect.ts';
import { freePort, startNatsServer, type NatsServerHandle } from '../../bus/natsServer.ts';
import { expectSameRun, logHas, runDare, type DareProcess } from '../support/runs.ts';
import { tempDir } from '../support/tmp.ts';

const { dir, cleanup } = tempDir('dare-cluster-');
const servers: NatsServerHandle[] = [];
afterAll(async () => {
  for (const s of servers) await s.kill().catch(() => undefined);
  cleanup();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOKEN = 'cluster-test-token';

/** Three servers, each routed to the other two. */
async function startCluster(): Promise<NatsServerHandle[]> {
  const routes = [await freePort(), await freePort(), await freePort()];
  const out: NatsServerHandle[] = [];
  for (let i = 0; i < 3; i++) {
    out.push(await startNatsServer({ token: TOKEN, cluster: { name: 'dare-test', port: routes[i], routes: routes.filter((_, j) => j !== i) } }));
  }
  servers.push(...out);
  return out;
}

/** Wait until a message published on the first server reaches a subscriber on each other one (routes up). */
async function untilRouted(cluster: NatsServerHandle[]): Promise<void> {
  const [a, ...rest] = await Promise.all(cluster.map((s) => connectNats({ url: s.url, token: TOKEN })));
  try {
    for (const [i, nc] of rest.entries()) {
      const sub = nc.subscribe(`routed.${i}`);
      await nc.flush();
      let got = false;
      void (async () => {
        for await (const _ of sub) {
          got = true;
          break;
        }
      })();
      for (let w = 0; w < 10_000 && !got; w += 50) {
        a.publish(`routed.${i}`);
        await sleep(50);
      }
      expect(got, `routes to server ${i + 1}`).toBe(true);
    }
  } finally {
    for (const nc of [a, ...rest]) await nc.close();
  }
}

const count = (p: DareProcess, msg: string) => p.stderr().split('\n').filter((l) => l.includes(`"${msg}"`)).length;
const served = (p: DareProcess) => count(p, 'shared job served');
/** the bridge took a job it has not answered yet */
const holding = (p: DareProcess) => count(p, 'shared job taken') > served(p);

describe('a run across a three-server NATS cluster, losing a server and a rollout host', () => {
  it('goes on and ends with the log and weights of an undisturbed run', async () => {
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    const sc = join(dir, 'sim.json');
    writeFileSync(sc, JSON.stringify({
      method: 'dare',
      run: { steps: 14, batchSize: 256, stepsPerEpoch: 2, checkpointEvery: 5, evalEvery: 7, evalSize: 200 },
      task: { source: 'sim', count: 2000, evalCount: 200, maxResponseTokens: 128 },
      worker: { kind: 'sim', lr: 0.1, shareJobs: true },
      learner: { sigma: 0.5, bufferSize: 512 },
    }));
    const runA = join(dir, 'a', 'run');
    const runB = join(dir, 'b', 'run');
    const a = runDare(['run', sc, '--run-dir', runA]);
    expect(await a.exit, a.stderr().slice(-2000)).toBe(0);

    const cluster = await startCluster();
    await untilRouted(cluster);
    const [s1, s2, s3] = cluster;
    // each shared job is held 250 ms by the bridge that took it, and each update 150 ms: the faults land mid-job
    const env = { DARE_FAULT_PAUSE: 'update:150,shared:250' };
    const b = runDare(['run', sc, '--run-dir', runB, '--nats', s1.url, '--nats-token', TOKEN], env);
    while (!existsSync(join(runB, 'nats.json')) && !logHas(runB, 'RunCompleted')) await sleep(50);
    const x = runDare(['bridge', runB, '--nats', `${s2.url},${s3.url}`, '--nats-token', TOKEN], env);
    const y = runDare(['bridge', runB, '--nats', `${s3.url},${s2.url}`, '--nats-token', TOKEN], env);

    // 1. the server replica x is connected to is lost: x fails over to s3 and keeps serving
    const waitFor = async (what: string, probe: () => boolean, ms = 120_000) => {
      for (let w = 0; w < ms; w += 50) {
        if (probe()) return;
        if (logHas(runB, 'RunCompleted')) throw new Error(`the run ended before ${what}`);
        await sleep(50);
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    await waitFor('x and y to serve', () => served(x) >= 2 && served(y) >= 2);
    await s2.kill();
    const xBefore = served(x);
    await waitFor('x to serve through s3', () => served(x) > xBefore);

    // 2. replica y is killed -9 while it holds shared jobs; a new replica z joins mid-run
    await waitFor('y to serve more', () => served(y) >= 4);
    expect(await y.killWhen(() => holding(y), 60_000)).toBe(true);
    expect(holding(y)).toBe(true);
    const z = runDare(['bridge', runB, '--nats', `${s3.url},${s1.url}`, '--nats-token', TOKEN], env);
    await waitFor('z to serve', () => served(z) >= 1);

    expect(await b.exit, b.stderr().slice(-3000)).toBe(0);
    expect(await x.exit, x.stderr().slice(-2000)).toBe(0);
    expect(await z.exit, z.stderr().slice(-2000)).toBe(0);
    // the jobs y held were given to the group again (silence from the bridge that took them)
    expect(b.stderr()).toContain('shared job re-sent');
    expectSameRun(runA, runB);
  }, 300_000);
});
