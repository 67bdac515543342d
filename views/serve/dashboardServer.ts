/**
 * The dashboard's HTTP server (node:http): a fixed list of routes, answered from the run's log only.
 *   GET  /                         the page;  /assets/*  its script, style and chart code
 *   GET  /api/status               run status (step, phase flags, live or finished)
 *   GET  /api/actors               every actor's phase, summary and recent transitions
 *   GET  /api/machines             every actor's statechart (phases, edges, SVG)
 *   GET  /api/plots                the report's plot series (views/report/series.ts ReportData)
 *   GET  /api/prompts?q=&sort=&desc=&offset=&limit=   the prompt table, searched and sorted
 *   GET  /api/prompts/<index>      one prompt's timeline
 *   GET  /api/stream               Server-Sent Events: `update` {status, actors, plots}
 *   POST /api/control/<pause|resume|stop>   live runs only, from the dashboard's own origin
 * Anything else is refused before routing (requestGuard.ts) or answered 404 / 405.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTORS } from '../../actors/index.ts';
import { UserError } from '../../events/errors.ts';
import { dashboardAssets } from './assets.ts';
import { promptHistory } from '../promptHistory.ts';
import { SORTABLE, type PromptTableRow } from './promptTable.ts';
import { allowedHosts, checkHost, checkSameOrigin, checkTarget, isRefusal } from './requestGuard.ts';
import type { ControlCommand, RunFeed } from './runFeed.ts';
import { statechartOf } from './statechart.ts';
import { updateStream } from './updateStream.ts';

export interface DashboardOptions {
  host: string;
  /** 0: any free port */
  port: number;
  /** minimum time between two pushes to a browser (ms) */
  pushMs?: number;
}

export interface DashboardServer {
  url: string;
  port: number;
  /** the feed folded new events: push them to the open pages */
  changed(): void;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // scripts only from this server; uPlot sizes its elements through inline styles
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

const CONTROL = new Set<ControlCommand>(['pause', 'resume', 'stop']);

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head = false): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(head ? undefined : body);
}

function json(res: ServerResponse, status: number, value: unknown, head = false): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), head);
}

function intParam(v: string | null, name: string, dflt: number): number {
  if (v === null || v === '') return dflt;
  if (!/^\d{1,9}$/.test(v)) throw new UserError(`${name}: expected a non-negative integer`);
  return Number(v);
}

export async function startDashboard(feed: RunFeed, o: DashboardOptions): Promise<DashboardServer> {
  const assets = dashboardAssets();
  const machines = ACTORS.map((d) => statechartOf(d));
  const state = feed.state;
  const stream = updateStream(() => ({
    version: `${state.version}/${state.live}`,
    body: { status: state.status(), actors: state.actors(), plots: state.plots() },
  }), o.pushMs ?? 500);
  let hosts = new Set<string>();
  const wildcard = o.host === '0.0.0.0' || o.host === '::';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = checkTarget(req.url);
    if (isRefusal(target)) return json(res, target.status, { error: target.reason });
    const badHost = checkHost(req.headers.host, hosts, wildcard);
    if (badHost) return json(res, badHost.status, { error: badHost.reason });
    const { path, query } = target;
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';

    const control = /^\/api\/control\/([a-z]+)$/.exec(path);
    if (control) {
      if (method !== 'POST') return json(res, 405, { error: 'use POST' });
      const cmd = control[1] as ControlCommand;
      if (!CONTROL.has(cmd)) return json(res, 404, { error: `unknown control command ${cmd}` });
      const cross = checkSameOrigin(req.headers.origin, req.headers.host, req.headers['sec-fetch-site'] as string | undefined);
      if (cross) return json(res, cross.status, { error: cross.reason });
      if (!feed.live) return json(res, 409, { error: 'the run is not running: control is only for a live run' });
      req.resume(); // no body is read; the command is in the path
      try {
        await feed.control(cmd);
      } catch (e) {
        return json(res, 502, { error: (e as Error).message });
      }
      return json(res, 200, { ok: true, command: cmd });
    }
    if (method !== 'GET' && !head) return json(res, 405, { error: `${method} not allowed` });

    const asset = assets.get(path);
    if (asset) return send(res, 200, asset.type, asset.body, head);
    switch (path) {
      case '/api/status':
        return json(res, 200, state.status(), head);
      case '/api/actors':
        return json(res, 200, state.actors(), head);
      case '/api/machines':
        return json(res, 200, machines, head);
      case '/api/plots':
        return json(res, 200, state.plots(), head);
      case '/api/prompts': {
        const sort = query.get('sort') ?? 'index';
        if (!SORTABLE.includes(sort as keyof PromptTableRow)) return json(res, 400, { error: `sort: one of ${SORTABLE.join(', ')}` });
        return json(res, 200, state.prompts.query({
          q: (query.get('q') ?? '').slice(0, 200),
          sort: sort as keyof PromptTableRow,
          desc: query.get('desc') === '1',
          offset: intParam(query.get('offset'), 'offset', 0),
          limit: intParam(query.get('limit'), 'limit', 50),
        }), head);
      }
      case '/api/stream':
        if (head) return send(res, 200, 'text/event-stream', '', true);
        return stream.attach(req, res);
    }
    const prompt = /^\/api\/prompts\/(\d{1,9})$/.exec(path);
    if (prompt) {
      const q = Number(prompt[1]);
      if (q >= state.prompts.size) return json(res, 404, { error: `prompt ${q}: not a training prompt of this run` });
      return json(res, 200, promptHistory(feed.log, q), head);
    }
    return json(res, 404, { error: `no such page: ${path}` }, head);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      const user = e instanceof UserError;
      if (!res.headersSent) json(res, user ? 400 : 500, { error: (e as Error).message });
      else res.end();
    });
  });
  // no slow-loris: a request must arrive whole within 10 s (the event stream is a response, not a request)
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (e) {
    stream.close(); // its keep-alive timer would hold the process open
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(o.host, port);
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${wildcard ? '127.0.0.1' : shown}:${port}/`,
    port,
    changed: () => stream.changed(),
    close: async () => {
      stream.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
