/**
 * A MessagePack writer for events: plain maps, arrays, strings, numbers, booleans, null, `bin` (Uint8Array)
 * and typed arrays (written as `bin` of their little-endian bytes, the codec's rule; msgpackr would write an
 * extension). For the other values it writes what msgpackr writes with `useRecords: false, variableMapSize:
 * true` (minimal headers; integers in int32/uint32 range as ints, other numbers as float64), byte for byte
 * (msgpackWriter.unit.test.ts checks this), at about a third of the cost: it skips msgpackr's checks for
 * Dates, Maps, extensions and records, and caches the bytes of map keys. Events go through compiled
 * per-type writers (schemaWriter.ts) built on the public primitives below.
 * One difference on purpose: a map entry whose value is `undefined` is left out (standard MessagePack
 * has no undefined; msgpackr would write its own extension).
 */

const SLAB = 256 * 1024;
/** map keys seen so far -> their encoded bytes (header included); bounded, keys are schema field names */
const KEY_CACHE = new Map<string, Uint8Array>();
const KEY_CACHE_MAX = 4096;

export class MsgpackWriter {
  private readonly slab: number;
  private buf: Buffer;
  private view: DataView;
  private start = 0;
  private pos = 0;

  /** @param slab bytes per slab (small ones in tests make every value cross a slab boundary) */
  constructor(slab = SLAB) {
    this.slab = slab;
    this.buf = Buffer.allocUnsafe(slab);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /**
   * Encode one value; the returned Buffer is a view into a slab the writer never reuses (slabs are
   * replaced, not recycled), so callers may keep it.
   */
  encode(value: unknown): Buffer {
    return this.encodeWith(writeValue, value);
  }

  /** Encode `value` with a write function (a compiled schema writer, events/schemaWriter.ts); same slab rules as encode. */
  encodeWith<T>(write: (w: MsgpackWriter, value: T) => void, value: T): Buffer {
    this.start = this.pos;
    write(this, value);
    const out = this.buf.subarray(this.start, this.pos);
    // keep 8-byte alignment between values (cheap, and keeps later Float64 views of slices aligned)
    this.pos = Math.min(this.buf.length, (this.pos + 7) & ~7);
    return out;
  }

  /** Make room for `n` more bytes, moving the value being written to a fresh slab when needed. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.slab, (used + n) * 2));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.start = 0;
    this.pos = used;
  }

  /** Any JSON-like value with `bin` (Uint8Array). */
  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        return this.num(v);
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'object':
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
        } else if (Array.isArray(v)) this.array(v);
        else if (v instanceof Uint8Array) this.bin(v);
        else if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) {
          this.typed(v as Float64Array); // bin of its little-endian bytes: the codec's one rule for typed arrays
        } else if (ArrayBuffer.isView(v) || v instanceof Map || v instanceof Date) {
          throw new TypeError(`MessagePack writer: ${v.constructor.name} is not an event value`);
        } else this.map(v as Record<string, unknown>);
        return;
      case 'undefined':
        // only reachable inside arrays; MessagePack's nil is the closest standard value
        this.ensure(1);
        this.buf[this.pos++] = 0xc0;
        return;
      default:
        throw new TypeError(`MessagePack writer: cannot encode a ${typeof v}`);
    }
  }

  num(v: number): void {
    this.ensure(9);
    const b = this.buf;
    if (v >>> 0 === v) {
      if (v < 0x80) b[this.pos++] = v;
      else if (v < 0x100) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = v;
      } else if (v < 0x10000) {
        b[this.pos++] = 0xcd;
        b[this.pos++] = v >> 8;
        b[this.pos++] = v & 0xff;
      } else {
        b[this.pos++] = 0xce;
        this.view.setUint32(this.pos, v);
        this.pos += 4;
      }
    } else if (v >> 0 === v) {
      if (v >= -0x20) b[this.pos++] = 0x100 + v;
      else if (v >= -0x80) {
        b[this.pos++] = 0xd0;
        b[this.pos++] = v + 0x100;
      } else if (v >= -0x8000) {
        b[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, v);
        this.pos += 2;
      } else {
        b[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, v);
        this.pos += 4;
      }
    } else {
      b[this.pos++] = 0xcb;
      this.view.setFloat64(this.pos, v);
      this.pos += 8;
    }
  }

  str(s: string): void {
    const n = s.length;
    this.ensure(n * 3 + 5);
    const b = this.buf;
    // ASCII fast path: one byte per char, header sized by the char count
    if (n < 0x100) {
      const hdr = n < 0x20 ? 1 : 2;
      let p = this.pos + hdr;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) {
        if (hdr === 1) b[this.pos] = 0xa0 | n;
        else {
          b[this.pos] = 0xd9;
          b[this.pos + 1] = n;
        }
        this.pos = p;
        return;
      }
    }
    // general case: write UTF-8 after the largest header, then move it behind the smallest one
    const bytes = Buffer.byteLength(s, 'utf8');
    const hdr = bytes < 0x20 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
    this.header(bytes, hdr, 0xa0, 0xd9, 0xda, 0xdb);
    this.pos += b.write(s, this.pos, bytes, 'utf8');
  }

  /** Write a str/bin/array length header: `fix` (or-ed with the length), or 8/16/32-bit forms. */
  private header(len: number, size: number, fix: number, m8: number, m16: number, m32: number): void {
    const b = this.buf;
    if (size === 1) b[this.pos++] = fix | len;
    else if (size === 2) {
      b[this.pos++] = m8;
      b[this.pos++] = len;
    } else if (size === 3) {
      b[this.pos++] = m16;
      this.view.setUint16(this.pos, len);
      this.pos += 2;
    } else {
      b[this.pos++] = m32;
      this.view.setUint32(this.pos, len);
      this.pos += 4;
    }
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 0xc3 : 0xc2;
  }

  /**
   * Reserve `n` bytes and return where they start in `out()` (a compiled writer stores its constant map
   * headers and keys there byte by byte, as immediates: no loop, no load of a constant array).
   */
  reserve(n: number): number {
    this.ensure(n);
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  /** The slab being written (valid until the next write: a write may move the value to a fresh slab). */
  out(): Buffer {
    return this.buf;
  }

  mapHeader(n: number): void {
    this.ensure(5);
    if (n < 0x10) this.buf[this.pos++] = 0x80 | n;
    else this.header(n, n < 0x10000 ? 3 : 5, 0, 0, 0xde, 0xdf);
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    if (n < 0x10) this.buf[this.pos++] = 0x90 | n;
    else this.header(n, n < 0x10000 ? 3 : 5, 0, 0, 0xdc, 0xdd);
  }

  /**
   * A typed array as `bin` of its little-endian bytes. Small arrays (≤ 64 bytes) live on V8's heap, and
   * touching their `.buffer` makes V8 move them to a fresh ArrayBuffer — the most expensive step of encoding
   * a small event — so their elements are written one by one instead (one monomorphic loop per dtype).
   */
  typed(a: Exclude<ArrayBufferView, DataView | BigInt64Array | BigUint64Array>): void {
    if (a instanceof Uint8Array) this.typedU1(a);
    else if (a instanceof Float32Array) this.typedF4(a);
    else if (a instanceof Float64Array) this.typedF8(a);
    else if (a instanceof Uint32Array) this.typedU4(a);
    else if (a instanceof Int32Array) this.typedI4(a);
    else if (a instanceof Uint16Array) this.typedU2(a);
    else this.bin(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)); // other element types: their bytes as they are
  }

  /** Start a small bin of `n` bytes; returns where its bytes go, or -1 when it is not small (written already). */
  private small(a: ArrayBufferView): number {
    const n = a.byteLength;
    if (n > 64) {
      this.bin(new Uint8Array(a.buffer, a.byteOffset, n));
      return -1;
    }
    this.ensure(n + 2);
    this.buf[this.pos] = 0xc4;
    this.buf[this.pos + 1] = n;
    const p = this.pos + 2;
    this.pos = p + n;
    return p;
  }

  typedU1(a: Uint8Array): void {
    const p = this.small(a);
    if (p < 0) return;
    const b = this.buf;
    for (let i = 0; i < a.length; i++) b[p + i] = a[i];
  }

  typedU2(a: Uint16Array): void {
    const p = this.small(a);
    if (p < 0) return;
    const v = this.view;
    for (let i = 0; i < a.length; i++) v.setUint16(p + 2 * i, a[i], true);
  }

  typedU4(a: Uint32Array): void {
    const p = this.small(a);
    if (p < 0) return;
    const v = this.view;
    for (let i = 0; i < a.length; i++) v.setUint32(p + 4 * i, a[i], true);
  }

  typedI4(a: Int32Array): void {
    const p = this.small(a);
    if (p < 0) return;
    const v = this.view;
    for (let i = 0; i < a.length; i++) v.setInt32(p + 4 * i, a[i], true);
  }

  /** Floats go element by element too, except a NaN: its payload bits may not survive a JS number, so its bytes are copied. */
  typedF4(a: Float32Array): void {
    const p = this.small(a);
    if (p < 0) return;
    const v = this.view;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (x !== x) return this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
      v.setFloat32(p + 4 * i, x, true);
    }
  }

  typedF8(a: Float64Array): void {
    const p = this.small(a);
    if (p < 0) return;
    const v = this.view;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (x !== x) return this.buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
      v.setFloat64(p + 8 * i, x, true);
    }
  }

  bin(v: Uint8Array): void {
    const n = v.byteLength;
    this.ensure(n + 5);
    this.header(n, n < 0x100 ? 2 : n < 0x10000 ? 3 : 5, 0, 0xc4, 0xc5, 0xc6);
    if (n <= 64) {
      const b = this.buf;
      for (let i = 0; i < n; i++) b[this.pos + i] = v[i];
    } else this.buf.set(v, this.pos);
    this.pos += n;
  }

  private array(a: unknown[]): void {
    const n = a.length;
    this.arrayHeader(n);
    for (let i = 0; i < n; i++) this.value(a[i]);
  }

  private map(o: Record<string, unknown>): void {
    let n = 0;
    for (const k in o) if (o[k] !== undefined) n++;
    this.mapHeader(n);
    for (const k in o) {
      const v = o[k];
      if (v === undefined) continue;
      this.key(k);
      this.value(v);
    }
  }

  private key(k: string): void {
    let bytes = KEY_CACHE.get(k);
    if (bytes === undefined) {
      // relative to the value's start: str() may move the value to a fresh slab
      const at = this.pos - this.start;
      this.str(k);
      if (KEY_CACHE.size < KEY_CACHE_MAX && k.length <= 64) KEY_CACHE.set(k, Uint8Array.prototype.slice.call(this.buf, this.start + at, this.pos));
      return;
    }
    const n = bytes.length;
    this.ensure(n);
    // a byte loop beats TypedArray.prototype.set for a few bytes
    const b = this.buf;
    for (let i = 0; i < n; i++) b[this.pos + i] = bytes[i];
    this.pos += n;
  }
}

function writeValue(w: MsgpackWriter, v: unknown): void {
  w.value(v);
}

/** The MessagePack bytes of a constant (a map header, a key, a literal value), for compiled writers. */
export function constantBytes(v: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(new MsgpackWriter(1024).encode(v));
}

/** The bytes of a map header for `n` entries. */
export function mapHeaderBytes(n: number): Uint8Array {
  if (n < 0x10) return Uint8Array.of(0x80 | n);
  if (n < 0x10000) return Uint8Array.of(0xde, n >> 8, n & 0xff);
  return Uint8Array.of(0xdf, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}
