/**
 * What every part of the gpu-bridge actor shares: what the host gives it (BridgeDeps and the parts of it),
 * the error of a request it cannot serve as logged (BridgeInputError, thrown by `fail`), and the forms of a
 * stored row. bridge.ts and every file it is split into (jobs/, rowCache.ts, jobInputs.ts, ...) import these
 * from here and this file imports none of them, so the split has no import loop.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { DareEvent, Logged } from '../events/catalogue.ts';
import type { RunConfig } from '../events/config.ts';
import type { StoredGroupBlob } from './blobs.ts';
import type { WorkerHandle } from './workerClient.ts';

export interface BridgeLogger {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface CheckpointEntry {
  path: string;
  sha256: string;
  policyVersion: number;
  seq: number;
}

/** What the bridge uses of the run's log (store/eventLog.ts's EventLog, passed in by the host). */
export interface BridgeLog {
  lastSeq(): number;
  seqOf(id: string): number | undefined;
  read(from: number, to?: number): Logged[];
  iterate(from?: number, to?: number): Iterable<Logged>;
  getPrompt(index: number): unknown;
  promptCount(): number;
  getBlob(key: string): unknown;
  putBlobs(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void>;
  /** stage blobs for the next append's commit (see `BridgeDeps.blobsInAppend`); a ticket for blobsCommitted */
  stageBlobs(entries: ReadonlyArray<readonly [string, unknown]>): number;
  blobsCommitted(ticket: number): boolean;
  checkpoints(): CheckpointEntry[];
  registerCheckpoint(entry: CheckpointEntry): Promise<void>;
}

/**
 * Task knowledge the host gives the bridge (the bridge depends on events only): the verifier of a row's
 * data source, and how a hint prompt is built from a correct earlier response.
 */
export interface BridgeTasks {
  /** reward (0/1) of `response` for a prompt of `dataSource` whose answer is `answer` */
  reward(dataSource: string, response: string, answer: string): number;
  /** the hint-augmented prompt for `question` from a correct earlier `response` */
  hintPrompt(question: string, response: string, dataSource: string): string;
}

export interface BridgeDeps {
  run: string;
  config: RunConfig;
  /** checkpoints go to runDir/<path of CheckpointRequested> */
  runDir: string;
  /** same process: prompts (getPrompt), blobs (putBlobs/getBlob), seqOf(id), checkpoints registry */
  log: BridgeLog;
  /** verifiers and hint prompts (the sim needs neither) */
  tasks?: BridgeTasks;
  /** proposes events (over the bus); resolves once durable */
  append(events: DareEvent[]): Promise<void>;
  /**
   * `log` is the very EventLog the store commits `append`'s events to (the runner hosts both): rollout blobs
   * are staged into the commit of their RolloutCompleted events (one commit instead of two). Otherwise they
   * are committed on their own first.
   */
  blobsInAppend?: boolean;
  logger: BridgeLogger;
  /** injected in tests; otherwise made by workerFactory */
  worker?: WorkerHandle;
  /**
   * Sharing rollout and score jobs among several bridges (queue group `dare.<run>.gpu`): the connection to
   * serve and send them on. `replica`: a bridge that only follows the log (applies every logged update to
   * its own worker, so its weights equal the primary's) and serves shared jobs; it never writes the log
   * except its WorkerJoined.
   */
  share?: { nc: NatsConnection; role: 'primary' | 'replica' };
  /**
   * Pipelined mode: the trainer's jobs run detached from the log's delivery (the next step's requests reach
   * the bridge while an update runs); a failure of one is reported here, as a consumer's error would be.
   */
  onError?: (err: unknown) => void;
}

/** A request the bridge cannot serve as logged (missing blob or prompt, inconsistent arrays or versions). */
export class BridgeInputError extends Error {
  override name = 'BridgeInputError';
}

export function fail(msg: string): never {
  throw new BridgeInputError(msg);
}

/** A row of a stored group blob (blobs.ts). */
export type StoredRow = StoredGroupBlob['rows'][number];

/** A stored row as the score and update jobs send it: views of the stored blob's bytes, checked, not copied. */
export interface RowBytes {
  promptTokens: Uint8Array;
  tokens: Uint8Array;
  logprobs: Uint8Array;
  finish: 'eos' | 'length';
}
