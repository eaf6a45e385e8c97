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
 * is retried with backoff on 429, 5xx and connection errors.
 *
 * Registries are reached over https, except loopback hosts (as dockerd
 * treats them) or when http is allowed explicitly.
 */
import type { Dispatcher } from 'undici';
import { TunaSetupError } from '../errors.js';
import { createProbeDispatcher, describeHttpError, loadUndici } from '../probe/http.js';
import { USER_AGENT } from '../version.js';

export interface ImageRef {
  /** host[:port] as written; `docker.io` for Docker Hub */
  registry: string;
  repository: string;
  tag: string;
}

const HUB = 'docker.io';
const HUB_API = 'registry-1.docker.io';

/** `pytorch/pytorch:2.7.1-…` → docker.io / pytorch/pytorch / 2.7.1-…; `busybox` → library/busybox:latest. */
export function parseImageRef(ref: string): ImageRef {
  const s = ref.trim();
  if (!s || /\s/.test(s) || s.includes('@')) {
    throw new TunaSetupError('BAD_IMAGE', `'${ref}' is not an image reference`, 'write it as [registry/]name[:tag], e.g. pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime');
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
    throw new TunaSetupError('BAD_IMAGE', `'${ref}' is not a valid image reference`, 'names are lower-case [a-z0-9._-] path parts; tags are up to 128 of [A-Za-z0-9_.-]');
  }
  return { registry, repository, tag };
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryClientOptions {
  dispatcher?: Dispatcher;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** attempts per request on 429/5xx/connection errors (default 3) */
  attempts?: number;
  /** first backoff, doubled per retry (default 250 ms) */
  backoffMs?: number;
  allowHttp?: boolean;
}

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
  for (const p of m[2]!.matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1]!.toLowerCase(), params };
}

interface Token { value: string; expires: number }

export class RegistryClient {
  private dispatcher?: Promise<Dispatcher>;
  private readonly ownDispatcher: boolean;
  private readonly tokens = new Map<string, Token>();
  /** requests sent, for reports and tests */
  requests = 0;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.ownDispatcher = !options.dispatcher;
    if (options.dispatcher) this.dispatcher = Promise.resolve(options.dispatcher);
  }

  async close(): Promise<void> {
    if (this.ownDispatcher && this.dispatcher) await (await this.dispatcher).destroy().catch(() => {});
  }

  baseUrl(registry: string): string {
    const host = registry === HUB ? HUB_API : registry;
    const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
    return `${loopback || this.options.allowHttp ? 'http' : 'https'}://${host}`;
  }

  /** The manifest digest of `ref`, or null when the tag does not exist. */
  async digest(ref: ImageRef): Promise<string | null> {
    const res = await this.authorized(ref, 'HEAD', `/v2/${ref.repository}/manifests/${encodeURIComponent(ref.tag)}`, { accept: MANIFEST_ACCEPT });
    if (res.status === 404) return null;
    if (res.status !== 200) throw this.error(ref.registry, `HEAD manifest ${ref.repository}:${ref.tag} answered HTTP ${res.status}`);
    const digest = res.headers['docker-content-digest'];
    if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw this.error(ref.registry, `HEAD manifest ${ref.repository}:${ref.tag} has no Docker-Content-Digest`);
    return digest;
  }

  /** Every tag of a repository, following `Link: <…>; rel="next"`. */
  async tags(registry: string, repository: string, pageSize = 1000): Promise<string[]> {
    const ref = { registry, repository, tag: 'latest' };
    const out: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=${pageSize}`;
    for (let page = 0; path && page < 100; page++) {
      const res = await this.authorized(ref, 'GET', path, { accept: 'application/json' });
      if (res.status === 404) return out;
      if (res.status !== 200) throw this.error(registry, `tags/list of ${repository} answered HTTP ${res.status}`);
      let data: { tags?: unknown };
      try {
        data = JSON.parse(res.body);
      } catch {
        throw this.error(registry, `tags/list of ${repository} is not JSON`);
      }
      if (Array.isArray(data.tags)) out.push(...data.tags.filter((t): t is string => typeof t === 'string'));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.link ?? '')?.[1];
      path = next ? (next.startsWith('/') ? next : new URL(next).pathname + new URL(next).search) : undefined;
    }
    return out;
  }

  private error(registry: string, what: string, hint = 'check the image name and the registry mirror; a registry that needs a login is not supported yet') {
    return new TunaSetupError('REGISTRY', `registry ${registry}: ${what}`, hint);
  }

  /** One request, with the repository's token when we have one; on a Bearer challenge, fetch a token and retry once. */
  private async authorized(ref: ImageRef, method: 'GET' | 'HEAD', path: string, headers: Record<string, string>) {
    const key = `${ref.registry}/${ref.repository}`;
    const cached = this.tokens.get(key);
    const url = this.baseUrl(ref.registry) + path;
    const auth = (t?: Token): Record<string, string> => (t && t.expires > Date.now() ? { authorization: `Bearer ${t.value}` } : {});
    let res = await this.send(ref.registry, method, url, { ...headers, ...auth(cached) });
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers['www-authenticate']);
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw this.error(ref.registry, `${ref.repository} needs ${challenge?.scheme ?? 'unknown'} authentication`, 'only anonymous (Bearer token) access is supported; use a public image or a mirror that serves it');
    }
    const token = await this.fetchToken(ref, challenge);
    this.tokens.set(key, token);
    res = await this.send(ref.registry, method, url, { ...headers, ...auth(token) });
    if (res.status === 401) throw this.error(ref.registry, `${ref.repository}: the anonymous token was refused`, 'the repository may be private; check its name');
    return res;
  }

  private async fetchToken(ref: ImageRef, challenge: Challenge): Promise<Token> {
    const realm = new URL(challenge.params.realm!);
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && (this.options.allowHttp || this.baseUrl(ref.registry).startsWith('http:')))) {
      throw this.error(ref.registry, `token realm ${realm.origin} is not https`, 'refusing to fetch a token over plain http');
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', challenge.params.scope ?? `repository:${ref.repository}:pull`);
    const res = await this.send(ref.registry, 'GET', realm.href, { accept: 'application/json' });
    if (res.status !== 200) {
      throw this.error(ref.registry, `no anonymous token for ${ref.repository} from ${realm.host} (HTTP ${res.status})`, 'the repository may be private or misspelled');
    }
    try {
      const data = JSON.parse(res.body) as { token?: string; access_token?: string; expires_in?: number };
      const value = data.token ?? data.access_token;
      if (!value) throw new Error('no token');
      // default lifetime per the token spec: 60 s; renew 10 s early
      return { value, expires: Date.now() + Math.max(10, (data.expires_in ?? 60) - 10) * 1000 };
    } catch {
      throw this.error(ref.registry, `token endpoint ${realm.host} answered without a token`);
    }
  }

  private async send(registry: string, method: 'GET' | 'HEAD', url: string, headers: Record<string, string>) {
    const attempts = this.options.attempts ?? 3;
    let delay = this.options.backoffMs ?? 250;
    for (let attempt = 1; ; attempt++) {
      let retryable: string;
      try {
        this.requests++;
        this.dispatcher ??= createProbeDispatcher();
        const { request } = await loadUndici();
        const res = await request(url, {
          dispatcher: await this.dispatcher, method, headers: { 'user-agent': USER_AGENT, ...headers },
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        const body = method === 'HEAD' ? (await res.body.dump(), '') : await res.body.text();
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
        if (res.statusCode !== 429 && res.statusCode < 500) return { status: res.statusCode, headers: flat, body };
        retryable = `HTTP ${res.statusCode}`;
        const after = Number(flat['retry-after']);
        if (Number.isFinite(after) && after > 0) delay = Math.min(after * 1000, 5_000);
      } catch (e) {
        retryable = describeHttpError(e);
      }
      if (attempt >= attempts) {
        throw this.error(registry, `${method} ${new URL(url).pathname}: ${retryable} after ${attempts} attempts`,
          retryable.startsWith('HTTP') ? 'the registry is overloaded or failing; try again later or use a registry mirror' : 'check the network, the proxy (HTTPS_PROXY) and the registry host');
      }
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
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

export type TagCheck = { exists: true; digest: string } | { exists: false; nearest?: string };

/** Whether `image` exists; when not, the nearest existing tag of the same repository. */
export async function checkImageTag(image: string, client: RegistryClient): Promise<TagCheck> {
  const ref = parseImageRef(image);
  const digest = await client.digest(ref);
  if (digest) return { exists: true, digest };
  const near = nearestTag(ref.tag, await client.tags(ref.registry, ref.repository));
  return near ? { exists: false, nearest: near } : { exists: false };
}
