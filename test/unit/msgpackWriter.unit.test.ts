import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../events/catalogue.ts';
import { encodeEvent } from '../../events/codec.ts';
import { MsgpackWriter } from '../../events/msgpackWriter.ts';
import { eventArbitrary, msgpackValue } from '../support/arbitraries.ts';

// the configuration the codec used before it had its own writer: logs written then must read the same
const msgpackr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

const value = msgpackValue;

describe('MessagePack writer', () => {
  it('writes exactly the bytes msgpackr writes, for any JSON-like value with bin', () => {
    const w = new MsgpackWriter();
    fc.assert(
      fc.property(value, (v) => {
        expect(w.encode(v).equals(msgpackr.pack(v))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('the same bytes when every value crosses a slab boundary (new map keys met while the value moves)', () => {
    // a log once held a RunCompleted whose new key "weightsSha256" was lost this way
    for (const slab of [8, 16, 61]) {
      const w = new MsgpackWriter(slab);
      fc.assert(
        fc.property(value, (v) => {
          expect(w.encode(v).equals(msgpackr.pack(v))).toBe(true);
        }),
        { numRuns: 1000 },
      );
      const fresh = `k${slab}-${'x'.repeat(slab)}`; // a key no test has cached yet, met at a slab's end
      const kept = [w.encode({ a: 'y'.repeat(slab - 4), [fresh]: null }), w.encode({ [fresh]: 1 })];
      expect(kept[0].equals(msgpackr.pack({ a: 'y'.repeat(slab - 4), [fresh]: null }))).toBe(true);
      expect(kept[1].equals(msgpackr.pack({ [fresh]: 1 }))).toBe(true);
    }
  });

  it('hand-checked headers: fixint, negative fixint, uint16, float64, str8, bin8, array16, map16', () => {
    const w = new MsgpackWriter();
    expect([...w.encode(127)]).toEqual([0x7f]);
    expect([...w.encode(-32)]).toEqual([0xe0]);
    expect([...w.encode(-33)]).toEqual([0xd0, 0xdf]);
    expect([...w.encode(256)]).toEqual([0xcd, 0x01, 0x00]);
    expect([...w.encode(0.5)]).toEqual([0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
    expect([...w.encode(2 ** 32)].slice(0, 1)).toEqual([0xcb]); // beyond uint32: float64, as msgpackr
    expect([...w.encode('a'.repeat(32)).subarray(0, 2)]).toEqual([0xd9, 32]);
    expect([...w.encode('é')]).toEqual([0xa2, 0xc3, 0xa9]);
    expect([...w.encode(new Uint8Array([1, 2]))]).toEqual([0xc4, 2, 1, 2]);
    expect([...w.encode(new Array(16).fill(0)).subarray(0, 3)]).toEqual([0xdc, 0, 16]);
    const big = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]));
    expect([...w.encode(big).subarray(0, 3)]).toEqual([0xde, 0, 16]);
  });

  it('leaves out map entries whose value is undefined (standard MessagePack has no undefined)', () => {
    const w = new MsgpackWriter();
    expect(w.encode({ a: 1, b: undefined })).toEqual(msgpackr.pack({ a: 1 }));
  });

  it('refuses values an event never holds instead of writing an extension', () => {
    const w = new MsgpackWriter();
    expect(() => w.encode({ x: new Float32Array(2) })).toThrow(/Float32Array/);
    expect(() => w.encode(new Map())).toThrow(/Map/);
  });

  it('returned buffers stay intact while later values are written (slabs are never reused)', () => {
    const w = new MsgpackWriter();
    const kept = Array.from({ length: 5000 }, (_, i) => [i, w.encode({ i, s: 'x'.repeat(i % 300) })] as const);
    for (const [i, b] of kept) expect(b.equals(msgpackr.pack({ i, s: 'x'.repeat(i % 300) }))).toBe(true);
  });

  for (const type of EVENT_TYPES) {
    it(`${type}: encodeEvent writes the bytes msgpackr wrote for it`, () => {
      fc.assert(
        fc.property(eventArbitrary(type), (ev) => {
          const viaMsgpackr = msgpackr.pack(bytesOf(ev));
          expect(encodeEvent(ev).equals(viaMsgpackr)).toBe(true);
        }),
        { numRuns: 30 },
      );
    });
  }
});

/** The event with its typed arrays as byte views, as codec.ts hands it to the writer. */
function bytesOf(ev: object): unknown {
  const walk = (x: unknown): unknown => {
    if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined).map(([k, v]) => [k, walk(v)]));
    return x;
  };
  return walk(ev);
}
