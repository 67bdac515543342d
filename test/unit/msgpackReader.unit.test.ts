import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, makeEvent, PAYLOADS } from '../../events/catalogue.ts';
import { BINARY_FIELDS, decodeTrusted, encodeEvent } from '../../events/codec.ts';
import { MsgpackReader } from '../../events/msgpackReader.ts';
import { compileEventReader, MISMATCH } from '../../events/schemaReader.ts';
import { eventArbitrary, msgpackValue, sameEvent } from '../support/arbitraries.ts';

const msgpackr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
const plain = new MsgpackReader(new Map());

const value = msgpackValue;

describe('MessagePack reader', () => {
  it('decodes what msgpackr decodes, for any JSON-like value with bin', () => {
    const unpackr = new Packr({ useRecords: false, mapsAsObjects: true });
    fc.assert(
      fc.property(value, (v) => {
        const bytes = msgpackr.pack(v);
        const got = plain.readEvent(bytes);
        const want = unpackr.unpack(bytes);
        expect(isDeepStrictEqual(normal(got), normal(want))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes strings of every short length, ASCII or not at any position, from a Buffer and a plain Uint8Array', () => {
    for (let n = 0; n <= 20; n++) {
      const ascii = Array.from({ length: n }, (_, i) => String.fromCharCode(0x20 + ((i * 7) % 95))).join('');
      const cases = [ascii, ...Array.from({ length: n }, (_, i) => ascii.slice(0, i) + ['é', '€', '😀'][i % 3] + ascii.slice(i + 1))];
      for (const str of cases) {
        const bytes = msgpackr.pack(str);
        expect(plain.readEvent(bytes)).toBe(str);
        expect(plain.readEvent(Uint8Array.from(bytes))).toBe(str);
      }
    }
  });

  for (const type of EVENT_TYPES) {
    it(`${type}: typed arrays of their dtype, in a buffer of their own`, () => {
      fc.assert(
        fc.property(eventArbitrary(type), (ev) => {
          const bytes = Buffer.from(encodeEvent(ev));
          const back = decodeTrusted(bytes);
          expect(sameEvent(back, ev)).toBe(true);
          bytes.fill(0); // lmdb-js reuses its buffers: nothing decoded may point into them
          expect(sameEvent(back, ev)).toBe(true);
        }),
        { numRuns: 30 },
      );
    });
  }

  it('a writer that puts data before type still gets typed arrays', () => {
    const ev = makeEvent('StepStarted', { step: 1, epoch: 0 }, { run: 'r', id: 'S/1', ts: 1 });
    const rollout = makeEvent(
      'RolloutCompleted',
      { step: 1, promptIndex: 2, group: 'g/1/2', purpose: 'train', policyVersion: 0, reward: new Float32Array([1, 0]), length: new Uint32Array([3, 4]), logprob: new Float64Array([-1, -2]), truncated: new Uint8Array(2), hinted: new Uint8Array(2), oracleSuccess: null },
      { run: 'r', id: 'R/1', ts: 1 },
    );
    const { data, ...rest } = rollout as unknown as { data: Record<string, ArrayBufferView | unknown> };
    const bytesOf = (x: unknown) => (ArrayBuffer.isView(x) ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : x);
    const reordered = msgpackr.pack({ data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, bytesOf(v)])), ...rest });
    const back = decodeTrusted(reordered) as typeof rollout;
    expect(back.data.reward).toBeInstanceOf(Float32Array);
    expect([...back.data.logprob]).toEqual([-1, -2]);
    expect(sameEvent(back, rollout)).toBe(true);
    expect(sameEvent(decodeTrusted(encodeEvent(ev)), ev)).toBe(true);
  });

  it('`__proto__` is a key like any other, never the prototype', () => {
    const bytes = Buffer.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x78, 0x01]);
    const o = plain.readEvent(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
  });

  it('compiled readers take canonical bytes and hand anything else back to the generic reader', () => {
    const type = 'RolloutCompleted';
    const read = compileEventReader(type, ['id', 'type', 'v', 'run', 'ts', 'cause', 'data'], PAYLOADS[type]);
    let last: unknown = 'not called';
    const spy: typeof read = (f, id) => (last = read(f, id));
    const layout = { head: Uint8Array.from([0x87, 0xa2, 0x69, 0x64]), typeKey: Uint8Array.from([0xa4, ...Buffer.from('type')]), readers: new Map([[type, spy]]) };
    const reader = new MsgpackReader(new Map([[type, new Map(BINARY_FIELDS[type])]]), layout);
    fc.assert(
      fc.property(eventArbitrary(type), fc.constantFrom('canonical', 'schema order', 'data reversed'), (ev, form) => {
        const { id, type: t, v, run, ts, cause, data } = bytesOf(ev) as Record<string, unknown>;
        const bytes =
          form === 'canonical'
            ? Buffer.from(encodeEvent(ev))
            : form === 'schema order' // the envelope as the schema lists it: type after cause
              ? msgpackr.pack({ id, v, run, ts, cause, type: t, data })
              : msgpackr.pack({ id, type: t, v, run, ts, cause, data: Object.fromEntries(Object.entries(data as object).reverse()) });
        last = 'not called';
        expect(sameEvent(reader.readEvent(bytes), ev)).toBe(true);
        if (form === 'canonical') expect(sameEvent(last, ev)).toBe(true); // the fast path built it
        else if (form === 'schema order') expect(last).toBe('not called'); // no `type` key second: never dispatched
        else expect(last).toBe(MISMATCH); // dispatched, then a key out of place
      }),
      { numRuns: 150 },
    );
  });

  it('NaN payload bits survive encode and decode, in small and large float arrays', () => {
    for (const n of [3, 40]) {
      const f4 = new Float32Array(n).fill(0.25);
      const f4bits = new Uint32Array(f4.buffer);
      f4bits[1] = 0x7fa00001; // signalling NaN with a payload
      f4bits[2] = 0xffc00000; // negative quiet NaN (what x86 arithmetic produces)
      const f8 = new Float64Array(n).fill(-3);
      new Uint32Array(f8.buffer).set([0x00000001, 0x7ff40000], 2); // signalling NaN, low payload bit set
      const ev = makeEvent(
        'RolloutCompleted',
        { step: 1, promptIndex: 2, group: 'g/1/2', purpose: 'train', policyVersion: 0, reward: f4, length: new Uint32Array(n), logprob: f8, truncated: new Uint8Array(n), hinted: new Uint8Array(n), oracleSuccess: null },
        { run: 'r', id: 'R/1', ts: 1 },
      );
      const bytes = Buffer.from(encodeEvent(ev));
      expect(bytes.includes(Buffer.from(f4.buffer))).toBe(true);
      expect(bytes.includes(Buffer.from(f8.buffer))).toBe(true);
      const back = decodeTrusted(bytes) as typeof ev;
      expect(Buffer.from(back.data.reward.buffer, back.data.reward.byteOffset, back.data.reward.byteLength).equals(Buffer.from(f4.buffer))).toBe(true);
      expect(Buffer.from(back.data.logprob.buffer, back.data.logprob.byteOffset, back.data.logprob.byteLength).equals(Buffer.from(f8.buffer))).toBe(true);
    }
  });

  it('refuses extension types and trailing bytes', () => {
    expect(() => plain.readEvent(Buffer.from([0xd4, 0x00, 0x00]))).toThrow(/extensions/);
    expect(() => plain.readEvent(Buffer.from([0xc0, 0xc0]))).toThrow(/after the value/);
  });
});

/** Buffers and Uint8Arrays compare as bytes; -0 and 0 as msgpack writes them. */
function normal(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(normal);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normal(v)]));
  return x;
}

/** The event with its typed arrays as byte views (what msgpackr needs to write bin). */
function bytesOf(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (Array.isArray(x)) return x.map(bytesOf);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, bytesOf(v)]));
  return x;
}
