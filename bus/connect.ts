/** Connecting to NATS: one place sets the reconnect and tracing options every dare process uses. */
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsOptions {
  /** one server, or several separated by commas (servers of one cluster: the client fails over among them) */
  url: string;
  token?: string;
  user?: string;
  pass?: string;
  /** a CA certificate file (PEM) that signed the servers' TLS certificates: the connection is then TLS */
  ca?: string;
  name?: string;
}

/** Which servers, and who to be on them, as a command was told (undefined url: the run's own servers). */
export interface NatsTarget {
  /** one server, or several of one cluster, comma-separated */
  url?: string;
  token?: string;
  user?: string;
  pass?: string;
  /** CA certificate file (PEM) of the servers' TLS certificates */
  ca?: string;
}

/** Connect with reconnect-forever semantics (a restarted nats-server must not end a run). */
export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  return connect({
    servers: opts.url.split(',').map((u) => u.trim()).filter(Boolean),
    token: opts.token,
    user: opts.user,
    pass: opts.pass,
    tls: opts.ca ? { caFile: opts.ca } : undefined,
    name: opts.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
    pingInterval: 5_000,
    // no Error (with its captured stack) made up front for every request and subscription timer: a few
    // percent of a run's CPU; our errors name the subject and the operation themselves
    noAsyncTraces: true,
  });
}
