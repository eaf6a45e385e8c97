/**
 * A PyTorch wheel index on 127.0.0.1, in the two shapes wheels come from:
 *
 * - `/simple/torch/` — a PyPI-like mirror: PyPI's own builds, no local
 *   version, relative `../../packages/…` hrefs in HTML and absolute URLs in
 *   JSON, `data-requires-python`, a yanked release;
 * - `/whl/cu130/torch/` — download.pytorch.org: `+cu130` local versions,
 *   `/whl/cu130/torch-2.14.0%2Bcu130-…` hrefs, the `+` in the link text;
 *   `/mirror/cu130/torch/` — a mirror of it with relative `../torch-…` hrefs.
 *
 * Every listing page honours Accept: PEP 691 JSON when it is asked for (and
 * `json` is on), PEP 503 HTML otherwise; gzip when asked and `gzip` is on.
 * And it misbehaves on purpose: `/login/` (200 text/html with no links),
 * `/missing/` (404), `/huge/` (a page larger than any cap), `/slow/` (headers
 * only after `slowMs`), `/moved/` (302 to `/mirror/cu130/`), `/flat/`
 * (link texts written `%2B`, or empty). `/big/torch/` lists `bigFiles`
 * generated wheels. Every request is logged.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll } from 'vitest';

export interface Listed {
  filename: string;
  /** true, or the reason */
  yanked?: true | string;
  requiresPython?: string;
}

export interface TorchIndexOptions {
  /** wheels on /big/torch/ (default 2000) */
  bigFiles?: number;
  /** bytes of /huge/torch/ (default 17 MiB) */
  hugeBytes?: number;
  /** how long /slow/torch/ waits before its headers (default 10 s) */
  slowMs?: number;
}

export interface TorchIndexServer {
  url: string;
  /** method, path and Accept of every request, in order */
  log: { method: string; path: string; accept: string }[];
  /** requests whose path starts with `prefix` */
  count(prefix?: string): number;
  /** serve PEP 691 JSON when asked (default true); false: HTML whatever the Accept */
  json: boolean;
  /** gzip pages when the client accepts it (default false) */
  gzip: boolean;
  close(): Promise<void>;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `cp313t` → the tags a free-threaded wheel is written with (`cp313-cp313t`) */
const tags = (py: string) => (py.endsWith('t') ? `${py.slice(0, -1)}-${py}` : `${py}-${py}`);

/** PyPI's torch: Linux x86_64/aarch64 builds with no local version, macOS (abi `none`), Windows. */
export const PYPI_FILES: Listed[] = [
  ...['2.13.0', '2.13.1', '2.14.0'].flatMap((v) =>
    ['cp310', 'cp311', 'cp312', 'cp313', 'cp313t', 'cp314', 'cp314t']
      .flatMap((py) => [
        `torch-${v}-${tags(py)}-manylinux_2_28_x86_64.whl`,
        `torch-${v}-${tags(py)}-manylinux_2_28_aarch64.whl`,
        ...(py.endsWith('t') ? [] : [`torch-${v}-${py}-none-macosx_11_0_arm64.whl`, `torch-${v}-${py}-${py}-win_amd64.whl`]),
      ])
      .map((filename) => ({
        filename,
        requiresPython: '>=3.10',
        ...(v === '2.13.1' ? { yanked: 'broken CUDA libraries' } : {}),
      })),
  ),
  // a yanked file with no reason, a build tag, and names the parser must leave out
  { filename: 'torch-2.12.0-1-cp311-cp311-manylinux_2_28_x86_64.whl', yanked: true },
  { filename: 'torch-2.14.0.tar.gz' },
  { filename: 'torch-2.14.0-cp311-broken.whl' },
  { filename: 'torchvision-0.29.0-cp311-cp311-manylinux_2_28_x86_64.whl' },
];

/** download.pytorch.org/whl/cu130: `+cu130` builds, Linux x86_64/aarch64 and Windows. */
export const CU130_FILES: Listed[] = ['2.13.0', '2.14.0'].flatMap((v) =>
  ['cp310', 'cp311', 'cp312', 'cp313', 'cp313t', 'cp314', 'cp314t']
    .flatMap((py) => [
      `torch-${v}+cu130-${tags(py)}-manylinux_2_28_x86_64.whl`,
      `torch-${v}+cu130-${tags(py)}-manylinux_2_28_aarch64.whl`,
      ...(py.endsWith('t') ? [] : [`torch-${v}+cu130-${py}-${py}-win_amd64.whl`]),
    ])
    .map((filename) => ({ filename })),
);

/** `n` wheels like download.pytorch.org/whl/torch/ (every variant on one page), oldest first. */
export function bigListing(n: number): Listed[] {
  const variants = ['cpu', 'cu118', 'cu126', 'cu128', 'cu130', 'rocm6.4'];
  const pythons = ['cp310', 'cp311', 'cp312', 'cp313', 'cp313t'];
  const plats = ['manylinux_2_28_x86_64', 'manylinux_2_28_aarch64', 'win_amd64'];
  const out: Listed[] = [];
  for (let i = 0; out.length < n; i++) {
    const v = `2.${Math.floor(i / (variants.length * pythons.length * plats.length))}.${i % 2}`;
    const variant = variants[Math.floor(i / (pythons.length * plats.length)) % variants.length]!;
    const py = pythons[Math.floor(i / plats.length) % pythons.length]!;
    out.push({ filename: `torch-${v}+${variant}-${tags(py)}-${plats[i % plats.length]}.whl` });
  }
  return out;
}

interface Page {
  files: Listed[];
  href: (f: Listed, origin: string) => string;
  jsonUrl: (f: Listed, origin: string) => string;
  text?: (f: Listed) => string;
}

const pypiPath = (f: Listed) => `packages/${sha(f.filename).slice(0, 2)}/${sha(f.filename).slice(2, 4)}/${encodeURIComponent(f.filename)}`;
const pytorchHref = (variant: string) => (f: Listed) => `/whl/${variant}/${encodeURIComponent(f.filename)}`;

function html(files: Listed[], origin: string, page: Page): string {
  const links = files.map((f) => {
    const attrs = [
      `href="${escapeHtml(page.href(f, origin))}#sha256=${sha(f.filename)}"`,
      ...(f.requiresPython ? [`data-requires-python="${escapeHtml(f.requiresPython)}"`] : []),
      ...(f.yanked ? [f.yanked === true ? 'data-yanked' : `data-yanked="${escapeHtml(f.yanked)}"`] : []),
    ];
    return `    <a ${attrs.join(' ')}>${escapeHtml(page.text ? page.text(f) : f.filename)}</a><br/>`;
  });
  return `<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.1"><title>Links for torch</title></head>\n  <body>\n    <h1>Links for torch</h1>\n${links.join('\n')}\n  </body>\n</html>\n`;
}

function json(files: Listed[], origin: string, page: Page): string {
  return JSON.stringify({
    meta: { 'api-version': '1.1' },
    name: 'torch',
    files: files.map((f) => ({
      filename: f.filename,
      url: page.jsonUrl(f, origin),
      hashes: { sha256: sha(f.filename) },
      'requires-python': f.requiresPython ?? null,
      yanked: f.yanked ?? false,
      size: 1000,
      'upload-time': '2026-09-01T00:00:00.000000Z',
    })),
    versions: [],
  });
}

export async function startTorchIndex(options: TorchIndexOptions = {}): Promise<TorchIndexServer> {
  const big = bigListing(options.bigFiles ?? 2000);
  const pages: Record<string, Page> = {
    '/simple/torch/': { files: PYPI_FILES, href: (f) => `../../${pypiPath(f)}`, jsonUrl: (f, o) => `${o}/${pypiPath(f)}` },
    '/whl/cu130/torch/': { files: CU130_FILES, href: pytorchHref('cu130'), jsonUrl: (f, o) => o + pytorchHref('cu130')(f) },
    '/mirror/cu130/torch/': {
      files: CU130_FILES,
      href: (f) => `../${encodeURIComponent(f.filename)}`,
      jsonUrl: (f, o) => `${o}/mirror/cu130/${encodeURIComponent(f.filename)}`,
    },
    // link texts a flat listing writes: the `+` still encoded, or no text at all (the href names the file)
    '/flat/torch/': {
      files: CU130_FILES.slice(0, 4),
      href: pytorchHref('cu130'),
      jsonUrl: (f, o) => o + pytorchHref('cu130')(f),
      text: (f) => (f.filename.includes('aarch64') ? '' : f.filename.replace('+', '%2B')),
    },
    '/big/torch/': { files: big, href: pytorchHref('torch'), jsonUrl: (f, o) => o + pytorchHref('torch')(f) },
  };
  const log: TorchIndexServer['log'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const state = { json: true, gzip: false };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const accept = String(req.headers.accept ?? '');
    log.push({ method: req.method ?? 'GET', path, accept });
    res.on('error', () => {});
    const origin = `http://${req.headers.host}`;
    const page = pages[path];
    if (page) {
      const asJson = state.json && accept.includes('application/vnd.pypi.simple.v1+json');
      let body: Buffer = Buffer.from(asJson ? json(page.files, origin, page) : html(page.files, origin, page));
      const headers: Record<string, string | number> = {
        'content-type': asJson ? 'application/vnd.pypi.simple.v1+json' : 'text/html; charset=utf-8',
        vary: 'Accept, Accept-Encoding',
      };
      if (state.gzip && /gzip/.test(String(req.headers['accept-encoding'] ?? ''))) {
        body = gzipSync(body);
        headers['content-encoding'] = 'gzip';
      }
      res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
    } else if (path === '/login/torch/') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<html><body><form action="/auth" method="post"><input name="user"><input type="password" name="pass"></form></body></html>');
    } else if (path === '/moved/torch/') {
      res.writeHead(302, { location: '/mirror/cu130/torch/' }).end();
    } else if (path === '/huge/torch/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      const chunk = Buffer.from(html(CU130_FILES, origin, pages['/whl/cu130/torch/']!).repeat(8));
      let left = options.hugeBytes ?? 17 * 1024 * 1024;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const part = chunk.subarray(0, Math.min(chunk.length, left));
          left -= part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    } else if (path === '/slow/torch/') {
      const t = setTimeout(() => {
        timers.delete(t);
        res.writeHead(200, { 'content-type': 'text/html' }).end(html(CU130_FILES, origin, pages['/whl/cu130/torch/']!));
      }, options.slowMs ?? 10_000);
      timers.add(t);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  afterAll(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    count: (prefix = '/') => log.filter((r) => r.path.startsWith(prefix)).length,
    get json() {
      return state.json;
    },
    set json(v: boolean) {
      state.json = v;
    },
    get gzip() {
      return state.gzip;
    },
    set gzip(v: boolean) {
      state.gzip = v;
    },
    close,
  };
}

/** A PyPI-like index on 127.0.0.1 serving `projects` (name → wheel file names) as PEP 691 JSON; 404 for any other. */
export async function startPypiLike(projects: Record<string, string[]>): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/simple\/([a-z0-9-]+)\/$/.exec(req.url ?? '');
    const files = m ? projects[m[1]!] : undefined;
    if (!files) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end(
      JSON.stringify({
        meta: { 'api-version': '1.1' },
        name: m![1],
        files: files.map((filename) => ({ filename, url: `/packages/${encodeURIComponent(filename)}`, hashes: { sha256: sha(filename) } })),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () => new Promise<void>((r) => server.close(() => r()));
  afterAll(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`, requests, close };
}

/** PyPI's Linux x86_64 builds of `project` at `version` for these CPython tags. */
export const linuxWheels = (project: string, version: string, pys: string[]) => pys.map((py) => `${project}-${version}-${tags(py)}-manylinux_2_28_x86_64.whl`);
