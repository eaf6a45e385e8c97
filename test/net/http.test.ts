// The SDK's HTTP client (net/http.ts) against real servers on loopback: what
// a redirect may and may not carry along, and how each bad hop is named.
import http from 'node:http';
import type net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createDispatcher, describeHttpError, httpRequest } from '../../packages/sdk/src/net/http.js';
import { redactUrl } from '../../packages/sdk/src/net/proxy.js';

const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
});

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => {
    s.closeAllConnections();
    s.close();
  });
  return `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const deadline = new AbortController();
  const dispatcher = await createDispatcher({ deadline: deadline.signal, timeoutMs: 2000, proxies: { noProxy: '' } });
  try {
    return await httpRequest(url, { dispatcher, signal: deadline.signal, headers, maxBytes: 65536, allowHttp: true });
  } finally {
    deadline.abort();
    await dispatcher.destroy();
  }
}

describe('proxy variables', () => {
  it.each(['http://user:s3cret@proxy:3128', 'user:s3cret@proxy:3128', 'http://user:pa/ss@word@proxy:3128'])('%s is printed without its password', (value) => {
    expect(redactUrl(value)).not.toMatch(/s3cret|pa\/ss|word/);
    expect(redactUrl(value)).toMatch(/\*\*\*@proxy:3128$/);
  });
});

describe('an IPv6 mirror', () => {
  it('is reached, and its handshake timed under its bracketed origin', async () => {
    const s = http.createServer((_req, res) => res.end('ok'));
    const listening = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(0, '::1', () => resolve(true));
    });
    if (!listening) return; // no IPv6 on this loopback: nothing to check
    closers.push(() => s.close());
    const origin = `http://[::1]:${(s.address() as net.AddressInfo).port}`;
    const seen: string[] = [];
    const deadline = new AbortController();
    const dispatcher = await createDispatcher({ deadline: deadline.signal, timeoutMs: 2000, proxies: { noProxy: '' }, onConnect: (o) => seen.push(o) });
    const res = await httpRequest(`${origin}/`, { dispatcher, signal: deadline.signal, maxBytes: 1024, allowHttp: true });
    deadline.abort();
    await dispatcher.destroy();
    expect(res.body.toString()).toBe('ok');
    expect(seen).toEqual([origin]);
  });
});

describe('redirects', () => {
  it('credentials go only to their own origin', async () => {
    const seen: Record<string, http.IncomingHttpHeaders> = {};
    const other = await server((req, res) => {
      seen.other = req.headers;
      res.end('ok');
    });
    const home = await server((req, res) => {
      if (req.url === '/away') return res.writeHead(302, { location: `${other}/landed` }).end();
      if (req.url === '/here') return res.writeHead(307, { location: '/same' }).end();
      seen.home = req.headers;
      res.end('ok');
    });
    const secrets = { authorization: 'Bearer s3cret', cookie: 'session=1' };
    const same = await get(`${home}/here`, secrets);
    expect(same.chain).toEqual([`${home}/here`, `${home}/same`]);
    expect(seen.home).toMatchObject(secrets);
    const away = await get(`${home}/away`, secrets);
    expect(away.url).toBe(`${other}/landed`);
    expect(seen.other!.authorization).toBeUndefined();
    expect(seen.other!.cookie).toBeUndefined();
  });

  it.each([
    ['ftp://mirror.example/pub', /^redirects to ftp: \(only http\(s\) is followed\)$/],
    ['http://[::1', /^redirects to a malformed URL \(http:\/\/\[::1\)$/],
    ['http://user:pw@127.0.0.1:1/x', /^redirects to a URL with credentials/],
  ])('a redirect to %s is refused by name', async (location, reason) => {
    const home = await server((_req, res) => res.writeHead(301, { location }).end());
    const e = await get(`${home}/x`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(describeHttpError(e)).toMatch(reason);
  });
});
