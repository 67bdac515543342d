/**
 * DESIGN §2: dependencies flow one way, cli -> actors, gpu-bridge, store, tasks -> events. Every relative
 * import of those folders must stay inside the folder or go to events/; events/ imports nothing of ours.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const LAYERS = ['actors', 'gpu-bridge', 'store', 'tasks', 'events'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (f === 'python' || f === 'node_modules') return [];
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('dependency direction', () => {
  for (const layer of LAYERS) {
    it(`${layer}/ imports only itself${layer === 'events' ? '' : ' and events/'}`, () => {
      const bad: string[] = [];
      for (const f of files(join(ROOT, layer))) {
        for (const m of readFileSync(f, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
          const target = relative(ROOT, resolve(join(f, '..'), m[1])).split('/')[0];
          if (target !== layer && !(target === 'events' && layer !== 'events')) bad.push(`${relative(ROOT, f)} -> ${m[1]}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
