/** Who may say what (events/roles.ts, bus/permissions.ts): every event type has one author, and the NATS users' permissions say so. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authorizationBlock, rolePermissions } from '../../bus/permissions.ts';
import { natsTargetOf } from '../../cli/natsOptions.ts';
import { EVENT_TYPES } from '../../events/catalogue.ts';
import { APPEND_ROLES, mayAppend, refusalFor, ROLE_EVENT_TYPES, RUN_PROCESS_EVENT_TYPES } from '../../events/roles.ts';

describe('event types by role', () => {
  it('every event type has exactly one author: an actor, a bridge, or the run\'s own process', () => {
    const authors = [...ROLE_EVENT_TYPES.actor, ...ROLE_EVENT_TYPES.bridge, ...RUN_PROCESS_EVENT_TYPES];
    expect([...authors].sort()).toEqual([...EVENT_TYPES].sort());
    expect(new Set(authors).size).toBe(authors.length);
  });

  it('a bridge appends worker facts; an actor decisions; neither the lifecycle or control', () => {
    expect(mayAppend('bridge', 'RolloutCompleted')).toBe(true);
    expect(mayAppend('bridge', 'WorkerJoined')).toBe(true);
    expect(mayAppend('bridge', 'BatchSelected')).toBe(false);
    expect(mayAppend('bridge', 'RunFailed')).toBe(false);
    expect(mayAppend('actor', 'BatchSelected')).toBe(true);
    expect(mayAppend('actor', 'RunCompleted')).toBe(true);
    expect(mayAppend('actor', 'UpdateCompleted')).toBe(false);
    for (const role of APPEND_ROLES) {
      for (const t of RUN_PROCESS_EVENT_TYPES) expect(mayAppend(role, t), `${role} ${t}`).toBe(false);
      expect(mayAppend(role, 'NoSuchType')).toBe(false);
    }
    expect(refusalFor('bridge', 'ControlApplied')).toMatch(/^a bridge appends only worker facts \(RolloutCompleted, .*\), not ControlApplied$/);
    expect(refusalFor('actor', 'EvalCompleted')).toMatch(/^an actor appends only decisions \(.*\), not EvalCompleted$/);
    expect(refusalFor('actor', 'EvalRequested')).toBeUndefined();
  });
});

describe('NATS users', () => {
  it('a role publishes only on its own append subject; an observer on none; the run on everything', () => {
    expect(rolePermissions('run')).toBe('all');
    const pub = (r: 'actor' | 'bridge' | 'observer' | 'operator') => (rolePermissions(r) as { publish: string[] }).publish;
    expect(pub('bridge').filter((s) => s.includes('append'))).toEqual(['dare.*.append.bridge']);
    expect(pub('actor').filter((s) => s.includes('append'))).toEqual(['dare.*.append.actor']);
    expect(pub('observer').some((s) => s.includes('append') || s.includes('control'))).toBe(false);
    expect(pub('operator')).toContain('dare.*.control');
    for (const r of ['actor', 'bridge', 'observer'] as const) expect(pub(r)).not.toContain('dare.*.control');
  });

  it('the authorization block names each user with its permissions', () => {
    const block = authorizationBlock([
      { user: 'u-run', pass: 'p"1', role: 'run' },
      { user: 'u-bridge', pass: 'p2', role: 'bridge' },
    ]);
    expect(block).toContain('{ user: "u-run", password: "p\\"1" }');
    expect(block).toContain('{ user: "u-bridge", password: "p2", permissions: { publish: { allow: ["dare.*.append.bridge", "dare.*.read"] }');
    expect(block).toContain('allow_responses: { max: 1000000 }');
  });
});

describe('--nats flags', () => {
  it('reads a credentials file, and names the file when it is not one', () => {
    const d = mkdtempSync(join(tmpdir(), 'dare-creds-'));
    writeFileSync(join(d, 'ok.json'), '{"user":"dare-bridge","pass":"s3"}');
    writeFileSync(join(d, 'bad.json'), '{"user":"x"}');
    expect(natsTargetOf({ nats: 'nats://h1:4222, nats://h2:4222', natsCreds: join(d, 'ok.json') })).toEqual({
      url: 'nats://h1:4222,nats://h2:4222', token: undefined, user: 'dare-bridge', pass: 's3', ca: undefined,
    });
    expect(() => natsTargetOf({ natsCreds: join(d, 'bad.json') })).toThrow(`--nats-creds ${join(d, 'bad.json')}: expected {"user": "...", "pass": "..."}`);
    expect(() => natsTargetOf({ natsCreds: join(d, 'none.json') })).toThrow(`--nats-creds ${join(d, 'none.json')}: not found`);
  });

  it('takes a token or a user from the URL, and nothing when nothing is given', () => {
    expect(natsTargetOf({})).toBeUndefined();
    expect(natsTargetOf({ nats: 'nats://tok@h:1' })).toMatchObject({ url: 'nats://h:1', token: 'tok', user: undefined });
    expect(natsTargetOf({ nats: 'nats://u:p%40ss@h:1' })).toMatchObject({ url: 'nats://h:1', user: 'u', pass: 'p@ss' });
  });
});
