/**
 * `dare serve` over a real run: a short sim run writes its LMDB log, then the dashboard server answers
 * every JSON route from that log (checked against the log itself and `dare inspect`), streams an update
 * over Server-Sent Events, and refuses traversal, foreign Host names and cross-origin or offline control.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRun, type Serving } from '../../cli/serveCommand.ts';
import { EventLog } from '../../store/eventLog.ts';
import { countLogged, dareSync, simScenario, testDir, until, withRunLog } from '../support/live.ts';
import { runDare } from '../support/runs.ts';

const { dir, file } = testDir('dare-serve-', { sim: simScenario() });
const runDir = join(dir, 'run');
let serving: Serving;
let port: number;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the target sent byte for byte as given (fetch would normalise "/../"). */
function http(method: string, target: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // a fresh connection each time: the test blocks this process in spawnSync for seconds, after which a
    // kept-alive socket may be closed by the server just as it is reused
    const req = request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw request line (absolute-form targets cannot be sent through http.request). */
function raw(lines: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(lines));
    let out = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\r\n\r\n')) s.end();
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

const get = async (path: string) => {
  const r = await http('GET', path);
  expect(r.status, `${path}: ${r.body}`).toBe(200);
  return JSON.parse(r.body);
};

beforeAll(async () => {
  const p = runDare(['run', file('sim'), '--run-dir', runDir]);
  expect(await p.exit, p.stderr()).toBe(0);
  serving = await serveRun({ dir: runDir, port: 0 });
  port = serving.server.port;
}, 90_000);

afterAll(async () => {
  await serving?.close();
});

describe('dare serve: routes over a finished run', () => {
  it('prints a loopback URL and serves the page and its assets from the package', async () => {
    expect(serving.url).toBe(`http://127.0.0.1:${port}/`);
    const page = await http('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    // every script and style the page loads is served here (no network in the browser)
    const refs = [...page.body.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThanOrEqual(6);
    for (const ref of refs) expect((await http('GET', ref)).status, ref).toBe(200);
    expect(page.body).not.toMatch(/https?:\/\//);
    const head = await http('HEAD', '/api/status');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers status, actors, machines, plots and prompts from the log', async () => {
    const log = EventLog.open(join(runDir, 'log'), { readOnly: true });
    try {
      const events = [...log.iterate(1)].map((l) => l.event);
      const status = await get('/api/status');
      expect(status).toMatchObject({ run: 'run', method: 'dare', step: 6, steps: 6, completed: true, live: false, lastSeq: log.lastSeq() });

      // the actors' phases are those `dare inspect` folds from the same log
      const inspect = dareSync('inspect', runDir, '--json');
      expect(inspect.status, inspect.stderr).toBe(0);
      const views = JSON.parse(inspect.stdout) as Array<{ actor: string; phase: string; recent: unknown[] }>;
      const actors = (await get('/api/actors')) as Array<{ actor: string; phase: string; recent: Array<[number, string, string, string]> }>;
      expect(actors.map((a) => [a.actor, a.phase])).toEqual(views.map((v) => [v.actor, v.phase]));
      expect(actors.find((a) => a.actor === 'session')!.phase).toBe('done');
      expect(actors.find((a) => a.actor === 'session')!.recent.at(-1)).toEqual(views.find((v) => v.actor === 'session')!.recent.at(-1));

      const machines = (await get('/api/machines')) as Array<{ actor: string; phases: string[]; edges: Array<{ from: string; to: string; events: string[] }>; svg: string }>;
      expect(machines.map((m) => m.actor)).toEqual(views.map((v) => v.actor));
      for (const m of machines) for (const p of m.phases) expect(m.svg).toContain(`data-state="${p}"`);
      const session = machines.find((m) => m.actor === 'session')!;
      expect(session.edges).toContainEqual({ from: 'rollingOut', to: 'updating', events: ['UpdateRequested'] });

      const plots = await get('/api/plots');
      expect(plots.step).toEqual([1, 2, 3, 4, 5, 6]);
      expect(plots.run.lastSeq).toBe(log.lastSeq());

      // the prompt table: every training prompt; times sampled = the BatchSelected events that chose it
      const table = await get('/api/prompts?limit=500');
      expect(table.total).toBe(120);
      expect(table.rows).toHaveLength(120);
      const sampled = new Map<number, number>();
      for (const e of events) if (e.type === 'BatchSelected') for (const q of e.data.prompts) sampled.set(q, (sampled.get(q) ?? 0) + 1);
      for (const r of table.rows) expect(r.timesSampled, `prompt ${r.index}`).toBe(sampled.get(r.index) ?? 0);
      const top = await get('/api/prompts?sort=timesSampled&desc=1&limit=3');
      expect(top.rows[0].timesSampled).toBe(Math.max(...sampled.values()));
      expect(top.rows.map((r: { timesSampled: number }) => r.timesSampled)).toEqual([...top.rows.map((r: { timesSampled: number }) => r.timesSampled)].sort((a, b) => b - a));
      const search = await get('/api/prompts?q=sim:17');
      expect(search.rows.map((r: { id: string }) => r.id)).toContain('sim:17');
      expect(search.rows.every((r: { id: string; question: string }) => `${r.id} ${r.question}`.includes('17'))).toBe(true);
      expect((await get('/api/prompts?q=%2342')).rows.map((r: { index: number }) => r.index)).toEqual([42]);

      // one prompt's timeline is `dare inspect --prompt`'s
      const q = top.rows[0].index as number;
      const cli = dareSync('inspect', runDir, '--prompt', String(q), '--json');
      expect(cli.status, cli.stderr).toBe(0);
      const history = await get(`/api/prompts/${q}`);
      expect(history.timeline).toEqual(cli.stdout.trim().split('\n').map((l) => JSON.parse(l)));
      expect(history.timeline.filter((t: { kind: string }) => t.kind === 'selected')).toHaveLength(sampled.get(q)!);
      expect(history.row.id).toBe(`sim:${q}`);
    } finally {
      void log.close();
    }
  });

  it('streams the current state as a Server-Sent Event', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/stream', agent: false }, (res) => {
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let buf = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          buf += d;
          const m = /event: update\ndata: (.*)\n\n/.exec(buf);
          if (m) {
            req.destroy();
            resolve(m[1]);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    const u = JSON.parse(first);
    expect(u.status.completed).toBe(true);
    expect(u.actors).toHaveLength(6);
    expect(u.plots.step).toHaveLength(6);
  });

  it('refuses paths outside its routes: traversal, encoded dots and slashes, absolute targets, run files', async () => {
    const config = readFileSync(join(runDir, 'config.json'), 'utf8');
    const targets = [
      '/../config.json', '/assets/../../config.json', '/%2e%2e/config.json', '/%2E%2E%2Fconfig.json', '/assets/%2e%2e/%2e%2e/config.json',
      '/assets/..%2f..%2fconfig.json', '/.%2e/config.json', '/assets/..\\..\\config.json', '//etc/passwd', '/assets//dashboard.js',
      '/api/prompts/../../config.json', '/%00', '/assets/dashboard.js%00.png', '/./', `/${'a'.repeat(3000)}`,
    ];
    for (const t of targets) {
      const r = await http('GET', t);
      expect(r.status, t).toBeGreaterThanOrEqual(400);
      expect(r.status, t).toBeLessThan(500);
      expect(r.body).not.toContain(config.slice(0, 40));
    }
    // files of the run directory are not routes
    for (const t of ['/config.json', '/summary.json', '/nats.json', '/log/data.mdb', '/metrics.csv', '/etc/passwd', '/cli/serve/dashboardServer.ts']) {
      expect((await http('GET', t)).status, t).toBe(404);
    }
    expect(await raw(`GET http://evil.example/api/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(`GET /etc/passwd HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 404/);
    // a page elsewhere that rebinds its name to 127.0.0.1 gets nothing
    expect((await http('GET', '/api/status', { Host: `evil.example:${port}` })).status).toBe(421);
    expect((await http('GET', '/api/status', { Host: `localhost:${port}` })).status).toBe(200);
    expect((await http('GET', '/api/prompts/120')).status).toBe(404);
    expect((await http('GET', '/api/prompts?sort=constructor')).status).toBe(400);
    expect((await http('GET', '/api/prompts?limit=-1')).status).toBe(400);
  });

  it('accepts control only as a same-origin POST, and only for a live run', async () => {
    const origin = `http://127.0.0.1:${port}`;
    expect((await http('GET', '/api/control/pause')).status).toBe(405);
    expect((await http('POST', '/api/control/pause')).status).toBe(403); // no Origin (not from the page)
    expect((await http('POST', '/api/control/pause', { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await http('POST', '/api/control/pause', { Origin: origin, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await http('POST', '/api/control/explode', { Origin: origin })).status).toBe(404);
    const finished = await http('POST', '/api/control/pause', { Origin: origin, 'Sec-Fetch-Site': 'same-origin' });
    expect(finished.status).toBe(409);
    expect(JSON.parse(finished.body).error).toMatch(/not running/);
    expect((await http('PUT', '/api/status')).status).toBe(405);
  });

  it('shows a killed run (its nats.json left behind, its NATS server gone) from the log, without control', async () => {
    const killed = join(dir, 'killed');
    const p = runDare(['run', file('sim'), '--run-dir', killed, '--steps', '200'], { DARE_FAULT_PAUSE: 'update:100' });
    const stepped = (n: number) => () => {
      try {
        return countLogged(killed, 'StepStarted') >= n;
      } catch {
        return false; // the log is still being created
      }
    };
    expect(await p.killWhen(stepped(2), 60_000)).toBe(true);
    expect(existsSync(join(killed, 'nats.json'))).toBe(true);
    const s = await serveRun({ dir: killed, port: 0 });
    try {
      // its server may still be up for a moment (the run's watchdog stops it within a second): then the
      // dashboard goes live and falls back to the log when the connection drops
      await until('the feed to fall back to the log', () => !s.feed.live);
      const status = s.feed.state.status();
      expect(status.live).toBe(false);
      expect(status.completed).toBe(false);
      expect(status.step).toBeGreaterThanOrEqual(2);
      expect(status.lastSeq).toBe(withRunLog(killed, (log) => log.lastSeq()));
      const r = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: s.server.port, method: 'POST', path: '/api/control/pause', headers: { Origin: `http://127.0.0.1:${s.server.port}` }, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
      expect(r).toBe(409);
    } finally {
      await s.close();
    }
  }, 90_000);

  it('says so for a directory that holds no run', async () => {
    await expect(serveRun({ dir, port: 0 })).rejects.toThrow(/not a run directory/);
    const r = dareSync('serve', dir, '--port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a run directory/);
    // a port in use: a user error, and the command ends (nothing left holding it open)
    const busy = spawnSync(process.execPath, ['cli/dare.js', 'serve', runDir, '--port', String(port)], { encoding: 'utf8', timeout: 45_000 });
    expect(busy.status, busy.stderr).toBe(1);
    expect(busy.stderr).toMatch(/already in use/);
  }, 60_000);
});
