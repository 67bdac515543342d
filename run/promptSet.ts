/**
 * The run's prompt set: the training prompts (indices 0..count-1) and a held-out evaluation set (indices
 * count..count+evalCount-1), from the configured source, with the table PromptsRegistered announces.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { PromptTable } from '../actors/actor.ts';
import type { RunConfig } from '../events/config.ts';
import { simPromptTable } from '../gpu-bridge/workerFactory.ts';
import { generateArithmetic, loadPromptSource, type PromptRow } from '../tasks/index.ts';
import { UserError } from '../events/errors.ts';

export interface PromptSet {
  rows: PromptRow[];
  table: PromptTable;
}

function parseLevels(s: string): number[] | undefined {
  if (!s.trim()) return undefined;
  return s.split(',').map((x) => {
    const n = Number(x.trim());
    if (!Number.isInteger(n) || n < 0) throw new UserError(`task.levels: "${x}" is not a level number`);
    return n;
  });
}

/**
 * Arithmetic: training rows by the run seed; the evaluation set is a fresh sample of the same task from
 * another stream. It is not disjoint from the training prompts: the 1-digit levels have only 100 distinct
 * problems each, so any sample of them repeats training questions (a parquet source holds out its last rows).
 */
function arithmetic(cfg: RunConfig): { train: PromptRow[]; evalRows: PromptRow[] } {
  const levels = parseLevels(cfg.task.levels);
  const style = cfg.task.arithmeticStyle;
  const train = generateArithmetic({ seed: cfg.run.seed, count: cfg.task.count, style, ...(levels ? { levels } : {}) });
  const evalRows = generateArithmetic({ seed: (cfg.run.seed ^ 0x5eed5eed) >>> 0, count: cfg.task.evalCount, style, ...(levels ? { levels } : {}) }).map((r) => ({
    ...r,
    id: `eval:${r.id}`,
  }));
  return { train, evalRows };
}

function simRows(cfg: RunConfig): { rows: PromptRow[]; categories: string[]; categoryOf: Uint16Array } {
  const t = simPromptTable(cfg);
  const rows: PromptRow[] = [];
  const n = t.count + t.evalCount;
  for (let i = 0; i < n; i++) {
    rows.push({ id: `sim:${i}`, index: i, question: String(i), answer: '', dataSource: 'sim', category: t.categories[t.categoryOf[i]] });
  }
  return { rows, categories: t.categories, categoryOf: t.categoryOf };
}

export async function loadPromptSet(cfg: RunConfig, root = process.cwd()): Promise<PromptSet> {
  let train: PromptRow[];
  let evalRows: PromptRow[];
  let conflicts = 0;
  let source: string;
  if (cfg.task.source === 'sim') {
    const s = simRows(cfg);
    return {
      rows: s.rows,
      table: promptTableOf(s.rows, { count: cfg.task.count, evalCount: cfg.task.evalCount, source: `sim:${cfg.worker.simDistribution}`, conflicts: 0 }),
    };
  }
  if (cfg.task.source === 'arithmetic') {
    ({ train, evalRows } = arithmetic(cfg));
    source = `${cfg.task.arithmeticStyle === 'chat' ? 'arithmetic-chat' : 'arithmetic'}:seed=${cfg.run.seed}`;
  } else {
    const path = resolve(root, cfg.task.path);
    let all: PromptRow[];
    try {
      const src = await loadPromptSource(cfg.task.source === 'parquet' ? { kind: 'parquet', path } : { kind: 'jsonl', path });
      all = src.rows;
      conflicts = src.conflicts?.length ?? 0;
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    // held-out evaluation: the last evalCount rows of the file; training: the first `count` of the rest
    const evalN = Math.min(cfg.task.evalCount, Math.floor(all.length / 2));
    evalRows = all.slice(all.length - evalN);
    train = all.slice(0, Math.min(cfg.task.count || all.length, all.length - evalN));
    source = `${cfg.task.source}:${cfg.task.path}`;
  }
  const rows = [...train, ...evalRows].map((r, i) => ({ ...r, index: i }));
  return { rows, table: promptTableOf(rows, { count: train.length, evalCount: evalRows.length, source, conflicts }) };
}

export interface PromptRowLike {
  id: string;
  question: string;
  answer: string;
  category: string;
}

/**
 * The table PromptsRegistered announces, from the rows in index order: categories in first-appearance
 * order and a content hash over (id, question, answer). Replay recomputes it from the prompts database.
 */
export function promptTableOf(rows: PromptRowLike[], registered: { count: number; evalCount: number; source: string; conflicts: number }): PromptTable {
  const categories: string[] = [];
  const index = new Map<string, number>();
  const categoryOf = new Uint16Array(rows.length);
  const hash = createHash('sha256');
  rows.forEach((r, i) => {
    let c = index.get(r.category);
    if (c === undefined) {
      c = categories.length;
      categories.push(r.category);
      index.set(r.category, c);
    }
    categoryOf[i] = c;
    hash.update(`${r.id}\u0000${r.question}\u0000${r.answer}\u0000`);
  });
  return { ...registered, contentHash: hash.digest('hex'), categories, categoryOf };
}
