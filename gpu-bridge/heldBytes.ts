/**
 * Roughly how much memory a value holds: its typed arrays' bytes plus ~200 bytes of V8 objects per view,
 * 64 per map or array. Caches of rollout rows and replies budget with this, not with payload bytes alone:
 * a sim row is three typed arrays of a few bytes each, whose objects outweigh their bytes tenfold.
 */
export function heldBytes(x: unknown, depth = 0): number {
  if (ArrayBuffer.isView(x)) return x.byteLength + 200;
  if (depth > 12 || x === null || typeof x !== 'object') return 0;
  let n = 64;
  if (Array.isArray(x)) for (const v of x) n += heldBytes(v, depth + 1);
  else for (const k in x as Record<string, unknown>) n += heldBytes((x as Record<string, unknown>)[k], depth + 1);
  return n;
}
