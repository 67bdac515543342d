/**
 * The dashboard's prompt table: per training prompt, the latest estimated difficulty (failure rate) and
 * where it came from, the tier it was last trained in, how often the sampler picked it, and its measured
 * failure rate over its training rollouts — folded incrementally from the log, one typed array per column.
 * Text columns (id, question, category) come from the prompts database of the same log.
 */
import { labelSourceName, NO_LABEL } from '../../actors/shared/labels.ts';
import { TIER_NAMES, type Logged } from '../../events/catalogue.ts';

const NO_TIER = 255;

export interface PromptText {
  id: string;
  question: string;
  category: string;
}

export interface PromptTableRow {
  index: number;
  id: string;
  question: string;
  category: string;
  /** latest estimated failure rate in [0, 1]; null before any estimate */
  difficulty: number | null;
  /** label source of that estimate ('none' before any) */
  source: string;
  /** tier of the last selection ('' if never selected) */
  tier: string;
  timesSampled: number;
  lastStep: number | null;
  rollouts: number;
  /** failed / generated over training rollouts (null before any) */
  failureRate: number | null;
  /** sim only: 1 − the oracle's true pass rate at the last rollout (null otherwise) */
  trueDifficulty: number | null;
}

export interface PromptQuery {
  /** case-insensitive substring of id, question, category, source or tier; or "#123" for one index */
  q?: string;
  sort?: keyof PromptTableRow;
  desc?: boolean;
  offset?: number;
  limit?: number;
}

export const SORTABLE: ReadonlyArray<keyof PromptTableRow> = [
  'index', 'id', 'category', 'difficulty', 'source', 'tier', 'timesSampled', 'lastStep', 'rollouts', 'failureRate', 'trueDifficulty',
];

export class PromptTable {
  private count = 0;
  private difficulty = new Float32Array(0);
  private source = new Uint8Array(0);
  private tier = new Uint8Array(0);
  private sampled = new Uint32Array(0);
  private lastStep = new Int32Array(0);
  private rollouts = new Uint32Array(0);
  private failures = new Uint32Array(0);
  private oracle = new Float32Array(0);

  /** @param text the prompts database row of an index (read lazily, once per index) */
  constructor(private readonly text: (index: number) => PromptText | undefined) {}

  private texts: PromptText[] | null = null;

  get size(): number {
    return this.count;
  }

  private resize(n: number): void {
    if (n <= this.count) return;
    const grow = <T extends Float32Array | Uint8Array | Uint32Array | Int32Array>(a: T, fill: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.fill(fill);
      b.set(a);
      return b;
    };
    this.difficulty = grow(this.difficulty, NaN);
    this.source = grow(this.source, NO_LABEL);
    this.tier = grow(this.tier, NO_TIER);
    this.sampled = grow(this.sampled, 0);
    this.lastStep = grow(this.lastStep, -1);
    this.rollouts = grow(this.rollouts, 0);
    this.failures = grow(this.failures, 0);
    this.oracle = grow(this.oracle, NaN);
    this.count = n;
    this.texts = null;
  }

  add({ event: e }: Logged): void {
    switch (e.type) {
      case 'PromptsRegistered':
        this.resize(e.data.count);
        break;
      case 'DifficultyEstimated': {
        const n = Math.min(this.count, e.data.difficulty.length);
        for (let q = 0; q < n; q++) {
          // a prompt this estimate leaves unlabelled keeps its last label in the table
          if (e.data.source[q] === NO_LABEL) continue;
          this.difficulty[q] = e.data.difficulty[q];
          this.source[q] = e.data.source[q];
        }
        break;
      }
      case 'BatchSelected':
        e.data.prompts.forEach((q, i) => {
          if (q >= this.count) return;
          this.sampled[q]++;
          this.tier[q] = e.data.tier[i];
          this.lastStep[q] = e.data.step;
        });
        break;
      case 'RolloutCompleted': {
        const q = e.data.promptIndex;
        if (q >= this.count || e.data.purpose === 'reference') break;
        let fail = 0;
        for (const r of e.data.reward) if (!(r > 0)) fail++;
        this.rollouts[q] += e.data.reward.length;
        this.failures[q] += fail;
        if (e.data.oracleSuccess !== null) this.oracle[q] = 1 - e.data.oracleSuccess;
        break;
      }
    }
  }

  private textOf(q: number): PromptText {
    if (!this.texts) this.texts = new Array(this.count);
    return (this.texts[q] ??= this.text(q) ?? { id: String(q), question: '', category: '' });
  }

  row(q: number): PromptTableRow {
    if (!Number.isInteger(q) || q < 0 || q >= this.count) throw new RangeError(`prompt ${q}: not a training prompt of this run (0..${this.count - 1})`);
    const t = this.textOf(q);
    const num = (x: number) => (Number.isFinite(x) ? x : null);
    return {
      index: q,
      id: t.id,
      question: t.question,
      category: t.category,
      difficulty: num(this.difficulty[q]),
      source: this.source[q] === NO_LABEL ? 'none' : labelSourceName(this.source[q]),
      tier: this.tier[q] === NO_TIER ? '' : TIER_NAMES[this.tier[q]] ?? String(this.tier[q]),
      timesSampled: this.sampled[q],
      lastStep: this.lastStep[q] < 0 ? null : this.lastStep[q],
      rollouts: this.rollouts[q],
      failureRate: this.rollouts[q] ? this.failures[q] / this.rollouts[q] : null,
      trueDifficulty: num(this.oracle[q]),
    };
  }

  /** One page of the table: rows matching `q`, sorted (nulls last), and how many matched in all. */
  query(o: PromptQuery): { total: number; matched: number; rows: PromptTableRow[] } {
    const needle = (o.q ?? '').trim().toLowerCase();
    let rows: PromptTableRow[] = [];
    const one = /^#(\d+)$/.exec(needle);
    if (one) {
      const q = Number(one[1]);
      if (q < this.count) rows.push(this.row(q));
    } else {
      for (let q = 0; q < this.count; q++) {
        const r = this.row(q);
        if (!needle || `${r.id}\n${r.question}\n${r.category}\n${r.source}\n${r.tier}`.toLowerCase().includes(needle)) rows.push(r);
      }
    }
    const key = o.sort && SORTABLE.includes(o.sort) ? o.sort : 'index';
    const sign = o.desc ? -1 : 1;
    rows.sort((a, b) => {
      const x = a[key];
      const y = b[key];
      if (x === y) return a.index - b.index;
      if (x === null || x === '') return 1;
      if (y === null || y === '') return -1;
      return (x < y ? -1 : 1) * sign;
    });
    const offset = Math.max(0, o.offset ?? 0);
    const limit = Math.min(500, Math.max(1, o.limit ?? 50));
    const matched = rows.length;
    rows = rows.slice(offset, offset + limit);
    return { total: this.count, matched, rows };
  }
}
