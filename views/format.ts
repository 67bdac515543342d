/** Rendering of events for people (`dare log`) and for tools (`--json`). */
import type { Logged } from '../events/catalogue.ts';

const DTYPE_NAMES = new Map<unknown, string>([
  [Uint8Array, 'u1'], [Uint16Array, 'u2'], [Uint32Array, 'u4'], [Int32Array, 'i4'], [Float32Array, 'f4'], [Float64Array, 'f8'],
]);

/** JSON-safe copy: typed arrays become arrays (non-finite numbers become null), Buffers become hex. */
export function toJsonSafe(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) {
    if (Buffer.isBuffer(x)) return x.toString('hex');
    return Array.from(x as unknown as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : null));
  }
  if (typeof x === 'number') return Number.isFinite(x) ? x : null;
  if (Array.isArray(x)) return x.map(toJsonSafe);
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = toJsonSafe(v);
    return out;
  }
  return x;
}

function short(v: unknown): string {
  if (ArrayBuffer.isView(v)) {
    const name = DTYPE_NAMES.get(v.constructor) ?? 'bin';
    const arr = v as unknown as ArrayLike<number>;
    const head = Array.from({ length: Math.min(3, arr.length) }, (_, i) => {
      const n = arr[i];
      return Number.isInteger(n) ? String(n) : n.toPrecision(3);
    });
    return `${name}[${arr.length}]${arr.length ? `(${head.join(',')}${arr.length > 3 ? ',…' : ''})` : ''}`;
  }
  if (Array.isArray(v)) return v.length <= 3 ? JSON.stringify(v) : `[${v.length} items]`;
  if (v && typeof v === 'object') {
    const s = JSON.stringify(toJsonSafe(v));
    return s.length > 60 ? `${s.slice(0, 57)}…` : s;
  }
  return typeof v === 'string' ? (v.length > 60 ? JSON.stringify(`${v.slice(0, 57)}…`) : JSON.stringify(v)) : String(v);
}

/** One human-readable line per event. */
export function eventLine({ seq, event }: Logged): string {
  const fields = Object.entries(event.data as Record<string, unknown>)
    .map(([k, v]) => `${k}=${short(v)}`)
    .join(' ');
  return `${String(seq).padStart(8)}  ${event.type.padEnd(20)} ${event.id}${event.cause ? ` <- ${event.cause}` : ''}  ${fields}`;
}

export function eventJson({ seq, event }: Logged): string {
  return JSON.stringify({ seq, ...(toJsonSafe(event) as object) });
}
