/**
 * NATS users for a run across hosts (docs/deploy.md "Who may say what"): one user per role, each allowed
 * only the subjects its processes use, so that a bridge's credentials cannot propose a decision or a control
 * command and an observer's cannot append at all. The store adds its own check on top (events/roles.ts):
 * what arrives on a role's subject must be of a type that role emits.
 *
 *   run       `dare run` / `dare resume`: the store, the actors it hosts, the primary bridge, control. Everything.
 *   actor     `dare actor NAME DIR`: appends on dare.*.append.actor, reads, publishes inspection events.
 *   bridge    `dare bridge DIR`: appends on dare.*.append.bridge, reads, serves the shared-job queue group.
 *   observer  `dare serve`, `dare inspect`, dashboards: reads and follows the log; publishes nothing else.
 *   operator  `dare control DIR pause|resume|stop`: the control subject, and reads.
 */
import { randomBytes } from 'node:crypto';

export const NATS_ROLES = ['run', 'actor', 'bridge', 'observer', 'operator'] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

export interface NatsUser {
  user: string;
  pass: string;
  role: NatsRole;
}

export interface SubjectPermissions {
  publish: string[];
  subscribe: string[];
  /** may answer requests sent to it (the reply subject only), at most this many messages per request */
  responses?: number;
}

/** Replies a bridge sends per shared job: `working` heartbeats (gpu-bridge/sharedJobs.ts) and the result. */
const JOB_REPLIES = 1_000_000;

/** The subjects each role may publish to and subscribe to (every run's: `dare.*`). */
export function rolePermissions(role: NatsRole): SubjectPermissions | 'all' {
  switch (role) {
    case 'run':
      return 'all';
    case 'actor':
      return { publish: ['dare.*.append.actor', 'dare.*.read', 'dare.*.inspect'], subscribe: ['dare.*.log', '_INBOX.>'] };
    case 'bridge':
      return { publish: ['dare.*.append.bridge', 'dare.*.read'], subscribe: ['dare.*.log', 'dare.*.gpu', '_INBOX.>'], responses: JOB_REPLIES };
    case 'observer':
      return { publish: ['dare.*.read'], subscribe: ['dare.*.log', 'dare.*.inspect', '_INBOX.>'] };
    case 'operator':
      return { publish: ['dare.*.control', 'dare.*.read'], subscribe: ['dare.*.log', '_INBOX.>'] };
  }
}

/** One user per role with a fresh random password (`prefix`: the user names' prefix). */
export function newUsers(prefix = 'dare-'): NatsUser[] {
  return NATS_ROLES.map((role) => ({ role, user: `${prefix}${role}`, pass: randomBytes(18).toString('base64url') }));
}

const q = (s: string) => JSON.stringify(s);

/** The `authorization { users: [...] }` block of a nats-server configuration for these users. */
export function authorizationBlock(users: readonly NatsUser[]): string {
  const entries = users.map((u) => {
    const p = rolePermissions(u.role);
    const perms =
      p === 'all'
        ? ''
        : `, permissions: { publish: { allow: [${p.publish.map(q).join(', ')}] }, subscribe: { allow: [${p.subscribe.map(q).join(', ')}] }` +
          (p.responses ? `, allow_responses: { max: ${p.responses} }` : '') +
          ' }';
    return `    { user: ${q(u.user)}, password: ${q(u.pass)}${perms} }`;
  });
  return `authorization {\n  users: [\n${entries.join('\n')}\n  ]\n}`;
}
