/**
 * The sim worker's checkpoint file (`save` / `load` jobs): JSON of format `dare-sim/1` with the parameters,
 * the reference parameters (the KL anchor), the optimiser state and the policy version, written to a
 * temporary file, fsynced and renamed over the target so a crash never leaves a half-written checkpoint.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import type { OptimState } from './optimizer.ts';
import { arr, bad, map, num, uint } from './simArgs.ts';

const SAVE_FORMAT = 'dare-sim/1';

/** What a sim checkpoint holds. */
export interface SimCheckpoint {
  numCategories: number;
  policyVersion: number;
  params: Float64Array;
  reference: Float64Array;
  optim: OptimState;
}

/** The checkpoint's bytes (their sha256 is the checkpoint's). */
export function encodeSimCheckpoint(c: SimCheckpoint): Buffer {
  const doc = {
    format: SAVE_FORMAT,
    numCategories: c.numCategories,
    policyVersion: c.policyVersion,
    params: Array.from(c.params),
    reference: Array.from(c.reference),
    optim: { t: c.optim.t, m: Array.from(c.optim.m), v: Array.from(c.optim.v) },
  };
  return Buffer.from(JSON.stringify(doc));
}

/** Write `data` to `path` durably: a temporary file, fsynced, renamed over `path`. */
export function writeDurably(path: string, data: Buffer): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The checkpoint in `data` (read from `path`), checked against a sim of C = `numCategories` categories. */
export function decodeSimCheckpoint(data: Buffer, path: string, numCategories: number): SimCheckpoint {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw bad(`${path} is not a sim checkpoint: ${(e as Error).message}`);
  }
  const C = numCategories;
  if (doc.format !== SAVE_FORMAT) throw bad(`${path}: format must be ${SAVE_FORMAT}, got ${JSON.stringify(doc.format)}`);
  if (doc.numCategories !== C) throw bad(`${path}: numCategories ${String(doc.numCategories)} does not match this sim's ${C}`);
  const vec = (v: unknown, f: string): Float64Array => {
    const xs = arr(v, `${path}: ${f}`);
    if (xs.length !== C + 2) throw bad(`${path}: ${f} must have ${C + 2} entries, got ${xs.length}`);
    return Float64Array.from(xs, (x, i) => num(x, `${path}: ${f}[${i}]`));
  };
  const o = map(doc.optim, `${path}: optim`);
  const params = vec(doc.params, 'params');
  const reference = vec(doc.reference, 'reference');
  const optim: OptimState = { t: uint(o.t, `${path}: optim.t`), m: vec(o.m, 'optim.m'), v: vec(o.v, 'optim.v') };
  const policyVersion = uint(doc.policyVersion, `${path}: policyVersion`);
  return { numCategories: C, policyVersion, params, reference, optim };
}
