/**
 * Ground truth of the sim policy, for drift analysis and benchmarks only (a real model has no oracle):
 * the exact pass rate (success probability) of any prompt, of all prompts, and the expected accuracy over
 * a prompt set, at the current or any other policy version of the difficulty schedule.
 */
import type { PromptBank } from './promptBank.ts';
import { correctnessLogit, expectedCappedLength, lengthLogit, sigmoid, type SimConstants } from './simPolicy.ts';

/** What the oracle reads from a live SimWorker (its current parameters, never a copy). */
export interface SimStateView {
  readonly bank: PromptBank;
  readonly constants: SimConstants;
  /** Current parameters (see simPolicy.ts for the layout). */
  readonly weights: Float64Array;
  readonly policyVersion: number;
  promptIndex(promptId: string): number;
}

export interface OracleOptions {
  /** Version of the difficulty-shift schedule to evaluate at (default: the current policy version). */
  version?: number;
  /** Temperature (default 1). */
  temperature?: number;
  /** Parameters to evaluate (default: the current ones; pipelined mode's rollouts: those one update back). */
  weights?: Float64Array;
}

export class SimOracle {
  constructor(private readonly s: SimStateView) {}

  /** Success probability of prompt index q, in [0, 1]. */
  passRate(q: number, o: OracleOptions = {}): number {
    this.checkIndex(q);
    const b = this.s.bank.difficultyAt(q, o.version ?? this.s.policyVersion);
    return sigmoid(correctnessLogit(o.weights ?? this.s.weights, this.s.constants, b, this.s.bank.category[q], o.temperature ?? 1));
  }

  /** Success probability of a prompt by id. */
  passRateOf(promptId: string, o: OracleOptions = {}): number {
    return this.passRate(this.s.promptIndex(promptId), o);
  }

  /** Failure rate d_q = 1 − pass rate (the project's difficulty unit). */
  failureRate(q: number, o: OracleOptions = {}): number {
    return 1 - this.passRate(q, o);
  }

  /** Pass rates of all prompts, indexed by prompt index. */
  passRates(o: OracleOptions = {}): Float64Array {
    const { bank, constants: k, weights: w } = this.s;
    const b = bank.difficultiesAt(o.version ?? this.s.policyVersion);
    const tau = o.temperature ?? 1;
    const out = new Float64Array(bank.n);
    const C = k.numCategories;
    // z = s(θ0 + θ_c − b)/τ with θ0 + θ_c precomputed per category
    const skill = new Float64Array(C);
    for (let c = 0; c < C; c++) skill[c] = w[0] + w[1 + c];
    const f = k.slope / tau;
    for (let q = 0; q < bank.n; q++) out[q] = sigmoid(f * (skill[bank.category[q]] - b[q]));
    return out;
  }

  /** Mean pass rate over a set of prompt indices (all prompts when omitted): expected accuracy. */
  expectedAccuracy(prompts?: ArrayLike<number>, o: OracleOptions = {}): number {
    if (!prompts) {
      const all = this.passRates(o);
      let s = 0;
      for (let q = 0; q < all.length; q++) s += all[q];
      return s / all.length;
    }
    if (prompts.length === 0) throw new Error('expectedAccuracy: empty prompt set');
    let s = 0;
    for (let i = 0; i < prompts.length; i++) s += this.passRate(prompts[i], o);
    return s / prompts.length;
  }

  /** Expected response length of prompt q under a cap of maxTokens, tokens. */
  expectedLength(q: number, maxTokens: number, o: OracleOptions = {}): number {
    const p = this.passRate(q, o);
    const w = this.s.weights;
    const k = this.s.constants;
    return p * expectedCappedLength(lengthLogit(w, k, true), maxTokens) + (1 - p) * expectedCappedLength(lengthLogit(w, k, false), maxTokens);
  }

  private checkIndex(q: number): void {
    if (!Number.isInteger(q) || q < 0 || q >= this.s.bank.n) throw new RangeError(`prompt index ${q} is outside [0, ${this.s.bank.n})`);
  }
}
