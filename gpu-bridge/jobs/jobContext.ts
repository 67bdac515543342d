/**
 * What a job of the bridge (one file per request kind in this folder) is given: the run's configuration and
 * log, the host's task knowledge and append, the bridge's worker (the in-process sim too, when it is one),
 * its policy version and its row cache. bridge.ts makes one context when its worker has started and passes
 * it to every job; a job reads nothing else of the bridge.
 */
import type { DareEvent } from '../../events/catalogue.ts';
import type { RunConfig } from '../../events/config.ts';
import type { PromptRow } from '../../events/promptRow.ts';
import type { BridgeLog, BridgeLogger, BridgeTasks } from '../bridgeTypes.ts';
import { promptRow, requirePrompt } from '../jobInputs.ts';
import type { PolicyVersion } from '../policyVersion.ts';
import type { RowCache } from '../rowCache.ts';
import type { SimWorker } from '../sim/simWorker.ts';
import type { JobResult, WorkerHandle } from '../workerClient.ts';

export interface JobContext {
  /** the run's id (the `run` of every event the bridge appends) */
  run: string;
  config: RunConfig;
  /** checkpoints go to runDir/<path of CheckpointRequested> */
  runDir: string;
  log: BridgeLog;
  /** verifiers and hint prompts (the sim needs neither) */
  tasks: BridgeTasks | undefined;
  logger: BridgeLogger;
  /** proposes events; resolves once durable */
  append(events: DareEvent[]): Promise<void>;
  /** rollout blobs go into their events' commit (BridgeDeps.blobsInAppend) */
  blobsInAppend: boolean | undefined;
  /** the bridge's worker (timed: timedWorker.ts) */
  worker: WorkerHandle;
  /** the worker itself when it is the in-process sim (its bank and oracle give the sim's extra facts) */
  sim: SimWorker | null;
  /** the log's policy version the weights are at, and the worker's offset from it (moved by update only) */
  version: PolicyVersion;
  rowCache: RowCache;
  /** a rollout or score job: on the shared queue group when sharing, else on `worker` */
  job(job: 'rollout' | 'score', args: Record<string, unknown>, id: string): Promise<JobResult>;
}

/** Prompt `p`'s row: required, except with the sim (whose prompts need no row). */
export function jobPrompt(ctx: JobContext, p: number, where: string): PromptRow | undefined {
  return ctx.sim ? promptRow(ctx.log, p) : requirePrompt(ctx.log, p, where);
}

/**
 * The policy version a generating request (rollout, score, signal) runs with, in the log's numbering, and
 * the job arguments that say so to the worker: the request's own `policyVersion` in pipelined mode (one
 * update behind while the next update runs; the worker keeps those weights), else the bridge's current one
 * with no argument (the worker's weights as they are).
 */
export function requestVersion(ctx: JobContext, named: number | undefined): { value: number; worker: number; args: { policyVersion?: number } } {
  if (named === undefined) return { value: ctx.version.value, worker: ctx.version.value + ctx.version.offset, args: {} };
  const worker = named + ctx.version.offset;
  return { value: named, worker, args: { policyVersion: worker } };
}
