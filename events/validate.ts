/**
 * Runtime validation of events on receipt (TypeBox compiled checkers). Anything that is not a valid event
 * of a known type yields a ValidationError naming the type, path and problem; nothing else is ever thrown.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { EVENT_SCHEMAS, EVENT_TYPES, type DareEvent, type EventType } from './catalogue.ts';

export class ValidationError extends Error {
  override name = 'ValidationError';
}

const CHECKS = new Map<string, TypeCheck<(typeof EVENT_SCHEMAS)[EventType]>>(
  EVENT_TYPES.map((t) => [t, TypeCompiler.Compile(EVENT_SCHEMAS[t])]),
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
    const check = CHECKS.get(type);
    if (!check) throw new ValidationError(`${where}: unknown event type ${JSON.stringify(type.slice(0, 64))}`);
    if (check.Check(x)) return x as DareEvent;
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
