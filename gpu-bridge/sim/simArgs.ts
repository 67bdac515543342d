/**
 * The sim worker's checks of a job's args: each fault is a JobFail with code `bad_request`
 * (docs/worker-protocol.md) whose message names the field.
 */
import { binToF32, binToI32 } from '../frames.ts';

/** A job's failure reply: its protocol error code and message. */
export class JobFail extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const bad = (msg: string): JobFail => new JobFail('bad_request', msg);

export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}
export function num(v: unknown, field: string, def?: number): number {
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${field} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}
export function uint(v: unknown, field: string, def?: number, min = 0): number {
  const n = num(v, field, def);
  if (!Number.isInteger(n) || n < min) throw bad(`${field} must be an integer ≥ ${min}, got ${n}`);
  return n;
}
export function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  return v;
}
export function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw bad(`${field} must be an array`);
  return v;
}
export function map(v: unknown, field: string): Record<string, unknown> {
  if (!isMap(v)) throw bad(`${field} must be a map`);
  return v;
}
/** Field name of args.rows[i] (built only for an error message: a string per row and field cost the sim's update ~10% of its allocations). */
export const rowField = (i: number, name: string): string => `args.rows[${i}]${name ? '.' + name : ''}`;
/** num() for a row's field, with the field's name built only on failure. */
export function rowNum(v: unknown, i: number, name: string, def?: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : num(v, rowField(i, name), def);
}
/** bin32() for a row's field, with the field's name built only on failure. */
export function rowBin32(v: unknown, i: number, name: string, kind: 'i4' | 'f4'): Int32Array | Float32Array {
  if (v instanceof Uint8Array && v.byteLength % 4 === 0) return kind === 'i4' ? binToI32(v) : binToF32(v);
  return bin32(v, rowField(i, name), kind);
}
function bin32(v: unknown, field: string, kind: 'i4' | 'f4'): Int32Array | Float32Array {
  try {
    return kind === 'i4' ? binToI32(v, field) : binToF32(v, field);
  } catch (e) {
    throw bad((e as Error).message);
  }
}
