/**
 * A loopback stand-in of the GitHub Actions cache service, protocol v1 (what
 * @actions/cache speaks when ACTIONS_CACHE_URL is set and the v2 flag is
 * not): look up by keys and version (exact key first, then the newest entry
 * with a key prefix), reserve, upload chunks (PATCH with Content-Range),
 * commit, and serve the archive for download. Enough to run the Action's
 * `actions` cache backend for real, here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Entry {
  id: number;
  key: string;
  version: string;
  chunks: { start: number; data: Buffer }[];
  archive?: Buffer;
  created: number;
}

export interface CacheService {
  url: string;
  entries: () => { key: string; version: string; size: number }[];
  requests: string[];
  close: () => Promise<void>;
}

export async function startCacheService(): Promise<CacheService> {
  const entries: Entry[] = [];
  const requests: string[] = [];
  let nextId = 1;
  let base = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url!, 'http://x');
      requests.push(`${req.method} ${url.pathname}`);
      const json = (status: number, value?: unknown) => {
        res.writeHead(status, value === undefined ? {} : { 'content-type': 'application/json' });
        res.end(value === undefined ? undefined : JSON.stringify(value));
      };
      const p = url.pathname.replace(/^\/_apis\/artifactcache\//, '');
      if (req.method === 'GET' && p === 'cache') {
        const keys = (url.searchParams.get('keys') ?? '').split(',');
        const version = url.searchParams.get('version');
        const done = entries.filter((e) => e.archive && e.version === version).sort((a, b) => b.created - a.created);
        for (const k of keys) {
          const hit = done.find((e) => e.key === k) ?? done.find((e) => e.key.startsWith(k));
          if (hit) return json(200, { cacheKey: hit.key, scope: 'refs/heads/main', archiveLocation: `${base}/archive/${hit.id}` });
        }
        return json(204);
      }
      if (req.method === 'POST' && p === 'caches') {
        const { key, version } = JSON.parse(body.toString());
        if (entries.some((e) => e.key === key && e.version === version)) return json(409, { message: `Cache already exists: ${key}` });
        const e: Entry = { id: nextId++, key, version, chunks: [], created: Date.now() };
        entries.push(e);
        return json(201, { cacheId: e.id });
      }
      const m = /^caches\/(\d+)$/.exec(p);
      const entry = m && entries.find((e) => e.id === Number(m[1]));
      if (entry && req.method === 'PATCH') {
        const start = Number(/^bytes (\d+)-/.exec(req.headers['content-range'] ?? '')?.[1] ?? 0);
        entry.chunks.push({ start, data: body });
        return json(204);
      }
      if (entry && req.method === 'POST') {
        entry.archive = Buffer.concat(entry.chunks.sort((a, b) => a.start - b.start).map((c) => c.data));
        entry.created = Date.now();
        return json(204);
      }
      const a = /^\/archive\/(\d+)$/.exec(url.pathname);
      const archived = a && entries.find((e) => e.id === Number(a[1]))?.archive;
      if (archived) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': archived.length });
        return res.end(archived);
      }
      json(404, { message: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/`,
    entries: () => entries.filter((e) => e.archive).map((e) => ({ key: e.key, version: e.version, size: e.archive!.length })),
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
