/**
 * The MessagePack codec of events: standard MessagePack maps (msgpackr with useRecords: false), so any
 * MessagePack library decodes a record. Typed-array fields (events/bin.ts) are written as plain `bin` of
 * their little-endian bytes and restored to their dtype, named in the schema, on decode.
 */
import { Packr } from 'msgpackr';
import { DTYPES, fromBytes, isBinSchema, toBytes, type DType } from './bin.ts';
import { EVENT_TYPES, PAYLOADS, type DareEvent, type EventType } from './catalogue.ts';
import { MsgpackReader } from './msgpackReader.ts';
import { MsgpackWriter } from './msgpackWriter.ts';
import { ValidationError, validateEvent } from './validate.ts';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** Per event type, the binary fields of `data` and their dtypes (only top-level payload fields may be binary). */
export const BINARY_FIELDS: Readonly<Record<EventType, ReadonlyArray<readonly [string, DType]>>> = (() => {
  const out = {} as Record<EventType, Array<readonly [string, DType]>>;
  for (const t of EVENT_TYPES) {
    const props = (PAYLOADS[t] as { properties: Record<string, unknown> }).properties;
    out[t] = [];
    for (const [k, s] of Object.entries(props)) {
      if (isBinSchema(s as never)) out[t].push([k, (s as { dtype: DType }).dtype] as const);
    }
  }
  return out;
})();

/**
 * Small typed arrays (≤ 64 bytes) live on V8's heap, and touching their `.buffer` makes V8 move them to a
 * fresh ArrayBuffer — the most expensive step of encoding a small event. They are copied element-wise into
 * this scratch buffer instead (msgpackr copies the bytes out during pack, so it is reused per event).
 */
const SCRATCH = new ArrayBuffer(64 * 1024);
const SMALL = 64;

function withBytes(ev: DareEvent): unknown {
  const fields = BINARY_FIELDS[ev.type];
  if (fields.length === 0) return ev;
  const data: Record<string, unknown> = { ...(ev.data as Record<string, unknown>) };
  let off = 0;
  for (const [k, dtype] of fields) {
    const a = data[k] as ArrayBufferView & ArrayLike<number>;
    if (a.byteLength <= SMALL && off + a.byteLength <= SCRATCH.byteLength) {
      const C = DTYPES[dtype];
      new C(SCRATCH, off, a.length).set(a as never);
      data[k] = new Uint8Array(SCRATCH, off, a.byteLength);
      off = (off + a.byteLength + 7) & ~7;
    } else data[k] = toBytes(a);
  }
  return { ...ev, data };
}

const writer = new MsgpackWriter();

/**
 * Encode an event (assumed valid) to MessagePack bytes: the bytes msgpackr writes, written by our own
 * writer (msgpackWriter.ts) because encoding is the largest share of an append.
 */
export function encodeEvent(ev: DareEvent): Buffer {
  return writer.encode(withBytes(ev));
}

/**
 * Restore typed arrays in place on a decoded map; leaves anything malformed for the validator to reject.
 * All binary fields of one event are copied into ONE fresh ArrayBuffer at 8-byte aligned offsets: the
 * decoded bytes are views into buffers msgpackr and lmdb-js reuse, and one allocation per event instead
 * of one per field is what makes replay fast (small ArrayBuffer allocations dominate otherwise).
 */
function restoreBinaries(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  const type = (x as { type?: unknown }).type;
  const data = (x as { data?: unknown }).data;
  if (typeof type !== 'string' || typeof data !== 'object' || data === null) return x;
  const fields = (BINARY_FIELDS as Record<string, ReadonlyArray<readonly [string, DType]>>)[type];
  if (!fields || fields.length === 0) return x;
  const d = data as Record<string, unknown>;
  let total = 0;
  for (const [k, dtype] of fields) {
    const v = d[k];
    if (!(v instanceof Uint8Array)) continue;
    const size = DTYPE_SIZE[dtype];
    if (v.byteLength % size !== 0) {
      throw new Error(`${type}.data.${k}: ${v.byteLength} bytes is not a multiple of ${size} (dtype ${dtype})`);
    }
    total += (v.byteLength + 7) & ~7;
  }
  const buffer = new ArrayBuffer(total);
  const store = new Uint8Array(buffer);
  let off = 0;
  for (const [k, dtype] of fields) {
    const v = d[k];
    if (!(v instanceof Uint8Array)) continue;
    const n = v.byteLength;
    // a byte loop beats TypedArray.prototype.set for the few bytes of most fields
    if (n <= 64) for (let i = 0; i < n; i++) store[off + i] = v[i];
    else store.set(v, off);
    const C = DTYPES[dtype];
    d[k] = new C(buffer, off, n / C.BYTES_PER_ELEMENT);
    off += (n + 7) & ~7;
  }
  return x;
}

const DTYPE_SIZE: Record<DType, number> = { u1: 1, u2: 2, u4: 4, i4: 4, f4: 4, f8: 8 };

const reader = new MsgpackReader(
  new Map(Object.entries(BINARY_FIELDS).map(([type, fields]) => [type, new Map(fields)])),
);

/**
 * Decode bytes that came from our own store (validated when appended): no validation. Our reader turns
 * the binary fields into typed arrays while it decodes (msgpackReader.ts), the largest share of a replay.
 */
export function decodeTrusted(bytes: Uint8Array): DareEvent {
  return reader.readEvent(bytes) as DareEvent;
}

/** Decode and validate bytes received from outside; throws ValidationError for anything that is not an event. */
export function decodeEvent(bytes: Uint8Array, where = 'message'): DareEvent {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (e) {
    throw new ValidationError(`${where}: not MessagePack (${(e as Error).message})`);
  }
  try {
    raw = restoreBinaries(raw);
  } catch (e) {
    throw new ValidationError(`${where}: ${(e as Error).message}`);
  }
  return validateEvent(raw, where);
}

/** Generic MessagePack helpers for non-event messages (requests, replies, blobs). */
export function pack(x: unknown): Buffer {
  return packr.pack(x);
}
export function unpack(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

const TA_NAMES = new Map<unknown, DType>([
  [Uint8Array, 'u1'], [Uint16Array, 'u2'], [Uint32Array, 'u4'], [Int32Array, 'i4'], [Float32Array, 'f4'], [Float64Array, 'f8'],
]);

/** A JSON-like value with typed arrays and Maps replaced by tagged maps, for snapshots (standard MessagePack). */
function tagState(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) {
    const dtype = TA_NAMES.get(x.constructor) ?? (x instanceof Uint8Array ? 'u1' : undefined);
    if (!dtype) throw new Error(`snapshot: unsupported binary ${x.constructor.name}`);
    return { $ta: dtype, b: toBytes(x) };
  }
  if (x instanceof Map) return { $map: [...x.entries()].map(([k, v]) => [tagState(k), tagState(v)]) };
  if (Array.isArray(x)) return x.map(tagState);
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = tagState(v);
    return out;
  }
  return x;
}

function untagState(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(untagState);
  if (x && typeof x === 'object' && !(x instanceof Uint8Array)) {
    const o = x as Record<string, unknown>;
    if (typeof o.$ta === 'string' && o.b instanceof Uint8Array) return fromBytes(o.$ta as DType, o.b, 'snapshot');
    if (Array.isArray(o.$map)) return new Map((o.$map as Array<[unknown, unknown]>).map(([k, v]) => [untagState(k), untagState(v)]));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = untagState(v);
    return out;
  }
  return x;
}

/** Encode an actor state (typed arrays and Maps allowed) as standard MessagePack. */
export function packState(state: unknown): Buffer {
  return packr.pack(tagState(state));
}

export function unpackState(bytes: Uint8Array): unknown {
  return untagState(packr.unpack(bytes));
}
