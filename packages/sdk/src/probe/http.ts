/**
 * The HTTP client every probe uses. undici with the user's proxy settings
 * (EnvHttpProxyAgent reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY), our
 * User-Agent, a hard AbortSignal (the selection budget) and a soft `stop`
 * signal (end of a measuring phase: keep what arrived), a cap on the bytes
 * read from every body, and redirects followed here — a few hops, never from
 * https down to http — so a report can say where a mirror sent us.
 *
 * Timing is what a ranking needs: when the final response's headers arrived
 * (the first byte) and when the last body byte did.
 */
import { gunzipSync, inflateSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { USER_AGENT } from '../version.js';

/**
 * undici, loaded on first use: a CLI or Action run that makes no request
 * (a named mirror, offline) never pays for it.
 */
export async function loadUndici(): Promise<typeof import('undici')> {
  const mod = await import('undici');
  // undici is CommonJS: a bundler's namespace may hold it under `default`
  return (mod as unknown as { default?: typeof mod }).default ?? mod;
}

/** A dispatcher for one selection; the caller destroys it when done (no socket outlives a selection). */
export async function createProbeDispatcher(): Promise<Dispatcher> {
  const { EnvHttpProxyAgent } = await loadUndici();
  return new EnvHttpProxyAgent({
    connect: { timeout: 10_000 },
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
    keepAliveTimeout: 4_000,
  });
}

export interface GetOptions {
  dispatcher: Dispatcher;
  /** aborts the request: the promise rejects */
  signal: AbortSignal;
  /** ends the body early: the promise resolves with what arrived (`complete: false`) */
  stop?: AbortSignal;
  headers?: Record<string, string>;
  /** read at most this many body bytes off the wire, then close */
  maxBytes: number;
  allowHttp?: boolean;
  maxRedirects?: number;
}

export interface GetResult {
  /** the URL that answered, after redirects */
  url: string;
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

export class ProbeHttpError extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function httpGet(input: string, options: GetOptions): Promise<GetResult> {
  const t0 = performance.now();
  // before the headers, `stop` aborts like `signal`; after them it only ends the body
  const signal = options.stop ? AbortSignal.any([options.signal, options.stop]) : options.signal;
  let url = input;
  const { request } = await loadUndici();
  for (let hop = 0; ; hop++) {
    const res = await request(url, {
      dispatcher: options.dispatcher,
      method: 'GET',
      signal,
      headers: { 'user-agent': USER_AGENT, ...options.headers },
    });
    const headers = flatHeaders(res.headers);
    if (REDIRECTS.has(res.statusCode) && headers.location) {
      res.body.destroy();
      if (hop >= (options.maxRedirects ?? 3)) throw new ProbeHttpError(`more than ${options.maxRedirects ?? 3} redirects`);
      const next = new URL(headers.location, url);
      if (next.protocol === 'http:' && new URL(url).protocol === 'https:' && !options.allowHttp) {
        throw new ProbeHttpError(`redirects to plain http (${next.host})`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new ProbeHttpError(`redirects to ${next.protocol}`);
      url = next.href;
      continue;
    }
    const ttfbMs = performance.now() - t0;
    const { raw, complete } = await readCapped(res.body, options.maxBytes, options.stop);
    const totalMs = performance.now() - t0;
    return {
      url, status: res.statusCode, headers, ttfbMs, totalMs,
      body: decode(raw, headers['content-encoding'], complete), wireBytes: raw.length, complete,
    };
  }
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number, stop?: AbortSignal) {
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = true;
  const onStop = () => body.destroy();
  if (stop?.aborted) return { raw: Buffer.alloc(0), complete: (body.destroy(), false) };
  stop?.addEventListener('abort', onStop, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) {
        complete = false;
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
  return { raw: Buffer.concat(chunks).subarray(0, maxBytes), complete };
}

function decode(raw: Buffer, encoding: string | undefined, complete: boolean): Buffer {
  const enc = encoding?.trim().toLowerCase();
  if (!enc || enc === 'identity' || raw.length === 0) return raw;
  // a truncated stream still yields its decodable prefix
  const opts = complete ? {} : { finishFlush: zlib.Z_SYNC_FLUSH };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(raw, opts);
    if (enc === 'deflate') return inflateSync(raw, opts);
    if (enc === 'br') return brotliDecompressSync(raw, complete ? {} : { finishFlush: zlib.BROTLI_OPERATION_FLUSH });
  } catch (e) {
    throw new ProbeHttpError(`body does not decode as ${enc}: ${(e as Error).message}`);
  }
  throw new ProbeHttpError(`unsupported content-encoding ${enc}`);
}

/** A one-line reason for a failed request, for reports ("refused", "timed out", "TLS: …"). */
export function describeHttpError(e: unknown): string {
  const err = e as { code?: string; message?: string; name?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code;
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'connection reset';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host not found (DNS)';
    case 'UND_ERR_CONNECT_TIMEOUT': return 'connect timed out';
    case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': return 'timed out';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    case 'CERT_HAS_EXPIRED': case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS: ${code}`;
  }
  if (err.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return 'timed out';
  return (err.message ?? String(e)).split('\n')[0] ?? 'request failed';
}
