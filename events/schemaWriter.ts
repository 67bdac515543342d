/**
 * Compiled MessagePack writers: a TypeBox object schema becomes one straight-line function that stores the
 * map's constant parts (header, keys, literal values) byte by byte as immediates into a reserved run of the
 * output (no copy loop over a constant array: that was a fifth of an event's encoding) and each field with the writer
 * method its schema names, reading fields by constant property names. That is several times faster than
 * walking the object generically (key enumeration, keyed loads, a key cache look-up per key).
 *
 * The output is canonical: the fields in schema order and a record's keys sorted, whatever order the object
 * was built in (a value typed Unknown, the run's config, keeps its own order). A value whose
 * runtime type does not match its schema (the writer is also used for events nobody has validated yet) is
 * written generically, so the receiver's validator sees what the object really held; a missing field is
 * written as nil and fails validation there. Only the schema's fields are written: extra keys in an
 * unvalidated object are dropped (the store validates what it decodes, so it never sees them).
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import { DTYPES, type DType } from './bin.ts';
import { constantBytes, mapHeaderBytes, type MsgpackWriter } from './msgpackWriter.ts';

export type SchemaWriter<T = unknown> = (w: MsgpackWriter, value: T) => void;

interface Compiler {
  /** constants referenced by the generated code as C[i] */
  consts: unknown[];
  /** pending constant bytes, flushed as one run of stores before the next non-constant value */
  pending: number[];
  lines: string[];
  vars: number;
}

function constant(c: Compiler, v: unknown): string {
  c.consts.push(v);
  return `C[${c.consts.length - 1}]`;
}

function emitConstant(c: Compiler, bytes: Uint8Array): void {
  for (const b of bytes) c.pending.push(b);
}

function flush(c: Compiler): void {
  if (c.pending.length === 0) return;
  c.lines.push(storeBytes(c.pending));
  c.pending = [];
}

/** Code storing constant bytes as immediates: one reservation, then a store per byte (no loop, no constant array). */
function storeBytes(bytes: ArrayLike<number>): string {
  const stores: string[] = [];
  for (let i = 0; i < bytes.length; i++) stores.push(`b[p + ${i}] = ${bytes[i]};`);
  return `{ const p = w.reserve(${bytes.length}); const b = w.out(); ${stores.join(' ')} }`;
}

/** The writer method per dtype (one monomorphic loop each). */
const TYPED_WRITERS: Record<DType, keyof MsgpackWriter> = { u1: 'typedU1', u2: 'typedU2', u4: 'typedU4', i4: 'typedI4', f4: 'typedF4', f8: 'typedF8' };

function kindOf(s: TSchema): string {
  return (s as { [Kind]?: string })[Kind] ?? '';
}

/** A literal's value when the schema is one (its bytes can then be a constant). */
function literalOf(s: TSchema): { value: unknown } | undefined {
  return kindOf(s) === 'Literal' ? { value: (s as unknown as { const: unknown }).const } : undefined;
}

/**
 * Emit `if (test) write else w.value(x);`: a value whose runtime type is not its schema's is written
 * generically. `write` is one statement, or a function that emits the statements of a block.
 */
function guard(c: Compiler, x: string, test: string, write: string | (() => void)): void {
  flush(c);
  if (typeof write === 'string') {
    c.lines.push(`if (${test}) { ${write}; } else w.value(${x});`);
    return;
  }
  c.lines.push(`if (${test}) {`);
  write();
  flush(c);
  c.lines.push(`} else w.value(${x});`);
}

/** The test that `x` is a plain map (an object, not null, an array or binary). */
function isMapTest(x: string): string {
  return `typeof ${x} === 'object' && ${x} !== null && !Array.isArray(${x}) && !ArrayBuffer.isView(${x})`;
}

/** Emit code writing expression `x` (a local) by schema `s`. */
function emitValue(c: Compiler, s: TSchema, x: string): void {
  const lit = literalOf(s);
  // a literal still goes through a check: an unvalidated object may hold something else
  if (lit) return guard(c, x, `${x} === ${constant(c, lit.value)}`, `${storeBytes(constantBytes(lit.value))}`);
  switch (kindOf(s)) {
    case 'Integer':
    case 'Number':
      return guard(c, x, `typeof ${x} === 'number'`, `w.num(${x})`);
    case 'String':
      return guard(c, x, `typeof ${x} === 'string'`, `w.str(${x})`);
    case 'Boolean':
      return guard(c, x, `typeof ${x} === 'boolean'`, `w.bool(${x})`);
    case 'Null':
      return guard(c, x, `${x} === null`, 'w.nil()');
    case 'DareBin': {
      const dtype = (s as unknown as { dtype: DType }).dtype;
      return guard(c, x, `${x} instanceof ${constant(c, DTYPES[dtype])}`, `w.${TYPED_WRITERS[dtype]}(${x})`);
    }
    case 'Union': {
      const alts = (s as unknown as { anyOf: TSchema[] }).anyOf;
      // string-literal unions (tiers, purposes) and `X | null` cover every union in the catalogue
      if (alts.every((a) => typeof literalOf(a)?.value === 'string')) return emitValue(c, { [Kind]: 'String' } as never, x);
      const rest = alts.filter((a) => kindOf(a) !== 'Null');
      if (rest.length === 1 && alts.length === 2) {
        flush(c);
        c.lines.push(`if (${x} === null) w.nil(); else {`);
        emitValue(c, rest[0], x);
        flush(c);
        c.lines.push('}');
        return;
      }
      break;
    }
    case 'Array': {
      const items = (s as unknown as { items: TSchema }).items;
      const i = `i${c.vars++}`;
      const e = `e${c.vars++}`;
      return guard(c, x, `Array.isArray(${x})`, () => {
        c.lines.push(`w.arrayHeader(${x}.length); for (let ${i} = 0; ${i} < ${x}.length; ${i}++) { const ${e} = ${x}[${i}];`);
        emitValue(c, items, e);
        flush(c);
        c.lines.push('}');
      });
    }
    case 'Object': {
      const o = `o${c.vars++}`;
      return guard(c, x, isMapTest(x), () => {
        c.lines.push(`const ${o} = ${x};`);
        emitObject(c, s, o);
      });
    }
    case 'Record': {
      // a record's keys are data, not schema: sorted, so that its bytes do not depend on insertion order
      const valueSchema = Object.values((s as unknown as { patternProperties: Record<string, TSchema> }).patternProperties)[0];
      const ks = `k${c.vars++}`;
      const key = `q${c.vars++}`;
      const e = `e${c.vars++}`;
      return guard(c, x, isMapTest(x), () => {
        c.lines.push(
          `const ${ks} = Object.keys(${x}).filter((k) => ${x}[k] !== undefined).sort(); w.mapHeader(${ks}.length);`,
          `for (const ${key} of ${ks}) { w.str(${key}); const ${e} = ${x}[${key}];`,
        );
        emitValue(c, valueSchema, e);
        flush(c);
        c.lines.push('}');
      });
    }
  }
  // unknown values (the run's config) and anything else: the generic writer, in the value's own key order
  flush(c);
  c.lines.push(`w.value(${x});`);
}

/**
 * Emit code writing object `o` as a map of its schema's properties, in `order` (default: schema order).
 * Required properties are always written (a missing one as nil, which the receiver's validator names);
 * an optional property is left out while it is undefined, so an event type can gain an optional field
 * and the events written before it keep their bytes. Without optional properties the entry count is a
 * constant (one constant write with the first key).
 */
function emitObject(c: Compiler, s: TSchema, o: string, order?: readonly string[]): void {
  const props = (s as unknown as { properties: Record<string, TSchema> }).properties;
  const keys = order ?? Object.keys(props);
  const required = new Set((s as { required?: string[] }).required ?? []);
  const optional = keys.filter((k) => !required.has(k));
  const vars = new Map(keys.map((k) => [k, `v${c.vars++}`]));
  // reading a field writes nothing: the map header and the first key stay one constant write
  for (const k of keys) c.lines.push(`const ${vars.get(k)} = ${o}[${JSON.stringify(k)}];`);
  if (optional.length === 0) emitConstant(c, mapHeaderBytes(keys.length));
  else {
    flush(c);
    const n = `n${c.vars++}`;
    c.lines.push(`let ${n} = ${keys.length - optional.length};`);
    for (const k of optional) c.lines.push(`if (${vars.get(k)} !== undefined) ${n}++;`);
    c.lines.push(`w.mapHeader(${n});`);
  }
  for (const k of keys) {
    const v = vars.get(k)!;
    const opt = !required.has(k);
    if (opt) {
      flush(c);
      c.lines.push(`if (${v} !== undefined) {`);
    }
    emitConstant(c, constantBytes(k));
    flush(c);
    if (opt) emitValue(c, (props[k] as TSchema), v);
    else {
      c.lines.push(`if (${v} === undefined) w.nil(); else {`);
      emitValue(c, props[k], v);
      flush(c);
      c.lines.push('}');
    }
    if (opt) {
      flush(c);
      c.lines.push('}');
    }
  }
}

/**
 * Compile a writer for objects of schema `s` (a TypeBox Object), writing its properties in `order` when
 * given (every name in it must be a property; the event codec passes the factory's envelope order).
 */
export function compileWriter<T = unknown>(s: TSchema, order?: readonly string[]): SchemaWriter<T> {
  if (kindOf(s) !== 'Object') throw new Error(`compileWriter: an Object schema is needed, got ${kindOf(s) || 'unknown'}`);
  const props = (s as unknown as { properties: Record<string, TSchema> }).properties;
  if (order) {
    const names = Object.keys(props);
    if (order.length !== names.length || order.some((k) => !(k in props))) {
      throw new Error(`compileWriter: order [${order.join(', ')}] does not list the schema's properties [${names.join(', ')}]`);
    }
  }
  const c: Compiler = { consts: [], pending: [], lines: [], vars: 0 };
  emitObject(c, s, 'o', order);
  flush(c);
  const body = `return function write(w, o) {\n${c.lines.join('\n')}\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own schemas only
  return new Function('C', body)(c.consts) as SchemaWriter<T>;
}
