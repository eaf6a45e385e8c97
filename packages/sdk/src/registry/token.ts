/**
 * The Docker registry token flow, for both registry clients (the read-only
 * RegistryClient and the transfer RegistrySession): from a `Bearer realm=…`
 * challenge to the token request — GET with the scopes (and Basic login),
 * or POST of an identity token as an OAuth2 refresh token — and from the
 * answer to the token. Each client sends the request through its own
 * transport; what is asked, of whom, and what is accepted lives here once.
 */
import { TunaSetupError } from '../errors.js';
import { isLoopbackHost } from '../net/loopback.js';
import { untrusted } from '../net/untrusted.js';
import type { Credentials } from './credentials.js';

/** A token request to send: the realm URL with service and scopes, its headers, and a form body for POST. */
export interface TokenRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A registry error naming the registry (the same words RegistryClient and RegistrySession use). */
export const registryError = (registry: string, what: string, hint: string) =>
  new TunaSetupError('REGISTRY', `registry ${untrusted(registry, 100)}: ${what}`, hint);

/** `Basic base64(user:password)` for a login with a password. */
export const basicAuth = (c: { username: string; password: string }) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/**
 * The request for a token of `scopes` from a challenge's `realm` and `service`.
 * The realm must be https, unless plain http is allowed or it is on loopback:
 * a login, or the token it yields, never crosses the network in clear.
 */
export function tokenRequest(
  registry: string,
  params: Record<string, string>,
  scopes: readonly string[],
  o: { credentials?: Credentials; allowHttp?: boolean } = {},
): TokenRequest {
  let realm: URL;
  try {
    realm = new URL(params.realm ?? '');
  } catch {
    throw registryError(
      registry,
      `its token realm '${untrusted(params.realm ?? '', 80)}' is not a URL`,
      'the registry is misconfigured; use another registry mirror',
    );
  }
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && (o.allowHttp || isLoopbackHost(realm.host)))) {
    throw registryError(registry, `token realm ${realm.origin} is not https`, 'refusing to fetch a token over plain http');
  }
  const c = o.credentials;
  if (c && 'identityToken' in c) {
    // an identity token is an OAuth2 refresh token (distribution's token spec, oauth.md)
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: c.identityToken,
      service: params.service ?? '',
      scope: scopes.join(' '),
      client_id: 'tuna-setup',
    });
    return {
      method: 'POST',
      url: realm.href,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    };
  }
  if (params.service) realm.searchParams.set('service', params.service);
  for (const s of scopes) realm.searchParams.append('scope', s);
  return { method: 'GET', url: realm.href, headers: { accept: 'application/json', ...(c ? { authorization: basicAuth(c) } : {}) } };
}

/**
 * The token in an answer to `tokenRequest`, with its lifetime in seconds
 * (the token spec's default: 60). A refusal is an error with `refusedHint`.
 */
export function readToken(
  registry: string,
  request: TokenRequest,
  status: number,
  body: string,
  refused: { what: string; hint: string },
): { value: string; expiresInS: number } {
  const host = new URL(request.url).host;
  if (status !== 200) throw registryError(registry, `${refused.what} from ${host} (HTTP ${status})`, refused.hint);
  try {
    const data = JSON.parse(body) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const value = typeof data.token === 'string' && data.token ? data.token : typeof data.access_token === 'string' ? data.access_token : '';
    if (value) return { value, expiresInS: typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 60 };
  } catch {
    // below
  }
  throw registryError(registry, `token endpoint ${host} answered without a token`, 'the registry is misconfigured; use another registry mirror');
}
