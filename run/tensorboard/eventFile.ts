/**
 * TensorBoard's event files: TFRecord files (tfrecord.ts) of protobuf `tensorboard.Event` messages, as
 * TensorBoard's own reader (tensorboard/compat/proto/event.proto, summary.proto) parses them. Only the fields
 * scalars need are written:
 *
 *   message Event   { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; Summary summary = 5; } }
 *   message Summary { repeated Value value = 1; }
 *   message Value   { string tag = 1; oneof value { float simple_value = 2; } }
 *
 * Encoded as proto3 serializers do: fields in number order, `wall_time` and `step` left out when 0 (their
 * default), the oneof members always written (presence: a simple_value of 0 is a value). The first record of a
 * file carries `file_version: "brain.Event:2"` (version 2: TensorBoard then purges data only at a SessionLog
 * START, which we never write, not at steps that go back). Files are named
 * `events.out.tfevents.<unix seconds>.<host>`; TensorBoard loads every `*tfevents*` file in a directory,
 * in name order.
 */
import { tfRecord } from './tfrecord.ts';

export const FILE_VERSION = 'brain.Event:2';

/** One Event of scalars: every (tag, value) at one step. */
export interface ScalarEvent {
  step: number;
  /** seconds since the epoch (a double, as TensorBoard's wall_time) */
  wallTime: number;
  values: Array<[tag: string, value: number]>;
}

const utf8 = new TextEncoder();

class Out {
  private parts: number[] = [];
  byte(b: number): void {
    this.parts.push(b);
  }
  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`protobuf varint: ${n} is not a non-negative safe integer`);
    while (n >= 0x80) {
      this.parts.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.parts.push(n);
  }
  bytes(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }
  /** a length-delimited field: tag, length, bytes */
  delimited(tag: number, b: Uint8Array): void {
    this.byte(tag);
    this.varint(b.length);
    this.bytes(b);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function encodeValue(tag: string, value: number): Uint8Array {
  const o = new Out();
  if (tag !== '') o.delimited(0x0a, utf8.encode(tag)); // field 1, wire type 2
  o.byte(0x15); // field 2, wire type 5 (32-bit)
  const f = new Uint8Array(4);
  new DataView(f.buffer).setFloat32(0, value, true);
  o.bytes(f);
  return o.done();
}

function encodeEventBody(wallTime: number, step: number, what: (o: Out) => void): Uint8Array {
  const o = new Out();
  if (wallTime !== 0 || Object.is(wallTime, -0)) {
    o.byte(0x09); // field 1, wire type 1 (64-bit)
    const d = new Uint8Array(8);
    new DataView(d.buffer).setFloat64(0, wallTime, true);
    o.bytes(d);
  }
  if (step !== 0) {
    o.byte(0x10); // field 2, wire type 0 (varint)
    o.varint(step);
  }
  what(o);
  return o.done();
}

/** The protobuf bytes of an Event with file_version (the first record of every file). */
export function encodeVersionEvent(wallTime: number, version = FILE_VERSION): Uint8Array {
  return encodeEventBody(wallTime, 0, (o) => o.delimited(0x1a, utf8.encode(version))); // field 3
}

/** The protobuf bytes of an Event with a Summary of simple values. */
export function encodeScalarEvent(e: ScalarEvent): Uint8Array {
  const summary = new Out();
  for (const [tag, value] of e.values) summary.delimited(0x0a, encodeValue(tag, value)); // Summary.value, field 1
  return encodeEventBody(e.wallTime, e.step, (o) => o.delimited(0x2a, summary.done())); // Event.summary, field 5
}

/** A whole event file's bytes: the version record stamped with the first event's time (or `emptyWallTime`), then one record per event. */
export function eventFileBytes(events: readonly ScalarEvent[], emptyWallTime = 0): Uint8Array {
  const records = [tfRecord(encodeVersionEvent(events[0]?.wallTime ?? emptyWallTime)), ...events.map((e) => tfRecord(encodeScalarEvent(e)))];
  const out = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of records) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** `events.out.tfevents.<unix seconds>.<host>` (a `/` in the host name would be a directory: `_`). */
export function eventFileName(wallTime: number, host: string): string {
  return `events.out.tfevents.${Math.floor(wallTime)}.${host.replace(/[/\\]/g, '_')}`;
}

/** What TensorBoard takes for an event file (tensorboard's io_wrapper.IsSummaryEventsFile): `tfevents` in the name. */
export function isEventFileName(name: string): boolean {
  return name.includes('tfevents');
}

// ---- reading back (our own files: the live writer skips what an earlier process wrote) -------------------

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion: string | null;
  /** the summary's simple values (null: no summary) */
  values: Array<[string, number]> | null;
}

const utf8d = new TextDecoder('utf-8', { fatal: true });

class In {
  at = 0;
  private readonly v: DataView;
  constructor(private readonly b: Uint8Array, from = 0, private readonly end = b.length) {
    this.at = from;
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  more(): boolean {
    return this.at < this.end;
  }
  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.at >= this.end) throw new RangeError('protobuf: varint past the end');
      const x = this.b[this.at++];
      n += (x & 0x7f) * mul;
      if (x < 0x80) return n;
      mul *= 0x80;
      if (mul > 2 ** 63) throw new RangeError('protobuf: varint too long');
    }
  }
  f64(): number {
    this.need(8);
    const x = this.v.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }
  f32(): number {
    this.need(4);
    const x = this.v.getFloat32(this.at, true);
    this.at += 4;
    return x;
  }
  /** [start, end) of a length-delimited field's bytes */
  span(): [number, number] {
    const n = this.varint();
    this.need(n);
    const s = this.at;
    this.at += n;
    return [s, this.at];
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.f64();
    else if (wire === 2) this.span();
    else if (wire === 5) this.f32();
    else throw new RangeError(`protobuf: wire type ${wire} not supported`);
  }
  private need(n: number): void {
    if (this.at + n > this.end) throw new RangeError('protobuf: field past the end');
  }
}

/** Decode an Event's wall_time, step, file_version and simple values (other fields skipped). Throws on bytes that are not one. */
export function decodeEvent(b: Uint8Array): DecodedEvent {
  const r = new In(b);
  const e: DecodedEvent = { wallTime: 0, step: 0, fileVersion: null, values: null };
  while (r.more()) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 1 && wire === 1) e.wallTime = r.f64();
    else if (field === 2 && wire === 0) e.step = r.varint();
    else if (field === 3 && wire === 2) e.fileVersion = utf8d.decode(b.subarray(...r.span()));
    else if (field === 5 && wire === 2) {
      const [s, end] = r.span();
      e.values = decodeSummary(b, s, end);
    } else r.skip(wire);
  }
  return e;
}

function decodeSummary(b: Uint8Array, from: number, end: number): Array<[string, number]> {
  const r = new In(b, from, end);
  const out: Array<[string, number]> = [];
  while (r.more()) {
    const key = r.varint();
    if (key !== 0x0a) {
      r.skip(key % 8);
      continue;
    }
    const [s, e] = r.span();
    const v = new In(b, s, e);
    let tag = '';
    let value: number | null = null;
    while (v.more()) {
      const k = v.varint();
      if (k === 0x0a) tag = utf8d.decode(b.subarray(...v.span()));
      else if (k === 0x15) value = v.f32();
      else v.skip(k % 8);
    }
    if (value !== null) out.push([tag, value]);
  }
  return out;
}
