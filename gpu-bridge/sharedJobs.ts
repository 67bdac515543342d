/**
 * Shared jobs (DESIGN §7, docs/worker-protocol.md "Several bridges"): several bridges join the queue group
 * `dare.<run>.gpu`, and rollout and score jobs are shared among them. A job travels with the policy version
 * it was made at: a bridge serves it once its own weights are at that version (they follow the log's
 * updates), so a job's result does not depend on which bridge ran it. Updates, checkpoints and evals stay
 * with the primary.
 */
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { pack, unpack } from '../events/codec.ts';
import { subjectsFor } from '../events/subjects.ts';
import type { BridgeLogger } from './bridgeTypes.ts';
import { faultPause } from './faults.ts';
import type { PolicyVersion } from './policyVersion.ts';
import { WorkerJobError, type JobResult, type WorkerHandle } from './workerClient.ts';

/** A job's args or result with every typed array as a Uint8Array view of its bytes (plain MessagePack bin). */
function bytesDeep(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return x instanceof Uint8Array ? x : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (Array.isArray(x)) return x.map(bytesDeep);
  if (x && typeof x === 'object' && !(x instanceof Map)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = bytesDeep(v);
    return out;
  }
  return x;
}

export interface ServeOptions {
  nc: NatsConnection;
  run: string;
  /** this bridge's worker, and the version its weights are at */
  worker: WorkerHandle;
  version: PolicyVersion;
  /** the worker's name, for the log lines */
  name: string;
  logger: BridgeLogger;
  /** called once per job served */
  onServed(): void;
}

/**
 * How a bridge that took a job shows it is still on it: a `working` message on the job's reply subject at
 * once and then every HEARTBEAT_MS until the result. A sender that hears nothing for SILENCE_MS takes the
 * bridge as lost (killed, its host gone) and gives the job to the group again under the same id: the job
 * is deterministic at its version, so whichever bridge answers first gives the same result.
 */
export const HEARTBEAT_MS = 500;
export const SILENCE_MS = 10_000;

type Reply = { ok: boolean; working?: boolean; retry?: boolean; result?: JobResult; error?: string };

/**
 * Serve shared rollout/score jobs from the queue group: wait until the weights are at the version the job
 * was made at, run it on this bridge's worker, reply with the result. A job made at an older version than
 * these weights cannot be served here (the reply says so and the sender asks again).
 */
export function serveSharedJobs(o: ServeOptions): Subscription {
  const subject = subjectsFor(o.run).gpu;
  return o.nc.subscribe(subject, {
    queue: 'bridges',
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      const reply = msg.reply;
      const send = (r: Reply) => {
        try {
          o.nc.publish(reply, pack(r));
        } catch {
          // connection closing: the sender hears silence and asks another bridge
        }
      };
      send({ ok: false, working: true });
      const beat = setInterval(() => send({ ok: false, working: true }), HEARTBEAT_MS);
      void (async () => {
        try {
          const req = unpack(msg.data) as { job: string; args: Record<string, unknown>; id: string; version: number };
          if ((req.job !== 'rollout' && req.job !== 'score') || typeof req.id !== 'string' || typeof req.version !== 'number') {
            throw new Error('malformed shared job');
          }
          await o.version.reached(req.version, 60_000);
          if (o.version.value !== req.version) {
            send({ ok: false, retry: true, error: `weights at version ${o.version.value}, job made at ${req.version}` });
            return;
          }
          o.logger.info({ job: req.job, id: req.id, version: req.version, worker: o.name }, 'shared job taken');
          await faultPause('shared');
          const result = await o.worker.request(req.job, req.args, { id: req.id });
          o.onServed();
          o.logger.info({ job: req.job, id: req.id, version: req.version, worker: o.name }, 'shared job served');
          send({ ok: true, result: bytesDeep(result) as JobResult });
        } catch (e) {
          send({ ok: false, retry: false, error: (e as Error).message });
        } finally {
          clearInterval(beat);
        }
      })();
    },
  });
}

class Silence extends Error {}

/**
 * One exchange with the group: the first bridge to take the job answers on our inbox. Resolves with its
 * final reply; rejects with Silence when no bridge took it or the one that did went quiet for SILENCE_MS,
 * and with a timeout after `timeoutMs` in all.
 */
async function exchange(nc: NatsConnection, subject: string, body: Uint8Array, timeoutMs: number, silenceMs: number): Promise<Reply> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  try {
    let quiet: NodeJS.Timeout | undefined;
    let overall: NodeJS.Timeout | undefined;
    const result = new Promise<Reply>((resolve, reject) => {
      const hush = () => {
        clearTimeout(quiet);
        quiet = setTimeout(() => reject(new Silence(`no word from a bridge for ${silenceMs} ms`)), silenceMs);
      };
      hush();
      overall = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs);
      void (async () => {
        for await (const m of sub) {
          // a status message (no responders: no bridge in the group at all)
          if (m.data.length === 0) return reject(new Silence('no bridge in the queue group'));
          const r = unpack(m.data) as Reply;
          if (r.working) {
            hush();
            continue;
          }
          return resolve(r);
        }
      })().catch(reject);
    });
    nc.publish(subject, body, { reply: inbox });
    try {
      return await result;
    } finally {
      clearTimeout(quiet);
      clearTimeout(overall);
    }
  } finally {
    sub.unsubscribe();
  }
}

/**
 * Run a rollout/score job on the queue group, made at policy `version`: asks again when no bridge takes it or
 * the one that took it goes silent (lost: up to 10 times), or when it is at another version (up to 20 times).
 */
export async function sendSharedJob(
  o: { nc: NatsConnection; run: string; version: number; timeoutMs: number; silenceMs?: number; logger?: BridgeLogger },
  job: 'rollout' | 'score',
  args: Record<string, unknown>,
  id: string,
): Promise<JobResult> {
  const subject = subjectsFor(o.run).gpu;
  const body = pack({ job, args: bytesDeep(args), id, version: o.version });
  let lost = 0;
  for (let attempt = 1; ; attempt++) {
    let reply: Reply;
    try {
      reply = await exchange(o.nc, subject, body, o.timeoutMs, o.silenceMs ?? SILENCE_MS);
    } catch (e) {
      if (!(e instanceof Silence) || ++lost >= 10) throw new Error(`shared ${job} ${id}: ${(e as Error).message}`);
      o.logger?.warn({ job, id, attempt }, `shared job re-sent: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if (reply.ok) return reply.result!;
    if (!reply.retry || attempt >= 20) throw new WorkerJobError(job, id, 'shared', reply.error ?? 'failed');
    await new Promise((r) => setTimeout(r, 20));
  }
}
