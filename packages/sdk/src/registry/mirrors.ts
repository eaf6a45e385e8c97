/**
 * A registry mirror: a registry that serves another registry's images — a
 * pull-through cache at a registry root (`https://mirror.example.com`), or a
 * path inside one (a Harbor proxy project, `https://harbor.corp/dockerhub-proxy`,
 * where `docker.io/library/ubuntu` is `harbor.corp/dockerhub-proxy/library/ubuntu`).
 * One parser for every front end, and the one rewrite of an image reference
 * through it, which the engine config writers (config/) express in each
 * engine's own words.
 */
import { TunaSetupError } from '../errors.js';
import { checkMirrorUrl } from '../catalog/url.js';
import { isLoopbackHost } from '../net/loopback.js';

/** A registry that serves `registry`'s images under `url` (a root, or a path prefix). */
export interface RegistryMirror {
  /** the registry it stands in for, normalized: `docker.io`, `nvcr.io`, `ghcr.io`, `host:port` */
  registry: string;
  /** `https://host[:port][/prefix]`, without a trailing slash */
  url: string;
}

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** A registry name as image references write it: Docker Hub's aliases are `docker.io`, lower-case, no scheme. */
export function normalizeRegistry(name: string): string {
  const host = name
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  return HUB_ALIASES.has(host) ? 'docker.io' : host;
}

const REGISTRY_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
const PREFIX = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/**
 * `[REGISTRY=]URL` → a mirror of REGISTRY (default `docker.io`). URL is
 * `https://host[:port][/prefix]`; a bare `host[:port][/prefix]` means https
 * (http for a loopback host, as Docker treats it). Plain http otherwise
 * only with `allowHttp`. `what` names the input in errors (`--registry-mirror`).
 */
export function parseRegistryMirror(spec: string, what: string, policy: { allowHttp?: boolean } = {}): RegistryMirror {
  const eq = spec.indexOf('=');
  const registry = normalizeRegistry(eq === -1 ? 'docker.io' : spec.slice(0, eq));
  const raw = (eq === -1 ? spec : spec.slice(eq + 1)).trim();
  if (!REGISTRY_NAME.test(registry)) {
    throw new TunaSetupError(
      'BAD_URL',
      `${what}: '${registry}' is not a registry name`,
      'write it as REGISTRY=URL, e.g. nvcr.io=https://harbor.corp/ngc-proxy (REGISTRY defaults to docker.io)',
    );
  }
  const host = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? undefined : raw.split('/')[0]!;
  const loopback = isLoopbackHost(host ?? raw.replace(/^[a-z]+:\/\//i, '').split('/')[0]!);
  const withScheme = host === undefined ? raw : `${loopback ? 'http' : 'https'}://${raw}`;
  const url = checkMirrorUrl(withScheme, what, { allowHttp: policy.allowHttp || loopback });
  const prefix = new URL(url).pathname.replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && (!PREFIX.test(prefix) || prefix === 'v2' || prefix.startsWith('v2/'))) {
    throw new TunaSetupError(
      'BAD_URL',
      `${what}: '${raw}' has the path '/${prefix}', which is not a repository prefix`,
      'give the registry root (https://mirror.example.com) or the prefix images are pulled under (https://harbor.corp/dockerhub-proxy), without /v2',
    );
  }
  return { registry, url };
}

/** `harbor.corp/dockerhub-proxy` for `https://harbor.corp/dockerhub-proxy`: how image references name the mirror. */
export function mirrorLocation(m: RegistryMirror): string {
  const u = new URL(m.url);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** The repository prefix inside the mirror (`dockerhub-proxy`); '' for a registry root. */
export function mirrorPrefix(m: RegistryMirror): string {
  return new URL(m.url).pathname.replace(/^\/+|\/+$/g, '');
}

/** The registry an image reference names, normalized (`pytorch/pytorch` → `docker.io`). */
export function registryOf(image: string): string {
  const first = explicitRegistry(image);
  return first ? normalizeRegistry(first) : 'docker.io';
}

/** The registry part a reference writes (`nvcr.io` of `nvcr.io/nvidia/pytorch:…`); undefined for a Docker Hub short name. */
function explicitRegistry(image: string): string | undefined {
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  return first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
}

/**
 * `image` pulled through the first mirror of its registry: `pytorch/pytorch:2.7.1-…`
 * with a docker.io mirror `https://harbor.corp/hub` → `harbor.corp/hub/pytorch/pytorch:2.7.1-…`;
 * Docker Hub's official images keep `library/`. Unchanged when no mirror is for its registry.
 */
export function pullThrough(image: string, mirrors: readonly RegistryMirror[]): string {
  const registry = registryOf(image);
  const mirror = mirrors.find((m) => m.registry === registry);
  if (!mirror) return image;
  const path = explicitRegistry(image) ? image.slice(image.indexOf('/') + 1) : image;
  const repo = registry === 'docker.io' && !path.split(/[:@]/)[0]!.includes('/') ? `library/${path}` : path;
  return `${mirrorLocation(mirror)}/${repo}`;
}

/**
 * The mirrors an image reference must be rewritten through when dockerd pulls
 * it: all of them, except Docker Hub root mirrors when dockerd's own
 * registry-mirrors already carry them (`dockerdHasThem`), since dockerd
 * applies those itself (and falls back to Docker Hub).
 */
export function rewriteMirrors(mirrors: readonly RegistryMirror[], dockerdHasThem: boolean): RegistryMirror[] {
  return mirrors.filter((m) => !(dockerdHasThem && m.registry === 'docker.io' && mirrorPrefix(m) === ''));
}
