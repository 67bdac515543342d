/**
 * The sim's prompt bank: per prompt a latent difficulty b_q and a category c_q, in typed arrays so 1M
 * prompts cost ~10 MB. Generated deterministically from the run seed by random access into keyed PRNG
 * streams (events/prng.ts), so prompt q's values do not depend on how many prompts there are.
 *
 * Units: b_q is on the LOGIT scale of the sim policy (higher = harder); it is not a failure rate. The
 * failure rate of prompt q under the policy is d_q = 1 − σ(s·(θ0 + θ_{c_q} − b_q)) (see simPolicy.ts).
 *
 * Drift: `shifts` change b_q of a subset of prompts by Δ from a given policy version on (the sim's clock
 * is its policy version, i.e. the number of updates applied, so a shift happens at the same point of a
 * run whatever the wall clock or the number of rollout requests).
 */
import { floatAt, keyWords, u32At } from '../../events/prng.ts';

export type DifficultyDistribution = 'uniform' | 'skewed-easy' | 'skewed-hard' | 'bimodal';

export interface DifficultyShift {
  /** First policy version (updates applied) at which the shift holds. */
  atVersion: number;
  /** Added to b_q (logit units; > 0 makes prompts harder). */
  delta: number;
  /** Only prompts in these categories (default: all). */
  categories?: number[];
  /** Only this fraction of them, chosen by the PRNG (default 1). */
  fraction?: number;
}

export interface PromptBankConfig {
  /** Number of prompts N (default 1000). */
  numPrompts?: number;
  /** Number of categories C (default 4). */
  numCategories?: number;
  distribution?: DifficultyDistribution;
  /** [lo, hi] range of b_q, logit units (default [-3, 3]). */
  difficultyRange?: [number, number];
  /** Explicit b_q per prompt (overrides the distribution; length = numPrompts). For small hand-made banks. */
  latentDifficulty?: number[];
  /** Explicit c_q per prompt (overrides the random categories). */
  categories?: number[];
  shifts?: DifficultyShift[];
}

export class PromptBank {
  readonly n: number;
  readonly numCategories: number;
  /** Base latent difficulty b_q (logit units), before shifts. */
  readonly base: Float64Array;
  /** Category c_q ∈ [0, C). */
  readonly category: Uint16Array;
  readonly shifts: DifficultyShift[];
  private readonly shiftKeys: [number, number][];
  private effVersionKey = '';
  private eff: Float64Array;

  constructor(seed: number, cfg: PromptBankConfig = {}) {
    const n = cfg.latentDifficulty?.length ?? cfg.numPrompts ?? 1000;
    const C = cfg.numCategories ?? 4;
    if (!Number.isInteger(n) || n <= 0) throw new Error(`sim.numPrompts must be a positive integer, got ${n}`);
    if (!Number.isInteger(C) || C <= 0 || C > 65535) throw new Error(`sim.numCategories must be an integer in [1, 65535], got ${C}`);
    this.n = n;
    this.numCategories = C;
    this.base = new Float64Array(n);
    this.category = new Uint16Array(n);

    if (cfg.latentDifficulty) {
      if (cfg.numPrompts !== undefined && cfg.numPrompts !== n) {
        throw new Error(`sim.latentDifficulty has ${n} entries but sim.numPrompts is ${cfg.numPrompts}`);
      }
      cfg.latentDifficulty.forEach((b, i) => {
        if (!Number.isFinite(b)) throw new Error(`sim.latentDifficulty[${i}] must be a finite number, got ${b}`);
        this.base[i] = b;
      });
    } else {
      this.fillDifficulty(seed, cfg.distribution ?? 'uniform', cfg.difficultyRange ?? [-3, 3]);
    }

    if (cfg.categories) {
      if (cfg.categories.length !== n) throw new Error(`sim.categories has ${cfg.categories.length} entries, expected ${n}`);
      cfg.categories.forEach((c, i) => {
        if (!Number.isInteger(c) || c < 0 || c >= C) throw new Error(`sim.categories[${i}] must be an integer in [0, ${C}), got ${c}`);
        this.category[i] = c;
      });
    } else {
      const [k0, k1] = keyWords({ seed, step: 0, purpose: 'sim/prompts/category' });
      for (let i = 0; i < n; i++) this.category[i] = u32At(k0, k1, i) % C;
    }

    this.shifts = (cfg.shifts ?? []).map((s, i) => {
      if (!Number.isInteger(s.atVersion) || s.atVersion < 0) throw new Error(`sim.shifts[${i}].atVersion must be a uint, got ${s.atVersion}`);
      if (!Number.isFinite(s.delta)) throw new Error(`sim.shifts[${i}].delta must be a finite number`);
      if (s.fraction !== undefined && !(s.fraction >= 0 && s.fraction <= 1)) throw new Error(`sim.shifts[${i}].fraction must be in [0, 1]`);
      return { ...s };
    });
    this.shiftKeys = this.shifts.map((_, k) => keyWords({ seed, step: k, purpose: 'sim/prompts/shift' }));
    this.eff = this.base;
  }

  private fillDifficulty(seed: number, dist: DifficultyDistribution, [lo, hi]: [number, number]): void {
    if (!(hi > lo)) throw new Error(`sim.difficultyRange must be [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
    const w = hi - lo;
    const [a0, a1] = keyWords({ seed, step: 0, purpose: 'sim/prompts/difficulty' });
    const [m0, m1] = keyWords({ seed, step: 0, purpose: 'sim/prompts/mode' });
    for (let i = 0; i < this.n; i++) {
      const u = floatAt(a0, a1, i);
      let x: number; // position in [0, 1) of the range
      switch (dist) {
        case 'uniform':
          x = u;
          break;
        case 'skewed-easy': // density 1/(2√x): most prompts near lo (easy)
          x = u * u;
          break;
        case 'skewed-hard': // mirror image: most prompts near hi (hard)
          x = 1 - u * u;
          break;
        case 'bimodal': {
          // half the prompts around 20% of the range, half around 80%, triangular spread ±15%
          const mode = floatAt(m0, m1, 2 * i) < 0.5 ? 0.2 : 0.8;
          x = mode + 0.15 * (u + floatAt(m0, m1, 2 * i + 1) - 1);
          break;
        }
        default:
          throw new Error(`sim.distribution must be uniform|skewed-easy|skewed-hard|bimodal, got ${String(dist)}`);
      }
      this.base[i] = lo + w * x;
    }
  }

  /** Is prompt q in the subset of shift k? */
  inShift(k: number, q: number): boolean {
    const s = this.shifts[k];
    if (s.categories && !s.categories.includes(this.category[q])) return false;
    if (s.fraction !== undefined && s.fraction < 1) {
      const [k0, k1] = this.shiftKeys[k];
      return floatAt(k0, k1, q) < s.fraction;
    }
    return true;
  }

  /** Latent difficulty of prompt q at policy version v (logit units). */
  difficultyAt(q: number, version: number): number {
    let b = this.base[q];
    for (let k = 0; k < this.shifts.length; k++) {
      if (version >= this.shifts[k].atVersion && this.inShift(k, q)) b += this.shifts[k].delta;
    }
    return b;
  }

  /**
   * All latent difficulties at version v (a shared array: do not modify; recomputed only when the set of
   * active shifts changes).
   */
  difficultiesAt(version: number): Float64Array {
    const active = this.shifts.map((s, k) => (version >= s.atVersion ? k : -1)).filter((k) => k >= 0);
    const key = active.join(',');
    if (key === this.effVersionKey) return this.eff;
    if (active.length === 0) {
      this.eff = this.base;
    } else {
      const e = Float64Array.from(this.base);
      for (const k of active) for (let q = 0; q < this.n; q++) if (this.inShift(k, q)) e[q] += this.shifts[k].delta;
      this.eff = e;
    }
    this.effVersionKey = key;
    return this.eff;
  }
}
