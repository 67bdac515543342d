import fc from 'fast-check';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { DTYPES } from '../../events/bin.ts';
import { EVENT_SCHEMAS, EVENT_TYPES } from '../../events/catalogue.ts';
import { BINARY_FIELDS } from '../../events/codec.ts';
import { inlineBinCheck, validateEvent, ValidationError } from '../../events/validate.ts';
import { eventArbitrary } from '../support/arbitraries.ts';

/** Replacements for a binary field: every dtype's class, a Buffer, a DataView, a plain array, null, a map. */
const SWAPS: unknown[] = [
  ...Object.values(DTYPES).map((C) => new C(4)),
  Buffer.alloc(4),
  new DataView(new ArrayBuffer(4)),
  [1, 2, 3, 4],
  null,
  { 0: 1, length: 1 },
];

describe('the validator with binary fields tested inline', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: inlined, and agrees with TypeBox's own check (valid events, and every binary field swapped)`, () => {
      const fast = inlineBinCheck(EVENT_SCHEMAS[type]);
      expect(fast).toBeDefined();
      const typebox = TypeCompiler.Compile(EVENT_SCHEMAS[type]);
      const fields = BINARY_FIELDS[type];
      fc.assert(
        fc.property(eventArbitrary(type), (ev) => {
          expect(fast!(ev)).toBe(true);
          expect(typebox.Check(ev)).toBe(true);
          for (const [field] of fields) {
            for (const swap of SWAPS) {
              const bad = { ...ev, data: { ...(ev.data as object), [field]: swap } };
              expect(fast!(bad)).toBe(typebox.Check(bad));
              if (!typebox.Check(bad)) expect(() => validateEvent(bad)).toThrow(new RegExp(`${type}.*/data/${field}`));
            }
          }
        }),
        { numRuns: 30 },
      );
    });
  }

  it('a wrong dtype is refused, naming the field', () => {
    const ev = fc.sample(eventArbitrary('RolloutCompleted'), { numRuns: 1, seed: 7 })[0];
    const bad = { ...ev, data: { ...(ev.data as object), reward: new Float64Array(4) } };
    expect(() => validateEvent(bad)).toThrow(ValidationError);
    expect(() => validateEvent(bad)).toThrow(/RolloutCompleted.*\/data\/reward/);
  });
});
