/** docs/config.md must name every configuration key with its default and alias, and every preset with what it sets. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALIASES, PRESETS, describeKeys } from '../../events/config.ts';

const doc = readFileSync('docs/config.md', 'utf8');
const lines = doc.split('\n');

/** The table row that starts with the given first cell (backquoted). */
function row(first: string): string | undefined {
  return lines.find((l) => l.startsWith(`| \`${first}\` |`));
}

function leaves(o: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [[prefix, o]];
  return Object.entries(o).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

describe('docs/config.md', () => {
  it('has a row for every key with its default (as JSON) and its README alias', () => {
    const keys = describeKeys();
    expect(keys.length).toBeGreaterThan(50);
    for (const { key, default: def, alias } of keys) {
      const r = row(key);
      expect(r, key).toBeDefined();
      const cells = r!.split(' | ');
      expect(cells[1], `${key} default`).toBe(`\`${JSON.stringify(def)}\``);
      if (alias) expect(cells[4], `${key} alias`).toContain(`\`${alias}\``);
    }
  });

  it('names every README alias beside its key', () => {
    for (const [alias, { key }] of Object.entries(ALIASES)) {
      expect(row(key), `${alias} → ${key}`).toContain(`\`${alias}\``);
      expect(row(alias), `README knobs table: ${alias}`).toContain(`\`${key}\``);
    }
  });

  it('has a row for every preset listing each key=value it sets', () => {
    for (const [name, preset] of Object.entries(PRESETS)) {
      const r = row(name);
      expect(r, name).toBeDefined();
      const set = leaves(preset).filter(([k]) => k !== '');
      for (const [k, v] of set) expect(r, `${name}: ${k}`).toContain(`\`${k}=${Array.isArray(v) ? JSON.stringify(v) : String(v)}\``);
      // and nothing it does not set
      const listed = r!.match(/`[a-z]+\.[A-Za-z]+=[^`]*`/g) ?? [];
      expect(listed.length, name).toBe(set.length);
    }
  });
});
