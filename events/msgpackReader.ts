/**
 * A MessagePack reader for events read back from our own log (trusted bytes: validated on append). It
 * decodes standard MessagePack — nil, booleans, integers, floats, str, bin, arrays, maps with string keys —
 * into plain objects, the way msgpackr does with `mapsAsObjects`, and turns the `bin` fields of an event's
 * `data` into typed arrays of their dtype as it meets them (one ArrayBuffer per event), instead of a second
 * walk over the decoded object. Extension types are refused. Map keys are cached by their bytes.
 */

import { DTYPES, fromBytes, type DType } from './bin.ts';
import { MISMATCH, type EventReader, type FieldSource } from './schemaReader.ts';

/** Per event type, its data's binary fields and their dtypes. */
export type BinaryFieldMap = ReadonlyMap<string, ReadonlyMap<string, DType>>;
type ArrayConstructorLike = (typeof DTYPES)[DType];

const KEYS = new Map<number, string>();

/** Strings up to this many bytes, when ASCII, are decoded by shortAscii. */
const SHORT = 16;
/** `String.fromCharCode(b[s], ..., b[s + n - 1])` with the bytes as arguments, one case per length ≤ SHORT. */
const shortAscii = new Function(
  'f',
  `return function shortAscii(b, s, n) { switch (n) { ${Array.from(
    { length: SHORT + 1 },
    (_, n) => `case ${n}: return f(${Array.from({ length: n }, (_, i) => `b[s + ${i}]`).join(', ')});`,
  ).join(' ')} } };`,
)(String.fromCharCode) as (b: Uint8Array, s: number, n: number) => string;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The compiled fast path (schemaReader.ts): the bytes that open a canonical event, and a reader per type. */
export interface CanonicalLayout {
  /** map header and the `id` key */
  head: Uint8Array;
  /** the `type` key */
  typeKey: Uint8Array;
  readers: ReadonlyMap<string, EventReader>;
}

export class MsgpackReader implements FieldSource {
  private src: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private pos = 0;
  /** pending typed-array fields of the current event's data: [object, key, start, length, constructor] */
  private bins: Array<[Record<string, unknown>, string, number, number, ArrayConstructorLike]> = [];

  constructor(
    private readonly binaryFields: BinaryFieldMap,
    private readonly canonical?: CanonicalLayout,
  ) {}

  /**
   * Decode one event: canonical bytes (our writer's) through the compiled reader of their type, anything
   * else generically (a map with `type` before `data` gets its typed arrays while decoding; other orders
   * still decode, their bin fields retyped at the end).
   */
  readEvent(bytes: Uint8Array): unknown {
    this.src = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.bins.length = 0; // a decode that threw may have left some
    if (this.canonical) {
      const ev = this.readCanonical(this.canonical);
      if (ev !== MISMATCH) {
        if (this.pos !== bytes.length) throw new Error(`MessagePack: ${bytes.length - this.pos} bytes after the value`);
        return ev;
      }
      this.pos = 0;
    }
    const b = this.src[this.pos++];
    let n: number;
    if ((b & 0xf0) === 0x80) n = b & 0x0f;
    else if (b === 0xde) n = this.u16();
    else if (b === 0xdf) n = this.u32();
    else {
      this.pos--;
      return this.finish(this.value());
    }
    const out: Record<string, unknown> = {};
    let fields: ReadonlyMap<string, DType> | undefined;
    let dataFirst = false;
    for (let i = 0; i < n; i++) {
      const k = this.key();
      if (k === 'data' && fields !== undefined) out[k] = this.dataMap(fields);
      else {
        const v = this.value();
        setKey(out, k, v);
        if (k === 'type' && typeof v === 'string') fields = this.binaryFields.get(v);
        else if (k === 'data' && fields === undefined) dataFirst = true;
      }
    }
    // another writer put `data` before `type`: its bin fields were read as bytes; give them their dtype now
    if (dataFirst && fields !== undefined && typeof out.data === 'object' && out.data !== null) retype(out.data as Record<string, unknown>, fields);
    return this.finish(out);
  }

  private readCanonical(layout: CanonicalLayout): unknown {
    if (!this.expect(layout.head)) return MISMATCH;
    const id = this.value();
    if (!this.expect(layout.typeKey)) return MISMATCH;
    const read = layout.readers.get(this.value() as string);
    return read === undefined ? MISMATCH : read(this, id);
  }

  expect(bytes: Uint8Array): boolean {
    const n = bytes.length;
    const src = this.src;
    const p = this.pos;
    if (p + n > src.length) return false;
    for (let i = 0; i < n; i++) if (src[p + i] !== bytes[i]) return false;
    this.pos = p + n;
    return true;
  }

  typedOf(dtype: DType): unknown {
    const src = this.src;
    const t = src[this.pos];
    let len: number;
    let at: number;
    if (t === 0xc4) {
      len = src[this.pos + 1];
      at = this.pos + 2;
    } else if (t === 0xc5) {
      len = this.view.getUint16(this.pos + 1);
      at = this.pos + 3;
    } else if (t === 0xc6) {
      len = this.view.getUint32(this.pos + 1);
      at = this.pos + 5;
    } else return MISMATCH;
    const C = DTYPES[dtype];
    const size = C.BYTES_PER_ELEMENT;
    if (len % size !== 0 || at + len > src.length) return MISMATCH;
    this.pos = at + len;
    if (len > 64) return fromBytes(dtype, src.subarray(at, at + len));
    // Small: a typed array on V8's heap (no ArrayBuffer of its own: 4–5× cheaper to make), filled element
    // by element. Exact for integers and for every float but NaN, whose payload bits a trip through a JS
    // number may change: a NaN in the bytes sends the array down the byte-copy path.
    const n = len / size;
    const v = this.view;
    switch (dtype) {
      case 'u1': {
        const a = new Uint8Array(n);
        for (let i = 0; i < n; i++) a[i] = src[at + i];
        return a;
      }
      case 'u2': {
        const a = new Uint16Array(n);
        for (let i = 0; i < n; i++) a[i] = v.getUint16(at + 2 * i, true);
        return a;
      }
      case 'u4': {
        const a = new Uint32Array(n);
        for (let i = 0; i < n; i++) a[i] = v.getUint32(at + 4 * i, true);
        return a;
      }
      case 'i4': {
        const a = new Int32Array(n);
        for (let i = 0; i < n; i++) a[i] = v.getInt32(at + 4 * i, true);
        return a;
      }
      case 'f4': {
        const a = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          const x = v.getFloat32(at + 4 * i, true);
          if (x !== x) return fromBytes(dtype, src.subarray(at, at + len));
          a[i] = x;
        }
        return a;
      }
      default: {
        const a = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const x = v.getFloat64(at + 8 * i, true);
          if (x !== x) return fromBytes(dtype, src.subarray(at, at + len));
          a[i] = x;
        }
        return a;
      }
    }
  }

  private finish<T>(x: T): T {
    if (this.pos !== this.src.length) throw new Error(`MessagePack: ${this.src.length - this.pos} bytes after the value`);
    const bins = this.bins;
    if (bins.length === 0) return x;
    let total = 0;
    for (const b of bins) total += (b[3] + 7) & ~7;
    const buffer = new ArrayBuffer(total);
    const store = new Uint8Array(buffer);
    const src = this.src;
    let off = 0;
    for (const [obj, key, start, len, C] of bins) {
      if (len <= 64) for (let i = 0; i < len; i++) store[off + i] = src[start + i];
      else store.set(src.subarray(start, start + len), off);
      obj[key] = new C(buffer, off, len / C.BYTES_PER_ELEMENT);
      off += (len + 7) & ~7;
    }
    bins.length = 0;
    return x;
  }

  private dataMap(fields: ReadonlyMap<string, DType>): unknown {
    const b = this.src[this.pos];
    let n: number;
    if ((b & 0xf0) === 0x80) {
      n = b & 0x0f;
      this.pos++;
    } else if (b === 0xde) {
      this.pos++;
      n = this.u16();
    } else if (b === 0xdf) {
      this.pos++;
      n = this.u32();
    } else return this.value();
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.key();
      const dtype = fields.get(k);
      const t = this.src[this.pos];
      if (dtype !== undefined && t >= 0xc4 && t <= 0xc6) {
        const C = DTYPES[dtype];
        this.pos++;
        const len = t === 0xc4 ? this.src[this.pos++] : t === 0xc5 ? this.u16() : this.u32();
        if (len % C.BYTES_PER_ELEMENT !== 0) throw new Error(`data.${k}: ${len} bytes is not a multiple of ${C.BYTES_PER_ELEMENT}`);
        out[k] = null; // placeholder keeps the key order; filled by finish()
        this.bins.push([out, k, this.pos, len, C]);
        this.pos += len;
      } else setKey(out, k, this.value());
    }
    return out;
  }

  private u16(): number {
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  private key(): string {
    const b = this.src[this.pos];
    if ((b & 0xe0) === 0xa0) {
      const n = b & 0x1f;
      if (n <= 16) {
        // hash the bytes; the cache holds short keys (schema field names)
        let h = n;
        const s = this.pos + 1;
        for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + this.src[s + i]) | 0;
        const hit = KEYS.get(h);
        if (hit !== undefined && hit.length === n && this.sameAscii(hit, s)) {
          this.pos = s + n;
          return hit;
        }
        const k = this.value() as string;
        if (KEYS.size < 4096 && k.length === n) KEYS.set(h, k);
        return k;
      }
    }
    const k = this.value();
    if (typeof k !== 'string') throw new Error('MessagePack: a map key that is not a string');
    return k;
  }

  private sameAscii(k: string, at: number): boolean {
    for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) !== this.src[at + i]) return false;
    return true;
  }

  private str(n: number): string {
    const s = this.pos;
    this.pos += n;
    const src = this.src;
    if (n <= SHORT) {
      // short ASCII (ids, names, purposes): String.fromCharCode of the bytes, cheaper than a native call
      let or = 0;
      for (let i = 0; i < n; i++) or |= src[s + i];
      if (or < 0x80) return shortAscii(src, s, n);
    }
    // a Buffer (what lmdb-js and NATS hand out) decodes a range natively without a subarray object
    if (src instanceof Buffer) return (src as unknown as { utf8Slice(a: number, b: number): string }).utf8Slice(s, s + n);
    return utf8.decode(src.subarray(s, s + n));
  }

  value(): unknown {
    const b = this.src[this.pos++];
    if (b < 0x80) return b;
    if (b < 0x90) return this.map(b & 0x0f);
    if (b < 0xa0) return this.array(b & 0x0f);
    if (b < 0xc0) return this.str(b & 0x1f);
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.src[this.pos++]);
      case 0xc5:
        return this.bin(this.u16());
      case 0xc6:
        return this.bin(this.u32());
      case 0xca: {
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xcb: {
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 0xcc:
        return this.src[this.pos++];
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf: {
        const hi = this.u32();
        return hi * 4294967296 + this.u32();
      }
      case 0xd0: {
        const v = this.view.getInt8(this.pos);
        this.pos += 1;
        return v;
      }
      case 0xd1: {
        const v = this.view.getInt16(this.pos);
        this.pos += 2;
        return v;
      }
      case 0xd2: {
        const v = this.view.getInt32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xd3: {
        const hi = this.view.getInt32(this.pos);
        const lo = this.view.getUint32(this.pos + 4);
        this.pos += 8;
        return hi * 4294967296 + lo;
      }
      case 0xd9:
        return this.str(this.src[this.pos++]);
      case 0xda:
        return this.str(this.u16());
      case 0xdb:
        return this.str(this.u32());
      case 0xdc:
        return this.array(this.u16());
      case 0xdd:
        return this.array(this.u32());
      case 0xde:
        return this.map(this.u16());
      case 0xdf:
        return this.map(this.u32());
      default:
        throw new Error(`MessagePack: type byte 0x${b.toString(16)} (extensions are not part of the log format)`);
    }
  }

  /** bin outside an event's binary fields: a copy (the source buffer is reused by lmdb-js) */
  private bin(n: number): Uint8Array {
    const s = this.pos;
    this.pos += n;
    return Uint8Array.prototype.slice.call(this.src, s, s + n); // a copy even when src is a Buffer (Buffer#slice is a view)
  }

  private array(n: number): unknown[] {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value();
    return out;
  }

  private map(n: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.key();
      setKey(out, k, this.value());
    }
    return out;
  }
}

/** `__proto__` as a key is data, never the object's prototype. */
function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function retype(data: Record<string, unknown>, fields: ReadonlyMap<string, DType>): void {
  for (const [k, dtype] of fields) {
    const v = data[k];
    if (v instanceof Uint8Array) data[k] = fromBytes(dtype, v, `data.${k}`);
  }
}
