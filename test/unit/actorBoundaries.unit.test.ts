/**
 * DESIGN §2 and §4 inside actors/: one folder (or file) per actor, and actors never import each other — they
 * only exchange events. actors/shared/ holds what two actors or more use (directly, or through another
 * shared helper); a helper that one actor alone uses lives in that actor's folder. The actors' common
 * machinery (actor.ts, host.ts, machine.ts, cadence.ts) and shared/ import no actor; index.ts, the registry
 * of every actor, is the one file that imports them all.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const ACTORS_DIR = join(ROOT, 'actors');
/** each actor: its folder or its file under actors/ */
const UNITS = ['buffer', 'estimator', 'learner', 'sampler', 'session.ts', 'prompts.ts'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.ts$/.test(f) ? [p] : [];
  });
}

/** path relative to actors/ -> the actors/ files it imports (relative to actors/) */
const graph = new Map<string, string[]>(
  files(ACTORS_DIR).map((f) => [
    relative(ACTORS_DIR, f),
    [...readFileSync(f, 'utf8').matchAll(IMPORT)].map((m) => relative(ACTORS_DIR, resolve(join(f, '..'), m[2]))).filter((p) => !p.startsWith('..')),
  ]),
);

/** the actor a file belongs to, or null (common machinery, shared/, index.ts) */
function unitOf(path: string): string | null {
  const top = path.split('/')[0];
  return UNITS.includes(top) ? top : null;
}

describe('actor boundaries', () => {
  it('sees every actor', () => {
    for (const u of UNITS) expect([...graph.keys()].some((p) => unitOf(p) === u), u).toBe(true);
  });

  it('an actor imports no other actor', () => {
    const bad: string[] = [];
    for (const [f, imports] of graph) {
      const u = unitOf(f);
      if (!u) continue;
      for (const t of imports) if (unitOf(t) && unitOf(t) !== u) bad.push(`${f} -> ${t}`);
    }
    expect(bad).toEqual([]);
  });

  it('shared/ and the common machinery import no actor (only index.ts does)', () => {
    const bad: string[] = [];
    for (const [f, imports] of graph) {
      if (unitOf(f) || f === 'index.ts') continue;
      for (const t of imports) if (unitOf(t)) bad.push(`${f} -> ${t}`);
    }
    expect(bad).toEqual([]);
  });

  it('every helper in shared/ is used by two actors or more (directly or through shared/)', () => {
    const users = new Map<string, Set<string>>();
    const reach = (f: string, unit: string, seen: Set<string>) => {
      for (const t of graph.get(f) ?? []) {
        if (!t.startsWith('shared/') || seen.has(t)) continue;
        seen.add(t);
        if (!users.has(t)) users.set(t, new Set());
        users.get(t)!.add(unit);
        reach(t, unit, seen);
      }
    };
    for (const f of graph.keys()) {
      const u = unitOf(f);
      if (u) reach(f, u, new Set());
    }
    const lonely = [...graph.keys()].filter((f) => f.startsWith('shared/')).map((f) => `${f}: ${[...(users.get(f) ?? [])].join(', ') || 'no actor'}`).filter((l) => !l.includes(', '));
    expect(lonely).toEqual([]);
  });
});
