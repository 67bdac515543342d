/**
 * Runtime validation of events on receipt (TypeBox compiled checkers). Anything that is not a valid event
 * of a known type yields a ValidationError naming the type, path and problem; nothing else is ever thrown.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { BIN_KIND, DTYPES, isBinSchema } from './bin.ts';
import { EVENT_SCHEMAS, EVENT_TYPES, type DareEvent, type EventType } from './catalogue.ts';

export class ValidationError extends Error {
  override name = 'ValidationError';
}

const CHECKS = new Map<string, TypeCheck<(typeof EVENT_SCHEMAS)[EventType]>>(
  EVENT_TYPES.map((t) => [t, TypeCompiler.Compile(EVENT_SCHEMAS[t])]),
);

/** A binary payload field in TypeBox's generated code: `kind('DareBin', <instance>, value['data']['<field>'])`. */
const KIND_CALL = new RegExp(`kind\\('${BIN_KIND}', \\d+, value\\['data'\\]\\['([A-Za-z0-9_]+)'\\]\\)`, 'g');

/**
 * TypeBox's compiled check with its binary fields tested inline. TypeBox checks a custom kind through a
 * registry function (two Map look-ups, a registry call and an `instanceof` against a dtype looked up by
 * name: half of validating a RolloutCompleted); here each becomes `x instanceof <its dtype's class>`, the
 * very test bin.ts registers. Returns undefined (the caller keeps TypeBox's check) when the code has any
 * other registry, format or hash call, or a binary field anywhere but at the top level of `data`.
 */
export function inlineBinCheck(schema: TSchema): ((x: unknown) => boolean) | undefined {
  const dataProps = (schema as { properties?: { data?: { properties?: Record<string, TSchema> } } }).properties?.data?.properties;
  const classes: unknown[] = [];
  let bad = false;
  const code = TypeCompiler.Code(schema).replace(KIND_CALL, (_, field: string) => {
    const s = dataProps?.[field];
    if (!s || !isBinSchema(s)) bad = true;
    else classes.push(DTYPES[s.dtype]);
    return `(value['data']['${field}'] instanceof K[${classes.length - 1}])`;
  });
  if (bad || /\b(kind|format|hash)\(/.test(code)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- TypeBox's code for our own schemas
  return new Function('K', code)(classes) as (x: unknown) => boolean;
}

/** Per event type, the boolean check of the hot path (inlineBinCheck, else TypeBox's); CHECKS names the first error. */
const FAST = new Map<string, (x: unknown) => boolean>(
  EVENT_TYPES.map((t) => {
    const check = CHECKS.get(t)!;
    return [t, inlineBinCheck(EVENT_SCHEMAS[t]) ?? ((x: unknown) => check.Check(x))];
  }),
);

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (x instanceof Uint8Array) return 'binary';
  return typeof x;
}

/** Validate an unknown value as an event; returns it typed, or throws ValidationError. */
export function validateEvent(x: unknown, where = 'event'): DareEvent {
  let type: unknown;
  try {
    if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) {
      throw new ValidationError(`${where}: expected a map, got ${describe(x)}`);
    }
    type = (x as { type?: unknown }).type;
    if (typeof type !== 'string') throw new ValidationError(`${where}: missing string field "type"`);
    const fast = FAST.get(type);
    if (!fast) throw new ValidationError(`${where}: unknown event type ${JSON.stringify(type.slice(0, 64))}`);
    if (fast(x)) return x as DareEvent;
    const check = CHECKS.get(type)!;
    const first = check.Errors(x).First();
    const path = first?.path || '/';
    throw new ValidationError(`${where} (${type}): ${path}: ${first?.message ?? 'invalid'}`);
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    // A hostile value (getter that throws, cyclic structure, ...) is still just an invalid event.
    throw new ValidationError(`${where}: invalid (${(e as Error)?.message ?? String(e)})`);
  }
}

export function isEventType(t: string): t is EventType {
  return CHECKS.has(t);
}
