/**
 * A loopback stand-in of the GitHub Actions cache service, protocol v2 (what
 * @actions/cache speaks on github.com when ACTIONS_CACHE_SERVICE_V2 is set):
 * Twirp JSON at `/twirp/github.actions.results.api.v1.CacheService/<Method>`
 * — CreateCacheEntry (a signed upload URL; 409 `already_exists` for a key
 * and version already there), FinalizeCacheEntryUpload, GetCacheEntryDownloadURL
 * (the primary key exactly, then each restore key as a prefix, newest first)
 * — and a blob store the Azure SDK uploads to (Put Blob, or Put Block + Put
 * Block List) and the cache client downloads from. Bearer token required.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Entry {
  id: number;
  key: string;
  version: string;
  blob?: Buffer;
  blocks: Map<string, Buffer>;
  finalized: boolean;
  created: number;
}

export interface CacheServiceV2 {
  /** ACTIONS_RESULTS_URL */
  url: string;
  entries: () => { key: string; version: string; size: number }[];
  /** `METHOD path` of every request (Twirp method names, blob PUT/GET) */
  requests: string[];
  close: () => Promise<void>;
}

const SERVICE = '/twirp/github.actions.results.api.v1.CacheService/';

export async function startCacheServiceV2(token = 'test-token'): Promise<CacheServiceV2> {
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
      requests.push(`${req.method} ${url.pathname}${url.searchParams.get('comp') ? `?comp=${url.searchParams.get('comp')}` : ''}`);
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      const twirpError = (status: number, code: string, msg: string) => json(status, { code, msg });

      if (url.pathname.startsWith(SERVICE)) {
        if (req.headers.authorization !== `Bearer ${token}`) return twirpError(401, 'unauthenticated', 'no valid token');
        const method = url.pathname.slice(SERVICE.length);
        // the client sends proto field names (useProtoFieldName); Twirp answers with them too
        const r = JSON.parse(body.toString() || '{}') as { key?: string; version?: string; restore_keys?: string[]; size_bytes?: string };
        if (method === 'CreateCacheEntry') {
          if (entries.some((e) => e.key === r.key && e.version === r.version))
            return twirpError(409, 'already_exists', 'cache entry with the same key, version, and scope already exists');
          const e: Entry = { id: nextId++, key: r.key!, version: r.version!, blocks: new Map(), finalized: false, created: Date.now() };
          entries.push(e);
          return json(200, { ok: true, signed_upload_url: `${base}/blob/cache-${e.id}?sig=upload` });
        }
        if (method === 'FinalizeCacheEntryUpload') {
          const e = entries.find((x) => x.key === r.key && x.version === r.version && !x.finalized);
          if (!e?.blob || String(e.blob.length) !== String(r.size_bytes)) return json(200, { ok: false, entry_id: '0', message: 'no upload of that size' });
          e.finalized = true;
          e.created = Date.now();
          return json(200, { ok: true, entry_id: String(e.id) });
        }
        if (method === 'GetCacheEntryDownloadURL') {
          const done = entries.filter((e) => e.finalized && e.version === r.version).sort((a, b) => b.created - a.created);
          const hit = done.find((e) => e.key === r.key) ?? (r.restore_keys ?? []).map((k) => done.find((e) => e.key.startsWith(k))).find(Boolean);
          return json(
            200,
            hit
              ? { ok: true, signed_download_url: `${base}/blob/cache-${hit.id}?sig=download`, matched_key: hit.key }
              : { ok: false, signed_download_url: '', matched_key: '' },
          );
        }
        return twirpError(404, 'bad_route', `no method ${method}`);
      }

      // the blob store: /blob/cache-<id>
      const m = /^\/blob\/cache-(\d+)$/.exec(url.pathname);
      const e = m && entries.find((x) => x.id === Number(m[1]));
      if (!e) return res.writeHead(404).end();
      const ok = (status: number) =>
        res.writeHead(status, { 'x-ms-request-id': String(requests.length), 'x-ms-version': '2025-01-05', etag: `"${e.id}"` }).end();
      if (req.method === 'PUT' && url.searchParams.get('comp') === 'block') {
        e.blocks.set(url.searchParams.get('blockid')!, body);
        return ok(201);
      }
      if (req.method === 'PUT' && url.searchParams.get('comp') === 'blocklist') {
        const ids = [...body.toString().matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)</g)].map((x) => x[1]!);
        e.blob = Buffer.concat(ids.map((id) => e.blocks.get(id) ?? Buffer.alloc(0)));
        return ok(201);
      }
      if (req.method === 'PUT') {
        e.blob = body;
        return ok(201);
      }
      if ((req.method === 'GET' || req.method === 'HEAD') && e.blob && e.finalized) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': e.blob.length });
        return res.end(req.method === 'GET' ? e.blob : undefined);
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/`,
    entries: () => entries.filter((e) => e.finalized).map((e) => ({ key: e.key, version: e.version, size: e.blob!.length })),
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
