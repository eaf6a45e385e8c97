/**
 * A Docker Hub-shaped registry on 127.0.0.1, for the registry client tests:
 * a real distribution registry (Debian
 * docker-registry) with token auth, a token server of our own that signs
 * RS256 JWTs with node:crypto (callers get what they ask for, except that
 * `private/*` and any push need a login — pusher:secret), a flaky forwarder in front of the registry that can
 * answer 429/5xx on demand, and a pull-through cache registry in front of the
 * token-auth one (the shape of a Harbor or distribution proxy mirror).
 * Images are pushed with skopeo from a busybox OCI layout (no daemon).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createSign, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { buildBusyboxLayout } from './docker.js';

export interface RegistryLab {
  /** host:port of the flaky forwarder in front of the token-auth registry */
  registry: string;
  /** host:port of the pull-through cache (no auth of its own) */
  proxy: string;
  /** host:port where nothing listens */
  unreachable: string;
  tokenRequests: () => number;
  /** the lifetime (s) tokens are issued with from now on (default 300) */
  setTokenTtl: (seconds: number) => void;
  /** the next `n` requests through the forwarder answer `status` */
  failNext: (n: number, status: number) => void;
  forwarded: () => string[];
  stop: () => Promise<void>;
}

/** A port nothing listens on now, on 127.0.0.1. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

function waitForOutput(child: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}:\n${out}`)), ms);
    const on = (d: Buffer) => {
      out += d;
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited:\n${out}`));
    });
  });
}

export async function startRegistryLab(dir: string, tags: Record<string, string[]>): Promise<RegistryLab> {
  const children: ChildProcess[] = [];
  const servers: http.Server[] = [];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=tuna-test-token',
    ],
    { stdio: 'ignore' },
  );
  const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
  const certDer = readFileSync(path.join(dir, 'cert.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, '');

  // the token server
  let tokenRequests = 0;
  let ttl = 300;
  const tokens = http.createServer((req, res) => {
    tokenRequests++;
    let form = '';
    req.on('data', (d) => (form += d));
    req.on('end', () => issue(req, res, new URLSearchParams(form)));
  });
  // GET ?service&scope (anonymous, or Basic for a login); POST of an OAuth2 refresh token (an identity token: 'idt-pusher' is the pusher's)
  const issue = (req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams) => {
    const url = new URL(req.url!, 'http://x');
    const post = req.method === 'POST';
    if (post && (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== 'idt-pusher')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end('{"details":"bad refresh token"}');
    }
    const login = post || req.headers.authorization === `Basic ${Buffer.from('pusher:secret').toString('base64')}`;
    // every scope asked for (a cross-repository mount asks for two), as Docker Hub's token server grants them
    const access = (post ? [form.get('scope') ?? ''] : url.searchParams.getAll('scope'))
      .flatMap((s) => s.split(' '))
      .flatMap((scope) => {
        const m = /^repository:([^:]+):(.+)$/.exec(scope);
        return m ? [{ type: 'repository', name: m[1]!, actions: m[2]!.split(',') }] : [];
      });
    // pushing needs the pusher's login (sent to the token server as Basic, as Docker does, or as its identity token)
    if (access.some((a) => a.actions.includes('push')) && !login) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end('{"details":"push needs a login"}');
    }
    if (access.some((a) => a.name.startsWith('private/')) && !req.headers.authorization && !post) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end('{"details":"access to the requested resource is not authorized"}');
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer] };
    const claims = {
      iss: 'tuna-test-issuer',
      sub: '',
      aud: post ? form.get('service') : url.searchParams.get('service'),
      exp: now + ttl,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${input}.${b64url(signature)}`, expires_in: ttl }));
  };
  servers.push(tokens);
  const tokenPort = await listen(tokens);

  // the token-auth registry
  const regPort = await freePort();
  const regConfig = path.join(dir, 'registry.yml');
  writeFileSync(
    regConfig,
    `${[
      'version: 0.1',
      'log: { level: info }',
      `storage: { filesystem: { rootdirectory: ${path.join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${regPort} }`,
      `auth: { token: { realm: "http://127.0.0.1:${tokenPort}/token", service: tuna-test-registry, issuer: tuna-test-issuer, rootcertbundle: ${path.join(dir, 'cert.pem')} } }`,
    ].join('\n')}\n`,
  );
  const reg = spawn('docker-registry', ['serve', regConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(reg);
  await waitForOutput(reg, /listening on/, 15_000);

  // push the tags (asynchronously: the token server answers from this process)
  const layout = buildBusyboxLayout(dir);
  for (const [repo, list] of Object.entries(tags)) {
    for (const tag of list) {
      await promisify(execFile)(
        'skopeo',
        ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', 'pusher:secret', `oci:${layout}:latest`, `docker://127.0.0.1:${regPort}/${repo}:${tag}`],
        { timeout: 60_000 },
      );
    }
  }

  // the flaky forwarder
  let fail: { n: number; status: number } = { n: 0, status: 503 };
  const forwarded: string[] = [];
  const forwarder = http.createServer((req, res) => {
    forwarded.push(`${req.method} ${req.url}`);
    if (fail.n > 0) {
      fail.n--;
      res.writeHead(fail.status, { 'content-type': 'text/plain', ...(fail.status === 429 ? { 'retry-after': '0' } : {}) });
      return res.end('try again later');
    }
    // distribution 2.8 ignores ?n= on tags/list; Docker Hub pages with Link: rel="next" — do as Hub does
    const url = new URL(req.url!, 'http://x');
    const page = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname) && url.searchParams.get('n');
    const up = http.request({ host: '127.0.0.1', port: regPort, method: req.method, path: page ? url.pathname : req.url, headers: req.headers }, (r) => {
      if (!page || r.statusCode !== 200) {
        res.writeHead(r.statusCode!, r.headers);
        return void r.pipe(res);
      }
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => {
        const data = JSON.parse(body) as { name: string; tags: string[] };
        const all = [...data.tags].sort();
        const last = url.searchParams.get('last');
        const from = last ? all.findIndex((t) => t > last) : 0;
        const tags = from < 0 ? [] : all.slice(from, from + Number(page));
        const more = from >= 0 && from + Number(page) < all.length;
        res.writeHead(200, {
          'content-type': 'application/json',
          ...(more ? { link: `<${url.pathname}?n=${page}&last=${encodeURIComponent(tags.at(-1)!)}>; rel="next"` } : {}),
        });
        res.end(JSON.stringify({ name: data.name, tags }));
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  servers.push(forwarder);
  const fwdPort = await listen(forwarder);

  // the pull-through cache
  const proxyPort = await freePort();
  const proxyConfig = path.join(dir, 'proxy.yml');
  writeFileSync(
    proxyConfig,
    `${[
      'version: 0.1',
      'log: { level: info }',
      `storage: { filesystem: { rootdirectory: ${path.join(dir, 'proxy-data')} } }`,
      `http: { addr: 127.0.0.1:${proxyPort} }`,
      `proxy: { remoteurl: "http://127.0.0.1:${regPort}", username: cache, password: cache }`,
    ].join('\n')}\n`,
  );
  const proxy = spawn('docker-registry', ['serve', proxyConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proxy);
  await waitForOutput(proxy, /listening on/, 15_000);

  return {
    registry: `127.0.0.1:${fwdPort}`,
    proxy: `127.0.0.1:${proxyPort}`,
    unreachable: `127.0.0.1:${await freePort()}`,
    tokenRequests: () => tokenRequests,
    setTokenTtl: (seconds) => {
      ttl = seconds;
    },
    failNext: (n, status) => {
      fail = { n, status };
    },
    forwarded: () => forwarded,
    stop: async () => {
      for (const c of children) {
        if (c.exitCode === null)
          await new Promise<void>((r) => {
            c.once('exit', () => r());
            c.kill('SIGTERM');
          });
      }
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}
