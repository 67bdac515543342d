/**
 * The event catalogue (DESIGN §4–§5): every event type as a TypeBox schema, and the one discriminated
 * union `DareEvent` derived from them. Schemas are the single source of truth for runtime validation,
 * the codec's binary fields and docs/log-format.md.
 *
 * Conventions: difficulty is a FAILURE rate in [0, 1]; prompt indices (u4) index the run's prompt table
 * in registration order; log-prob sums are natural-log nats (float64); lengths are tokens.
 */
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Bin } from './bin.ts';

const Uint = Type.Integer({ minimum: 0 });
const Int = Type.Integer();
const Num = Type.Number();
const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const Str = Type.String({ maxLength: 4096 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Tier = Type.Union([Type.Literal('easy'), Type.Literal('medium'), Type.Literal('hard'), Type.Literal('none')]);

/** The PRNG key a decision was drawn with (events/prng.ts). */
export const PrngKeySchema = Type.Object(
  { seed: Uint, step: Uint, purpose: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

const NumberMap = Type.Record(Type.String({ maxLength: 128 }), Num);

function data<P extends TProperties>(props: P): TObject<P> {
  return Type.Object(props, { additionalProperties: false });
}

/** Payload schemas, one per event type. */
export const PAYLOADS = {
  // ---- session -------------------------------------------------------------------------------------
  RunStarted: data({
    scenario: Str,
    method: Type.String({ minLength: 1, maxLength: 64 }),
    seed: Uint,
    /** the fully resolved configuration (also written to config.json) */
    config: Type.Record(Type.String(), Type.Unknown()),
  }),
  RunResumed: data({
    /** last sequence number before this resume */
    fromSeq: Uint,
    policyVersion: Uint,
    /** checkpoint loaded (null: started from the initial weights) */
    checkpoint: Type.Union([Str, Type.Null()]),
    /** updates re-applied from the log after the checkpoint */
    reapplied: Uint,
    /** request ids re-issued because they had no completion */
    reissued: Type.Array(Str, { maxItems: 1_000_000 }),
  }),
  RunCompleted: data({ steps: Uint, policyVersion: Uint, weightsSha256: Type.Union([Sha256, Type.Null()]) }),
  /**
   * The session ended the process's run at a step boundary on a stop (`dare control stop`, the first Ctrl-C
   * or SIGTERM), after the step's checkpoint and evaluation: a pause that outlives the process. `dare
   * resume` continues the run from here.
   */
  RunStopped: data({ steps: Uint, policyVersion: Uint }),
  /** `dare resume --steps N`: the run's step total from here on (was `from`). A fact, like ControlApplied. */
  RunExtended: data({ steps: Uint, from: Uint }),
  RunFailed: data({ reason: Str }),
  ControlApplied: data({
    command: Type.Union([Type.Literal('pause'), Type.Literal('resume'), Type.Literal('stop')]),
    source: Str,
  }),
  EpochStarted: data({ epoch: Uint, firstStep: Uint, budget: Uint }),
  StepStarted: data({
    step: Uint,
    epoch: Uint,
    /**
     * run.offPolicySteps = 1 only: the policy version the step's rollouts and scores are generated with (the
     * last completed update's at the start: one behind while the previous step's update runs). Absent: sync mode.
     */
    policyVersion: Type.Optional(Uint),
  }),

  // ---- prompts -------------------------------------------------------------------------------------
  PromptsRegistered: data({
    /** training prompts: indices 0..count-1 of the prompts database */
    count: Uint,
    /** held-out evaluation prompts: indices count..count+evalCount-1 */
    evalCount: Uint,
    /** sha256 over the rows in the prompts database, in index order */
    contentHash: Sha256,
    source: Str,
    categories: Type.Array(Str, { maxItems: 65_536 }),
    /** per prompt index (training and eval): index into `categories` */
    categoryOf: Bin('u2'),
    /** duplicated questions with conflicting answers found in the source */
    conflicts: Uint,
  }),

  // ---- estimator -----------------------------------------------------------------------------------
  ScoreRequested: data({
    epoch: Uint,
    step: Uint,
    /** rollout groups (blob keys) whose rows need current-policy log-probs */
    groups: Type.Array(Str, { maxItems: 10_000_000 }),
    rows: Uint,
    /**
     * run.offPolicySteps = 1 only: the policy version the job must run with (its step's StepStarted.policyVersion;
     * the worker keeps the weights one update back for it). Absent: the weights the worker has (sync mode).
     */
    policyVersion: Type.Optional(Uint),
  }),
  ScoreCompleted: data({
    groups: Type.Array(Str, { maxItems: 10_000_000 }),
    /** rowOffsets[g]..rowOffsets[g+1] are group g's rows in `current` (length groups+1) */
    rowOffsets: Bin('u4'),
    /** current-policy log-prob sum per row (nats) */
    current: Bin('f8'),
    policyVersion: Uint,
  }),
  /** a per-prompt signal the estimator needs from the policy itself: LLM-judge replies or prefix entropy */
  SignalRequested: data({
    epoch: Uint,
    step: Uint,
    /** embedding: the prompts' sentence embeddings for the embedding cold start (once per run) */
    kind: Type.Union([Type.Literal('judge'), Type.Literal('entropy'), Type.Literal('embedding')]),
    prompts: Bin('u4'),
    /** judge: the system instruction sent before each question ('' for entropy) */
    system: Str,
    temperature: Num,
    maxTokens: Uint,
    seed: Uint,
    /**
     * run.offPolicySteps = 1 only: the policy version the job must run with (its step's StepStarted.policyVersion;
     * the worker keeps the weights one update back for it). Absent: the weights the worker has (sync mode).
     */
    policyVersion: Type.Optional(Uint),
  }),
  SignalCompleted: data({
    step: Uint,
    kind: Type.Union([Type.Literal('judge'), Type.Literal('entropy'), Type.Literal('embedding')]),
    prompts: Bin('u4'),
    /** judge: the policy's reply per prompt; embedding: [the model's name] (the vectors: blob embeddings/<step>) */
    texts: Type.Array(Type.String({ maxLength: 65_536 }), { maxItems: 10_000_000 }),
    /** entropy: mean full-distribution entropy of the sampled prefix per prompt (nats) */
    values: Bin('f4'),
    policyVersion: Uint,
  }),
  DifficultyEstimated: data({
    epoch: Uint,
    step: Uint,
    method: Type.String({ maxLength: 64 }),
    /** per prompt index: estimated failure rate d in [0,1] (NaN: no estimate) */
    difficulty: Bin('f4'),
    /** per prompt index: source code (actors/estimator/labels.ts) */
    source: Bin('u1'),
    /** per prompt index: effective sample size of the SNIS weights (0: not estimated by SNIS) */
    ess: Bin('f4'),
    key: Type.Union([PrngKeySchema, Type.Null()]),
    diagnostics: NumberMap,
  }),

  // ---- sampler -------------------------------------------------------------------------------------
  BatchSelected: data({
    step: Uint,
    epoch: Uint,
    key: PrngKeySchema,
    strategy: Type.String({ maxLength: 64 }),
    prompts: Bin('u4'),
    /** failure rate used for each selected prompt */
    difficulty: Bin('f4'),
    /** TIER_CODES: 0 easy, 1 medium, 2 hard, 3 none (tiers off) */
    tier: Bin('u1'),
    /** rollouts to generate per prompt */
    rollouts: Bin('u2'),
    /** of which rollouts from a hint-augmented prompt */
    hints: Bin('u2'),
    /** prompts filled uniformly because too few had non-zero weight */
    filled: Uint,
  }),

  // ---- learner -------------------------------------------------------------------------------------
  RolloutRequested: data({
    step: Uint,
    purpose: Type.Union([Type.Literal('train'), Type.Literal('reference'), Type.Literal('refill')]),
    prompts: Bin('u4'),
    rollouts: Bin('u2'),
    hints: Bin('u2'),
    /** group id (blob key) of the buffered correct response each hint comes from ('' none) */
    hintSources: Type.Array(Type.String({ maxLength: 256 }), { maxItems: 1_000_000 }),
    temperature: Num,
    maxTokens: Uint,
    seed: Uint,
    /**
     * run.offPolicySteps = 1 only: the policy version the job must run with (its step's StepStarted.policyVersion;
     * the worker keeps the weights one update back for it). Absent: the weights the worker has (sync mode).
     */
    policyVersion: Type.Optional(Uint),
  }),
  UpdateRequested: data({
    step: Uint,
    policyVersion: Uint,
    key: PrngKeySchema,
    /** fresh and replayed groups (blob keys), fresh first */
    groups: Type.Array(Str, { maxItems: 1_000_000 }),
    freshGroups: Uint,
    /** per row: index into `groups`, row within the group */
    rowGroup: Bin('u4'),
    rowIndex: Bin('u2'),
    rawReward: Bin('f4'),
    shapedReward: Bin('f4'),
    advantage: Bin('f4'),
    clipLo: Bin('f4'),
    clipHi: Bin('f4'),
    weight: Bin('f4'),
    /** DARO bucket per row (−1: none) */
    bin: Bin('i4'),
    aggregation: Type.String({ maxLength: 64 }),
    lConst: Uint,
    entropyCoeff: Num,
    klCoeff: Num,
    maskTruncated: Type.Boolean(),
  }),
  CheckpointRequested: data({ policyVersion: Uint, path: Str }),
  EvalRequested: data({ step: Uint, policyVersion: Uint, prompts: Bin('u4') }),
  CurriculumAdvanced: data({ step: Uint, stage: Uint, reason: Str }),

  // ---- gpu-bridge ----------------------------------------------------------------------------------
  RolloutCompleted: data({
    step: Uint,
    promptIndex: Uint,
    /** blob key of the group's tokens / log-probs / texts */
    group: Type.String({ minLength: 1, maxLength: 256 }),
    purpose: Type.Union([Type.Literal('train'), Type.Literal('reference'), Type.Literal('refill')]),
    policyVersion: Uint,
    /** per row: verified raw reward (0/1 for math and arithmetic) */
    reward: Bin('f4'),
    /** per row: response length in tokens (incl. EOS) */
    length: Bin('u4'),
    /** per row: behaviour log-prob sum (nats) */
    logprob: Bin('f8'),
    /** per row: 1 if the response hit the length cap */
    truncated: Bin('u1'),
    /** per row: 1 if generated from the hint-augmented prompt */
    hinted: Bin('u1'),
    /** sim only: the true pass rate of the prompt at generation time (success rate) */
    oracleSuccess: Type.Union([Fraction, Type.Null()]),
  }),
  UpdateCompleted: data({
    step: Uint,
    policyVersion: Uint,
    loss: Num,
    clipFrac: Num,
    kl: Num,
    entropy: Num,
    gradNorm: Num,
    tokens: Uint,
    binLosses: NumberMap,
    /**
     * |log π_θ(training forward) − behaviour log-prob| per token over the update's fresh rows (generated by
     * the weights being updated), before the step: max, mean and the tokens counted. The importance ratios
     * of the loss and the estimator rest on it. Absent: the worker reports none (sim), no fresh row, or a log
     * written before the field (2026-12-07).
     */
    logprobParity: Type.Optional(Type.Object({ maxAbs: Num, meanAbs: Num, tokens: Uint }, { additionalProperties: false })),
  }),
  CheckpointSaved: data({ policyVersion: Uint, path: Str, sha256: Sha256, bytes: Uint }),
  EvalCompleted: data({
    step: Uint,
    policyVersion: Uint,
    accuracy: Fraction,
    byTier: Type.Record(
      Type.String({ maxLength: 32 }),
      Type.Object({ accuracy: Fraction, meanLength: Num, count: Uint }, { additionalProperties: false }),
    ),
    /** sim only: expected accuracy over the eval set under the true pass rates */
    oracleAccuracy: Type.Union([Fraction, Type.Null()]),
  }),
  WorkerJoined: data({
    worker: Type.String({ minLength: 1, maxLength: 128 }),
    kind: Type.Union([Type.Literal('sim'), Type.Literal('tiny'), Type.Literal('hf')]),
    device: Type.String({ maxLength: 64 }),
    dtype: Type.String({ maxLength: 32 }),
    host: Type.String({ maxLength: 256 }),
  }),
  WorkerLost: data({
    worker: Type.String({ minLength: 1, maxLength: 128 }),
    reason: Str,
    /** request ids that were in flight and will be re-issued */
    pending: Type.Array(Str, { maxItems: 1_000_000 }),
  }),
} as const;

export type EventType = keyof typeof PAYLOADS;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];
export type PayloadOf<T extends EventType> = Static<(typeof PAYLOADS)[T]>;

/** Schema version of every event type written by this code. */
export const SCHEMA_VERSION = 1;

const Envelope = {
  /** idempotency key: the same id appended twice yields the first sequence number */
  id: Type.String({ minLength: 1, maxLength: 256 }),
  v: Type.Literal(SCHEMA_VERSION),
  run: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  /** wall-clock milliseconds, informational only: never used in a decision */
  ts: Type.Number(),
  /** id of the event this one reacts to (null for spontaneous events) */
  cause: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()]),
};

function eventSchema<T extends EventType>(type: T) {
  return Type.Object(
    { ...Envelope, type: Type.Literal(type), data: PAYLOADS[type] as (typeof PAYLOADS)[T] },
    { additionalProperties: false, $id: type },
  );
}

export const EVENT_SCHEMAS = Object.fromEntries(EVENT_TYPES.map((t) => [t, eventSchema(t)])) as {
  [T in EventType]: ReturnType<typeof eventSchema<T>>;
};

export type EventOf<T extends EventType> = Static<(typeof EVENT_SCHEMAS)[T]>;
/** The one discriminated union of every event. */
export type DareEvent = { [T in EventType]: EventOf<T> }[EventType];

/** An event with the sequence number the store gave it. */
export interface Logged<E extends DareEvent = DareEvent> {
  seq: number;
  event: E;
}

export interface EventMeta {
  run: string;
  /** deterministic idempotency key (see `eventId`) */
  id: string;
  cause?: string | null;
  ts?: number;
}

/** The factory: builds an event with its envelope. */
export function makeEvent<T extends EventType>(type: T, data: PayloadOf<T>, meta: EventMeta): EventOf<T> {
  return {
    id: meta.id,
    type,
    v: SCHEMA_VERSION,
    run: meta.run,
    ts: meta.ts ?? Date.now(),
    cause: meta.cause ?? null,
    data,
  } as unknown as EventOf<T>;
}

/**
 * Deterministic event ids: `Type/part/part`. Ids must not depend on time or chance, so that a resumed run
 * proposes the same ids again and the store's idempotent append de-duplicates them.
 */
export function eventId(type: EventType, ...parts: (string | number)[]): string {
  return [type, ...parts].join('/');
}

/** Blob key (and id) of the rollout group of prompt `promptIndex` generated at `step` (round > 0: a refill). */
export function groupId(step: number, promptIndex: number, round = 0): string {
  return round === 0 ? `g/${step}/${promptIndex}` : `g/${step}/${promptIndex}/r${round}`;
}

/**
 * Id of the RolloutCompleted that carries rollout group `group` (`g/…` → `RolloutCompleted/…`): the bridge names
 * a request's groups and completions by this one rule, and the run monitor reads it back.
 */
export function rolloutCompletedId(group: string): string {
  return `RolloutCompleted${group.slice(1)}`;
}

export const TIER_CODES = { easy: 0, medium: 1, hard: 2, none: 3 } as const;
/** tier name by TIER_CODES code */
export const TIER_NAMES = ['easy', 'medium', 'hard', 'none'] as const;
export type TierName = Static<typeof Tier>;
