/**
 * Typed-array fields of events. On the wire (MessagePack) and on disk they are plain `bin` of little-endian
 * bytes, with the dtype named in the schema; msgpackr's own typed-array handling is never used because
 * without `moreTypes` it writes garbage for Float32Array.
 */
import { Kind, Type, TypeRegistry, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { endianness } from 'node:os';

if (endianness() !== 'LE') {
  // The log stores raw typed-array bytes; a big-endian host would need byte swapping everywhere.
  throw new Error('dare requires a little-endian host (typed arrays are stored as little-endian bytes)');
}

export const DTYPES = {
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  i4: Int32Array,
  f4: Float32Array,
  f8: Float64Array,
} as const;
export type DType = keyof typeof DTYPES;
interface ArrayMap {
  u1: Uint8Array;
  u2: Uint16Array;
  u4: Uint32Array;
  i4: Int32Array;
  f4: Float32Array;
  f8: Float64Array;
}
/** The typed array of a dtype (over any ArrayBufferLike: views into shared buffers are fine). */
export type ArrayOf<D extends DType> = ArrayMap[D];

export const BIN_KIND = 'DareBin';

export interface TBin<D extends DType> extends TUnsafe<ArrayOf<D>> {
  dtype: D;
}

TypeRegistry.Set<{ dtype: DType }>(BIN_KIND, (schema, value) => value instanceof DTYPES[schema.dtype]);

/** Schema for a typed array of the given dtype (validated in memory as that typed array). */
export function Bin<D extends DType>(dtype: D, description?: string): TBin<D> {
  return Type.Unsafe<ArrayOf<D>>({ [Kind]: BIN_KIND, dtype, description }) as TBin<D>;
}

export function isBinSchema(s: TSchema): s is TBin<DType> {
  return (s as { [Kind]?: string })[Kind] === BIN_KIND;
}

/** A Uint8Array view (no copy) of a typed array's bytes; msgpackr packs a plain Uint8Array as `bin`. */
export function toBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Typed array of `dtype` holding a COPY of `bytes`. Always copies: msgpackr and lmdb-js hand out views
 * into buffers they reuse, at arbitrary (unaligned) offsets. Throws when the byte length is not a multiple
 * of the element size.
 */
export function fromBytes<D extends DType>(dtype: D, bytes: Uint8Array, field = 'field'): ArrayOf<D> {
  const C = DTYPES[dtype];
  const size = C.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new Error(`${field}: ${bytes.byteLength} bytes is not a multiple of ${size} (dtype ${dtype})`);
  }
  // one native copy into a fresh, aligned ArrayBuffer
  return new C(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer) as ArrayOf<D>;
}
