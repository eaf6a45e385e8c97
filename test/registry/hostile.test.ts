// The registry client against registries that misbehave, each a real HTTP
// server on loopback: endless bodies, tag listings that page forever or
// page with relative and malformed Links, broken challenges, silence. Every
// failure is one line with a hint; every wait ends with the client's deadline.
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { isTunaSetupError, type TunaSetupError } from '@tuna-setup/sdk';
import { RegistryClient } from '@tuna-setup/sdk/registry';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: { close: () => void }[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function registry(handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  });
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const client = (extra = {}) => new RegistryClient({ backoffMs: 10, attempts: 2, ...extra });

async function failure(p: Promise<unknown>): Promise<TunaSetupError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isTunaSetupError(e)) throw new Error(`expected a TunaSetupError, got ${String(e)}`);
  expect(e.message).not.toMatch(/\n/);
  expect(e.hint).toBeTruthy();
  return e;
}

function endless(res: http.ServerResponse, type = 'application/json') {
  res.writeHead(200, { 'content-type': type });
  const chunk = Buffer.from(`{"tags":["${'x'.repeat(64 * 1024)}`);
  const more = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', more);
  };
  more();
}

describe('tag listings', () => {
  it('pages on past 100 pages, following relative Links, until the listing ends', async () => {
    const host = await registry((req, res) => {
      const last = Number(new URL(req.url!, 'http://x').searchParams.get('last') ?? 0);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      // alternate the two relative forms registries send: absolute path, and path-relative
      if (last < 149) headers.link = last % 2 ? `</v2/r/tags/list?n=1&last=${last + 1}>; rel="next"` : `<list?n=1&last=${last + 1}>; rel="next"`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: 'r', tags: [`t${last}`] }));
    });
    const c = client();
    const list = await c.tags(host, 'r', 1);
    await c.close();
    expect(list.complete).toBe(true);
    expect(list.tags).toHaveLength(150);
  });

  it('a Link that loops back stops the listing and says so', async () => {
    const host = await registry((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', link: '</v2/r/tags/list?n=1>; rel="next"' });
      res.end('{"tags":["a"]}');
    });
    const c = client();
    const list = await c.tags(host, 'r', 1);
    await c.close();
    expect(list).toMatchObject({ complete: false, stopped: expect.stringMatching(/loop/) });
  });

  it('an endless tags/list body is "response too large", not gigabytes of memory', async () => {
    const host = await registry((_req, res) => endless(res));
    const rss = process.memoryUsage().rss;
    const c = client();
    const e = await failure(c.tags(host, 'r'));
    await c.close();
    expect(e.message).toMatch(/^registry 127\.0\.0\.1:\d+: GET \/v2\/r\/tags\/list: response too large: over 4 MiB$/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100e6);
  });

  it('a malformed Link header is one line', async () => {
    const host = await registry((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', link: '<http://[broken>; rel="next"' });
      res.end('{"tags":["a"]}');
    });
    const c = client();
    const e = await failure(c.tags(host, 'r'));
    await c.close();
    expect(e.message).toMatch(/malformed Link header \(http:\/\/\[broken\)/);
  });
});

describe('authentication that misbehaves', () => {
  const challenge =
    (value: string): Handler =>
    (req, res) => {
      if (req.url!.startsWith('/token')) return endless(res);
      res.writeHead(401, { 'www-authenticate': value, 'docker-distribution-api-version': 'registry/2.0' });
      res.end();
    };

  it('a realm that is not a URL', async () => {
    const host = await registry(challenge('Bearer realm="::not a url",service="x"'));
    const e = await failure(client().digest({ registry: host, repository: 'r', tag: 'latest' }));
    expect(e.message).toMatch(/token realm '::not a url' is not a URL/);
  });

  it('a challenge that is not Bearer', async () => {
    const host = await registry(challenge('Basic realm="corp"'));
    const e = await failure(client().digest({ registry: host, repository: 'r', tag: 'latest' }));
    expect(e.message).toMatch(/needs basic authentication/);
  });

  it('an endless token body', async () => {
    let host = '';
    host = await registry((req, res) => challenge(`Bearer realm="http://${host}/token",service="x"`)(req, res));
    const e = await failure(client().digest({ registry: host, repository: 'r', tag: 'latest' }));
    expect(e.message).toMatch(/GET \/token: response too large: over 1 MiB|response too large/);
  });
});

describe('the deadline', () => {
  it('a registry that accepts and never answers ends at the deadline, with the hint to go offline', async () => {
    const hole = net.createServer((s) => {
      s.on('error', () => {});
      s.resume();
    });
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    servers.push({ close: () => hole.close() });
    const c = client({ deadlineMs: 800, timeoutMs: 5000 });
    const t0 = performance.now();
    const e = await failure(c.digest({ registry: `127.0.0.1:${(hole.address() as net.AddressInfo).port}`, repository: 'r', tag: 'latest' }));
    await c.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e.message).toMatch(/no answer within 0\.8 s/);
    expect(e.hint).toMatch(/offline: true.*TUNA_SETUP_OFFLINE=1/); // the SDK's words
    expect(e.say('cli').hint).toMatch(/--offline.*TUNA_SETUP_OFFLINE=1/);
    expect(e.fixes).toEqual([{ option: 'offline', flag: '--offline', input: null, value: 'true' }]);
  });

  it('a silent proxy ends at the deadline too, and the proxy is named', async () => {
    const proxy = net.createServer((s) => {
      s.on('error', () => {});
      s.resume();
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    servers.push({ close: () => proxy.close() });
    const saved = { ...process.env };
    process.env.http_proxy = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    delete process.env.no_proxy;
    delete process.env.NO_PROXY;
    try {
      const c = client({ deadlineMs: 800, timeoutMs: 300, attempts: 2 });
      const t0 = performance.now();
      const e = await failure(c.digest({ registry: 'registry.example:5000', repository: 'r', tag: 'latest' }));
      await c.close();
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(e.message).toMatch(
        /^registry registry\.example:5000: no answer within 0\.8 s \(HEAD \/v2\/r\/manifests\/latest, through the proxy http:\/\/127\.0\.0\.1:\d+\)$/,
      );
    } finally {
      process.env = saved;
    }
  });
});
