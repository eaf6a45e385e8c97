/**
 * The HTTP client every network call of the SDK makes — mirror probes and the
 * registry client alike — built for servers that misbehave:
 *
 * - **One deadline.** A dispatcher is made per operation with its deadline
 *   signal: every DNS lookup (dns.ts), connect, TLS handshake, proxy CONNECT,
 *   header and body read ends with it, and when it fires every socket the
 *   dispatcher opened is destroyed — nothing keeps the process alive after
 *   the answer. (A SOCKS proxy is connected by undici's own connector: its
 *   sockets end with the request's signal and the dispatcher's destruction.)
 * - **Redirects done here**, a few hops, each validated like the first:
 *   never from https down to http unless allowed, only http(s), loops named,
 *   credentials (authorization, cookie) dropped when the origin changes; the
 *   chain is reported.
 * - **Bounded**: bytes read off the wire (`maxBytes`), bytes after
 *   decompression (`maxInflated`: a gzip bomb is "response too large"),
 *   response header size (undici's `maxHeaderSize`).
 * - **Errors in one line** that name the proxy when one was in the way
 *   (`describeHttpError`).
 *
 * Timing is what a ranking needs: when the final response's headers arrived
 * (the first byte) and when the last body byte did.
 */
import { isIP, type Socket } from 'node:net';
import { gunzipSync, inflateSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import type { buildConnector, Dispatcher } from 'undici';
import { USER_AGENT } from '../version.js';
import { deadlineLookup } from './dns.js';
import { proxyFor, readProxyEnv, viaProxy, type ProxySettings } from './proxy.js';
import { untrusted } from './untrusted.js';

/**
 * undici, loaded on first use: a CLI or Action run that makes no request
 * (a named mirror, offline) never pays for it.
 */
export async function loadUndici(): Promise<typeof import('undici')> {
  const mod = await import('undici');
  // undici is CommonJS: a bundler's namespace may hold it under `default`
  return (mod as unknown as { default?: typeof mod }).default ?? mod;
}

const MiB = 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;

export interface DispatcherOptions {
  /** when it aborts, lookups are cancelled and every socket is destroyed */
  deadline: AbortSignal;
  /** per connect / header wait / body gap */
  timeoutMs: number;
  /** default: read (and checked) from the environment */
  proxies?: ProxySettings;
  /** told each direct connection's TCP handshake time (one round trip to `origin`) */
  onConnect?: (origin: string, ms: number) => void;
}

/**
 * A dispatcher for one operation that honours the proxy environment; the
 * caller destroys it when done. Throws BAD_PROXY for a malformed proxy variable.
 */
export async function createDispatcher(options: DispatcherOptions): Promise<Dispatcher> {
  const proxies = options.proxies ?? readProxyEnv();
  const { EnvHttpProxyAgent, Pool, buildConnector } = await loadUndici();
  const { deadline, timeoutMs } = options;
  const base = buildConnector({ timeout: timeoutMs, lookup: deadlineLookup(deadline) } as buildConnector.BuildOptions);
  const sockets = new Set<Socket>();
  const connect: buildConnector.connector = (opts, callback) => {
    if (deadline.aborted) return callback(Object.assign(new Error('deadline passed'), { code: 'UND_ERR_ABORTED' }), null);
    let started = performance.now();
    const socket = (base as unknown as (o: typeof opts, cb: typeof callback) => Socket | undefined)(opts, callback);
    if (socket) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // a TCP handshake is one round trip, timed from the end of the name lookup (a tunnel's socket is
      // already connected: no event, no sample)
      socket.once('lookup', () => {
        started = performance.now();
      });
      const { onConnect } = options;
      if (onConnect) {
        socket.once('connect', () => {
          const host = isIP(opts.hostname) === 6 ? `[${opts.hostname}]` : opts.hostname;
          try {
            onConnect(originOf(`${opts.protocol}//${host}:${opts.port || 0}`), performance.now() - started);
          } catch {
            // a host this client cannot name as an origin: no round-trip sample, nothing else
          }
        });
      }
    }
  };
  deadline.addEventListener(
    'abort',
    () => {
      for (const s of sockets) s.destroy();
    },
    { once: true },
  );
  const timeouts = { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, maxHeaderSize: MAX_HEADER_BYTES };
  return new EnvHttpProxyAgent({
    httpProxy: proxies.http ?? '',
    httpsProxy: proxies.https ?? '',
    noProxy: proxies.noProxy,
    connect,
    keepAliveTimeout: 4_000,
    ...timeouts,
    // the proxy's own connection (the CONNECT request) gets the same connector and timeouts
    clientFactory: (origin: URL, opts: object) => new Pool(origin, { ...opts, connect, ...timeouts }),
  } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]);
}

/** `scheme://host:port` with the port always written, to match a connection to a URL */
export function originOf(url: string): string {
  const u = new URL(url);
  const port = u.port && u.port !== '0' ? u.port : u.protocol === 'https:' ? '443' : '80';
  return `${u.protocol}//${u.hostname}:${port}`;
}

export interface RequestOptions {
  dispatcher: Dispatcher;
  /** aborts the request: the promise rejects */
  signal: AbortSignal;
  /** ends the body early: the promise resolves with what arrived (`complete: false`) */
  stop?: AbortSignal;
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** read at most this many body bytes off the wire, then close */
  maxBytes: number;
  /** the whole body is needed: more than maxBytes is an error ("response too large") */
  whole?: boolean;
  /** at most this many bytes after decompression (default 16 MiB) */
  maxInflated?: number;
  /** called with every body chunk as it arrives (a throughput sample's time series) */
  onChunk?: (bytes: number, atMs: number) => void;
  /** count the body but keep none of it (`body` is empty) */
  discard?: boolean;
  allowHttp?: boolean;
  maxRedirects?: number;
}

/** A finished request: where it ended, the status and headers, the (bounded, decoded) body, and its timing. */
export interface HttpResult {
  /** the URL that answered, after redirects */
  url: string;
  /** every URL the request was sent to, the first one included */
  chain: string[];
  status: number;
  headers: Record<string, string>;
  /** ms from the first request to the final response's headers */
  ttfbMs: number;
  /** ms from the first request to the last body byte read */
  totalMs: number;
  /** the body, decompressed (gzip/deflate/br) */
  body: Buffer;
  /** bytes read off the wire */
  wireBytes: number;
  /** false when maxBytes or `stop` ended the read before the body's end */
  complete: boolean;
}

/** A failure whose message is already the one-line reason. */
export class HttpError extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** headers that carry credentials: never sent to another origin */
const CREDENTIALS = new Set(['authorization', 'cookie', 'proxy-authorization']);

export async function httpRequest(input: string, options: RequestOptions): Promise<HttpResult> {
  const t0 = performance.now();
  // before the headers, `stop` aborts like `signal`; after them it only ends the body
  const signal = options.stop ? AbortSignal.any([options.signal, options.stop]) : options.signal;
  const maxRedirects = options.maxRedirects ?? 5;
  const { request } = await loadUndici();
  let headers = { 'user-agent': USER_AGENT, ...options.headers };
  if (new URL(input).protocol !== 'https:' && !options.allowHttp)
    throw new HttpError(`refusing plain http (${new URL(input).host}): only https unless http is allowed`);
  const chain = [input];
  for (;;) {
    const url = chain[chain.length - 1]!;
    const res = await request(url, { dispatcher: options.dispatcher, method: options.method ?? 'GET', signal, headers });
    const resHeaders = flatHeaders(res.headers);
    if (REDIRECTS.has(res.statusCode) && resHeaders.location !== undefined) {
      res.body.on('error', () => {});
      res.body.destroy();
      const next = nextHop(url, resHeaders.location, options.allowHttp);
      if (chain.includes(next)) throw new HttpError(`redirect loop (${[...chain, next].map(hostPath).join(' → ')})`);
      if (chain.length > maxRedirects) throw new HttpError(`more than ${maxRedirects} redirects (last to ${hostPath(next)})`);
      if (new URL(next).origin !== new URL(url).origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIALS.has(k.toLowerCase()))) as typeof headers;
      }
      chain.push(next);
      continue;
    }
    const ttfbMs = performance.now() - t0;
    const { raw, size, complete, truncated } = await readCapped(res.body, options, Number(resHeaders['content-length'] ?? NaN));
    if (truncated && options.whole) throw new HttpError(`response too large: over ${mib(options.maxBytes)} MiB`);
    const totalMs = performance.now() - t0;
    return {
      url,
      chain,
      status: res.statusCode,
      headers: resHeaders,
      ttfbMs,
      totalMs,
      body: decode(raw, resHeaders['content-encoding'], complete, options.maxInflated ?? 16 * MiB),
      wireBytes: size,
      complete,
    };
  }
}

const mib = (n: number) => Math.max(1, Math.round(n / MiB));
const hostPath = (u: string) => {
  const x = new URL(u);
  return untrusted(x.host + x.pathname, 80);
};

/**
 * Where a redirect from `from` to `location` goes, checked like the first URL: http(s) only, never
 * from https down to http unless allowed, no credentials in the URL; HttpError otherwise.
 */
export function nextHop(from: string, location: string, allowHttp?: boolean): string {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new HttpError(`redirects to a malformed URL (${untrusted(location, 80)})`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpError(`redirects to ${untrusted(next.protocol, 20)} (only http(s) is followed)`);
  if (next.protocol === 'http:' && new URL(from).protocol === 'https:' && !allowHttp) {
    throw new HttpError(`redirects to plain http (${next.host})`);
  }
  if (next.username || next.password) throw new HttpError(`redirects to a URL with credentials (${next.host})`);
  next.hash = '';
  return next.href;
}

/** Response headers as one lower-case string each (repeated ones joined with ', '). */
export function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readCapped(body: Dispatcher.ResponseData['body'], options: RequestOptions, declared: number) {
  const { maxBytes, stop, onChunk, discard } = options;
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = true;
  let truncated = false;
  body.on('error', () => {}); // a destroy below must not become an unhandled 'error'
  const onStop = () => body.destroy();
  if (stop?.aborted) return (body.destroy(), { raw: Buffer.alloc(0), size, complete: false, truncated });
  stop?.addEventListener('abort', onStop, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (!discard) chunks.push(chunk);
      size += chunk.length;
      onChunk?.(chunk.length, performance.now());
      if (size >= maxBytes) {
        // exactly maxBytes of a body declared that long is the whole body
        truncated = !(size === maxBytes && declared === maxBytes);
        complete = !truncated;
        body.destroy();
        break;
      }
    }
  } catch (e) {
    if (!stop?.aborted) throw e;
    complete = false;
  } finally {
    stop?.removeEventListener('abort', onStop);
  }
  return { raw: Buffer.concat(chunks).subarray(0, maxBytes), size: Math.min(size, maxBytes), complete, truncated };
}

function decode(raw: Buffer, encoding: string | undefined, complete: boolean, maxInflated: number): Buffer {
  const enc = encoding?.trim().toLowerCase();
  if (!enc || enc === 'identity' || raw.length === 0) return raw;
  // a truncated stream still yields its decodable prefix
  const opts = { maxOutputLength: maxInflated, ...(complete ? {} : { finishFlush: zlib.Z_SYNC_FLUSH }) };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(raw, opts);
    if (enc === 'deflate') return inflateSync(raw, opts);
    if (enc === 'br') return brotliDecompressSync(raw, { maxOutputLength: maxInflated, ...(complete ? {} : { finishFlush: zlib.BROTLI_OPERATION_FLUSH }) });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new HttpError(`response too large: inflates past ${mib(maxInflated)} MiB`);
    throw new HttpError(`body does not decode as ${enc}: ${untrusted((e as Error).message, 80)}`);
  }
  throw new HttpError(`unsupported content-encoding ${untrusted(enc, 40)}`);
}

const TLS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate not signed by a trusted CA',
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is for another host',
};

/**
 * A one-line reason for a failed request ("connection refused", "TLS:
 * certificate expired", "proxy host:port requires authentication (407)").
 * With the URL it names the proxy the request went through, if any.
 */
export function describeHttpError(e: unknown, url?: string, proxies?: ProxySettings): string {
  if (e instanceof HttpError) return e.message;
  const err = e as { code?: string; message?: string; name?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code;
  let settings: ProxySettings | undefined;
  try {
    settings = proxies ?? readProxyEnv();
  } catch {
    settings = undefined; // a malformed proxy variable is reported where it is read
  }
  const proxy = url && settings ? proxyFor(settings, url) : undefined;
  const proxyHost = proxy && new URL(proxy).host;
  const tunnel = /Proxy response \((\d+)\)/.exec(err.message ?? '');
  if (tunnel) {
    const who = proxyHost ? `proxy ${proxyHost}` : 'the proxy';
    return tunnel[1] === '407'
      ? `${who} requires authentication (407): put the credentials in the proxy URL (http://user:pass@host:port)`
      : `${who} refused the tunnel (HTTP ${tunnel[1]})`;
  }
  if (proxyHost) {
    if (code === 'ECONNREFUSED') return `proxy ${proxyHost} refused the connection`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `proxy ${proxyHost}: host not found (DNS)`;
    if (code === 'ETIMEOUT') return `proxy ${proxyHost}: no DNS answer for it`;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return `proxy ${proxyHost} closed the connection`;
  }
  const via = url && settings ? viaProxy(settings, url) : '';
  const tls = code ? TLS[code] : undefined;
  if (tls) return `TLS: ${tls} (${code})${via}`;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `connection reset${via}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ENODATA':
      return `host not found (DNS)${via}`;
    case 'ETIMEOUT':
      return `DNS: ${untrusted(err.message?.replace(/^DNS: /, '') ?? 'no answer', 120)}`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connect timed out${via}`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `timed out${via}`;
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'response headers too large';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable${via}`;
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_STATUS':
    case 'HPE_HEADER_OVERFLOW':
      return `not an HTTP response${via}`;
  }
  if (err.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return `timed out${via}`;
  return untrusted((err.message ?? String(e)).split('\n')[0] || 'request failed', 160) + via;
}
