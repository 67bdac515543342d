/**
 * The run configuration: keys grouped run.* task.* worker.* estimator.* sampler.* learner.*, their defaults
 * and units, the method presets, and the DARE README's knob names as aliases (DESIGN §11). The resolved
 * configuration is logged in RunStarted, so it lives beside the event catalogue.
 *
 * Difficulty thresholds are FAILURE rates (d = 1 − success), as the README states them; the reference code's
 * success-space keys are converted where the code that needs them is called.
 */
import { Type, type Static, type TSchema, Kind } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const U = (d: string, o: object = {}) => Type.Integer({ minimum: 0, description: d, ...o });
const N = (d: string, o: object = {}) => Type.Number({ description: d, ...o });
const F = (d: string) => Type.Number({ minimum: 0, maximum: 1, description: d });
const E = <T extends string>(vals: readonly T[], d: string) =>
  Type.Union(vals.map((v) => Type.Literal(v)), { description: d }) as unknown as ReturnType<typeof Type.Union<ReturnType<typeof Type.Literal<T>>[]>>;
const obj = <P extends Record<string, TSchema>>(p: P) => Type.Object(p, { additionalProperties: false });

export const ESTIMATORS = ['snis', 'previous-fr', 'mopps', 'constant', 'tfidf', 'judge', 'entropy', 'oracle'] as const;
export const SAMPLERS = [
  'beta', 'laplace', 'uniform', 'adarft', 'mopps', 'online-filter', 'dapo', 'vcrl', 'sec', 'greso', 'knapsack', 'staged', 'entropy',
] as const;

export const ConfigSchema = obj({
  method: Type.String({ description: 'preset name (dare, dare-reference, grpo, ...)' }),
  run: obj({
    seed: U('run seed (uint32); every PRNG key starts with it', { maximum: 0xffffffff }),
    steps: U('training steps (updates) in the run'),
    batchSize: U('B: fresh prompts per step (epoch 0; later ⌊σB⌋ fresh + replay)', { minimum: 1 }),
    stepsPerEpoch: U('mu: steps per selection epoch', { minimum: 1 }),
    estimation: E(['epoch', 'step'] as const, 'estimation cadence: once per epoch (paper) or every step'),
    checkpointEvery: U('updates between weight checkpoints (0: never)'),
    evalEvery: U('steps between evaluations (0: only at the end)'),
    evalSize: U('held-out prompts per evaluation'),
    snapshotEvery: U('events between snapshots of the actors and the run monitor (0: never)'),
    offPolicySteps: U('pipelined mode: 1 starts step t+1 (selection and rollouts, with the policy one update behind) while update t runs; 0 (default): strictly one step after another', { maximum: 1 }),
    tensorboard: Type.Boolean({ description: 'write TensorBoard event files of the per-step metrics into DIR/tensorboard/ during the run (`dare export DIR --tensorboard OUT` writes them from any log)' }),
  }),
  task: obj({
    source: E(['arithmetic', 'parquet', 'jsonl', 'sim'] as const, 'prompt source'),
    path: Type.String({ description: 'file for parquet/jsonl sources (relative to the repository root)' }),
    count: U('prompts to generate (arithmetic, sim)'),
    evalCount: U('held-out prompts generated for evaluation (arithmetic, sim)'),
    maxResponseTokens: U('L_max: response length cap in tokens', { minimum: 1 }),
    temperature: N('rollout temperature', { exclusiveMinimum: 0 }),
    levels: Type.String({ description: 'arithmetic difficulty levels, comma separated (empty: all)' }),
    arithmeticStyle: E(['bare', 'chat'] as const, 'arithmetic prompts: `12+7=` graded by the first integer (bare, the tiny model) or `What is 12 + 7?` graded by the last integer (chat, pretrained chat models)'),
  }),
  worker: obj({
    kind: E(['sim', 'tiny', 'hf'] as const, 'worker implementation'),
    model: Type.String({ description: 'hf: local model directory (required for hf)' }),
    device: E(['auto', 'cpu', 'cuda'] as const, 'device; auto picks CUDA when present'),
    lr: N('learning rate', { exclusiveMinimum: 0 }),
    weightDecay: N('AdamW weight decay', { minimum: 0 }),
    gradClip: N('gradient-norm clip', { minimum: 0 }),
    warmStartSteps: U('tiny: supervised warm-start steps on easy problems before RL'),
    warmStartLr: N('tiny: learning rate of the supervised warm start', { exclusiveMinimum: 0 }),
    jobTimeoutSec: N('per-job timeout in seconds before the worker is declared lost', { exclusiveMinimum: 0 }),
    shareJobs: Type.Boolean({ description: 'share rollout and score jobs with other bridges (`dare bridge DIR`) over the queue group dare.<run>.gpu' }),
    chatTemplate: Type.Boolean({ description: "hf: wrap prompts in the tokenizer's chat template (one user turn) when it has one" }),
    attnImplementation: E(['auto', 'eager', 'sdpa', 'flash_attention_2'] as const, 'hf: attention kernel; auto = sdpa where torch has it (torch ≥ 2), else eager'),
    gradientCheckpointing: Type.Boolean({ description: 'hf: recompute activations in the backward pass (less memory, ~30% more update time)' }),
    loraRank: U('hf: LoRA rank through peft (0: full fine-tuning)'),
    loraAlpha: N('hf: LoRA alpha (0 = 2 × rank)', { minimum: 0 }),
    loraTargets: Type.String({ description: 'hf: LoRA target modules, comma separated (empty: every linear layer of the body)' }),
    batchTokens: U('hf/tiny: token budget of one forward pass in score/update (rows × padded length; 0 = worker default: hf 8192, tiny 65536)'),
    rolloutRows: U('hf/tiny: rows decoded together in a rollout (0 = worker default: hf 128, tiny 1024)'),
    maxPromptTokens: U('hf: longest prompt in tokens (0 = 1024)'),
    ranks: U('hf/tiny: data-parallel ranks of the update on this host (torch.distributed: gloo on CPU, NCCL with one GPU per rank; the worker starts them; rollouts stay on rank 0)', { minimum: 1, maximum: 64 }),
    simDistribution: E(['uniform', 'skewed-easy', 'skewed-hard', 'bimodal'] as const, 'sim: latent difficulty distribution'),
    simShiftStep: U('sim: step at which prompt difficulties shift (0: never)'),
    simShiftFraction: F('sim: fraction of prompts whose difficulty shifts'),
    simShiftDelta: N('sim: shift of the latent difficulty (logit units; + harder)'),
    simOptimizer: E(['adam', 'sgd'] as const, 'sim: optimizer of the sim policy (sgd: the step follows the gradient\'s size, which selection changes; adam normalises it away)'),
    simRolloutMs: U('sim: simulated duration of one rollout job in ms (a step\'s rollouts run in ⌈prompts / 64⌉ jobs; timing only)'),
    simScoreMs: U('sim: simulated duration of one score job in ms (timing only)'),
    simUpdateMs: U('sim: simulated duration of one update job in ms (one per step; timing only)'),
    simEvalMs: U('sim: simulated duration of one eval job in ms (timing only)'),
  }),
  estimator: obj({
    method: E(ESTIMATORS, 'difficulty estimator'),
    clip: N('c: clip of the sequence log-ratio (IS_CLIP_RANGE)', { minimum: 0 }),
    essThreshold: N('ESS below which SNIS falls back to the raw stale rate (IS_ESS_THRESHOLD)', { minimum: 0 }),
    coldStart: E(['constant', 'tfidf', 'embedding'] as const, 'estimate for prompts never rolled out: a constant, or kernel similarity to a reference set over hashed TF-IDF vectors or sentence embeddings (all-MiniLM-L6-v2)'),
    coldStartReference: E(['rollouts', 'buffer'] as const, 'reference set of the kernel cold start: referenceSize prompts rolled out for it each round (rollouts), or every prompt the round estimated from the buffer (buffer: no extra rollouts; the first round has none, so the constant)'),
    coldStartDifficulty: F('constant cold-start difficulty (failure rate); the reference\'s 0.5 sits on the Beta sampler\'s mode, so never-estimated prompts outweigh estimated ones (docs/efficiency/findings.md F2)'),
    referenceSize: U('prompts rolled out for the cold-start reference set (tfidf)'),
    coldStartReferenceMax: U('with coldStartReference buffer, the kernel\'s reference set is at most this many estimated prompts (0: all of them): those ranked first by a hash of the run seed and prompt id, so the set changes only when a newly estimated prompt outranks one in it and each round computes the cosines of its new references only'),
    moppsDecay: F('MoPPS posterior decay λ'),
    moppsPrior: N('MoPPS prior α0 = β0', { exclusiveMinimum: 0 }),
  }),
  sampler: obj({
    method: E(SAMPLERS, 'prompt selection'),
    kappa: N('κ: Beta concentration, α = 1 + κ/2 (BETA_KAPPA)', { minimum: 0 }),
    peak: F('Beta mode in failure space (BETA_PEAK; 0.5 symmetric)'),
    coldMass: E(['free', 'balanced'] as const, 'probability mass of cold-start prompts in the Beta draw: free (what their estimate weighs) or balanced (the reference\'s teacher mass balancing: share 1/(1 + (|estimated|/budget)^2), dare-reference §6 step 4)'),
    betaEdge: E(['ref', 'symmetric'] as const, 'beta weights at d = 0 and d = 1: ref (the reference: d = 1 finite, d = 0 never drawn) or symmetric (both finite and equal; docs/efficiency/findings.md F6)'),
    laplaceAlpha: F('Laplace/DOTS target difficulty'),
    laplaceTau: N('Laplace/DOTS temperature', { exclusiveMinimum: 0 }),
    tiers: E(['paper', 'reference', 'none'] as const, 'rollout budget per prompt: paper tiers, reference 2·round(n·d), or none'),
    dEasy: F('d below which a prompt is easy (failure rate; README EASY_THRESHOLD)'),
    dHard: F('d above which a prompt is hard (failure rate; README HARD_LENGTH_THRESHOLD)'),
    gEasy: U('rollouts for an easy prompt'),
    gMedium: U('rollouts for a medium prompt, and n of the reference rule (NUM_GENERATIONS)', { minimum: 1 }),
    gHard: U('rollouts for a hard prompt (MAX_NUM_GENERATIONS)'),
    hintFraction: F('fraction of a hard prompt\'s rollouts generated from a hint prompt'),
    filterLow: F('online filter: keep groups with success ≥ this'),
    filterHigh: F('online filter: keep groups with success ≤ this'),
    maxGenBatches: U('dynamic sampling: generation rounds before training on a partial batch', { minimum: 1 }),
    secTau: N('SEC: softmax temperature over the category values Q(c)', { exclusiveMinimum: 0 }),
  }),
  learner: obj({
    sigma: F('σ: fraction of fresh groups per step from epoch 1 (SIGMA)'),
    bufferMode: E(['paper', 'reference'] as const, 'replay buffer semantics'),
    bufferSize: U('buffer capacity in groups (BUFFER_SIZE)'),
    perPromptGroups: U('paper buffer: groups kept per prompt', { minimum: 1 }),
    replayPriority: E(['none', 'mixed'] as const, 'replay draw: uniform over the buffer (none), or the groups that were mixed when generated (some rows right, some wrong: the only ones with a GRPO gradient) first, then the rest (mixed; the reference\'s rollout_priority_range, dare-reference §9)'),
    advantage: E(['grpo', 'dr-grpo'] as const, 'advantage estimator'),
    aggregation: E(['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum-norm', 'weighted-token-sum'] as const, 'loss aggregation'),
    clipRatio: N('ε of the symmetric clip [1−ε, 1+ε] (POLICY_CLIP_RATIO)', { minimum: 0 }),
    clipLower: N('absolute lower ratio bound, 0 = 1−ε (POLICY_CLIP_LOWER_BOUND)', { minimum: 0 }),
    clipUpper: N('absolute upper ratio bound, 0 = 1+ε (POLICY_CLIP_UPPER_BOUND)', { minimum: 0 }),
    clipMode: E(['global', 'paper', 'dapo'] as const, 'one global pair, relaxed ε⁺ for easy rows, or DAPO clip-higher'),
    easyClipHigh: N('ε⁺: upper clip for easy rows in paper mode (ratio ≤ 1+ε⁺)', { minimum: 0 }),
    lambdaEasy: N('length penalty on correct easy rows (EASY_LENGTH_PENALTY_COEFF)', { minimum: 0 }),
    lambdaHard: N('bounded length bonus on wrong hard rows (HARD_LENGTH_BONUS_COEFF)', { minimum: 0 }),
    shaping: E(['paper', 'reference'] as const, 'shaping by tier (paper) or by the realized-accuracy ramps (reference)'),
    shapingGroups: E(['all', 'mixed'] as const, 'groups whose rows the length shaping touches: all (the reference), or only those with both right and wrong rows (mixed: in an all-right or all-wrong group the shaping is the only reward difference, and the group normalisation makes it a full-scale advantage for length, docs/efficiency/findings.md F6)'),
    overlongCache: U('DAPO overlong buffer L_cache in tokens (0: off)'),
    entropyCoeff: N('entropy bonus coefficient', { minimum: 0 }),
    klCoeff: N('k3 KL coefficient', { minimum: 0 }),
    daro: Type.Boolean({ description: 'DARO learnable per-bucket loss weights' }),
    lConst: U('Dr. GRPO constant length normaliser (tokens; 0 = L_max)'),
    stages: Type.Array(
      obj({
        name: Type.String({ minLength: 1 }),
        filter: obj({ dMin: F('lowest failure rate in the stage'), dMax: F('highest failure rate'), includeMin: Type.Boolean(), includeMax: Type.Boolean() }),
        maxResponseTokens: U('response cap in this stage (0 = task.maxResponseTokens)'),
        maskTruncated: Type.Boolean(),
        entropyCoeff: N('entropy coefficient in this stage', { minimum: 0 }),
        transition: Type.Union([
          obj({ kind: Type.Literal('steps'), n: U('steps in the stage', { minimum: 1 }) }),
          obj({
            kind: Type.Literal('plateau'), metric: Type.Literal('eval/accuracy'), window: U('moving-average window (evaluations)', { minimum: 1 }),
            minDelta: N('minimum improvement of the moving average', { minimum: 0 }), patience: U('non-improving evaluations before advancing', { minimum: 1 }),
          }),
        ]),
      }),
      { description: 'staged curriculum: difficulty range, response cap, truncation mask, entropy and transition per stage (scenario files only)' },
    ),
  }),
});

export type RunConfig = Static<typeof ConfigSchema>;
const check = TypeCompiler.Compile(ConfigSchema);

export const DEFAULTS: RunConfig = {
  method: 'dare',
  run: { seed: 1, steps: 20, batchSize: 32, stepsPerEpoch: 4, estimation: 'epoch', checkpointEvery: 5, evalEvery: 5, evalSize: 256, snapshotEvery: 2000, offPolicySteps: 0, tensorboard: false },
  task: { source: 'arithmetic', path: '', count: 2000, evalCount: 256, maxResponseTokens: 8, temperature: 1, levels: '', arithmeticStyle: 'bare' },
  worker: {
    kind: 'tiny', model: '', device: 'auto', lr: 1e-3, weightDecay: 0.01, gradClip: 1, warmStartSteps: 200, warmStartLr: 1e-3, jobTimeoutSec: 600, shareJobs: false,
    chatTemplate: true, attnImplementation: 'auto', gradientCheckpointing: false, loraRank: 0, loraAlpha: 0, loraTargets: '', batchTokens: 0, rolloutRows: 0, maxPromptTokens: 0, ranks: 1,
    simDistribution: 'uniform', simShiftStep: 0, simShiftFraction: 0.3, simShiftDelta: 2, simOptimizer: 'adam',
    simRolloutMs: 0, simScoreMs: 0, simUpdateMs: 0, simEvalMs: 0,
  },
  estimator: {
    method: 'snis', clip: 4, essThreshold: 2, coldStart: 'constant', coldStartReference: 'rollouts', coldStartDifficulty: 0.5, referenceSize: 0, coldStartReferenceMax: 0, moppsDecay: 0.5, moppsPrior: 1,
  },
  sampler: {
    method: 'beta', kappa: 100, peak: 0.5, coldMass: 'free', betaEdge: 'ref', laplaceAlpha: 0.5, laplaceTau: 1e-3, tiers: 'paper', dEasy: 0.3, dHard: 0.8,
    gEasy: 4, gMedium: 8, gHard: 16, hintFraction: 0, filterLow: 0.2, filterHigh: 0.8, maxGenBatches: 10, secTau: 0.4,
  },
  learner: {
    sigma: 0.5, bufferMode: 'paper', bufferSize: 512, perPromptGroups: 2, replayPriority: 'none', advantage: 'grpo', aggregation: 'token-mean',
    clipRatio: 0.2, clipLower: 0, clipUpper: 0, clipMode: 'paper', easyClipHigh: 0.28, lambdaEasy: 1e-4, lambdaHard: 1e-4,
    shaping: 'paper', shapingGroups: 'all', overlongCache: 0, entropyCoeff: 0.001, klCoeff: 0, daro: false, lConst: 0, stages: [],
  },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Method presets: what each named method sets on top of the defaults. */
export const PRESETS: Record<string, DeepPartial<RunConfig>> = {
  // the paper's method at its best (issue 20, docs/config.md "The dare preset"): the kernel cold start over the
  // buffer's estimates with the reference's teacher mass balancing, symmetric Beta edges, estimates every step,
  // mixed groups replayed first, σ = 0.25
  dare: {
    run: { estimation: 'step' },
    estimator: { coldStart: 'tfidf', coldStartReference: 'buffer', coldStartReferenceMax: 256 },
    sampler: { betaEdge: 'symmetric', coldMass: 'balanced' },
    learner: { sigma: 0.25, replayPriority: 'mixed', shapingGroups: 'mixed' },
  },
  // the reference code's behaviour (spec §14): global clip, reference buffer, 2·round(n·d), ramps in success space
  'dare-reference': {
    sampler: { tiers: 'reference', hintFraction: 0 },
    learner: { bufferMode: 'reference', clipMode: 'global', shaping: 'reference' },
  },
  grpo: { estimator: { method: 'constant' }, sampler: { method: 'uniform', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global' } },
  'previous-fr': { estimator: { method: 'previous-fr' } },
  mopps: { estimator: { method: 'mopps' }, sampler: { method: 'mopps', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'dapo' } },
  dots: { estimator: { method: 'tfidf', coldStart: 'tfidf', referenceSize: 64 }, sampler: { method: 'laplace', tiers: 'none' }, learner: { lambdaEasy: 0, lambdaHard: 0, clipMode: 'global' } },
  'llm-judge': { estimator: { method: 'judge' } },
  edco: { estimator: { method: 'entropy' }, sampler: { method: 'entropy', tiers: 'none', hintFraction: 0 } },
  'online-filter': { estimator: { method: 'constant' }, sampler: { method: 'online-filter', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global' } },
  dapo: {
    estimator: { method: 'constant' }, sampler: { method: 'dapo', tiers: 'none' },
    learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'dapo', aggregation: 'token-mean', overlongCache: 4, entropyCoeff: 0 },
  },
  'dr-grpo': {
    estimator: { method: 'constant' }, sampler: { method: 'uniform', tiers: 'none' },
    learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global', advantage: 'dr-grpo', aggregation: 'seq-mean-token-sum-norm' },
  },
  daro: { estimator: { method: 'constant' }, sampler: { method: 'uniform', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'dapo', daro: true, aggregation: 'weighted-token-sum' } },
  adarft: { estimator: { method: 'previous-fr' }, sampler: { method: 'adarft', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global' } },
  vcrl: { estimator: { method: 'constant' }, sampler: { method: 'vcrl', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global' } },
  sec: { estimator: { method: 'previous-fr' }, sampler: { method: 'sec', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global' } },
  knapsack: { estimator: { method: 'previous-fr' }, sampler: { method: 'knapsack', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'dapo' } },
  greso: { estimator: { method: 'constant' }, sampler: { method: 'greso', tiers: 'none' }, learner: { sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global' } },
  // methods §3: train on the moderate prompts until eval accuracy plateaus, then on the hard ones with
  // truncated responses masked from the loss and no entropy bonus
  staged: {
    estimator: { method: 'previous-fr' }, sampler: { method: 'staged', tiers: 'none' },
    learner: {
      sigma: 1, lambdaEasy: 0, lambdaHard: 0, clipMode: 'global',
      stages: [
        { name: 'moderate', filter: { dMin: 0, dMax: 1, includeMin: false, includeMax: false }, maxResponseTokens: 0, maskTruncated: false, entropyCoeff: 0.001,
          transition: { kind: 'plateau', metric: 'eval/accuracy', window: 2, minDelta: 0.005, patience: 2 } },
        { name: 'hard', filter: { dMin: 0.8, dMax: 1, includeMin: true, includeMax: true }, maxResponseTokens: 0, maskTruncated: true, entropyCoeff: 0,
          transition: { kind: 'steps', n: 1_000_000 } },
      ] as never,
    },
  },
};

/**
 * The DARE README's knob names, mapped to our keys. `convert` turns the README's value into ours (the
 * README's thresholds are already failure rates; POLICY_CLIP_* bounds are absolute multipliers as ours).
 */
export const ALIASES: Record<string, { key: string; convert?: (v: number) => number }> = {
  IS_CLIP_RANGE: { key: 'estimator.clip' },
  IS_ESS_THRESHOLD: { key: 'estimator.essThreshold' },
  BETA_KAPPA: { key: 'sampler.kappa' },
  BETA_PEAK: { key: 'sampler.peak' },
  SIGMA: { key: 'learner.sigma' },
  BUFFER_SIZE: { key: 'learner.bufferSize' },
  EASY_THRESHOLD: { key: 'sampler.dEasy' },
  HARD_LENGTH_THRESHOLD: { key: 'sampler.dHard' },
  NUM_GENERATIONS: { key: 'sampler.gMedium' },
  MAX_NUM_GENERATIONS: { key: 'sampler.gHard' },
  EASY_LENGTH_PENALTY_COEFF: { key: 'learner.lambdaEasy' },
  HARD_LENGTH_BONUS_COEFF: { key: 'learner.lambdaHard' },
  POLICY_CLIP_RATIO: { key: 'learner.clipRatio' },
  POLICY_CLIP_LOWER_BOUND: { key: 'learner.clipLower' },
  POLICY_CLIP_UPPER_BOUND: { key: 'learner.clipUpper' },
  // reference: is_default_label is a SUCCESS rate; our cold start is a failure rate
  IS_DEFAULT_LABEL: { key: 'estimator.coldStartDifficulty', convert: (v) => 1 - v },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function merge<T>(base: T, over: unknown, path = ''): T {
  if (!isObj(over)) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    const where = path ? `${path}.${k}` : k;
    if (!(k in out)) throw new ConfigError(`unknown configuration key "${where}"`);
    out[k] = isObj(v) && isObj(out[k]) ? merge(out[k], v, where) : v;
  }
  return out as T;
}

function schemaAt(path: string): TSchema | undefined {
  let s: TSchema | undefined = ConfigSchema;
  for (const part of path.split('.')) {
    s = (s as { properties?: Record<string, TSchema> })?.properties?.[part];
    if (!s) return undefined;
  }
  return s;
}

/** Parse one `key=value` (key or README alias) into a partial config. */
export function parseSet(assign: string): DeepPartial<RunConfig> {
  const eq = assign.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${assign}: expected key=value`);
  let key = assign.slice(0, eq).trim();
  const raw = assign.slice(eq + 1).trim();
  const alias = ALIASES[key];
  if (alias) key = alias.key;
  const s = schemaAt(key);
  if (!s || (s as { [Kind]: string })[Kind] === 'Object') {
    throw new ConfigError(`--set ${assign}: unknown configuration key "${key}"`);
  }
  const kind = (s as { [Kind]: string })[Kind];
  let value: unknown = raw;
  if (kind === 'Number' || kind === 'Integer') {
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n)) throw new ConfigError(`--set ${assign}: "${key}" expects a number`);
    value = alias?.convert ? alias.convert(n) : n;
  } else if (kind === 'Boolean') {
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(`--set ${assign}: "${key}" expects true or false`);
    value = raw === 'true';
  }
  const out: Record<string, unknown> = {};
  let cur = out;
  const parts = key.split('.');
  parts.slice(0, -1).forEach((p) => {
    cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  });
  cur[parts[parts.length - 1]] = value;
  return out as DeepPartial<RunConfig>;
}

/**
 * Resolve a configuration: defaults, then the method preset, then the scenario's own keys, then --set
 * overrides (each a key or README alias). Throws ConfigError naming the key at fault.
 */
export function resolveConfig(scenario: unknown, sets: readonly string[] = []): RunConfig {
  if (scenario !== undefined && !isObj(scenario)) throw new ConfigError('configuration must be a JSON object');
  const sc = (scenario ?? {}) as Record<string, unknown>;
  const overrides = sets.map(parseSet);
  const method = String(
    overrides.reduce<unknown>((m, o) => (o.method !== undefined ? o.method : m), sc.method ?? DEFAULTS.method),
  );
  const preset = PRESETS[method];
  if (!preset) throw new ConfigError(`unknown method "${method}" (one of ${Object.keys(PRESETS).join(', ')})`);
  const { description: _d, name: _n, ...rest } = sc as Record<string, unknown>;
  // README knob names may stand at the top of a scenario too: turn them into --set-style overrides
  const aliasSets: string[] = [];
  for (const k of Object.keys(rest)) {
    if (ALIASES[k]) {
      aliasSets.push(`${k}=${String(rest[k])}`);
      delete rest[k];
    }
  }
  // structuredClone: a resolved config never shares objects with DEFAULTS or PRESETS
  let cfg = merge(merge(structuredClone(DEFAULTS), structuredClone(preset)), rest);
  for (const o of aliasSets.map(parseSet)) cfg = merge(cfg, o);
  for (const o of overrides) cfg = merge(cfg, o);
  cfg.method = method;
  return validated(cfg);
}

/**
 * The configuration a log (RunStarted) or a run directory (config.json) was written with. It was complete
 * when written: a key it lacks did not exist yet, so it takes its DEFAULT — which keeps the behaviour the run
 * had — and never the value today's method preset gives it (a `dare` run logged before the `dare` preset set
 * a new key replays with that key's old behaviour). Throws ConfigError like resolveConfig.
 */
export function resolveLoggedConfig(logged: unknown): RunConfig {
  if (!isObj(logged)) throw new ConfigError('configuration must be a JSON object');
  const { description: _d, name: _n, scenario: _s, ...rest } = logged as Record<string, unknown>;
  const method = String(rest.method ?? DEFAULTS.method);
  if (!PRESETS[method]) throw new ConfigError(`unknown method "${method}" (one of ${Object.keys(PRESETS).join(', ')})`);
  const cfg = merge(structuredClone(DEFAULTS), rest);
  cfg.method = method;
  return validated(cfg);
}

function validated(cfg: RunConfig): RunConfig {
  if (!check.Check(cfg)) {
    const err = check.Errors(cfg).First();
    throw new ConfigError(`configuration key "${err?.path.slice(1).replace(/\//g, '.')}": ${err?.message}`);
  }
  if (cfg.worker.kind === 'sim' && cfg.worker.ranks > 1) {
    throw new ConfigError(`worker.ranks: ${cfg.worker.ranks} ranks need a PyTorch worker (kind tiny or hf); the sim runs in-process`);
  }
  if (cfg.worker.kind === 'hf' && !cfg.worker.model) throw new ConfigError('worker.model: the hf worker needs --set worker.model=DIR');
  if ((cfg.task.source === 'parquet' || cfg.task.source === 'jsonl') && !cfg.task.path) {
    throw new ConfigError(`task.path: a ${cfg.task.source} source needs a file`);
  }
  if (cfg.sampler.dEasy > cfg.sampler.dHard) throw new ConfigError('sampler.dEasy must not exceed sampler.dHard');
  if (cfg.run.offPolicySteps > 0) {
    // the staged curriculum moves its stage at UpdateCompleted, which the next step's selection would race
    if (cfg.sampler.method === 'staged') throw new ConfigError('run.offPolicySteps: the staged curriculum (sampler.method staged) needs run.offPolicySteps=0');
    // replica bridges serve a shared job at the version it was made at, and keep no weights one update back
    if (cfg.worker.shareJobs) throw new ConfigError('run.offPolicySteps: shared rollout jobs (worker.shareJobs) need run.offPolicySteps=0');
    if (cfg.worker.ranks > 1) throw new ConfigError('run.offPolicySteps: data-parallel ranks (worker.ranks > 1) need run.offPolicySteps=0');
  }
  return cfg;
}

/** Every key with its description (docs/config.md is checked against this). */
export function describeKeys(): Array<{ key: string; description: string; default: unknown; alias?: string }> {
  const out: Array<{ key: string; description: string; default: unknown; alias?: string }> = [];
  const rev = new Map(Object.entries(ALIASES).map(([a, { key }]) => [key, a]));
  const walk = (s: TSchema, path: string, def: unknown) => {
    if ((s as { [Kind]: string })[Kind] === 'Object') {
      for (const [k, v] of Object.entries((s as unknown as { properties: Record<string, TSchema> }).properties)) {
        walk(v, path ? `${path}.${k}` : k, (def as Record<string, unknown>)?.[k]);
      }
    } else out.push({ key: path, description: (s as { description?: string }).description ?? '', default: def, alias: rev.get(path) });
  };
  walk(ConfigSchema, '', DEFAULTS);
  return out;
}
