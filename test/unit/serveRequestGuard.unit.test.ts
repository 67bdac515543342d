/** The dashboard's request guard: which request targets, Host names and control origins it lets through. */
import { describe, expect, it } from 'vitest';
import { allowedHosts, checkHost, checkSameOrigin, checkTarget, isRefusal } from '../../views/serve/requestGuard.ts';

describe('checkTarget', () => {
  it('passes plain paths and splits off the query', () => {
    const t = checkTarget('/api/prompts?q=sim%3A17&sort=difficulty');
    expect(isRefusal(t)).toBe(false);
    if (!isRefusal(t)) {
      expect(t.path).toBe('/api/prompts');
      expect(t.query.get('q')).toBe('sim:17');
    }
    expect(checkTarget('/')).toMatchObject({ path: '/' });
    expect(checkTarget('/assets/dashboard.js')).toMatchObject({ path: '/assets/dashboard.js' });
    // a dot inside a name is no dot segment
    expect(checkTarget('/assets/uPlot.min.css')).toMatchObject({ path: '/assets/uPlot.min.css' });
  });

  it.each([
    ['/../etc/passwd', 400], ['/a/..', 400], ['/a/./b', 400], ['/%2e%2e/x', 400], ['/%2E%2e/x', 400], ['/.%2e/x', 400],
    ['/a%2fb', 400], ['/a%5cb', 400], ['/a\\..\\b', 400], ['/%00', 400], ['//etc/passwd', 400], ['/a//b', 400],
    ['http://evil.example/', 400], ['evil.example:80', 400], ['*', 400], ['', 400], ['/%zz', 400], ['/a%0ab', 400],
    [`/${'x'.repeat(3000)}`, 414],
  ])('refuses %j with %i', (target, status) => {
    const t = checkTarget(target);
    expect(isRefusal(t)).toBe(true);
    if (isRefusal(t)) expect(t.status).toBe(status);
  });
});

describe('checkHost', () => {
  const hosts = allowedHosts('127.0.0.1', 8470);
  it('accepts the loopback names of the bound port only', () => {
    expect(checkHost('127.0.0.1:8470', hosts, false)).toBeNull();
    expect(checkHost('LOCALHOST:8470', hosts, false)).toBeNull();
    expect(checkHost('[::1]:8470', hosts, false)).toBeNull();
    expect(checkHost('127.0.0.1:8471', hosts, false)?.status).toBe(421);
    expect(checkHost('evil.example:8470', hosts, false)?.status).toBe(421);
    expect(checkHost(undefined, hosts, false)?.status).toBe(400);
  });
  it('a server bound to another address answers only to that address, unless bound to all on purpose', () => {
    const lan = allowedHosts('192.168.1.5', 9000);
    expect(checkHost('192.168.1.5:9000', lan, false)).toBeNull();
    expect(checkHost('localhost:9000', lan, false)?.status).toBe(421);
    expect(checkHost('any.name:9000', lan, true)).toBeNull();
  });
});

describe('checkSameOrigin', () => {
  it('wants the Origin of the page itself', () => {
    expect(checkSameOrigin('http://127.0.0.1:8470', '127.0.0.1:8470', 'same-origin')).toBeNull();
    expect(checkSameOrigin('http://127.0.0.1:8470', '127.0.0.1:8470', undefined)).toBeNull();
    expect(checkSameOrigin(undefined, '127.0.0.1:8470', undefined)?.status).toBe(403);
    expect(checkSameOrigin('null', '127.0.0.1:8470', undefined)?.status).toBe(403);
    expect(checkSameOrigin('http://localhost:8470', '127.0.0.1:8470', 'same-site')?.status).toBe(403);
    expect(checkSameOrigin('http://127.0.0.1:8470', '127.0.0.1:8470', 'cross-site')?.status).toBe(403);
    expect(checkSameOrigin('https://127.0.0.1:8470', '127.0.0.1:8470', undefined)?.status).toBe(403);
  });
});
