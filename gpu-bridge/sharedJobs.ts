/**
 * Shared jobs (DESIGN §7, docs/worker-protocol.md "Several bridges"): several bridges join the queue group
 * `dare.<run>.gpu`, and rollout and score jobs are shared among them. A job travels with the policy version
 * it was made at: a bridge serves it once its own weights are at that version (they follow the log's
 * updates), so a job's result does not depend on which bridge ran it. Updates, checkpoints and evals stay
 * with the primary.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { pack, unpack } from '../events/codec.ts';
import { subjectsFor } from '../events/subjects.ts';
import type { BridgeLogger } from './bridgeTypes.ts';
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
 * Serve shared rollout/score jobs from the queue group: wait until the weights are at the version the job
 * was made at, run it on this bridge's worker, reply with the result. A job made at an older version than
 * these weights cannot be served here (the reply says so and the sender asks again).
 */
export function serveSharedJobs(o: ServeOptions): Subscription {
  const subject = subjectsFor(o.run).gpu;
  return o.nc.subscribe(subject, {
    queue: 'bridges',
    callback: (err, msg) => {
      if (err) return;
      void (async () => {
        try {
          const req = unpack(msg.data) as { job: string; args: Record<string, unknown>; id: string; version: number };
          if ((req.job !== 'rollout' && req.job !== 'score') || typeof req.id !== 'string' || typeof req.version !== 'number') {
            throw new Error('malformed shared job');
          }
          await o.version.reached(req.version, 60_000);
          if (o.version.value !== req.version) {
            msg.respond(pack({ ok: false, retry: true, error: `weights at version ${o.version.value}, job made at ${req.version}` }));
            return;
          }
          const result = await o.worker.request(req.job, req.args, { id: req.id });
          o.onServed();
          o.logger.info({ job: req.job, id: req.id, version: req.version, worker: o.name }, 'shared job served');
          msg.respond(pack({ ok: true, result: bytesDeep(result) }));
        } catch (e) {
          msg.respond(pack({ ok: false, retry: false, error: (e as Error).message }));
        }
      })();
    },
  });
}

/**
 * Run a rollout/score job on the queue group, made at policy `version`: asks again when no bridge answers
 * (up to 5 times) or when the one that answered is at another version (up to 20 times).
 */
export async function sendSharedJob(
  o: { nc: NatsConnection; run: string; version: number; timeoutMs: number },
  job: 'rollout' | 'score',
  args: Record<string, unknown>,
  id: string,
): Promise<JobResult> {
  const subject = subjectsFor(o.run).gpu;
  const body = pack({ job, args: bytesDeep(args), id, version: o.version });
  for (let attempt = 1; ; attempt++) {
    let reply: { ok: boolean; retry?: boolean; result?: JobResult; error?: string };
    try {
      reply = unpack((await o.nc.request(subject, body, { timeout: o.timeoutMs })).data) as typeof reply;
    } catch (e) {
      if (attempt >= 5) throw new Error(`shared ${job} ${id}: no bridge answered (${(e as Error).message})`);
      continue;
    }
    if (reply.ok) return reply.result!;
    if (!reply.retry || attempt >= 20) throw new WorkerJobError(job, id, 'shared', reply.error ?? 'failed');
    await new Promise((r) => setTimeout(r, 20));
  }
}
