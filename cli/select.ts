/**
 * `dare select <estimates.jsonl>`: the sampler alone (actors/sampler/offline.ts), so a user sees what a
 * setting does to selection before spending rollouts on it.
 *
 * Input: one JSON object per line, `{promptId, difficulty}` with difficulty a FAILURE rate in [0, 1], and
 * optionally `source` (a label source name, e.g. cold-constant: cold-start prompts matter to
 * sampler.coldMass=balanced). Output: the picks of one draw in draw order, `{promptId, difficulty, tier,
 * rollouts}` (`--json`: one object per line), or with `--trials N` every prompt's inclusion frequency over N
 * draws, `{promptId, inclusion}`, in file order.
 */
import type { Writable } from 'node:stream';
import { inclusionFrequency, OfflineSelectError, offlineSelect, type OfflineInput } from '../actors/sampler/offline.ts';
import { labelSourceFromName, LabelSource, LABEL_SOURCE_NAMES } from '../actors/shared/labels.ts';
import { ConfigError, resolveConfig, type RunConfig } from '../events/config.ts';
import { TIER_NAMES } from '../events/catalogue.ts';
import { UserError } from '../events/errors.ts';
import { writeAll } from './estimate.ts';
import { describeValue, forEachJsonLine, promptIdProblem } from './jsonlRows.ts';

export interface SelectRows extends OfflineInput {
  ids: Array<string | number>;
}

function rowProblem(o: unknown): string | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return `expected a JSON object, got ${describeValue(o)}`;
  const r = o as Record<string, unknown>;
  const idProblem = promptIdProblem(r);
  if (idProblem) return idProblem;
  if (r.difficulty === undefined) return 'missing difficulty';
  if (typeof r.difficulty !== 'number' || !Number.isFinite(r.difficulty)) return `difficulty: expected a failure rate in [0, 1], got ${describeValue(r.difficulty)}`;
  if (r.difficulty < 0 || r.difficulty > 1) return `difficulty: ${r.difficulty} is outside [0, 1]`;
  if (r.source !== undefined && !(typeof r.source === 'string' && LABEL_SOURCE_NAMES.includes(r.source))) {
    return `source: expected one of ${LABEL_SOURCE_NAMES.join(', ')}, got ${describeValue(r.source)}`;
  }
  return undefined;
}

/** Read and validate an estimates file; a bad line is a UserError `FILE:LINE: field problem`, a repeated promptId too. */
export async function readSelectRows(file: string): Promise<SelectRows> {
  const ids: Array<string | number> = [];
  const d: number[] = [];
  const src: number[] = [];
  let anySource = false;
  const seen = new Map<string | number, number>();
  await forEachJsonLine(file, (o, lineNo) => {
    const problem = rowProblem(o);
    if (problem) throw new UserError(`${file}:${lineNo}: ${problem}`);
    const r = o as { promptId: string | number; difficulty: number; source?: string };
    const first = seen.get(r.promptId);
    if (first !== undefined) throw new UserError(`${file}:${lineNo}: promptId ${describeValue(r.promptId)} repeats line ${first}`);
    seen.set(r.promptId, lineNo);
    ids.push(r.promptId);
    d.push(r.difficulty);
    if (r.source !== undefined) anySource = true;
    // a row without a source is an estimate (only cold-start prompts are singled out)
    src.push(r.source !== undefined ? labelSourceFromName(r.source) : LabelSource.Snis);
  });
  if (ids.length === 0) throw new UserError(`${file}: no rows`);
  return { ids, difficulty: Float64Array.from(d), source: anySource ? Uint8Array.from(src) : null };
}

export interface SelectOptions {
  method?: string;
  set: string[];
  budget?: string;
  seed?: string;
  trials?: string;
  json?: boolean;
}

function positiveInt(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(v.trim() !== '' && Number.isInteger(n) && n >= min && n <= 0xffffffff)) throw new UserError(`${flag} ${v}: expected an integer ≥ ${min}`);
  return n;
}

/** The configuration `dare select` draws with: the method preset, then the --set keys (a run's own keys). */
export function selectConfig(o: SelectOptions): RunConfig {
  try {
    return resolveConfig(undefined, [...(o.method ? [`method=${o.method}`] : []), ...o.set, ...(o.seed !== undefined ? [`run.seed=${o.seed}`] : [])]);
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(e.message);
    throw e;
  }
}

function* pickLines(rows: SelectRows, sel: ReturnType<typeof offlineSelect>, json: boolean): Generator<string> {
  const tier = (t: number) => TIER_NAMES[t];
  if (json) {
    for (let i = 0; i < sel.prompts.length; i++) {
      yield JSON.stringify({ promptId: rows.ids[sel.prompts[i]], difficulty: sel.d[i], tier: tier(sel.tier[i]), rollouts: sel.rollouts[i] });
    }
    return;
  }
  const wId = Math.max(8, ...Array.from(sel.prompts, (q) => String(rows.ids[q]).length));
  yield `${'promptId'.padEnd(wId)}  difficulty  tier    rollouts`;
  for (let i = 0; i < sel.prompts.length; i++) {
    yield `${String(rows.ids[sel.prompts[i]]).padEnd(wId)}  ${sel.d[i].toFixed(4).padStart(10)}  ${tier(sel.tier[i]).padEnd(6)}  ${String(sel.rollouts[i]).padStart(8)}`;
  }
  let total = 0;
  for (const g of sel.rollouts) total += g;
  const counts = [0, 0, 0, 0];
  for (const t of sel.tier) counts[t]++;
  yield `${sel.prompts.length} prompts, ${total} rollouts (easy ${counts[0]}, medium ${counts[1]}, hard ${counts[2]}, no tier ${counts[3]})${sel.filled ? `; ${sel.filled} filled uniformly (too few with non-zero weight)` : ''}`;
}

function* inclusionLines(rows: SelectRows, inc: Float64Array, json: boolean): Generator<string> {
  if (json) {
    for (let q = 0; q < inc.length; q++) yield JSON.stringify({ promptId: rows.ids[q], inclusion: inc[q] });
    return;
  }
  const wId = Math.max(8, ...rows.ids.map((x) => String(x).length));
  yield `${'promptId'.padEnd(wId)}  difficulty  inclusion`;
  for (let q = 0; q < inc.length; q++) yield `${String(rows.ids[q]).padEnd(wId)}  ${rows.difficulty[q].toFixed(4).padStart(10)}  ${inc[q].toFixed(4).padStart(9)}`;
}

/** The `dare select` command. */
export async function runSelect(file: string, o: SelectOptions, out: Writable = process.stdout): Promise<void> {
  const budgetFlag = positiveInt('--budget', o.budget, 1);
  const trials = positiveInt('--trials', o.trials, 1);
  positiveInt('--seed', o.seed, 0);
  const cfg = selectConfig(o); // before reading: a bad --set should not wait for a large file
  const rows = await readSelectRows(file);
  const budget = budgetFlag ?? cfg.run.batchSize;
  try {
    if (trials !== undefined) await writeAll(out, inclusionLines(rows, inclusionFrequency(rows, cfg, budget, trials), !!o.json));
    else await writeAll(out, pickLines(rows, offlineSelect(rows, cfg, budget), !!o.json));
  } catch (e) {
    if (e instanceof OfflineSelectError) throw new UserError(`--method ${cfg.method}: ${e.message}`);
    throw e;
  }
}
