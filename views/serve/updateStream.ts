/**
 * Server-Sent Events to every open dashboard: an `update` message (status, actors, plot series) when the
 * folded log has moved on, at most one per `minIntervalMs` (longer for large messages: about 200 kB/s at
 * most) however fast the run writes, and a comment line now and then so the connection stays open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface UpdateStream {
  /** answer a GET with the event stream (it stays open until the client goes) */
  attach(req: IncomingMessage, res: ServerResponse): void;
  /** something changed: push soon */
  changed(): void;
  clients(): number;
  close(): void;
}

export function updateStream(snapshot: () => { version: string; body: unknown }, minIntervalMs = 500, keepAliveMs = 15_000): UpdateStream {
  const clients = new Set<ServerResponse>();
  let sentVersion = '';
  let timer: NodeJS.Timeout | null = null;
  let lastPush = 0;
  let interval = minIntervalMs;

  const send = (res: ServerResponse, data: string) => res.write(`event: update\ndata: ${data}\n\n`);

  const push = () => {
    timer = null;
    lastPush = Date.now();
    if (clients.size === 0) return;
    const s = snapshot();
    if (s.version === sentVersion) return;
    sentVersion = s.version;
    const data = JSON.stringify(s.body);
    for (const res of clients) send(res, data);
    // a long run's series grow: keep the stream near 200 kB/s whatever their size
    interval = Math.min(5000, Math.max(minIntervalMs, (data.length / 200_000) * 1000));
  };

  const keepAlive = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, keepAliveMs);

  return {
    attach(req, res) {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Content-Type-Options': 'nosniff',
      });
      res.write('retry: 2000\n\n');
      clients.add(res);
      // a new client gets the current state at once
      const s = snapshot();
      send(res, JSON.stringify(s.body));
      req.on('close', () => clients.delete(res));
    },
    changed() {
      if (timer) return;
      // throttle: wall-clock pacing of a display, never a decision of the run
      const wait = Math.max(0, interval - (Date.now() - lastPush));
      timer = setTimeout(push, wait);
    },
    clients: () => clients.size,
    close() {
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
