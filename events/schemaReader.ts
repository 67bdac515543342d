/**
 * Compiled readers of events in canonical form (schemaWriter.ts: envelope in factory order, `data` in schema
 * order). Per event type one straight-line function checks each expected key by its bytes instead of
 * decoding and hashing it, reads the values, and builds the result with object literals of one fixed shape
 * (cheap to create, and monomorphic for every consumer). Binary fields become fresh typed arrays of their
 * dtype with exactly the stored bytes (msgpackReader.ts typedOf).
 *
 * Any difference from the expected layout (another key order, a missing field, a `bin` where the schema has
 * none) returns MISMATCH and the caller decodes the bytes generically (msgpackReader.ts), so every valid
 * encoding still decodes; only canonical ones take this path.
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import type { DType } from './bin.ts';
import { constantBytes, mapHeaderBytes } from './msgpackWriter.ts';

export const MISMATCH = Symbol('layout mismatch');

/** What a compiled reader needs from the reader (msgpackReader.ts implements it). */
export interface FieldSource {
  /** advance past `bytes` if they come next; false (position unchanged) otherwise */
  expect(bytes: Uint8Array): boolean;
  /** any value */
  value(): unknown;
  /** a `bin` of the dtype as a fresh typed array (exact bytes), or MISMATCH when the next value is not a bin of whole elements */
  typedOf(dtype: DType): unknown;
}

export type EventReader = (r: FieldSource, id: unknown) => unknown;

/**
 * Compile the reader of one event type: it starts right after the `type` key's value (the caller has read
 * the map header, `id` and the type, which selects this reader) and returns the event or MISMATCH.
 */
export function compileEventReader(type: string, envelopeOrder: readonly string[], dataSchema: TSchema): EventReader {
  if (envelopeOrder[0] !== 'id' || envelopeOrder[1] !== 'type' || envelopeOrder[envelopeOrder.length - 1] !== 'data') {
    throw new Error(`compileEventReader: envelope order must be id, type, ..., data (got ${envelopeOrder.join(', ')})`);
  }
  const props = (dataSchema as unknown as { properties: Record<string, TSchema> }).properties;
  const consts: unknown[] = [];
  const k = (v: unknown) => {
    consts.push(v);
    return `C[${consts.length - 1}]`;
  };
  const lines: string[] = [];
  const middle = envelopeOrder.slice(2, -1);
  for (const [i, name] of middle.entries()) {
    lines.push(`if (!r.expect(${k(constantBytes(name))})) return M;`, `const e${i} = r.value();`);
  }
  const dataKeys = Object.keys(props);
  const dataHeader = Uint8Array.from([...constantBytes('data'), ...mapHeaderBytes(dataKeys.length)]);
  lines.push(`if (!r.expect(${k(dataHeader)})) return M;`);
  for (const [i, name] of dataKeys.entries()) {
    lines.push(`if (!r.expect(${k(constantBytes(name))})) return M;`);
    const s = props[name] as { [Kind]?: string; dtype?: DType };
    if (s[Kind] === 'DareBin') lines.push(`const d${i} = r.typedOf(${JSON.stringify(s.dtype)}); if (d${i} === M) return M;`);
    else lines.push(`const d${i} = r.value();`);
  }
  const data = dataKeys.map((name, i) => `${JSON.stringify(name)}: d${i}`).join(', ');
  const env = middle.map((name, i) => `${JSON.stringify(name)}: e${i}`).join(', ');
  lines.push(`return { id, type: ${k(type)}, ${env}, data: { ${data} } };`);
  const body = `return function read(r, id) {\n${lines.join('\n')}\n};`;
  return new Function('C', 'M', body)(consts, MISMATCH) as EventReader;
}
