import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, makeEvent } from '../../events/catalogue.ts';
import { BINARY_FIELDS, decodeEvent, decodeTrusted, encodeEvent } from '../../events/codec.ts';
import { ValidationError, validateEvent } from '../../events/validate.ts';
import { anyEvent, eventArbitrary, sameEvent } from '../support/arbitraries.ts';
import { Unpackr } from 'msgpackr';

describe('event codec', () => {
  for (const type of EVENT_TYPES) {
    it(`${type} survives encode -> decode`, () => {
      fc.assert(
        fc.property(eventArbitrary(type), (ev) => {
          expect(() => validateEvent(ev)).not.toThrow();
          const bytes = encodeEvent(ev);
          const back = decodeEvent(bytes);
          expect(sameEvent(back, ev)).toBe(true);
          expect(sameEvent(decodeTrusted(bytes), ev)).toBe(true);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('writes binary fields as plain bin of little-endian bytes, readable without msgpackr extensions', () => {
    const ev = makeEvent(
      'RolloutCompleted',
      {
        step: 3, promptIndex: 7, group: 'g/3/7', purpose: 'train', policyVersion: 2,
        reward: new Float32Array([1, 0, -0, 0.5]),
        length: new Uint32Array([12, 4_000_000_000, 0, 1]),
        logprob: new Float64Array([-1.25, -1e-300, -Infinity, NaN]),
        truncated: new Uint8Array([0, 1, 0, 0]),
        hinted: new Uint8Array([0, 0, 1, 0]),
        oracleSuccess: 0.25,
      },
      { run: 'r', id: 'x' },
    );
    const bytes = encodeEvent(ev);
    // a plain decoder (no records, no extensions) sees Uint8Arrays holding the exact LE bytes
    const plain = new Unpackr({ useRecords: false, moreTypes: false }).unpack(bytes) as { data: Record<string, Uint8Array> };
    expect(plain.data.reward).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(plain.data.reward).equals(Buffer.from(new Float32Array([1, 0, -0, 0.5]).buffer))).toBe(true);
    expect(Buffer.from(plain.data.length).readUInt32LE(4)).toBe(4_000_000_000);
    const back = decodeEvent(bytes) as typeof ev;
    expect(Object.is(back.data.reward[2], -0)).toBe(true);
    expect(back.data.logprob[2]).toBe(-Infinity);
    expect(Number.isNaN(back.data.logprob[3])).toBe(true);
    expect(back.data.logprob[1]).toBe(-1e-300);
    expect(BINARY_FIELDS.RolloutCompleted.map(([k]) => k)).toEqual(['reward', 'length', 'logprob', 'truncated', 'hinted']);
  });

  it('an optional field is left out while undefined: events written before it keep their bytes, both forms round-trip', () => {
    const data = { step: 1, policyVersion: 1, loss: 0.5, clipFrac: 0, kl: 0, entropy: 1, gradNorm: 2, tokens: 10, binLosses: { '0': 0.25 } };
    const meta = { run: 'r', id: 'UpdateCompleted/1', cause: 'UpdateRequested/1', ts: 7 };
    const without = makeEvent('UpdateCompleted', data, meta);
    const withParity = makeEvent('UpdateCompleted', { ...data, logprobParity: { maxAbs: 1e-5, meanAbs: 2e-6, tokens: 40 } }, meta);
    const a = encodeEvent(without);
    const b = encodeEvent(withParity);
    // the bytes of the older shape: the generic writer of the same map, in the same key order
    const generic = new Unpackr({ useRecords: false, mapsAsObjects: true });
    expect(generic.unpack(a)).toEqual(JSON.parse(JSON.stringify(without)));
    expect(Object.keys((generic.unpack(a) as { data: object }).data)).not.toContain('logprobParity');
    expect(Object.keys((generic.unpack(b) as { data: object }).data).at(-1)).toBe('logprobParity');
    expect(decodeEvent(a)).toEqual(without);
    expect(decodeEvent(b)).toEqual(withParity);
    expect(b.length).toBeGreaterThan(a.length);
  });

  it('arbitrary bytes never decode to anything but a ValidationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeEvent(bytes);
          return false; // random bytes are never a valid event
        } catch (e) {
          return e instanceof ValidationError;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('damaged events (bytes flipped, cut, inserted) decode to a valid event or a ValidationError, nothing else', () => {
    fc.assert(
      fc.property(anyEvent, fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 4 }), (ev, edits) => {
        let bytes = Buffer.from(encodeEvent(ev));
        for (const [at, byte, op] of edits) {
          const i = at % (bytes.length + 1);
          if (op === 'set' && i < bytes.length) bytes[i] = byte;
          else if (op === 'cut') bytes = bytes.subarray(0, i);
          else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.of(byte), bytes.subarray(i)]);
        }
        try {
          const back = decodeEvent(bytes);
          expect(() => validateEvent(back)).not.toThrow(); // what decodes is a valid event, and encodes again
          expect(sameEvent(decodeEvent(encodeEvent(back)), back)).toBe(true);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('arbitrary objects fed to the validator only raise ValidationError', () => {
    fc.assert(
      fc.property(fc.anything({ withTypedArray: true, withBigInt: true, withMap: true, withSet: true, withDate: true }), (x) => {
        try {
          validateEvent(x);
          return false;
        } catch (e) {
          return e instanceof ValidationError;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('names the field at fault', () => {
    const ev = makeEvent('StepStarted', { step: 1, epoch: 0 }, { run: 'r', id: 'StepStarted/1' });
    expect(() => validateEvent({ ...ev, data: { step: -1, epoch: 0 } })).toThrow(/StepStarted.*\/data\/step/);
    expect(() => validateEvent({ ...ev, type: 'Nope' })).toThrow(/unknown event type "Nope"/);
    expect(() => validateEvent({ ...ev, extra: 1 })).toThrow(ValidationError);
    expect(() => validateEvent({ ...ev, run: 'bad run!' })).toThrow(/\/run/);
  });
});
