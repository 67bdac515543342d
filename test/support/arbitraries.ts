/**
 * fast-check arbitraries derived from the event schemas, so every event type is covered by the property
 * tests without a hand-written generator per type.
 */
import fc from 'fast-check';
import { Kind, type TSchema } from '@sinclair/typebox';
import { BIN_KIND, type DType } from '../../events/bin.ts';
import { EVENT_SCHEMAS, EVENT_TYPES, type DareEvent, type EventType } from '../../events/catalogue.ts';

const typed: Record<DType, fc.Arbitrary<ArrayBufferView>> = {
  u1: fc.uint8Array({ maxLength: 40 }),
  u2: fc.uint16Array({ maxLength: 40 }),
  u4: fc.uint32Array({ maxLength: 40 }),
  i4: fc.int32Array({ maxLength: 40 }),
  f4: fc.float32Array({ maxLength: 40 }),
  f8: fc.float64Array({ maxLength: 40 }),
};

export function arbitraryFor(s: TSchema): fc.Arbitrary<unknown> {
  const kind = (s as { [Kind]: string })[Kind];
  switch (kind) {
    case BIN_KIND:
      return typed[(s as unknown as { dtype: DType }).dtype];
    case 'Literal':
      return fc.constant((s as unknown as { const: unknown }).const);
    case 'Null':
      return fc.constant(null);
    case 'Boolean':
      return fc.boolean();
    case 'Integer': {
      const min = (s as { minimum?: number }).minimum ?? -(2 ** 31);
      return fc.integer({ min, max: 2 ** 31 - 1 });
    }
    case 'Number': {
      const min = (s as { minimum?: number }).minimum;
      const max = (s as { maximum?: number }).maximum;
      if (min !== undefined && max !== undefined) return fc.double({ min, max, noNaN: true });
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    }
    case 'String': {
      const pattern = (s as { pattern?: string }).pattern;
      if (pattern) return fc.stringMatching(new RegExp(pattern));
      const minLength = (s as { minLength?: number }).minLength ?? 0;
      const maxLength = Math.min((s as { maxLength?: number }).maxLength ?? 40, 40);
      return fc.string({ minLength, maxLength, unit: 'grapheme' });
    }
    case 'Union':
      return fc.oneof(...(s as unknown as { anyOf: TSchema[] }).anyOf.map(arbitraryFor));
    case 'Array':
      return fc.array(arbitraryFor((s as unknown as { items: TSchema }).items), { maxLength: 5 });
    case 'Record': {
      const valueSchema = Object.values((s as unknown as { patternProperties: Record<string, TSchema> }).patternProperties)[0];
      return fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__'), arbitraryFor(valueSchema), {
        maxKeys: 4,
      });
    }
    case 'Unknown':
      return fc.jsonValue({ maxDepth: 2 }).filter((v) => !containsProto(v));
    case 'Object': {
      const props = (s as unknown as { properties: Record<string, TSchema> }).properties;
      const rec: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) rec[k] = arbitraryFor(v);
      return fc.record(rec);
    }
    default:
      throw new Error(`no arbitrary for schema kind ${kind}`);
  }
}

function containsProto(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  return Object.keys(v).some((k) => k === '__proto__' || containsProto((v as Record<string, unknown>)[k]));
}

export function eventArbitrary<T extends EventType>(type: T): fc.Arbitrary<DareEvent> {
  return arbitraryFor(EVENT_SCHEMAS[type]) as fc.Arbitrary<DareEvent>;
}

export const anyEvent: fc.Arbitrary<DareEvent> = fc.oneof(...EVENT_TYPES.map((t) => eventArbitrary(t)));

/** Deep equality that compares typed arrays by their bytes (NaN payloads included). */
export function sameEvent(a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return false;
    if (a.constructor !== b.constructor) return false;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameEvent((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Any JSON-like value with bin (Uint8Array): what an event holds once its typed arrays are byte views.
 * `__proto__` keys are left out (msgpackr renames them; our reader keeps them — tested on its own).
 */
export const msgpackValue = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.string({ minLength: 20, maxLength: 70000 }),
    fc.integer(),
    fc.integer({ min: -40000, max: 70000 }),
    fc.double(),
    fc.maxSafeInteger(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('v'), { maxLength: 20 }),
    fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('v'), { maxKeys: 20 }),
  ),
})).v;
