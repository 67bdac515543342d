/**
 * `dare serve DIR [--port P] [--host H]`: fold the run's log, follow it live while the run is running, and
 * serve the dashboard until interrupted. Prints the URL (with --port 0, the port the system chose).
 */
import type { NatsTarget } from '../bus/connect.ts';
import { UserError } from '../events/errors.ts';
import { startDashboard, type DashboardServer } from '../views/serve/dashboardServer.ts';
import { RunFeed } from '../views/serve/runFeed.ts';

export interface ServeArgs {
  dir: string;
  port?: number;
  host?: string;
  /** servers and credentials of one's own for the live view (observer: no control; operator: control) */
  via?: NatsTarget;
}

export interface Serving {
  url: string;
  feed: RunFeed;
  server: DashboardServer;
  close(): Promise<void>;
}

export async function serveRun(a: ServeArgs): Promise<Serving> {
  if (a.port !== undefined && (a.port < 0 || a.port > 65535)) throw new UserError(`--port ${a.port}: expected 0..65535 (0: any free port)`);
  let server: DashboardServer | null = null;
  const feed = await RunFeed.open(a.dir, {
    onChange: () => server?.changed(),
    warn: (m) => process.stderr.write(`${m}\n`),
    via: a.via,
  });
  try {
    server = await startDashboard(feed, { host: a.host ?? '127.0.0.1', port: a.port ?? 8470 });
  } catch (e) {
    await feed.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`--port ${a.port ?? 8470}: already in use (--port 0 picks a free one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`--host ${a.host}: not an address of this machine`);
    throw e;
  }
  const s = server;
  return { url: s.url, feed, server: s, close: async () => { await s.close(); await feed.close(); } };
}

export async function serveCommand(a: ServeArgs): Promise<void> {
  const s = await serveRun(a);
  const st = s.feed.state.status();
  process.stdout.write(`dashboard of ${st.run ?? a.dir} (${s.feed.live ? 'live' : 'finished'}, ${st.lastSeq} events): ${s.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await s.close();
}
