/**
 * DESIGN §2: dependencies flow one way,
 *   cli -> bench -> views -> run -> actors, gpu-bridge, tasks -> store, bus -> events
 * (cli above bench: `dare bench` runs the benchmarks; bench never imports cli).
 * Every relative import of every source folder — static `from '…'`, `import '…'`, dynamic `import('…')` and
 * `require('…')` — stays inside its folder or goes to a folder on a lower level; folders on one level never
 * import each other, and events/ imports nothing of ours. No file imports itself back through a loop.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');
/** Lower levels first; a folder may import its own level's folder only if it is that folder. */
const LEVELS: string[][] = [
  ['events'],
  ['store', 'bus'],
  ['actors', 'gpu-bridge', 'tasks'],
  ['run'],
  ['views'],
  ['bench'],
  ['cli'],
  ['scripts'],
];
const LEVEL = new Map(LEVELS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
/** what a top-level folder may import besides the source folders below it */
const EXTRA: Record<string, string[]> = { scripts: ['test'] };

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (f === 'python' || f === 'node_modules') return [];
    return statSync(p).isDirectory() ? files(p) : /\.(ts|js|mjs)$/.test(f) ? [p] : [];
  });
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;

/** Every relative module a file names, resolved to a path under ROOT. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => relative(ROOT, resolve(join(file, '..'), m[2])));
}

describe('dependency direction', () => {
  it('the import pattern sees static, side-effect, dynamic and require imports', () => {
    const src = `import { a } from './a.ts';\nimport './b.ts';\nconst c = await import('../c.ts');\nconst d = require("./d.js");\nexport { e } from './e.ts';`;
    expect([...src.matchAll(IMPORT)].map((m) => m[2])).toEqual(['./a.ts', './b.ts', '../c.ts', './d.js', './e.ts']);
  });

  for (const [folder, level] of LEVEL) {
    it(`${folder}/ imports only itself and the levels below it`, () => {
      const bad: string[] = [];
      for (const f of files(join(ROOT, folder))) {
        for (const target of importsOf(f)) {
          const top = target.split('/')[0];
          const ok = top === folder || (LEVEL.has(top) && LEVEL.get(top)! < level) || (EXTRA[folder] ?? []).includes(top);
          if (!ok) bad.push(`${relative(ROOT, f)} -> ${target}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it('every source folder of the repository has a level', () => {
    const skip = new Set(['node_modules', 'test', 'docs', 'scenarios', 'runs', 'scratch', 'models', 'shared']);
    const folders = readdirSync(ROOT).filter((f) => !f.startsWith('.') && !skip.has(f) && statSync(join(ROOT, f)).isDirectory());
    const withCode = folders.filter((f) => files(join(ROOT, f)).length > 0);
    expect(withCode.filter((f) => !LEVEL.has(f))).toEqual([]);
  });

  it('no import loop between files', () => {
    const graph = new Map<string, string[]>();
    for (const folder of LEVEL.keys()) {
      for (const f of files(join(ROOT, folder))) graph.set(relative(ROOT, f), importsOf(f));
    }
    const state = new Map<string, 'open' | 'done'>();
    const loops: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        loops.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) if (graph.has(t)) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(loops).toEqual([]);
  });
});
