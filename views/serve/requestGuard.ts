/**
 * What the dashboard server accepts before any route is looked at. Routes are a fixed list (no file system
 * lookup is ever derived from a URL), but a request whose path could mean "somewhere else" is refused
 * outright, so no later change to routing can turn it into a traversal: dot segments (raw or percent-encoded),
 * encoded slashes or backslashes, NUL, absolute-form or authority-form targets, and over-long targets.
 * The Host header must name this server (a DNS-rebinding page cannot read the API), and state-changing
 * requests must come from the dashboard's own origin (a page elsewhere cannot pause a run).
 */

export interface Refusal {
  status: number;
  reason: string;
}

const MAX_TARGET = 2048;

/** The path of a request target, or a refusal (400/414) naming why. Query strings are returned apart. */
export function checkTarget(target: string | undefined): { path: string; query: URLSearchParams } | Refusal {
  if (!target) return { status: 400, reason: 'empty request target' };
  if (target.length > MAX_TARGET) return { status: 414, reason: 'request target too long' };
  // origin-form only: "/path?query"; absolute-form (http://…), authority-form and "*" are for proxies
  if (!target.startsWith('/') || target.startsWith('//')) return { status: 400, reason: 'request target must be a path' };
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  if (/%2e|%2f|%5c|%00/i.test(rawPath)) return { status: 400, reason: 'encoded dot, slash, backslash or NUL in path' };
  if (rawPath.includes('\\') || rawPath.includes('\0')) return { status: 400, reason: 'backslash or NUL in path' };
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { status: 400, reason: 'malformed percent-encoding' };
  }
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) return { status: 400, reason: 'dot segment in path' };
  if (segments.slice(0, -1).some((s) => s === '')) return { status: 400, reason: 'empty segment in path' };
  if (/[\x00-\x1f\x7f]/.test(path)) return { status: 400, reason: 'control character in path' };
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(rawQuery);
  } catch {
    return { status: 400, reason: 'malformed query' };
  }
  return { path, query };
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'status' in x && 'reason' in x;
}

/**
 * Host names under which this server may be addressed: the bound address, plus localhost names when it is
 * bound to a loopback address. `port` is the port actually bound.
 */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set<string>();
  const add = (h: string) => names.add(`${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`.toLowerCase());
  add(host);
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') for (const h of ['127.0.0.1', 'localhost', '::1']) add(h);
  return names;
}

/** The Host header must be one of `hosts` (DNS rebinding: a foreign name resolving to 127.0.0.1). */
export function checkHost(hostHeader: string | undefined, hosts: Set<string>, wildcard: boolean): Refusal | null {
  if (!hostHeader) return { status: 400, reason: 'missing Host header' };
  if (wildcard) return null; // bound to all interfaces on purpose (--host 0.0.0.0): any name may reach it
  return hosts.has(hostHeader.toLowerCase()) ? null : { status: 421, reason: `Host ${hostHeader} is not this server` };
}

/**
 * A state-changing request must carry an Origin equal to this server's own (browsers always send it on
 * POST) and, where the browser says, come from the same site.
 */
export function checkSameOrigin(origin: string | undefined, hostHeader: string | undefined, fetchSite: string | undefined): Refusal | null {
  if (!origin || !hostHeader) return { status: 403, reason: 'control requests need an Origin header (from the dashboard page)' };
  if (origin.toLowerCase() !== `http://${hostHeader.toLowerCase()}`) return { status: 403, reason: `cross-origin request from ${origin}` };
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return { status: 403, reason: `Sec-Fetch-Site: ${fetchSite}` };
  return null;
}
