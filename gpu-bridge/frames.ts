/**
 * Worker-protocol framing (docs/worker-protocol.md § Framing and § Binary payloads).
 *
 * A frame is `uint32 BE length` + `length` bytes holding one standard MessagePack map. We use msgpackr
 * configured for plain MessagePack (no records, no extensions; `undefined` becomes nil) so any
 * MessagePack library — the Python workers use `msgpack` — reads what we write.
 *
 * Typed arrays never go to msgpackr directly: without `moreTypes` it packs a Float32Array / Int32Array as
 * a `bin` of the wrong bytes. msgpackr also writes a scalar -0 as the integer 0 (its integer test is
 * `x >>> 0 === x`); that is harmless for scalar fields, and per-token values travel in bins, which keep -0. The protocol wants `bin` holding little-endian element bytes, so callers
 * convert with f32ToBin / i32ToBin before packing and binToF32 / binToI32 after unpacking.
 */
import { Packr } from 'msgpackr';
import { endianness } from 'node:os';

/** Default maximum body size, bytes (256 MiB). */
export const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;

/** Largest value a uint32 length prefix can announce. */
const U32_MAX = 0xffffffff;

export type FrameErrorKind = 'oversized' | 'truncated' | 'malformed';

/** A protocol error in the framing layer; `kind` lets callers pick an exit code or a log reason. */
export class FrameError extends Error {
  readonly kind: FrameErrorKind;
  /** FrameDecoder.push: the frames completed before this error in the same chunk. */
  decoded: FrameBody[] = [];
  constructor(kind: FrameErrorKind, message: string) {
    super(message);
    this.name = 'FrameError';
    this.kind = kind;
  }
}

/** A decoded frame body: always a plain object (a MessagePack map with string keys). */
export type FrameBody = Record<string, unknown>;

/**
 * The frame size limit, bytes: `DARE_MAX_FRAME` from the environment when set (a positive integer),
 * else 256 MiB. A malformed value is an error rather than a silent default.
 */
export function maxFrameFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DARE_MAX_FRAME;
  if (raw === undefined || raw === '') return DEFAULT_MAX_FRAME;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > U32_MAX) {
    throw new Error(`DARE_MAX_FRAME must be a positive integer number of bytes ≤ ${U32_MAX}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true, // fixmap/map16/map32 by size, like every other MessagePack encoder
  encodeUndefinedAsNil: true, // msgpackr's default is an extension type for undefined
  int64AsType: 'number',
  moreTypes: false,
});

/** MessagePack-encode a body (no length prefix). */
export function packBody(body: FrameBody): Buffer {
  return packr.pack(body);
}

/**
 * Encode one frame: length prefix + MessagePack body.
 * @param maxFrame limit on the body size, bytes; a larger body is a FrameError('oversized').
 */
export function encodeFrame(body: FrameBody, maxFrame: number = DEFAULT_MAX_FRAME): Buffer {
  if (!isPlainMap(body)) throw new FrameError('malformed', 'malformed frame: body is not a MessagePack map');
  return frameBytes(packr.pack(body), maxFrame);
}

/** Prefix already-encoded MessagePack body bytes with their length (used by reply caches). */
export function frameBytes(packed: Uint8Array, maxFrame: number = DEFAULT_MAX_FRAME): Buffer {
  if (packed.length > maxFrame) throw oversized(packed.length, maxFrame);
  const out = Buffer.allocUnsafe(4 + packed.length);
  out.writeUInt32BE(packed.length, 0);
  out.set(packed, 4);
  return out;
}

/** Decode one frame body; it must be exactly one MessagePack map. */
export function decodeBody(body: Uint8Array): FrameBody {
  let value: unknown;
  try {
    value = packr.unpack(body);
  } catch (err) {
    throw new FrameError('malformed', `malformed frame: body is not valid MessagePack (${(err as Error).message})`);
  }
  if (!isPlainMap(value)) throw new FrameError('malformed', 'malformed frame: body is not a MessagePack map');
  return value;
}

function isPlainMap(v: unknown): v is FrameBody {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function oversized(n: number, max: number): FrameError {
  return new FrameError('oversized', `frame of ${n} bytes exceeds the limit of ${max} bytes`);
}

/**
 * Incremental frame decoder over a byte stream. Chunks may split a frame anywhere (even inside the length
 * prefix) or hold several frames. Chunks of a large frame are kept as a list and concatenated once, so a
 * 256 MiB frame arriving in 64 KiB pieces costs one copy, not a quadratic number.
 */
export class FrameDecoder {
  readonly maxFrame: number;
  private chunks: Buffer[] = [];
  private size = 0; // bytes held in `chunks`
  private need = -1; // body length of the frame being read, -1 while the prefix is incomplete
  private failed: FrameError | null = null;

  constructor(opts: { maxFrame?: number } = {}) {
    this.maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.size;
  }

  /**
   * Feed bytes; returns every frame completed by them, in order. Throws FrameError on an oversized
   * announced length or a body that is not a map; the frames completed before the bad one in this chunk
   * are on the error's `decoded`. The decoder is then unusable (the stream is out of sync).
   */
  push(chunk: Uint8Array): FrameBody[] {
    const { frames, error } = this.feed(chunk);
    if (error) {
      error.decoded = frames;
      throw error;
    }
    return frames;
  }

  /**
   * Like push, but returns the frames completed before a protocol error together with it, so a reader
   * can act on the good frames (answer them) before it reports the error.
   */
  feed(chunk: Uint8Array): { frames: FrameBody[]; error: FrameError | null } {
    if (this.failed) return { frames: [], error: this.failed };
    if (chunk.length > 0) {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.size += chunk.length;
    }
    const frames: FrameBody[] = [];
    try {
      for (;;) {
        if (this.need < 0) {
          if (this.size < 4) break;
          const n = this.peekU32();
          if (n > this.maxFrame) throw oversized(n, this.maxFrame);
          this.need = n;
        }
        if (this.size < 4 + this.need) break;
        const body = this.take(4 + this.need).subarray(4);
        this.need = -1;
        frames.push(decodeBody(body));
      }
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.failed = err;
      return { frames, error: err };
    }
    return { frames, error: null };
  }

  /** Signal end of stream; throws FrameError('truncated') when it ended inside a frame. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.size === 0) return;
    const err =
      this.size < 4
        ? new FrameError('truncated', `truncated frame: expected a 4-byte length prefix, got ${this.size} bytes`)
        : new FrameError('truncated', `truncated frame: expected ${this.peekU32()} bytes, got ${this.size - 4}`);
    this.failed = err;
    throw err;
  }

  private peekU32(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.allocUnsafe(4);
    let k = 0;
    for (const c of this.chunks) {
      for (let i = 0; i < c.length && k < 4; i++) head[k++] = c[i];
      if (k === 4) break;
    }
    return head.readUInt32BE(0);
  }

  /** Remove and return the first n buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let k = 0;
      while (k < n) {
        const c = this.chunks[0];
        const m = Math.min(c.length, n - k);
        out.set(m === c.length ? c : c.subarray(0, m), k);
        k += m;
        if (m === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(m);
      }
    }
    this.size -= n;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Binary payloads: little-endian element bytes in a MessagePack `bin`.

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function swap32InPlace(b: Buffer): Buffer {
  return b.swap32();
}

/** A copy of `u` in a fresh ArrayBuffer (offset 0, so aligned), byte-swapped to host order. */
function alignedCopy(u: Uint8Array): Uint8Array {
  const copy = new Uint8Array(u.byteLength);
  copy.set(u);
  if (!LITTLE_ENDIAN_HOST) Buffer.from(copy.buffer).swap32();
  return copy;
}

/** Float32Array → Buffer of its float32 LE bytes (a view on little-endian hosts, no copy). */
export function f32ToBin(a: Float32Array): Buffer {
  const view = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return LITTLE_ENDIAN_HOST ? view : swap32InPlace(Buffer.from(view));
}

/** Int32Array → Buffer of its int32 LE bytes (a view on little-endian hosts, no copy). */
export function i32ToBin(a: Int32Array): Buffer {
  const view = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return LITTLE_ENDIAN_HOST ? view : swap32InPlace(Buffer.from(view));
}

function checkBin(b: unknown, what: string): Uint8Array {
  if (!(b instanceof Uint8Array)) {
    throw new TypeError(`${what}: expected a MessagePack bin (Uint8Array), got ${describe(b)}`);
  }
  if (b.byteLength % 4 !== 0) {
    throw new RangeError(`${what}: bin of ${b.byteLength} bytes is not a whole number of 4-byte elements`);
  }
  return b;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

/**
 * bin (float32 LE) → Float32Array. A view when the bytes are 4-byte aligned (and the host is LE); a copy
 * otherwise (msgpackr returns bins as views into the frame, at arbitrary offsets).
 * @param what field name used in error messages
 */
export function binToF32(b: unknown, what = 'bin'): Float32Array {
  const u = checkBin(b, what);
  if (LITTLE_ENDIAN_HOST && u.byteOffset % 4 === 0) return new Float32Array(u.buffer, u.byteOffset, u.byteLength / 4);
  return new Float32Array(alignedCopy(u).buffer);
}

/** bin (int32 LE) → Int32Array; a view when aligned, else a copy (see binToF32). */
export function binToI32(b: unknown, what = 'bin'): Int32Array {
  const u = checkBin(b, what);
  if (LITTLE_ENDIAN_HOST && u.byteOffset % 4 === 0) return new Int32Array(u.buffer, u.byteOffset, u.byteLength / 4);
  return new Int32Array(alignedCopy(u).buffer);
}
