/**
 * Loopback registries for the engine and sync tests: real distribution
 * registries (Debian docker-registry 2.8) whose access logs are kept, a
 * pull-through cache in front of an "upstream" one (the shape of a Docker Hub
 * mirror), and a Harbor-shaped forwarder that serves the cache under a path
 * prefix (`/v2/dockerhub-proxy/library/busybox/…` → `/v2/library/busybox/…`),
 * as a Harbor proxy project does. Images are pushed with skopeo from OCI
 * layouts built here: busybox (one platform) and a two-platform index.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildBusyboxLayout } from './docker.js';
import { freePort } from './registry.js';

export interface LabRegistry {
  /** host:port */
  host: string;
  /** access log: `METHOD path status` per request */
  requests: () => string[];
  stop: () => Promise<void>;
}

/** A loopback HTTP front: `handle` answers or forwards each request; `requests()` is what it saw. */
async function front(handle: (req: http.IncomingMessage, res: http.ServerResponse, seen: string[]) => void): Promise<LabRegistry> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => handle(req, res, seen));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests: () => seen,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Sends `req` on to `target` at `path`, logging `line status`; `headers` may rewrite the answer's headers. */
function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: string,
  path: string,
  log: (status: number) => void,
  headers = (h: http.IncomingHttpHeaders) => h,
): void {
  const [host, port] = target.split(':');
  const up = http.request({ host, port: Number(port), method: req.method, path, headers: req.headers }, (r) => {
    log(r.statusCode!);
    res.writeHead(r.statusCode!, headers({ ...r.headers }));
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}

function waitFor(child: ChildProcess, seen: () => string, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (pattern.test(seen())) {
        clearInterval(timer);
        clearTimeout(limit);
        resolve();
      }
    }, 20);
    const limit = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`registry did not start:\n${seen()}`));
    }, ms);
    child.once('exit', () => {
      clearInterval(timer);
      clearTimeout(limit);
      reject(new Error(`registry exited:\n${seen()}`));
    });
  });
}

/** A distribution registry on 127.0.0.1; with `proxyOf` (http://host:port) a pull-through cache of it. */
export async function startRegistry(dir: string, name: string, options: { proxyOf?: string; extra?: string[] } = {}): Promise<LabRegistry> {
  const port = await freePort();
  const config = path.join(dir, `${name}.yml`);
  mkdirSync(path.join(dir, `${name}-data`), { recursive: true });
  writeFileSync(
    config,
    `${[
      'version: 0.1',
      'log: { level: info, accesslog: { disabled: false } }',
      `storage: { filesystem: { rootdirectory: ${path.join(dir, `${name}-data`)} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      ...(options.proxyOf ? [`proxy: { remoteurl: "${options.proxyOf}" }`] : []),
      ...(options.extra ?? []),
    ].join('\n')}\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(child, () => out, /listening on/, 15_000);
  return {
    host: `127.0.0.1:${port}`,
    // the access log lines: 127.0.0.1 - - [date] "GET /v2/… HTTP/1.1" 200 …
    requests: () => [...out.matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`),
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** A Harbor-shaped front: `/v2/<prefix>/<repo>/…` is `/v2/<repo>/…` of `target`; `/v2/` answers as the target's. */
export function startPrefixForwarder(target: string, prefix: string): Promise<LabRegistry> {
  return front((req, res, seen) => {
    const url = req.url ?? '/';
    const inside = url.startsWith(`/v2/${prefix}/`) ? `/v2/${url.slice(`/v2/${prefix}/`.length)}` : url === '/v2/' || url === '/v2' ? '/v2/' : undefined;
    if (inside === undefined) {
      seen.push(`${req.method} ${url} 404`);
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"NAME_UNKNOWN","message":"not under the proxy project"}]}');
    }
    forward(req, res, target, inside, (status) => seen.push(`${req.method} ${url} ${status}`));
  });
}

const run = promisify(execFile);

/** skopeo copy of an OCI layout's tag into `docker://HOST/REPO:TAG` (every platform of an index). */
export async function pushLayout(layout: string, tag: string, dest: string): Promise<void> {
  await run('skopeo', ['copy', '--quiet', '--all', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${dest}`], { timeout: 60_000 });
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * busybox as an OCI layout with two tags: `latest` (one linux/amd64 manifest)
 * and `multi`, an image index of linux/amd64 and linux/arm64 whose arm64
 * manifest has a config and one layer of its own (so a copy has 5 blobs).
 */
export function buildLayouts(dir: string): string {
  const layout = buildBusyboxLayout(dir);
  const blob = (d: string) => path.join(layout, 'blobs', 'sha256', d.replace('sha256:', ''));
  const put = (bytes: Buffer | string) => {
    const digest = `sha256:${sha(bytes)}`;
    writeFileSync(blob(digest), bytes);
    return { digest, size: Buffer.byteLength(bytes) };
  };
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; mediaType: string; size: number; annotations?: Record<string, string> }[];
  };
  const amd64 = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'latest')!;
  const manifest = JSON.parse(readFileSync(blob(amd64.digest), 'utf8')) as {
    config: { digest: string; size: number; mediaType: string };
    layers: { digest: string; size: number; mediaType: string }[];
  };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as Record<string, unknown> & { rootfs: { diff_ids: string[] } };
  // an arm64 sibling: a config of its own and one more (uncompressed, tiny) layer
  const tarEntry = Buffer.alloc(1024); // an empty tar: two zero blocks
  const extra = put(tarEntry);
  const armConfig = put(
    JSON.stringify({ ...config, architecture: 'arm64', rootfs: { ...config.rootfs, diff_ids: [...config.rootfs.diff_ids, extra.digest] } }),
  );
  const armManifest = put(
    JSON.stringify({
      ...manifest,
      config: { ...manifest.config, ...armConfig },
      layers: [...manifest.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...extra }],
    }),
  );
  const multi = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: amd64.mediaType, digest: amd64.digest, size: amd64.size, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...armManifest, platform: { architecture: 'arm64', os: 'linux' } },
      ],
    }),
  );
  index.manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', ...multi, annotations: { 'org.opencontainers.image.ref.name': 'multi' } });
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
  return layout;
}

export interface Gate extends LabRegistry {
  /** the request whose `METHOD path` matches, after `pass` such requests went through, answers 500 */
  failNext: (pattern: RegExp, pass?: number) => void;
  /** upload Locations point at this origin instead (a registry that hands uploads to another host) */
  sendUploadsTo: (origin: string | undefined) => void;
  /** the next request whose `METHOD path` matches is never answered */
  stallNext: (pattern: RegExp) => void;
  /** blob downloads answer 307 to this origin (a registry whose blobs live on a CDN, as Docker Hub's do) */
  redirectBlobsTo: (origin: string | undefined) => void;
}

/**
 * A registry behind HTTP Basic auth (as a Nexus or a distribution with
 * htpasswd answers): without the login every request gets 401 and a Basic
 * challenge; with it, requests pass to `target`.
 */
export async function startBasicGate(target: string, user: string, password: string): Promise<Gate> {
  let fail: { pattern: RegExp; pass: number } | undefined;
  let uploadsTo: string | undefined;
  let stall: RegExp | undefined;
  let blobsAt: string | undefined;
  const want = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const lab = await front((req, res, seen) => {
    const line = `${req.method} ${req.url}`;
    if (req.headers.authorization !== want) {
      seen.push(`${line} 401`);
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="lab"', 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (blobsAt && req.method === 'GET' && /^\/v2\/.+\/blobs\/sha256:[a-f0-9]{64}$/.test(req.url ?? '')) {
      seen.push(`${line} 307`);
      req.resume();
      res.writeHead(307, { location: `${blobsAt}${req.url}` });
      return res.end();
    }
    if (stall?.test(line)) {
      stall = undefined;
      seen.push(`${line} stalled`);
      return; // a black hole: the client's own deadline or signal must end it
    }
    if (fail?.pattern.test(line) && fail.pass-- <= 0) {
      fail = undefined;
      seen.push(`${line} 500`);
      req.resume();
      res.writeHead(500);
      return res.end('injected failure');
    }
    forward(
      req,
      res,
      target,
      req.url ?? '/',
      (status) => seen.push(`${line} ${status}`),
      (headers) => {
        // the registry's own Location points at itself: keep the client on the gate (or send uploads elsewhere)
        if (typeof headers.location === 'string') headers.location = headers.location.replace(`http://${target}`, '');
        if (uploadsTo && typeof headers.location === 'string' && headers.location.includes('/blobs/uploads/')) {
          const at = new URL(headers.location, `http://${target}`);
          headers.location = `${uploadsTo}${at.pathname}${at.search}`;
        }
        return headers;
      },
    );
  });
  return {
    ...lab,
    failNext: (pattern, pass = 0) => {
      fail = { pattern, pass };
    },
    sendUploadsTo: (origin) => {
      uploadsTo = origin;
    },
    redirectBlobsTo: (origin) => {
      blobsAt = origin;
    },
    stallNext: (pattern) => {
      stall = pattern;
    },
  };
}

/** A CDN in front of `target`'s blobs: serves them to anyone, and keeps the Authorization header each request came with. */
export async function startCdn(target: string): Promise<LabRegistry & { authorizations: () => (string | undefined)[] }> {
  const authorizations: (string | undefined)[] = [];
  const lab = await front((req, res, seen) => {
    authorizations.push(req.headers.authorization);
    forward(req, res, target, req.url ?? '/', (status) => seen.push(`${req.method} ${req.url} ${status}`));
  });
  return { ...lab, authorizations: () => authorizations };
}
