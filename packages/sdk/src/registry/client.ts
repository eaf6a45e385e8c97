/**
 * An OCI distribution (Docker Registry HTTP API v2) client, just enough to
 * prove an image tag exists and get its digest: `HEAD` of the manifest with
 * the Accept headers of every manifest kind, tag listing with `Link`
 * pagination, and the generic `WWW-Authenticate: Bearer` dance with an
 * anonymous token (Docker Hub, GHCR, NGC and a distribution registry with
 * token auth all speak it). A token is reused for every later request to the
 * same repository until it expires, so a first tag check costs at most three
 * requests (HEAD → 401, token, HEAD) and a second one one. Every request has
 * a timeout and our User-Agent, goes through the proxy-aware dispatcher, and
 * is retried with backoff on 429, 5xx and connection errors — all of it
 * within one deadline per client (default 30 s, `deadlineMs`), after which
 * every socket and lookup is gone and the error says how to skip the check.
 * Bodies are bounded (token 64 KiB, tag pages 4 MiB, all tags 32 MiB); a tag
 * listing that stops early says so rather than looking complete.
 *
 * Registries are reached over https, except loopback hosts (as dockerd
 * treats them) or when http is allowed explicitly.
 */
import type { Dispatcher } from 'undici';
import { isTunaSetupError, TunaSetupError } from '../errors.js';
import { createDispatcher, describeHttpError, httpRequest, HttpError } from '../net/http.js';
import { proxyFor, readProxyEnv, type ProxySettings } from '../net/proxy.js';
import { untrusted } from '../net/untrusted.js';
import { isLoopbackHost } from '../net/loopback.js';
import { withRetries } from '../net/retry.js';
import { readToken, registryError, tokenRequest } from './token.js';

/** A parsed image reference: registry, repository (`library/` added for Docker Hub), tag, and an optional digest pin. */
export interface ImageRef {
  /** host[:port] as written; `docker.io` for Docker Hub */
  registry: string;
  repository: string;
  /** `latest` when none is written */
  tag: string;
  /** a pin (`@sha256:…`): what the manifest is asked for by, and must be */
  digest?: string;
}

const HUB = 'docker.io';
const HUB_API = 'registry-1.docker.io';

/**
 * `pytorch/pytorch:2.7.1-…` → docker.io / pytorch/pytorch / 2.7.1-…; `busybox` → library/busybox:latest;
 * `name[:tag]@sha256:<64 hex>` pinned to that digest.
 */
export function parseImageRef(ref: string): ImageRef {
  const whole = ref.trim();
  const at = whole.indexOf('@');
  const digest = at === -1 ? undefined : whole.slice(at + 1);
  const s = at === -1 ? whole : whole.slice(0, at);
  if (!s || /\s/.test(whole) || s.includes('@') || (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest))) {
    throw new TunaSetupError(
      'BAD_IMAGE',
      `'${ref}' is not an image reference`,
      'write it as [registry/]name[:tag][@sha256:<64 hex>], e.g. pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime',
    );
  }
  const slash = s.indexOf('/');
  const first = slash === -1 ? '' : s.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : HUB;
  let rest = hasRegistry ? s.slice(slash + 1) : s;
  const colon = rest.lastIndexOf(':');
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : 'latest';
  if (colon > rest.lastIndexOf('/')) rest = rest.slice(0, colon);
  const repository = registry === HUB && !rest.includes('/') ? `library/${rest}` : rest;
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repository) || !/^[\w][\w.-]{0,127}$/.test(tag)) {
    throw new TunaSetupError(
      'BAD_IMAGE',
      `'${ref}' is not a valid image reference`,
      'names are lower-case [a-z0-9._-] path parts; tags are up to 128 of [A-Za-z0-9_.-]',
    );
  }
  return { registry, repository, tag, ...(digest ? { digest } : {}) };
}

/** What a manifest request names, for its path: the pin (hex and `sha256:`, checked), else the tag. */
const manifestRef = (ref: ImageRef) => ref.digest ?? encodeURIComponent(ref.tag);

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Timeouts, retries and transport for a RegistryClient; `allowHttp` reaches non-loopback registries over plain http. */
export interface RegistryClientOptions {
  dispatcher?: Dispatcher;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** for everything this client does, from its first request (default 30 s) */
  deadlineMs?: number;
  /** attempts per request on 429/5xx/connection errors (default 3) */
  attempts?: number;
  /** first backoff, doubled per retry (default 250 ms) */
  backoffMs?: number;
  allowHttp?: boolean;
  /** hosts (`host[:port]`) reached over plain http: registry mirrors the user named with http:// */
  httpHosts?: readonly string[];
}

/** A parsed `WWW-Authenticate` header: the scheme (lower-case) and its parameters (realm, service, scope…). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"` */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g))
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1]!.toLowerCase(), params };
}

interface Token {
  value: string;
  expires: number;
}

/** A repository's tags as far as the listing was read. */
export interface TagList {
  tags: string[];
  /** false when the listing was cut short (size or time): a missing tag may still exist */
  complete: boolean;
  /** why it stopped early */
  stopped?: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const DEADLINE_MS = 30_000;
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
const OFFLINE_HINT = 'check the network and the proxy (HTTPS_PROXY), or skip the registry check: resolve offline ({offline=true}, TUNA_SETUP_OFFLINE=1)';

/**
 * A registry API v2 client for tag checks — manifest digests and tag listings — with anonymous Bearer tokens, retries
 * and one deadline per client (default 30 s); `close()` frees its connections.
 */
export class RegistryClient {
  private dispatcher?: Promise<Dispatcher>;
  private readonly ownDispatcher: boolean;
  private readonly tokens = new Map<string, Token>();
  private readonly deadline = new AbortController();
  private deadlineTimer?: NodeJS.Timeout;
  private proxies?: ProxySettings;
  /** requests sent, for reports and tests */
  requests = 0;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.ownDispatcher = !options.dispatcher;
    if (options.dispatcher) this.dispatcher = Promise.resolve(options.dispatcher);
  }

  /** Ends the deadline and closes the client's own connections; the client is done after it. */
  async close(): Promise<void> {
    clearTimeout(this.deadlineTimer);
    this.deadline.abort();
    if (this.ownDispatcher && this.dispatcher) await (await this.dispatcher).destroy().catch(() => {});
  }

  /** The dispatcher, made on the first request; the deadline starts then. */
  private session(): Promise<Dispatcher> {
    if (!this.dispatcher) {
      this.proxies = readProxyEnv();
      this.deadlineTimer = setTimeout(() => this.deadline.abort(), this.options.deadlineMs ?? DEADLINE_MS);
      this.deadlineTimer.unref();
      this.dispatcher = createDispatcher({ deadline: this.deadline.signal, timeoutMs: this.options.timeoutMs ?? 10_000, proxies: this.proxies });
    }
    return this.dispatcher;
  }

  /** `https://host` of a registry's API (Docker Hub: registry-1.docker.io); http for loopback, or when allowed. */
  baseUrl(registry: string): string {
    const host = registry === HUB ? HUB_API : registry;
    const loopback = isLoopbackHost(host);
    return `${loopback || this.options.allowHttp || this.options.httpHosts?.includes(host) ? 'http' : 'https'}://${host}`;
  }

  /** The manifest's digest (of the tag, or the pin); null: the registry does not have it. */
  async digest(ref: ImageRef): Promise<string | null> {
    const name = `${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
    const res = await this.authorized(ref, 'HEAD', `/v2/${ref.repository}/manifests/${manifestRef(ref)}`, { accept: MANIFEST_ACCEPT });
    if (res.status === 404) return null;
    if (res.status !== 200) throw this.error(ref.registry, `HEAD manifest ${name} answered HTTP ${res.status}`);
    const digest = res.headers['docker-content-digest'] ?? ref.digest;
    if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw this.error(ref.registry, `HEAD manifest ${name} has no Docker-Content-Digest`);
    // a registry answering a pin with another manifest is not one to trust
    if (ref.digest && digest !== ref.digest) throw this.error(ref.registry, `HEAD manifest ${name} answered with ${digest}, not the pinned digest`);
    return digest;
  }

  /**
   * Every tag of a repository, following `Link: <…>; rel="next"` (absolute
   * or relative), until the listing ends — or 32 MiB of pages, or the
   * deadline: then `complete: false` says where it stopped.
   */
  async tags(registry: string, repository: string, pageSize = 1000): Promise<TagList> {
    const ref = { registry, repository, tag: 'latest' };
    const tags: string[] = [];
    let url: string | undefined = `${this.baseUrl(registry)}/v2/${repository}/tags/list?n=${pageSize}`;
    let bytes = 0;
    const seen = new Set<string>();
    while (url) {
      if (bytes >= 32 * MiB) return { tags, complete: false, stopped: `after ${Math.round(bytes / MiB)} MiB of tag pages` };
      if (this.deadline.signal.aborted) return { tags, complete: false, stopped: 'at the deadline' };
      seen.add(url);
      let res: Response;
      try {
        res = await this.authorized(ref, 'GET', url, { accept: 'application/json' }, 4 * MiB);
      } catch (e) {
        if (tags.length && isTunaSetupError(e) && this.deadline.signal.aborted) return { tags, complete: false, stopped: 'at the deadline' };
        throw e;
      }
      if (res.status === 404) return { tags, complete: true };
      if (res.status !== 200) throw this.error(registry, `tags/list of ${repository} answered HTTP ${res.status}`);
      bytes += res.body.length;
      let data: { tags?: unknown };
      try {
        data = JSON.parse(res.body);
      } catch {
        throw this.error(registry, `tags/list of ${repository} is not JSON`);
      }
      if (Array.isArray(data?.tags)) tags.push(...data.tags.filter((t): t is string => typeof t === 'string' && t.length <= 128));
      const next = /<([^>]*)>\s*;\s*rel="?next"?/.exec(res.headers.link ?? '')?.[1];
      if (next === undefined) break;
      let nextUrl: URL;
      try {
        nextUrl = new URL(next, url);
      } catch {
        throw this.error(
          registry,
          `tags/list of ${repository} has a malformed Link header (${untrusted(next, 80)})`,
          'the registry is misbehaving; try again later or use another registry mirror',
        );
      }
      if (nextUrl.origin !== new URL(url).origin)
        throw this.error(
          registry,
          `tags/list of ${repository} links to another host (${nextUrl.host})`,
          'the registry is misbehaving; try again later or use another registry mirror',
        );
      if (seen.has(nextUrl.href)) return { tags, complete: false, stopped: 'where its Link header loops back to a page already read' };
      url = nextUrl.href;
    }
    return { tags, complete: true };
  }

  private error(registry: string, what: string, hint = 'check the image name and the registry mirror; a registry that needs a login is not supported yet') {
    return registryError(registry, what, hint);
  }

  /** One request, with the repository's token when we have one; on a Bearer challenge, fetch a token and retry once. */
  private async authorized(ref: ImageRef, method: 'GET' | 'HEAD', pathOrUrl: string, headers: Record<string, string>, maxBytes = 64 * KiB): Promise<Response> {
    const key = `${ref.registry}/${ref.repository}`;
    const cached = this.tokens.get(key);
    const url = pathOrUrl.startsWith('/') ? this.baseUrl(ref.registry) + pathOrUrl : pathOrUrl;
    const auth = (t?: Token): Record<string, string> => (t && t.expires > Date.now() ? { authorization: `Bearer ${t.value}` } : {});
    let res = await this.send(ref.registry, method, url, { ...headers, ...auth(cached) }, maxBytes);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers['www-authenticate']);
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw this.error(
        ref.registry,
        `${ref.repository} needs ${untrusted(challenge?.scheme ?? 'unknown', 20)} authentication${challenge?.scheme === 'bearer' ? ' without a token realm' : ''}`,
        'only anonymous (Bearer token) access is supported; use a public image or a mirror that serves it',
      );
    }
    const token = await this.fetchToken(ref, challenge);
    this.tokens.set(key, token);
    res = await this.send(ref.registry, method, url, { ...headers, ...auth(token) }, maxBytes);
    if (res.status === 401)
      throw this.error(ref.registry, `${ref.repository}: the anonymous token was refused`, 'the repository may be private; check its name');
    return res;
  }

  private async fetchToken(ref: ImageRef, challenge: Challenge): Promise<Token> {
    const asked = (challenge.params.scope ?? '').split(' ').filter(Boolean);
    const scopes = asked.length ? asked : [`repository:${ref.repository}:pull`];
    const request = tokenRequest(ref.registry, challenge.params, scopes, {
      allowHttp: this.options.allowHttp || this.baseUrl(ref.registry).startsWith('http:'),
    });
    const res = await this.send(ref.registry, 'GET', request.url, request.headers, 64 * KiB);
    const token = readToken(ref.registry, request, res.status, res.body, {
      what: `no anonymous token for ${ref.repository}`,
      hint: 'the repository may be private or misspelled',
    });
    // renew 10 s early
    return { value: token.value, expires: Date.now() + Math.max(10, token.expiresInS - 10) * 1000 };
  }

  private async send(registry: string, method: 'GET' | 'HEAD', url: string, headers: Record<string, string>, maxBytes: number): Promise<Response> {
    const deadline = this.deadline.signal;
    const where = `${method} ${untrusted(new URL(url).pathname, 80)}`;
    const timedOut = () => {
      const proxy = this.proxies && proxyFor(this.proxies, url);
      return this.error(
        registry,
        `no answer within ${seconds(this.options.deadlineMs ?? DEADLINE_MS)} (${where}${proxy ? `, through the proxy ${new URL(proxy).origin}` : ''})`,
        OFFLINE_HINT,
      );
    };
    return withRetries<Response>(
      { attempts: this.options.attempts ?? 3, backoffMs: this.options.backoffMs ?? 250, signal: deadline },
      async () => {
        try {
          this.requests++;
          const dispatcher = await this.session();
          if (deadline.aborted) throw timedOut();
          const res = await httpRequest(url, {
            dispatcher,
            method,
            headers,
            maxBytes,
            whole: true,
            signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs ?? 10_000), deadline]),
            ...(this.options.allowHttp || url.startsWith('http:') ? { allowHttp: true } : {}),
          });
          const body = res.body.toString('utf8');
          if (res.status !== 429 && res.status < 500) return { value: { status: res.status, headers: res.headers, body } };
          const after = Number(res.headers['retry-after']);
          return { retry: `HTTP ${res.status}`, ...(Number.isFinite(after) && after > 0 ? { afterMs: Math.min(after * 1000, 5_000) } : {}) };
        } catch (e) {
          if (isTunaSetupError(e)) throw e;
          if (deadline.aborted) throw timedOut();
          const why = describeHttpError(e, url, this.proxies);
          // our own verdicts on what the registry sent (too large, a bad redirect): retrying cannot help
          if (e instanceof HttpError)
            throw this.error(registry, `${where}: ${why}`, 'the registry is misbehaving; try again later or use another registry mirror');
          return { retry: why };
        }
      },
      (why, attempts) =>
        this.error(
          registry,
          `${where}: ${why} after ${attempts} attempts`,
          why.startsWith('HTTP') ? 'the registry is overloaded or failing; try again later or use a registry mirror' : OFFLINE_HINT,
        ),
    );
  }
}

/**
 * The existing tag closest to `wanted`: same shape (digits aside) — so the
 * same flavor and scheme — preferring the highest version not above the
 * wanted one, else the lowest above it.
 */
export function nearestTag(wanted: string, tags: readonly string[]): string | undefined {
  const shape = (t: string) => t.replace(/\d+/g, '#');
  const nums = (t: string) => (t.match(/\d+/g) ?? []).map(Number);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const w = nums(wanted);
  const same = tags.filter((t) => t !== wanted && shape(t) === shape(wanted));
  const below = same.filter((t) => cmp(nums(t), w) < 0).sort((a, b) => cmp(nums(b), nums(a)));
  const above = same.filter((t) => cmp(nums(t), w) > 0).sort((a, b) => cmp(nums(a), nums(b)));
  return below[0] ?? above[0];
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** checkImageTag's answer: the tag exists, with its digest, or not, with the nearest existing tag when there is one. */
export type TagCheck = { exists: true; digest: string } | { exists: false; nearest?: string };

/** Whether `image` exists; when not, the nearest existing tag of the same repository. */
export async function checkImageTag(image: string, client: RegistryClient): Promise<TagCheck> {
  const ref = parseImageRef(image);
  const digest = await client.digest(ref);
  if (digest) return { exists: true, digest };
  const near = nearestTag(ref.tag, (await client.tags(ref.registry, ref.repository)).tags);
  return near ? { exists: false, nearest: near } : { exists: false };
}
