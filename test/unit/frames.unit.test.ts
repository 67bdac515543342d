import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME,
  FrameDecoder,
  FrameError,
  binToF32,
  binToI32,
  decodeBody,
  encodeFrame,
  f32ToBin,
  i32ToBin,
  maxFrameFromEnv,
  packBody,
} from '../../gpu-bridge/frames.ts';

/** The float32 bit pattern of element i, as an unsigned int. */
function bits32(a: Float32Array, i: number): number {
  return new Uint32Array(a.buffer, a.byteOffset, a.length)[i];
}

function concat(frames: Buffer[]): Buffer {
  return Buffer.concat(frames);
}

/** Split `buf` at the given (sorted, deduplicated) cut offsets. */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const pts = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of pts) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('frame layout', () => {
  it('is a uint32 big-endian length followed by a standard MessagePack map', () => {
    const f = encodeFrame({ a: 1 });
    // Hand: {a: 1} in MessagePack = fixmap(1) 0x81, fixstr "a" 0xa1 0x61, positive fixint 0x01 → 4 bytes.
    expect([...f]).toEqual([0, 0, 0, 4, 0x81, 0xa1, 0x61, 0x01]);
  });

  it('writes nil for undefined (no msgpackr extension)', () => {
    // Hand: fixmap(1), "u", nil (0xc0).
    expect([...packBody({ u: undefined })]).toEqual([0x81, 0xa1, 0x75, 0xc0]);
  });

  it('writes a scalar -0 as integer 0 (a msgpackr choice; per-token values travel in bins, which keep -0)', () => {
    // Hand: fixmap(1), "z", positive fixint 0.
    expect([...packBody({ z: -0 })]).toEqual([0x81, 0xa1, 0x7a, 0x00]);
    // Non-integral floats are float64 (0xcb), never float32.
    expect(packBody({ z: 0.5 })[3]).toBe(0xcb);
  });

  it('rejects a body that is not a map, on both sides', () => {
    expect(() => encodeFrame([1, 2] as unknown as Record<string, unknown>)).toThrow(
      'malformed frame: body is not a MessagePack map',
    );
    // fixarray [1, 2] = 0x92 0x01 0x02
    expect(() => decodeBody(Buffer.from([0x92, 1, 2]))).toThrow('malformed frame: body is not a MessagePack map');
    // a bare integer
    expect(() => decodeBody(Buffer.from([0x05]))).toThrow('malformed frame: body is not a MessagePack map');
  });

  it('rejects invalid MessagePack and trailing bytes inside a body', () => {
    // fixmap(2) with only one key present: the data ends early.
    expect(() => decodeBody(Buffer.from([0x82, 0xa1, 0x61, 0x01]))).toThrow(/^malformed frame: body is not valid MessagePack/);
    // {a:1} followed by a stray byte.
    expect(() => decodeBody(Buffer.from([0x81, 0xa1, 0x61, 0x01, 0x01]))).toThrow(/^malformed frame/);
  });
});

describe('binary payloads', () => {
  it('round-trips float32 specials, -0 and denormals bit-exactly, LE bytes on the wire', () => {
    const values = new Float32Array([
      1.5,
      -0,
      0,
      NaN,
      Infinity,
      -Infinity,
      2 ** -149, // smallest positive denormal
      -(2 ** -149),
      2 ** -127, // a mid denormal
      3.4028234663852886e38, // float32 max
      -1.1754943508222875e-38, // -(smallest normal)
      Math.fround(0.1),
    ]);
    const bin = f32ToBin(values);
    // Hand: 1.5 = 0x3FC00000 → LE 00 00 C0 3F; -0 = 0x80000000 → 00 00 00 80;
    // NaN (canonical quiet) = 0x7FC00000 → 00 00 C0 7F; 2^-149 = 0x00000001 → 01 00 00 00.
    expect([...bin.subarray(0, 8)]).toEqual([0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0x80]);
    expect([...bin.subarray(12, 16)]).toEqual([0x00, 0x00, 0xc0, 0x7f]);
    expect([...bin.subarray(24, 28)]).toEqual([0x01, 0x00, 0x00, 0x00]);

    const frame = encodeFrame({ logprobs: bin });
    const [body] = new FrameDecoder().push(frame);
    const back = binToF32(body.logprobs, 'logprobs');
    expect(back.length).toBe(values.length);
    for (let i = 0; i < values.length; i++) expect(bits32(back, i)).toBe(bits32(values, i));
    expect(Object.is(back[1], -0)).toBe(true);
    expect(Number.isNaN(back[3])).toBe(true);
  });

  it('round-trips int32 negatives and extremes', () => {
    const values = new Int32Array([0, 1, -1, 2147483647, -2147483648, -123456789, 50256]);
    const bin = i32ToBin(values);
    // Hand: -1 = 0xFFFFFFFF → FF FF FF FF; -2^31 = 0x80000000 → LE 00 00 00 80.
    expect([...bin.subarray(8, 12)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect([...bin.subarray(16, 20)]).toEqual([0x00, 0x00, 0x00, 0x80]);
    const [body] = new FrameDecoder().push(encodeFrame({ tokens: bin, promptTokens: i32ToBin(values.subarray(2, 5)) }));
    expect([...binToI32(body.tokens)]).toEqual([...values]);
    expect([...binToI32(body.promptTokens)]).toEqual([-1, 2147483647, -2147483648]);
  });

  it('copies when the bin is not 4-byte aligned and views when it is', () => {
    const raw = Buffer.alloc(13);
    raw.writeInt32LE(-7, 1);
    raw.writeInt32LE(42, 5);
    raw.writeFloatLE(-0.5, 9);
    const unaligned = raw.subarray(1, 9); // byteOffset 1 (plus the pool offset, a multiple of 8)
    expect((unaligned.byteOffset % 4) !== 0).toBe(true);
    const ints = binToI32(unaligned);
    expect([...ints]).toEqual([-7, 42]);
    expect(ints.buffer).not.toBe(raw.buffer); // a copy
    const f = binToF32(raw.subarray(9, 13));
    expect(f[0]).toBe(-0.5);

    const aligned = new Int32Array([5, 6, 7]);
    const viewBack = binToI32(i32ToBin(aligned));
    expect(viewBack.buffer).toBe(aligned.buffer); // a view, no copy
  });

  it('names the field when a bin is missing or not whole elements', () => {
    expect(() => binToF32([1, 2], 'rows[3].oldLogprobs')).toThrow(/rows\[3\]\.oldLogprobs: expected a MessagePack bin/);
    expect(() => binToI32(Buffer.alloc(6), 'tokens')).toThrow('tokens: bin of 6 bytes is not a whole number of 4-byte elements');
  });

  it('does not hand typed arrays to msgpackr: a bin built by f32ToBin decodes with any reader', () => {
    const a = new Float32Array([1, 2]);
    const packed = packBody({ x: f32ToBin(a) });
    // Hand: fixmap(1), fixstr "x", bin8 (0xc4) length 8, then 1.0f = 0x3F800000 → 00 00 80 3F, 2.0f → 00 00 00 40.
    expect([...packed]).toEqual([0x81, 0xa1, 0x78, 0xc4, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  });
});

describe('FrameDecoder', () => {
  it('decodes several frames in one chunk and one frame split byte by byte', () => {
    const stream = concat([encodeFrame({ id: 'a' }), encodeFrame({ id: 'b', n: 2 }), encodeFrame({ id: 'c' })]);
    expect(new FrameDecoder().push(stream).map((b) => b.id)).toEqual(['a', 'b', 'c']);

    const d = new FrameDecoder();
    const got: unknown[] = [];
    for (const byte of stream) got.push(...d.push(Buffer.from([byte])));
    expect(got).toEqual([{ id: 'a' }, { id: 'b', n: 2 }, { id: 'c' }]);
    expect(d.buffered).toBe(0);
    d.end(); // clean end between frames
  });

  it('reports an oversized announced length before the body arrives', () => {
    const d = new FrameDecoder({ maxFrame: 100 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(101, 0);
    expect(() => d.push(header)).toThrow('frame of 101 bytes exceeds the limit of 100 bytes');
    // the stream is out of sync afterwards: the error sticks
    expect(() => d.push(Buffer.from([0x80]))).toThrow(FrameError);
  });

  it('uses 256 MiB by default and DARE_MAX_FRAME when set', () => {
    expect(DEFAULT_MAX_FRAME).toBe(268435456); // 256 · 1024 · 1024
    expect(maxFrameFromEnv({})).toBe(268435456);
    expect(maxFrameFromEnv({ DARE_MAX_FRAME: '1024' })).toBe(1024);
    expect(() => maxFrameFromEnv({ DARE_MAX_FRAME: '-3' })).toThrow(/DARE_MAX_FRAME must be a positive integer/);
    const header = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    expect(() => new FrameDecoder().push(header)).toThrow('frame of 4294967295 bytes exceeds the limit of 268435456 bytes');
  });

  it('refuses to encode an oversized body', () => {
    expect(() => encodeFrame({ s: 'x'.repeat(50) }, 10)).toThrow(/^frame of \d+ bytes exceeds the limit of 10 bytes$/);
  });

  it('reports a truncated frame at end of stream with the expected and received sizes', () => {
    const f = encodeFrame({ id: 'abc', job: 'echo' });
    const bodyLen = f.length - 4;
    const d = new FrameDecoder();
    expect(d.push(f.subarray(0, 7))).toEqual([]);
    expect(() => d.end()).toThrow(`truncated frame: expected ${bodyLen} bytes, got 3`);

    const d2 = new FrameDecoder();
    d2.push(Buffer.from([0, 0]));
    expect(() => d2.end()).toThrow('truncated frame: expected a 4-byte length prefix, got 2 bytes');
  });

  it('reports a malformed body inside a stream, after the good frames before it', () => {
    const bad = Buffer.from([0, 0, 0, 3, 0x92, 1, 2]); // body = [1, 2]
    const stream = concat([encodeFrame({ ok: true }), bad, encodeFrame({ never: 1 })]);
    const d = new FrameDecoder();
    let caught: FrameError | undefined;
    try {
      d.push(stream);
    } catch (e) {
      caught = e as FrameError;
    }
    expect(caught?.message).toBe('malformed frame: body is not a MessagePack map');
    expect(caught?.kind).toBe('malformed');
    expect(caught?.decoded).toEqual([{ ok: true }]);

    const { frames, error } = new FrameDecoder().feed(stream);
    expect(frames).toEqual([{ ok: true }]);
    expect(error?.kind).toBe('malformed');
  });
});

// ---- property tests ---------------------------------------------------------------------------------

const leaf = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
  // msgpackr writes a scalar -0 as the integer 0 (see frames.ts); bins keep -0, scalars need not.
  fc.double({ noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 4 })),
})).v;
const body = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
  value,
  { maxKeys: 6 },
);

describe('FrameDecoder properties', () => {
  it('any chunking of any frame sequence yields the same bodies in order', () => {
    fc.assert(
      fc.property(fc.array(body, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (bodies, cuts) => {
        const frames = bodies.map((b) => encodeFrame(b));
        const stream = concat(frames);
        const d = new FrameDecoder();
        const got: unknown[] = [];
        for (const chunk of splitAt(stream, cuts)) got.push(...d.push(chunk));
        d.end();
        expect(got).toEqual(frames.map((f) => decodeBody(f.subarray(4))));
        expect(got.length).toBe(bodies.length);
      }),
      { numRuns: 300 },
    );
  });

  it('a stream cut inside its last frame decodes the whole frames then reports truncation', () => {
    fc.assert(
      fc.property(fc.array(body, { minLength: 1, maxLength: 5 }), fc.nat(), fc.array(fc.nat(), { maxLength: 6 }), (bodies, cutSeed, cuts) => {
        const frames = bodies.map((b) => encodeFrame(b));
        const last = frames[frames.length - 1];
        const keep = 4 + (cutSeed % (last.length - 4)); // keeps the prefix and 0..len-1 body bytes
        const stream = concat([...frames.slice(0, -1), last.subarray(0, keep)]);
        const d = new FrameDecoder();
        const got: unknown[] = [];
        for (const chunk of splitAt(stream, cuts)) got.push(...d.push(chunk));
        expect(got.length).toBe(frames.length - 1);
        expect(() => d.end()).toThrow(`truncated frame: expected ${last.length - 4} bytes, got ${keep - 4}`);
      }),
      { numRuns: 200 },
    );
  });

  it('decoded values equal the originals (JSON-like values and bins)', () => {
    fc.assert(
      fc.property(body, (b) => {
        const [back] = new FrameDecoder().push(encodeFrame(b));
        expect(back).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('float32 and int32 arrays round-trip bit-exactly through a frame at any offset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 30 }),
        fc.string({ maxLength: 7 }),
        (ints, pad) => {
          const i32 = new Int32Array(ints);
          const f32 = new Float32Array(new Int32Array(ints).buffer); // arbitrary bit patterns, NaN payloads included
          const [back] = new FrameDecoder().push(encodeFrame({ pad, t: i32ToBin(i32), l: f32ToBin(f32) }));
          expect([...binToI32(back.t)]).toEqual(ints);
          const lb = binToF32(back.l);
          for (let i = 0; i < f32.length; i++) expect(bits32(lb, i)).toBe(bits32(f32, i));
        },
      ),
      { numRuns: 200 },
    );
  });
});
