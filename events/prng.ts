/**
 * Counter-based PRNG keyed by (run seed, step, purpose).
 *
 * Every random decision in an actor draws from a stream identified by a key that is logged with the
 * decision, so replay can recompute it. Output i of stream k is a pure function of (k, i): streams can be
 * read at random positions (per-item draws over 1M prompts need no sequential state) and two streams with
 * different purposes are independent. It lives in events/ because its key is part of the event schema.
 *
 * Construction: the key is hashed to two 32-bit words; output i = mix(k0, k1, i) with a strong 32-bit
 * avalanche mixer applied in two rounds (Wellons' lowbias32 constants). Not cryptographic; passes the
 * uniformity and independence checks we rely on (see test/unit/prng.unit.test.ts).
 */

export interface PrngKey {
  /** run seed (uint32) */
  seed: number;
  /** training step (or epoch, or any counter the purpose defines) */
  step: number;
  /** what the draws are for: "select", "replay", "rollout", ... */
  purpose: string;
}

function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string, then mixed. */
function hashString(s: string, h: number): number {
  h = (h ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return lowbias32(h);
}

/** Hash a key to two 32-bit words. */
export function keyWords(key: PrngKey): [number, number] {
  const a = lowbias32((key.seed >>> 0) ^ 0x9e3779b9);
  const b = lowbias32(((key.step >>> 0) + Math.floor(key.step / 2 ** 32)) ^ a ^ 0x85ebca6b);
  const k0 = hashString(key.purpose, a ^ b);
  const k1 = lowbias32(k0 ^ b ^ 0xc2b2ae35);
  return [k0, k1];
}

/** uint32 output number `i` (0 ≤ i < 2^32) of the stream with words (k0, k1). */
export function u32At(k0: number, k1: number, i: number): number {
  let x = lowbias32((i >>> 0) ^ k0);
  x = lowbias32((x + k1) >>> 0);
  return lowbias32(x ^ Math.imul(k0 ^ k1, 0x27d4eb2d));
}

/** A uint32 seed for a worker job, derived from a key (the first output of its stream). */
export function seedOf(key: PrngKey): number {
  const [k0, k1] = keyWords(key);
  return u32At(k0, k1, 0);
}

const TWO_NEG_32 = 2 ** -32;
const TWO_NEG_53 = 2 ** -53;

/** A float uniform in [0, 1) with 53 random bits, from outputs 2i and 2i+1. */
export function floatAt(k0: number, k1: number, i: number): number {
  const hi = u32At(k0, k1, 2 * i) >>> 5; // 27 bits
  const lo = u32At(k0, k1, 2 * i + 1) >>> 6; // 26 bits
  return (hi * 67108864 + lo) * TWO_NEG_53;
}

/** Sequential generator over one keyed stream. */
export class Prng {
  readonly key: PrngKey;
  private readonly k0: number;
  private readonly k1: number;
  private counter = 0;

  constructor(key: PrngKey) {
    this.key = key;
    [this.k0, this.k1] = keyWords(key);
  }

  /** A fresh independent stream for a sub-purpose: key purpose becomes `purpose/sub`. */
  fork(sub: string): Prng {
    return new Prng({ ...this.key, purpose: `${this.key.purpose}/${sub}` });
  }

  /** How many 32-bit words were drawn so far (logged for exact replay when useful). */
  get position(): number {
    return this.counter;
  }

  nextU32(): number {
    return u32At(this.k0, this.k1, this.counter++);
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) * TWO_NEG_53;
  }

  /** Uniform in (0, 1): never 0, safe for logs. */
  nextOpen(): number {
    return (this.nextFloat() * (1 - TWO_NEG_32)) + TWO_NEG_53;
  }

  /** Uniform integer in [0, n), without modulo bias (n ≤ 2^32). */
  nextInt(n: number): number {
    if (n <= 0) throw new RangeError(`nextInt: n must be positive, got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard Gumbel(0, 1) variate. */
  nextGumbel(): number {
    return -Math.log(-Math.log(this.nextOpen()));
  }

  /** Standard normal (Box–Muller, one of the pair). */
  nextNormal(): number {
    const u = this.nextOpen();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1) by Marsaglia–Tsang (shape < 1 via the boost u^(1/shape)). */
  nextGamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`nextGamma: shape must be > 0, got ${shape}`);
    if (shape < 1) return this.nextGamma(shape + 1) * Math.pow(this.nextOpen(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.nextNormal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.nextOpen();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) variate in [0, 1]. */
  nextBeta(a: number, b: number): number {
    const x = this.nextGamma(a);
    const y = this.nextGamma(b);
    return x / (x + y);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(arr: T[] | Uint32Array | Int32Array): typeof arr {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t as never;
    }
    return arr;
  }
}
