/**
 * The `sim` worker: an in-process WorkerHandle answering the worker-protocol jobs (init, rollout, score,
 * update, save, load, eval, entropy, generate, shutdown) with the latent-skill policy of simPolicy.ts over
 * the prompt bank of promptBank.ts. Exact pass rates (oracle.ts) make it the ground truth for tests,
 * benchmarks and drift studies at 1M prompts.
 *
 * Row representation (fits the protocol's bins; nothing else is needed to recompute a log-prob):
 *   promptTokens  i4 [q]                       q = prompt index in the bank
 *   tokens        i4 [C, L, E]                 C = 1 correct / 0 wrong, L = length in tokens (≥ 1),
 *                                              E = 1 finished with eos / 0 truncated at L = maxTokens
 *   logprobs      f4 [log P(C), log P(L, E | C), 0]   one entry per `tokens` entry; their sum is the
 *                                              sequence log-prob under the behaviour policy
 * so `tokens` is three synthetic ids, not L ids; the response length is L. Every sample of a rollout also
 * carries `correct` (bool), `length` (L), `logprob` (the float64 sum — use it, not the float32 entries,
 * for exact ratios), `text` ("correct" | "wrong": what a verifier of the sim checks) and `finish`.
 * `score` returns the same three-entry split and float64 `sums`, so exp(sum − logprob) is the exact
 * importance ratio of the row. `update` treats a row as L tokens sharing the sequence ratio (simPolicy.ts
 * lossAndGrad), so token-mean aggregation weighs long responses as it does for a real model.
 *
 * Extensions to the protocol, sim only: init args `kind: "sim"` and `sim: SimConfig`; the `init` result
 * says dtype "float64". `microBatch` is ignored (one step over the whole batch equals accumulation).
 * Prompt ids map to bank indices through `sim.promptIds` when given, else by their trailing decimal
 * number ("q17", "arith-000017" → 17), which must be < numPrompts.
 *
 * Determinism: every draw comes from events/prng.ts keyed by the request seed; sample j of prompt q in a
 * rollout with seed S uses stream {seed: S, step: q, purpose: "sim/rollout"} at positions 2j (correctness)
 * and 2j+1 (length), so it does not depend on the rest of the batch. Same init + same jobs ⇒ identical
 * bytes. Replies are cached by request id, so a repeated id returns the first reply and an update is never
 * applied twice: replies of state-changing jobs since the last save (and the last `cacheSize` of them), and
 * of read-only jobs the last `cacheSize` within `cacheBytes` (replyCache.ts; docs/worker-protocol.md, Idempotency).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { floatAt, keyWords } from '../../events/prng.ts';
import { decodeBody, f32ToBin, i32ToBin, packBody } from '../frames.ts';
import { arr, bad, isMap, JobFail, map, num, rowBin32, rowField, rowNum, str, uint } from './simArgs.ts';
import { WorkerJobError, type JobResult, type RequestOptions, type WorkerHandle, type WorkerInfo } from '../workerClient.ts';
import { ReplyCache, type Cached } from './replyCache.ts';
import { decodeSimCheckpoint, encodeSimCheckpoint, writeDurably } from './simCheckpoint.ts';
import type { PromptBank } from './promptBank.ts';
import { parseSimInit } from './simInit.ts';
import { newOptimState, optimStep, type OptimConfig, type OptimState } from './optimizer.ts';
import { SimOracle, type SimStateView } from './oracle.ts';
import { judgeReply } from './simJudge.ts';
import {
  correctnessLogit,
  expectedCappedLength,
  lengthLogit,
  logProbCorrectness,
  logProbLength,
  lossAndGrad,
  rowEntropy,
  sampleResponse,
  sigmoid,
  type Aggregation,
  type SimConstants,
  type SimRow,
} from './simPolicy.ts';


/** Policy parameters in named form. */
export interface SimParams {
  theta0: number;
  thetaCategory: number[];
  phi: number;
}

const ROW_TOKENS = 3;

export interface SimWorkerOptions {
  name?: string;
  /** Round-trip args and results through MessagePack, as over a pipe (tests; slower). */
  wire?: boolean;
  /** Reply cache size beyond the ids since the last save (default 1024, the protocol's minimum). */
  cacheSize?: number;
  /**
   * Byte budget of cached read-only replies (rollout, score, eval, ...; never fewer than 64 of them kept).
   * The sim lives in the bridge's process, so its default is 64 MiB, not the protocol's 1 GiB for a
   * worker process: a long run's rollout replies otherwise grow the process without bound.
   */
  cacheBytes?: number;
  /**
   * Simulated duration (ms) per job kind (worker.simRolloutMs, ...): the reply is computed at once and
   * handed back that much later, so a step can have a GPU-like shape. Timing only: the reply is the same.
   * A repeated request id (a cached reply) comes back at once, as from a worker that kept it.
   */
  durationsMs?: Readonly<Partial<Record<string, number>>>;
}

export class SimWorker implements WorkerHandle, SimStateView {
  readonly oracle: SimOracle;
  private readonly opts: SimWorkerOptions;
  private _info: WorkerInfo;
  private closed = false;
  private autoId = 0;

  // state (set by init)
  private _bank: PromptBank | null = null;
  private _k: SimConstants | null = null;
  private w: Float64Array = new Float64Array(0);
  private ref: Float64Array = new Float64Array(0);
  private optimCfg: OptimConfig | null = null;
  private optim: OptimState = newOptimState(0);
  private version = 0;
  /** the weights before the last update (pipelined mode generates with them); null after init or load */
  private previous: { version: number; w: Float64Array } | null = null;
  private idIndex: Map<string, number> | null = null;

  private readonly replies: ReplyCache;

  constructor(opts: SimWorkerOptions = {}) {
    this.opts = opts;
    this.replies = new ReplyCache(opts);
    this._info = { name: opts.name ?? 'sim', kind: 'sim', pid: null, generation: 0 };
    this.oracle = new SimOracle(this);
  }

  // ---- SimStateView ----------------------------------------------------------------------------------

  get bank(): PromptBank {
    if (!this._bank) throw new Error('sim worker is not initialised');
    return this._bank;
  }
  get constants(): SimConstants {
    if (!this._k) throw new Error('sim worker is not initialised');
    return this._k;
  }
  get weights(): Float64Array {
    return this.w;
  }
  get policyVersion(): number {
    return this.version;
  }
  get info(): WorkerInfo {
    return this._info;
  }

  /** Bank index of a prompt id (see the header for the mapping). Throws a bad_request-worthy error. */
  promptIndex(promptId: string): number {
    if (this.idIndex) {
      const q = this.idIndex.get(promptId);
      if (q === undefined) throw bad(`unknown promptId ${JSON.stringify(promptId)}`);
      return q;
    }
    const m = /(\d+)$/.exec(promptId);
    const q = m ? Number(m[1]) : NaN;
    if (!(q < this.bank.n)) {
      throw bad(`promptId ${JSON.stringify(promptId)} does not end in a prompt index < ${this.bank.n}`);
    }
    return q;
  }

  /**
   * The weights at worker version `v` (undefined: the current ones): the current version or the one before
   * the last update. Throws otherwise (a pipelined job names at most one update back).
   */
  weightsAt(v?: number): Float64Array {
    if (v === undefined || v === this.version) return this.w;
    if (this.previous && this.previous.version === v) return this.previous.w;
    throw bad(`args.policyVersion ${v}: the worker holds version ${this.version}${this.previous ? ` and ${this.previous.version}` : ''}`);
  }

  /** A generating job's weights and version: args.policyVersion when given (pipelined mode), else the current ones. */
  private weightsFor(a: Record<string, unknown>): { w: Float64Array; version: number } {
    const v = a.policyVersion === undefined ? undefined : uint(a.policyVersion, 'args.policyVersion');
    return { w: this.weightsAt(v), version: v ?? this.version };
  }

  /** Current parameters, named. */
  get params(): SimParams {
    const C = this.constants.numCategories;
    return { theta0: this.w[0], thetaCategory: Array.from(this.w.subarray(1, 1 + C)), phi: this.w[C + 1] };
  }

  /** Overwrite parameters (tests, scenarios). Does not change the policy version or the optimiser. */
  setParams(p: Partial<SimParams>): void {
    const C = this.constants.numCategories;
    if (p.theta0 !== undefined) this.w[0] = p.theta0;
    if (p.thetaCategory !== undefined) {
      if (p.thetaCategory.length !== C) throw new Error(`thetaCategory must have ${C} entries`);
      p.thetaCategory.forEach((t, c) => (this.w[1 + c] = t));
    }
    if (p.phi !== undefined) this.w[C + 1] = p.phi;
  }

  /** The reply cache's size: entries, read-only ones and their payload bytes. */
  replyCache(): { entries: number; readOnly: number; readOnlyBytes: number } {
    return this.replies.size();
  }

  // ---- WorkerHandle ----------------------------------------------------------------------------------

  request(job: string, args: Record<string, unknown>, opts: RequestOptions = {}): Promise<JobResult> {
    if (this.closed) return Promise.reject(new Error(`sim worker ${this._info.name} is closed`));
    const id = opts.id ?? `${this._info.name}.${++this.autoId}`;
    const cached = this.replies.get(id);
    const reply = cached ?? this.execute(id, job, args);
    const settle = (): Promise<JobResult> =>
      reply.ok ? Promise.resolve(reply.result) : Promise.reject(new WorkerJobError(job, id, reply.code, reply.message));
    const wait = cached ? 0 : this.simulatedMs(job);
    if (wait > 0) return new Promise<void>((r) => setTimeout(r, wait)).then(settle);
    return settle();
  }

  /** The simulated duration of a job of this kind (0: the reply comes at once). */
  simulatedMs(job: string): number {
    return this.opts.durationsMs?.[job] ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private execute(id: string, job: string, rawArgs: Record<string, unknown>): Cached {
    let reply: Cached;
    try {
      const args = this.opts.wire ? decodeBody(packBody(rawArgs)) : rawArgs;
      if (!isMap(args)) throw bad('args must be a map');
      let result = this.run(job, args);
      if (this.opts.wire) result = decodeBody(packBody(result));
      reply = { ok: true, result };
    } catch (e) {
      reply = e instanceof JobFail ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'internal', message: (e as Error).message };
    }
    this.replies.put(id, job, reply);
    return reply;
  }

  private run(job: string, a: Record<string, unknown>): JobResult {
    if (job === 'shutdown') {
      this.closed = true;
      return {};
    }
    if (job === 'init') return this.init(a);
    if (!this._bank) {
      if (['rollout', 'score', 'update', 'save', 'load', 'eval', 'entropy', 'generate'].includes(job)) {
        throw new JobFail('not_initialised', `${job} before init`);
      }
    }
    switch (job) {
      case 'rollout':
        return this.rollout(a);
      case 'score':
        return this.score(a);
      case 'update':
        return this.update(a);
      case 'save':
        return this.save(a);
      case 'load':
        return this.load(a);
      case 'eval':
        return this.evalJob(a);
      case 'entropy':
        return this.entropy(a);
      case 'generate':
        return this.generate(a);
      default:
        throw new JobFail('unknown_job', `unknown job ${JSON.stringify(job)}`);
    }
  }

  // ---- jobs ------------------------------------------------------------------------------------------

  private init(a: Record<string, unknown>): JobResult {
    const { bank, constants: k, weights: w, optimCfg, idIndex } = parseSimInit(a);
    this._bank = bank;
    this._k = k;
    this.w = w;
    this.ref = Float64Array.from(w);
    this.optimCfg = optimCfg;
    this.optim = newOptimState(w.length);
    this.version = 0;
    this.previous = null;
    this.idIndex = idIndex;
    const result = { device: 'cpu', dtype: 'float64', params: w.length, vocabSize: 0, policyVersion: 0, torch: 'none (sim)', prompts: bank.n };
    this._info = { ...this._info, init: result };
    return result;
  }

  private temperature(a: Record<string, unknown>, def?: number): number {
    const t = num(a.temperature, 'args.temperature', def);
    if (!(t > 0)) throw bad(`args.temperature must be > 0, got ${t}`);
    return t;
  }

  private rollout(a: Record<string, unknown>): JobResult {
    const { w, version } = this.weightsFor(a);
    const prompts = arr(a.prompts, 'args.prompts');
    const tau = this.temperature(a);
    const maxTokens = uint(a.maxTokens, 'args.maxTokens', undefined, 1);
    const seed = uint(a.seed, 'args.seed');
    const bank = this.bank;
    const k = this.constants;
    const b = bank.difficultiesAt(version);

    const idx = new Int32Array(prompts.length);
    const ns = new Int32Array(prompts.length);
    let total = 0;
    prompts.forEach((p, i) => {
      const m = map(p, `args.prompts[${i}]`);
      idx[i] = this.promptIndex(str(m.promptId, `args.prompts[${i}].promptId`));
      ns[i] = uint(m.n, `args.prompts[${i}].n`, undefined, 1);
      total += ns[i];
    });

    // One buffer per field for the whole rollout; samples get views.
    const promptTok = new Int32Array(total);
    const tok = new Int32Array(total * ROW_TOKENS);
    const lps = new Float32Array(total * ROW_TOKENS);
    const promptBin = i32ToBin(promptTok);
    const tokBin = i32ToBin(tok);
    const lpBin = f32ToBin(lps);
    const eta1 = lengthLogit(w, k, true);
    const eta0 = lengthLogit(w, k, false);
    const drawn = new Map<number, number>(); // samples already drawn per prompt in this request

    const groups: JobResult[] = [];
    let s = 0;
    for (let i = 0; i < prompts.length; i++) {
      const q = idx[i];
      const z = correctnessLogit(w, k, b[q], bank.category[q], tau);
      const [k0, k1] = keyWords({ seed, step: q, purpose: 'sim/rollout' });
      const first = drawn.get(q) ?? 0;
      drawn.set(q, first + ns[i]);
      const samples: JobResult[] = [];
      for (let j = first; j < first + ns[i]; j++, s++) {
        const u1 = floatAt(k0, k1, 2 * j);
        const u2 = Math.max(floatAt(k0, k1, 2 * j + 1), 2 ** -53); // (0, 1) for the log
        const r = sampleResponse(z, eta1, eta0, maxTokens, u1, u2);
        const lpC = logProbCorrectness(z, r.correct);
        const lpL = logProbLength(r.correct ? eta1 : eta0, r.length, r.truncated);
        promptTok[s] = q;
        const o = s * ROW_TOKENS;
        tok[o] = r.correct ? 1 : 0;
        tok[o + 1] = r.length;
        tok[o + 2] = r.truncated ? 0 : 1;
        lps[o] = lpC;
        lps[o + 1] = lpL;
        lps[o + 2] = 0;
        samples.push({
          promptTokens: promptBin.subarray(4 * s, 4 * s + 4),
          tokens: tokBin.subarray(4 * o, 4 * (o + ROW_TOKENS)),
          logprobs: lpBin.subarray(4 * o, 4 * (o + ROW_TOKENS)),
          text: r.correct ? 'correct' : 'wrong',
          finish: r.truncated ? 'length' : 'eos',
          correct: r.correct,
          length: r.length,
          logprob: lpC + lpL,
        });
      }
      groups.push({ promptId: (prompts[i] as Record<string, unknown>).promptId as string, samples });
    }
    return { groups, policyVersion: version };
  }

  /** Decode a row's promptTokens/tokens into (q, C, L, truncated). */
  private decodeRow(row: Record<string, unknown>, i: number): { q: number; correct: boolean; length: number; truncated: boolean } {
    const pt = rowBin32(row.promptTokens, i, 'promptTokens', 'i4');
    const t = rowBin32(row.tokens, i, 'tokens', 'i4');
    if (pt.length !== 1 || !(pt[0] >= 0 && pt[0] < this.bank.n)) {
      throw bad(`${rowField(i, 'promptTokens')} must be [prompt index < ${this.bank.n}] (a sim row), got [${Array.from(pt).join(', ')}]`);
    }
    if (t.length !== ROW_TOKENS || (t[0] !== 0 && t[0] !== 1) || !(t[1] >= 1) || (t[2] !== 0 && t[2] !== 1)) {
      throw bad(`${rowField(i, 'tokens')} must be [correct 0|1, length ≥ 1, eos 0|1] (a sim row), got [${Array.from(t).join(', ')}]`);
    }
    return { q: pt[0], correct: t[0] === 1, length: t[1], truncated: t[2] === 0 };
  }

  private score(a: Record<string, unknown>): JobResult {
    const { w, version } = this.weightsFor(a);
    const rows = arr(a.rows, 'args.rows');
    const tau = this.temperature(a);
    const k = this.constants;
    const b = this.bank.difficultiesAt(version);
    const eta1 = lengthLogit(w, k, true);
    const eta0 = lengthLogit(w, k, false);
    const lps = new Float32Array(rows.length * ROW_TOKENS);
    const lpBin = f32ToBin(lps);
    const logprobs: Buffer[] = [];
    const sums: number[] = [];
    rows.forEach((r, i) => {
      const d = this.decodeRow(isMap(r) ? r : map(r, rowField(i, '')), i);
      const z = correctnessLogit(w, k, b[d.q], this.bank.category[d.q], tau);
      const lpC = logProbCorrectness(z, d.correct);
      const lpL = logProbLength(d.correct ? eta1 : eta0, d.length, d.truncated);
      const o = i * ROW_TOKENS;
      lps[o] = lpC;
      lps[o + 1] = lpL;
      logprobs.push(lpBin.subarray(4 * o, 4 * (o + ROW_TOKENS)));
      sums.push(lpC + lpL);
    });
    return { logprobs, sums };
  }

  private update(a: Record<string, unknown>): JobResult {
    const rawRows = arr(a.rows, 'args.rows');
    const aggregation = str(a.aggregation, 'args.aggregation') as Aggregation;
    if (!['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum-norm', 'weighted-token-sum'].includes(aggregation)) {
      throw bad(`args.aggregation must be token-mean|seq-mean-token-mean|seq-mean-token-sum-norm|weighted-token-sum, got ${JSON.stringify(aggregation)}`);
    }
    const lConst = a.lConst === undefined ? undefined : uint(a.lConst, 'args.lConst', undefined, 1);
    if (aggregation === 'seq-mean-token-sum-norm' && lConst === undefined) throw bad('args.lConst is required for seq-mean-token-sum-norm');
    if (a.maskTruncated !== undefined && typeof a.maskTruncated !== 'boolean') throw bad('args.maskTruncated must be a bool');
    const rows: SimRow[] = rawRows.map((r, i) => {
      const m = isMap(r) ? r : map(r, rowField(i, ''));
      const d = this.decodeRow(m, i);
      if (m.truncated !== undefined && m.truncated !== d.truncated) {
        throw bad(`${rowField(i, 'truncated')} is ${String(m.truncated)} but its tokens say ${d.truncated ? 'truncated' : 'eos'}`);
      }
      const old = rowBin32(m.oldLogprobs, i, 'oldLogprobs', 'f4');
      if (old.length !== ROW_TOKENS) throw bad(`${rowField(i, 'oldLogprobs')} must have ${ROW_TOKENS} entries (one per token), got ${old.length}`);
      const clipLo = rowNum(m.clipLo, i, 'clipLo');
      const clipHi = rowNum(m.clipHi, i, 'clipHi');
      if (!(clipLo >= 0 && clipLo <= clipHi)) throw bad(`${rowField(i, '')}: clip bounds must satisfy 0 ≤ clipLo ≤ clipHi, got ${clipLo}, ${clipHi}`);
      const bin = m.bin === undefined ? -1 : rowNum(m.bin, i, 'bin');
      if (!Number.isInteger(bin) || bin < -1) throw bad(`${rowField(i, 'bin')} must be an integer ≥ -1, got ${bin}`);
      return {
        prompt: d.q,
        correct: d.correct,
        length: d.length,
        truncated: d.truncated,
        oldLogprob: old[0] + old[1] + old[2],
        advantage: rowNum(m.advantage, i, 'advantage'),
        clipLo,
        clipHi,
        weight: m.weight === undefined ? 1 : rowNum(m.weight, i, 'weight'),
        bin,
      };
    });
    const res = lossAndGrad(this.w, this.ref, this.constants, this.bank.difficultiesAt(this.version), this.bank.category, rows, {
      aggregation,
      lConst,
      maskTruncated: a.maskTruncated === true,
      entropyCoeff: num(a.entropyCoeff, 'args.entropyCoeff', 0),
      klCoeff: num(a.klCoeff, 'args.klCoeff', 0),
      temperature: this.temperature(a, 1),
    });
    // the weights one update back stay for pipelined mode's rollouts (run.offPolicySteps = 1)
    this.previous = { version: this.version, w: Float64Array.from(this.w) };
    const gradNorm = optimStep(this.w, res.grad, this.optim, this.optimCfg!);
    this.version++;
    return {
      policyVersion: this.version,
      loss: res.loss,
      clipFrac: res.clipFrac,
      kl: res.kl,
      entropy: res.entropy,
      gradNorm,
      tokens: res.tokens,
      binLosses: res.binLosses,
    };
  }

  private save(a: Record<string, unknown>): JobResult {
    const path = str(a.path, 'args.path');
    const data = encodeSimCheckpoint({ numCategories: this.constants.numCategories, policyVersion: this.version, params: this.w, reference: this.ref, optim: this.optim });
    writeDurably(path, data);
    return { path, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length, policyVersion: this.version };
  }

  private load(a: Record<string, unknown>): JobResult {
    const path = str(a.path, 'args.path');
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw bad(`args.path: cannot read ${path}: ${(e as Error).message}`);
    }
    if (a.sha256 !== undefined) {
      const want = str(a.sha256, 'args.sha256');
      const got = createHash('sha256').update(data).digest('hex');
      if (got !== want) throw bad(`args.sha256: ${path} has sha256 ${got}, expected ${want}`);
    }
    const c = decodeSimCheckpoint(data, path, this.constants.numCategories);
    this.w = c.params;
    this.ref = c.reference;
    this.optim = c.optim;
    this.version = c.policyVersion;
    this.previous = null;
    return { policyVersion: c.policyVersion };
  }

  private evalJob(a: Record<string, unknown>): JobResult {
    const { w, version } = this.weightsFor(a);
    const prompts = arr(a.prompts, 'args.prompts');
    const maxTokens = uint(a.maxTokens, 'args.maxTokens', undefined, 1);
    const k = this.constants;
    const b = this.bank.difficultiesAt(version);
    const texts: string[] = [];
    const lengths: number[] = [];
    prompts.forEach((p, i) => {
      const q = this.promptIndex(str(map(p, `args.prompts[${i}]`).promptId, `args.prompts[${i}].promptId`));
      // Greedy correctness: the likelier outcome. Length: the expected capped length, rounded (a literal
      // per-token greedy stop decision would end at token 1 or never).
      const correct = correctnessLogit(w, k, b[q], this.bank.category[q], 1) >= 0;
      texts.push(correct ? 'correct' : 'wrong');
      lengths.push(Math.max(1, Math.round(expectedCappedLength(lengthLogit(w, k, correct), maxTokens))));
    });
    return { texts, lengths };
  }

  private entropy(a: Record<string, unknown>): JobResult {
    const { w, version } = this.weightsFor(a);
    const prompts = arr(a.prompts, 'args.prompts');
    const tau = this.temperature(a, 0.6);
    const k = this.constants;
    const b = this.bank.difficultiesAt(version);
    const eta1 = lengthLogit(w, k, true);
    const eta0 = lengthLogit(w, k, false);
    const entropy = prompts.map((p, i) => {
      const q = this.promptIndex(str(map(p, `args.prompts[${i}]`).promptId, `args.prompts[${i}].promptId`));
      return rowEntropy(correctnessLogit(w, k, b[q], this.bank.category[q], tau), eta1, eta0);
    });
    return { entropy };
  }

  private generate(a: Record<string, unknown>): JobResult {
    const { w, version } = this.weightsFor(a);
    const prompts = arr(a.prompts, 'args.prompts');
    const tau = this.temperature(a);
    const seed = uint(a.seed, 'args.seed');
    const k = this.constants;
    const b = this.bank.difficultiesAt(version);
    const [k0, k1] = keyWords({ seed, step: 0, purpose: 'sim/generate' });
    const texts = prompts.map((p, i) => {
      const row = map(p, `args.prompts[${i}]`);
      const q = this.promptIndex(str(row.promptId, `args.prompts[${i}].promptId`));
      const pr = sigmoid(correctnessLogit(w, k, b[q], this.bank.category[q], tau));
      // Asked with an instruction (the LLM-judge estimator's "probability this can be solved"), the sim
      // answers with a number: its own pass rate, off by up to ±JUDGE_NOISE (uniform), two decimals, so
      // the judge preset gets labels that carry information without being the oracle.
      if (typeof row.system === 'string' && row.system !== '') return judgeReply(pr, floatAt(k0, k1, i));
      return floatAt(k0, k1, i) < pr ? 'correct' : 'wrong';
    });
    return { texts };
  }
}
