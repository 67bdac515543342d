/**
 * The NATS flags of the commands that talk to a run's servers (run, resume, bridge, actor, control): the
 * servers, and who this process is on them — a token, or a role's credentials file written by
 * `dare nats-config` — and the CA that signed the servers' TLS certificates.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../events/errors.ts';
import type { NatsTarget } from '../bus/connect.ts';

export interface NatsFlags {
  nats?: string;
  natsToken?: string;
  natsCreds?: string;
  natsCa?: string;
}

/** Add the flags to a command (`what`: what --nats does for it). */
export function withNatsFlags(cmd: Command, what: string): Command {
  return cmd
    .option('--nats <urls>', what)
    .option('--nats-token <token>', 'auth token for the NATS servers (or DARE_NATS_TOKEN)')
    .option('--nats-creds <file>', 'a role\'s credentials file from `dare nats-config` (or DARE_NATS_CREDS)')
    .option('--nats-ca <file>', 'CA certificate (PEM) of the servers\' TLS certificates (or DARE_NATS_CA)');
}

/** A credentials file of `dare nats-config`: {"user": "...", "pass": "..."} (the role is the user's). */
export function readCreds(file: string): { user: string; pass: string } {
  let c: unknown;
  try {
    c = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`--nats-creds ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `not valid JSON (${(e as Error).message})`}`);
  }
  const o = c as { user?: unknown; pass?: unknown };
  if (typeof o?.user !== 'string' || typeof o?.pass !== 'string' || !o.user || !o.pass) {
    throw new UserError(`--nats-creds ${file}: expected {"user": "...", "pass": "..."} as \`dare nats-config\` writes it`);
  }
  return { user: o.user, pass: o.pass };
}

/**
 * Who to be on which servers. URL user info (nats://user:pass@host, nats://token@host) is honoured; a
 * credentials file wins over it. Undefined when nothing was given (the run's own private server).
 */
export function natsTargetOf(o: NatsFlags): NatsTarget | undefined {
  const env = (k: string) => process.env[k] || undefined; // an empty variable is an unset one
  const credsFile = o.natsCreds ?? env('DARE_NATS_CREDS');
  const ca = o.natsCa ?? env('DARE_NATS_CA');
  const creds = credsFile ? readCreds(credsFile) : undefined;
  let url: string | undefined;
  let fromUrl: { token?: string; user?: string; pass?: string } = {};
  if (o.nats) {
    const first = new URL(o.nats.split(',')[0].trim());
    url = o.nats
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const u = new URL(s);
        return `${u.protocol}//${u.host}`;
      })
      .join(',');
    fromUrl = first.username && first.password
      ? { user: decodeURIComponent(first.username), pass: decodeURIComponent(first.password) }
      : first.username ? { token: decodeURIComponent(first.username) } : {};
  }
  const token = o.natsToken ?? env('DARE_NATS_TOKEN') ?? fromUrl.token;
  if (!url && !creds && !ca && !o.natsToken) return undefined;
  return { url, token: creds ? undefined : token, user: creds?.user ?? fromUrl.user, pass: creds?.pass ?? fromUrl.pass, ca };
}
