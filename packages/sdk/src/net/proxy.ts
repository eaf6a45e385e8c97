/**
 * The user's proxy settings, read once and checked before any request:
 * `https_proxy`/`HTTPS_PROXY` (falling back to the http one),
 * `http_proxy`/`HTTP_PROXY`, `no_proxy`/`NO_PROXY` — the variables and the
 * precedence undici's EnvHttpProxyAgent uses, handed to it explicitly so what
 * was checked is what is used. A malformed value is one error naming the
 * variable (credentials in it never printed), not a stack trace from inside
 * the HTTP client. `proxyFor` says which proxy a URL goes through, so a
 * failure can name the proxy rather than the mirror behind it.
 */
import { TunaSetupError } from '../errors.js';

export interface ProxySettings {
  http?: string;
  https?: string;
  noProxy: string;
}

const PROXY_PROTOCOLS = new Set(['http:', 'https:', 'socks:', 'socks5:']);

/** a proxy URL for a message: scheme, host and port, never user or password */
export function redactUrl(value: string): string {
  // everything up to the last '@' may be user and password (which may hold '/' or ':'), with or without a scheme
  return value.replace(/^([a-z][\w+.-]*:\/\/)?.*@/i, '$1***@');
}

function checked(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new TunaSetupError(
      'BAD_PROXY',
      `${name}='${redactUrl(value)}' is not a valid proxy URL`,
      `fix or unset ${name}, e.g. ${name}=http://proxy.example.com:3128`,
    );
  }
  if (!PROXY_PROTOCOLS.has(url.protocol) || !url.hostname) {
    throw new TunaSetupError(
      'BAD_PROXY',
      `${name}='${redactUrl(value)}' is not an http(s) or socks5 proxy URL`,
      `fix or unset ${name}, e.g. ${name}=http://proxy.example.com:3128`,
    );
  }
  return url.href;
}

export function readProxyEnv(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const pick = (lower: string, upper: string) => (env[lower] !== undefined ? ([lower, env[lower]] as const) : ([upper, env[upper]] as const));
  const [httpName, httpValue] = pick('http_proxy', 'HTTP_PROXY');
  const [httpsName, httpsValue] = pick('https_proxy', 'HTTPS_PROXY');
  const http = checked(httpName, httpValue);
  const https = checked(httpsName, httpsValue) ?? http;
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), noProxy: env.no_proxy ?? env.NO_PROXY ?? '' };
}

/** The proxy a request to `url` goes through, or undefined (NO_PROXY matched the way undici matches it). */
export function proxyFor(settings: ProxySettings, url: string): string | undefined {
  const u = new URL(url);
  const proxy = u.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  for (const raw of settings.noProxy.split(/[,\s]/)) {
    if (!raw) continue;
    if (raw === '*') return undefined;
    const m = /^(.+):(\d+)$/.exec(raw);
    const entry = (m ? m[1]! : raw).replace(/^\*?\./, '').toLowerCase();
    if (m && Number(m[2]) !== port) continue;
    if (host === entry || host.endsWith(`.${entry}`)) return undefined;
  }
  return proxy;
}

/** " (through the proxy http://host:port)" when a request to `url` goes through one, else "" */
export function viaProxy(settings: ProxySettings, url: string): string {
  const proxy = proxyFor(settings, url);
  return proxy ? ` (through the proxy ${new URL(proxy).origin})` : '';
}
