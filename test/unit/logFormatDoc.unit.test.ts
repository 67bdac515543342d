/** docs/log-format.md must describe every event type and binary field the code writes. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../events/catalogue.ts';
import { BINARY_FIELDS } from '../../events/codec.ts';

const doc = readFileSync('docs/log-format.md', 'utf8');

describe('docs/log-format.md', () => {
  it('names every event type with every binary field and its dtype', () => {
    for (const t of EVENT_TYPES) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${t}\` |`));
      expect(row, t).toBeDefined();
      for (const [field, dtype] of BINARY_FIELDS[t]) expect(row, `${t}.${field}`).toContain(`\`${field}\`: bin ${dtype}`);
    }
  });
});
