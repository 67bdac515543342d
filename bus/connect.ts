/** Connecting to NATS: one place sets the reconnect and tracing options every dare process uses. */
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsOptions {
  /** one server, or several separated by commas (servers of one cluster: the client fails over among them) */
  url: string;
  token?: string;
  user?: string;
  pass?: string;
  name?: string;
}

/** Connect with reconnect-forever semantics (a restarted nats-server must not end a run). */
export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  return connect({
    servers: opts.url.split(',').map((u) => u.trim()).filter(Boolean),
    token: opts.token,
    user: opts.user,
    pass: opts.pass,
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
