/**
 * One registry, spoken to with any method and streamed bodies both ways —
 * what copying images needs beyond the read-only RegistryClient: pull and
 * push scopes, a login (Basic, or a Bearer token fetched with the login or an
 * identity token), blob downloads that redirect to storage (followed here,
 * the Authorization header dropped when the origin changes), and upload
 * Locations that are relative or absolute. Every request has the SDK's User-
 * Agent, the proxy-aware dispatcher, an idle timeout, and the caller's signal.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { TunaSetupError } from '../errors.js';
import { flatHeaders, loadUndici, nextHop } from '../net/http.js';
import { untrusted } from '../net/untrusted.js';
import { USER_AGENT } from '../version.js';
import { isLoopbackHost } from '../net/loopback.js';
import { parseChallenge } from './client.js';
import { basicAuth, readToken, registryError, tokenRequest } from './token.js';
import type { Credentials } from './credentials.js';

export interface SessionOptions {
  dispatcher: Dispatcher;
  signal: AbortSignal;
  credentials?: Credentials;
  allowHttp?: boolean;
  /** per connect / header wait / body gap (default 60 s) */
  timeoutMs?: number;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
  /** the URL that answered, after redirects */
  url: string;
}

export class RegistrySession {
  /** per scope set: the token, when it expires, and how it was asked for (to renew it before an upload) */
  private readonly tokens = new Map<string, { value: string; expires: number; params: Record<string, string>; scopes: string[] }>();
  private basic = false;
  requests = 0;

  constructor(
    readonly registry: string,
    private readonly options: SessionOptions,
  ) {}

  /** `https://host` (Docker Hub: its API host); http for loopback, or when allowed. */
  get base(): string {
    const host = this.registry === 'docker.io' ? 'registry-1.docker.io' : this.registry;
    return `${isLoopbackHost(host) || this.options.allowHttp ? 'http' : 'https'}://${host}`;
  }

  /**
   * A request about `repo` (`push`: with push scope; `alsoPull`: other
   * repositories it reads, as a cross-repository mount does), authenticating
   * on the first 401 and retrying once — so only a request without a body, or
   * with a body that can be sent again (a Buffer), may meet a 401. The login
   * goes only to this registry's own origin (an upload Location elsewhere gets
   * none). The body of the response is the caller's to read or dump.
   */
  async request(
    method: string,
    pathOrUrl: string,
    o: { repo: string; push?: boolean; alsoPull?: readonly string[]; headers?: Record<string, string>; body?: Buffer | Readable; follow?: boolean },
  ): Promise<RegistryResponse> {
    const scopes = [`repository:${o.repo}:${o.push ? 'pull,push' : 'pull'}`, ...(o.alsoPull ?? []).map((r) => `repository:${r}:pull`)];
    const key = scopes.join(' ');
    const url = pathOrUrl.startsWith('/') ? this.base + pathOrUrl : pathOrUrl;
    const ours = new URL(url).origin === new URL(this.base).origin;
    const auth = () => (ours ? this.auth(key) : {});
    // a streamed upload cannot be sent twice: a token about to expire is renewed before it starts
    const held = this.tokens.get(key);
    if (ours && held && o.body && !Buffer.isBuffer(o.body) && held.expires - Date.now() < 60_000) await this.renew(key, held.params, held.scopes);
    let res = await this.send(method, url, { ...o.headers, ...auth() }, o.body, o.follow);
    if (res.status !== 401 || !ours) return res;
    const challenge = parseChallenge(res.headers['www-authenticate']);
    await dump(res.body);
    if (challenge?.scheme === 'basic') {
      if (!this.options.credentials || !('username' in this.options.credentials))
        throw this.error(`${o.repo} needs a login (Basic)`, `log in first: docker login ${this.registry}`);
      this.basic = true;
    } else if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      // the scopes the registry asks for (a mount needs pull on its source too), and ours
      const asked = (challenge.params.scope ?? '').split(' ').filter((s) => /^repository:[a-z0-9._/-]+:[a-z,*]+$/.test(s));
      await this.renew(key, challenge.params, [...new Set([...scopes, ...asked])]);
    } else {
      throw this.error(`${o.repo}: HTTP 401 without a challenge we can answer`, 'check the registry URL');
    }
    if (o.body && !Buffer.isBuffer(o.body)) throw this.error(`${method} ${o.repo}: the login was asked for after the upload began`, 'run it again');
    res = await this.send(method, url, { ...o.headers, ...auth() }, o.body, o.follow);
    if (res.status === 401 || res.status === 403) {
      await dump(res.body);
      throw this.error(
        `${o.repo}: ${o.push ? 'push' : 'pull'} refused (HTTP ${res.status})${this.options.credentials ? ' with the login from config.json' : ' anonymously'}`,
        o.push
          ? `log in with a user that may push to ${this.registry}/${o.repo}: docker login ${this.registry}`
          : `the repository may be private: docker login ${this.registry}`,
      );
    }
    return res;
  }

  private auth(scope: string): Record<string, string> {
    const c = this.options.credentials;
    if (this.basic && c && 'username' in c) return { authorization: basicAuth(c) };
    const token = this.tokens.get(scope);
    return token ? { authorization: `Bearer ${token.value}` } : {};
  }

  private async renew(key: string, params: Record<string, string>, scopes: string[]): Promise<void> {
    const { value, expiresInS } = await this.token(params, scopes);
    this.tokens.set(key, { value, expires: Date.now() + expiresInS * 1000, params, scopes });
  }

  private async token(params: Record<string, string>, scopes: readonly string[]): Promise<{ value: string; expiresInS: number }> {
    const c = this.options.credentials;
    const request = tokenRequest(this.registry, params, scopes, { ...(c ? { credentials: c } : {}), ...(this.options.allowHttp ? { allowHttp: true } : {}) });
    const res = await this.send(request.method, request.url, request.headers, request.body === undefined ? undefined : Buffer.from(request.body));
    const text = await readText(res.body, 64 * 1024);
    return readToken(this.registry, request, res.status, text, {
      what: `no token for ${scopes.join(' ')}`,
      hint: c ? `the login in config.json was refused: docker login ${this.registry}` : `log in first: docker login ${this.registry}`,
    });
  }

  private async send(method: string, url: string, headers: Record<string, string>, body?: Buffer | Readable, follow = false): Promise<RegistryResponse> {
    const { request } = await loadUndici();
    const timeout = this.options.timeoutMs ?? 60_000;
    let at = url;
    let hdrs = { 'user-agent': USER_AGENT, ...headers };
    for (let hop = 0; ; hop++) {
      if (new URL(at).protocol !== 'https:' && !(this.options.allowHttp || isLoopbackHost(new URL(at).host)))
        throw this.error(`refusing plain http (${new URL(at).host})`, 'pass {allowHttp=true} if this registry really has no TLS');
      this.requests++;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(at, {
          dispatcher: this.options.dispatcher,
          method: method as Dispatcher.HttpMethod,
          headers: hdrs,
          signal: this.options.signal,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          ...(body !== undefined ? { body } : {}),
        });
      } catch (e) {
        if (this.options.signal.aborted)
          throw this.error(
            `${method} ${untrusted(new URL(at).pathname, 80)}: stopped`,
            'it was cancelled; run it again to resume (what was copied is skipped)',
          );
        throw this.error(
          `${method} ${untrusted(new URL(at).pathname, 80)}: ${untrusted((e as Error).message, 120)}`,
          'check the network and the registry; a sync run again skips what was copied',
        );
      }
      const flat = flatHeaders(res.headers);
      if (follow && [301, 302, 303, 307, 308].includes(res.statusCode) && flat.location && hop < 5) {
        await dump(res.body);
        const next = nextHop(at, flat.location, this.options.allowHttp);
        if (new URL(next).origin !== new URL(at).origin)
          hdrs = Object.fromEntries(Object.entries(hdrs).filter(([k]) => k.toLowerCase() !== 'authorization')) as typeof hdrs;
        at = next;
        continue;
      }
      return { status: res.statusCode, headers: flat, body: res.body, url: at };
    }
  }

  /** A registry error naming this registry. */
  error(what: string, hint: string): TunaSetupError {
    return registryError(this.registry, what, hint);
  }
}

/** Reads a body as text, at most `max` bytes (more is an error), for manifests, tokens and error bodies. */
export async function readText(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      throw new TunaSetupError('REGISTRY', `a registry response is larger than ${max} bytes`, 'the registry is misbehaving');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Drops a body: read to its end (so the connection can be reused) when short, else the stream is destroyed. */
export async function dump(body: Readable): Promise<void> {
  body.on('error', () => {});
  let seen = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > 64 * 1024) {
        body.destroy();
        return;
      }
    }
  } catch {
    // a body that breaks while being dropped changes nothing
  }
}
