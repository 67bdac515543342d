/**
 * The MessagePack codec of events: standard MessagePack maps (msgpackr with useRecords: false), so any
 * MessagePack library decodes a record. Typed-array fields (events/bin.ts) are written as plain `bin` of
 * their little-endian bytes and restored to their dtype, named in the schema, on decode.
 */
import { Packr } from 'msgpackr';
import { fromBytes, isBinSchema, toBytes, type DType } from './bin.ts';
import { EVENT_SCHEMAS, EVENT_TYPES, PAYLOADS, type DareEvent, type EventType } from './catalogue.ts';
import { MsgpackReader } from './msgpackReader.ts';
import { constantBytes, mapHeaderBytes, MsgpackWriter } from './msgpackWriter.ts';
import { compileEventReader } from './schemaReader.ts';
import { compileWriter, type SchemaWriter } from './schemaWriter.ts';
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

const writer = new MsgpackWriter();

/** The factory's envelope order (catalogue.ts makeEvent): logs written before compiled writers have it too. */
const ENVELOPE_ORDER = ['id', 'type', 'v', 'run', 'ts', 'cause', 'data'] as const;

/** Per event type, its compiled writer (schemaWriter.ts): envelope in factory order, data in schema order. */
const WRITERS = new Map<string, SchemaWriter<DareEvent>>(
  EVENT_TYPES.map((t) => [t, compileWriter<DareEvent>(EVENT_SCHEMAS[t], ENVELOPE_ORDER)]),
);

/**
 * Encode an event to MessagePack bytes in canonical form: the envelope in the factory's order, `data` in
 * its schema's order, typed arrays as `bin` of their little-endian bytes. The same event built in another
 * key order encodes to the same bytes (replay compares bytes). An event of unknown type is written
 * generically (the receiver's validator rejects it).
 */
export function encodeEvent(ev: DareEvent): Buffer {
  const write = WRITERS.get((ev as { type?: unknown }).type as string);
  return write ? writer.encodeWith(write, ev) : writer.encode(ev);
}

/**
 * Whether two events carry the same type and payload, compared as canonical bytes: the order their keys
 * were built in and where their typed arrays live do not matter (the envelope is left out).
 */
export function samePayload(a: DareEvent, b: DareEvent): boolean {
  if (a.type !== b.type) return false;
  const blank = { id: '', run: '', ts: 0, cause: null };
  const x = encodeEvent({ ...a, ...blank } as DareEvent);
  return x.equals(encodeEvent({ ...b, ...blank } as DareEvent)); // x stays intact: slabs are never reused
}

const reader = new MsgpackReader(
  new Map(Object.entries(BINARY_FIELDS).map(([type, fields]) => [type, new Map(fields)])),
  {
    head: Uint8Array.from([...mapHeaderBytes(ENVELOPE_ORDER.length), ...constantBytes('id')]),
    typeKey: constantBytes('type'),
    readers: new Map(EVENT_TYPES.map((t) => [t, compileEventReader(t, ENVELOPE_ORDER, PAYLOADS[t])])),
  },
);

/**
 * Decode bytes that came from our own store (validated when appended): no validation. Our reader turns
 * the binary fields into typed arrays while it decodes (msgpackReader.ts), the largest share of a replay.
 */
export function decodeTrusted(bytes: Uint8Array): DareEvent {
  return reader.readEvent(bytes) as DareEvent;
}

/**
 * Decode and validate bytes received from outside; throws ValidationError for anything that is not an event.
 * The same reader as decodeTrusted (it checks every length against the bytes it has, refuses extensions,
 * non-string keys and trailing bytes, and gives binary fields their dtype); then the schema validator.
 */
export function decodeEvent(bytes: Uint8Array, where = 'message'): DareEvent {
  let raw: unknown;
  try {
    raw = reader.readEvent(bytes);
  } catch (e) {
    throw new ValidationError(`${where}: not a MessagePack event (${(e as Error).message})`);
  }
  return validateEvent(raw, where);
}

/** Generic MessagePack helpers for non-event messages (requests, replies, blobs). */
export function pack(x: unknown): Buffer {
  return packr.pack(x);
}

const plainWriter = new MsgpackWriter();

/**
 * Standard MessagePack of a plain value — maps, arrays, strings, numbers, booleans, null, `bin`
 * (Uint8Array), typed arrays as `bin` of their bytes — for the bulk data of the log (rollout blobs): the
 * bytes msgpackr writes for such values (msgpackWriter.unit.test.ts), at about a third of the cost. Maps
 * and Dates are refused; undefined map entries are left out.
 */
export function packPlain(x: unknown): Buffer {
  return plainWriter.encode(x);
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
    const o = x as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    // keys, not entries: no [key, value] pair per field of every object of a snapshot
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (v !== undefined) out[k] = tagState(v);
    }
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
