/**
 * `dare nats-config OUT`: the nats-server configuration of a run across hosts (docs/deploy.md): one user per
 * role with the subject permissions of bus/permissions.ts, TLS for clients unless the server listens on
 * loopback only, an optional cluster block, and a credentials file per role for `--nats-creds`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_PAYLOAD } from '../bus/natsServer.ts';
import { authorizationBlock, newUsers } from '../bus/permissions.ts';
import { UserError } from '../events/errors.ts';

export interface NatsConfigOptions {
  listen: string;
  cluster?: string;
  clusterListen: string;
  routes?: string;
  tlsCert?: string;
  tlsKey?: string;
  force?: boolean;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/;

function hostOf(hostPort: string, flag: string): string {
  const m = /^(.*):(\d{1,5})$/.exec(hostPort);
  if (!m || !m[1] || Number(m[2]) > 65535) throw new UserError(`${flag} ${hostPort}: expected HOST:PORT`);
  return m[1];
}

export function natsConfigCommand(out: string, o: NatsConfigOptions): void {
  const host = hostOf(o.listen, '--listen');
  if (o.cluster) hostOf(o.clusterListen, '--cluster-listen');
  if (!!o.tlsCert !== !!o.tlsKey) throw new UserError('--tls-cert and --tls-key go together');
  // passwords cross the network in the clear without TLS: only a loopback server may go without
  if (!o.tlsCert && !LOOPBACK.test(host)) {
    throw new UserError(`--listen ${o.listen} is not loopback: give the server a certificate (--tls-cert FILE --tls-key FILE), or the passwords cross the network in the clear`);
  }
  for (const f of [o.tlsCert, o.tlsKey]) if (f && !existsSync(f)) throw new UserError(`${f}: not found`);
  const dir = resolve(out);
  const conf = join(dir, 'nats.conf');
  if (existsSync(conf) && !o.force) throw new UserError(`${conf} exists (--force overwrites it, and makes new passwords for every role)`);
  mkdirSync(dir, { recursive: true });
  const users = newUsers();
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    '# written by `dare nats-config`: one user per role (bus/permissions.ts); start with `nats-server -c nats.conf`',
    `listen: ${q(o.listen)}`,
    authorizationBlock(users),
    `max_payload: ${MAX_PAYLOAD}`,
    `max_pending: ${4 * MAX_PAYLOAD}`,
  ];
  if (o.tlsCert) lines.push(`tls { cert_file: ${q(resolve(o.tlsCert))}, key_file: ${q(resolve(o.tlsKey!))} }`);
  if (o.cluster) {
    const routes = (o.routes ?? '').split(',').map((r) => r.trim()).filter(Boolean);
    lines.push(`cluster { name: ${q(o.cluster)}, listen: ${q(o.clusterListen)}, routes: [${routes.map(q).join(', ')}] }`);
  }
  writeFileSync(conf, lines.join('\n') + '\n', { mode: 0o600 });
  for (const u of users) writeFileSync(join(dir, `${u.role}.creds.json`), JSON.stringify({ user: u.user, pass: u.pass }) + '\n', { mode: 0o600 });
  process.stdout.write(
    `${conf}: ${users.length} users (${users.map((u) => u.role).join(', ')})${o.tlsCert ? ', TLS' : ''}${o.cluster ? `, cluster ${o.cluster}` : ''}\n` +
      `credentials: ${users.map((u) => join(dir, `${u.role}.creds.json`)).join(' ')}\n` +
      `every server of the cluster takes the same users: copy nats.conf to each, changing listen and routes\n`,
  );
}
