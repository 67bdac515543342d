import { Kind } from '@sinclair/typebox';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, makeEvent, PAYLOADS, type DareEvent, type EventType } from '../../events/catalogue.ts';
import { decodeEvent, encodeEvent } from '../../events/codec.ts';
import { MsgpackWriter } from '../../events/msgpackWriter.ts';
import { anyEvent, eventArbitrary, msgpackValue } from '../support/arbitraries.ts';

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

  it('writes typed arrays as bin of their little-endian bytes, and refuses Maps instead of writing an extension', () => {
    const w = new MsgpackWriter();
    // 1.5f = 0x3fc00000 little-endian 00 00 c0 3f; -2f = 0xc0000000 -> 00 00 00 c0
    expect([...w.encode({ x: new Float32Array([1.5, -2]) })]).toEqual([0x81, 0xa1, 0x78, 0xc4, 8, 0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0]);
    // 258 as u16 little-endian: 02 01; a 70-byte array goes through the large path (bin8 header, then bytes)
    expect([...w.encode(new Uint16Array([258]))]).toEqual([0xc4, 2, 2, 1]);
    const big = new Float64Array(9).fill(0.5);
    expect(w.encode(big).subarray(2).equals(Buffer.from(big.buffer))).toBe(true);
    expect(() => w.encode(new Map())).toThrow(/Map/);
  });

  it('returned buffers stay intact while later values are written (slabs are never reused)', () => {
    const w = new MsgpackWriter();
    const kept = Array.from({ length: 5000 }, (_, i) => [i, w.encode({ i, s: 'x'.repeat(i % 300) })] as const);
    for (const [i, b] of kept) expect(b.equals(msgpackr.pack({ i, s: 'x'.repeat(i % 300) }))).toBe(true);
  });

  for (const type of EVENT_TYPES) {
    it(`${type}: encodeEvent writes msgpackr's bytes for the event in canonical key order`, () => {
      fc.assert(
        fc.property(eventArbitrary(type), (ev) => {
          const viaMsgpackr = msgpackr.pack(canonical(bytesOf(ev) as Record<string, unknown>, type));
          expect(encodeEvent(ev).equals(viaMsgpackr)).toBe(true);
        }),
        { numRuns: 30 },
      );
    });
  }

  it('canonical: the same event built in another key order (envelope, data, records) encodes to the same bytes', () => {
    fc.assert(
      fc.property(anyEvent, fc.integer(), (ev, seed) => {
        const shuffled = shuffleKeys(ev, seed) as DareEvent;
        expect(encodeEvent(shuffled).equals(encodeEvent(ev))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('hand-checked bytes of a small event', () => {
    const ev = makeEvent('StepStarted', { epoch: 0, step: 1 }, { run: 'r', id: 'S/1', ts: 1 });
    const s = (x: string) => [0xa0 | x.length, ...Buffer.from(x)];
    // map of 7: id, type, v, run, ts, cause, data; data in schema order (step before epoch) though built the other way
    const want = [0x87, ...s('id'), ...s('S/1'), ...s('type'), ...s('StepStarted'), ...s('v'), 1, ...s('run'), ...s('r'), ...s('ts'), 1, ...s('cause'), 0xc0, ...s('data'), 0x82, ...s('step'), 1, ...s('epoch'), 0];
    expect([...encodeEvent(ev)]).toEqual(want);
  });

  it('an unvalidated event with a wrong or missing field is written as it is, and the validator names the field', () => {
    const ok = makeEvent('StepStarted', { step: 1, epoch: 0 }, { run: 'r', id: 'S/1', ts: 1 });
    const wrong = { ...ok, data: { step: 'one', epoch: 0 } } as unknown as DareEvent;
    expect(() => decodeEvent(encodeEvent(wrong))).toThrow(/\/data\/step/);
    const missing = { ...ok, data: { epoch: 0 } } as unknown as DareEvent;
    expect(() => decodeEvent(encodeEvent(missing))).toThrow(/\/data\/step/);
    const wrongType = { ...ok, v: 2 } as unknown as DareEvent;
    expect(() => decodeEvent(encodeEvent(wrongType))).toThrow(/\/v/);
    const unknown = { ...ok, type: 'NoSuchEvent' } as unknown as DareEvent;
    expect(() => decodeEvent(encodeEvent(unknown))).toThrow(/unknown event type/);
  });
});

/** The event with its typed arrays as byte views (what msgpackr needs to write bin). */
function bytesOf(ev: object): unknown {
  const walk = (x: unknown): unknown => {
    if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined).map(([k, v]) => [k, walk(v)]));
    return x;
  };
  return walk(ev);
}

/** Canonical order, spelled out here independently of the codec: the factory's envelope, data in schema order. */
function canonical(ev: Record<string, unknown>, type: EventType): unknown {
  const data = ev.data as Record<string, unknown>;
  const props = (PAYLOADS[type] as unknown as { properties: Record<string, { [Kind]?: string; properties?: object }> }).properties;
  const envelope = ['id', 'type', 'v', 'run', 'ts', 'cause'];
  const field = (k: string) => {
    const v = data[k];
    const s = props[k];
    if (s[Kind] !== 'Record') return v;
    // records sorted by key; their values (byTier's objects) in their own schema order
    const inner = (s as unknown as { patternProperties: Record<string, { properties?: object }> }).patternProperties;
    const order = Object.values(inner)[0].properties;
    const sortValue = (x: unknown) => (order ? Object.fromEntries(Object.keys(order).map((q) => [q, (x as Record<string, unknown>)[q]])) : x);
    // a Map keeps the sorted order even for integer-like keys, which a plain object would move to the front
    return new Map(Object.keys(v as object).sort().map((q) => [q, sortValue((v as Record<string, unknown>)[q])]));
  };
  return { ...Object.fromEntries(envelope.map((k) => [k, ev[k]])), data: Object.fromEntries(Object.keys(props).map((k) => [k, field(k)])) };
}

/**
 * A copy of an event with every object's keys in a seeded random order (typed arrays kept), except inside a
 * RunStarted's config: a value of type Unknown is written in its own order.
 */
function shuffleKeys(x: unknown, seed: number, path = ''): unknown {
  if (ArrayBuffer.isView(x) || typeof x !== 'object' || x === null || path === '.data.config') return x;
  if (Array.isArray(x)) return x.map((v) => shuffleKeys(v, seed, path + '[]'));
  const entries = Object.entries(x);
  let h = seed | 0;
  for (let i = entries.length - 1; i > 0; i--) {
    h = (Math.imul(h, 1103515245) + 12345) | 0;
    const j = (h >>> 8) % (i + 1);
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, seed + 1, `${path}.${k}`)]));
}
