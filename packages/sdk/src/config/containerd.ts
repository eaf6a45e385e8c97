/**
 * containerd's registry hosts: `<config_path>/<registry>/hosts.toml`, one
 * file per upstream registry (docker.io, nvcr.io, ghcr.io…), read on every
 * pull — by the CRI plugin (kubelet) where config.toml sets `config_path`,
 * and by `ctr image pull --hosts-dir`. Each `[host."…"]` table is tried in
 * file order before `server`, the upstream.
 *
 * A mirror at a registry root is `[host."https://mirror"]` (containerd adds
 * `/v2`); a path prefix (a Harbor proxy project) is the full API path
 * `[host."https://harbor.corp/v2/dockerhub-proxy"]` with `override_path = true`.
 * Our host tables go before the user's, whose tables, keys and comments stay
 * as they were; a host the user already lists keeps the user's table.
 */
import { isLoopbackHost } from '../net/loopback.js';
import { mirrorPrefix, type RegistryMirror } from '../registry/mirrors.js';
import { eolOf, splitLines, withTrailingEol } from './text.js';
import { cannotEdit, parseEdited, parseTomlFile, tables, tomlString } from './toml-lines.js';

const FIX_HOSTS = 'write the [host."…"] tables by hand, or drop containerd from {targets}';

/** The mirrors of one upstream registry, in the order they are tried. */
export interface HostsSettings {
  registry: string;
  mirrors: readonly RegistryMirror[];
}

/** containerd's directory name for a registry: the host as images name it (`docker.io`, `localhost:5000`). */
export const hostsDirName = (registry: string) => registry;

/** The upstream containerd falls back to: Docker Hub's API host for docker.io, else the registry itself. */
export function upstreamServer(registry: string): string {
  if (registry === 'docker.io') return 'https://registry-1.docker.io';
  return `${isLoopbackHost(registry) ? 'http' : 'https'}://${registry}`;
}

/** The `[host."…"]` key of a mirror, and whether it needs `override_path`. */
export function hostKey(m: RegistryMirror): { key: string; overridePath: boolean } {
  const prefix = mirrorPrefix(m);
  const origin = new URL(m.url).origin;
  return prefix ? { key: `${origin}/v2/${prefix}`, overridePath: true } : { key: origin, overridePath: false };
}

/**
 * A registry's hosts.toml with a [host."…"] table per mirror ahead of the user's, and `server` when it has none; a host
 * the user already lists keeps its table. Throws PARSE_ERROR when the result would not list the mirrors first.
 */
export function renderHostsToml(existing: string, settings: HostsSettings, file = 'hosts.toml'): string {
  const doc = parseTomlFile(existing, file, 'containerd');
  const theirs = Object.keys((doc.host as Record<string, unknown> | undefined) ?? {});
  const eol = eolOf(existing);
  const lines = splitLines(existing);
  const ts = tables(lines);
  const ours = settings.mirrors.map(hostKey).filter((h) => !theirs.includes(h.key));
  if (ours.length === 0 && doc.server !== undefined) return existing;

  const block: string[] = [];
  if (doc.server === undefined) block.push(`server = ${tomlString(upstreamServer(settings.registry))}${eol}`, eol);
  for (const h of ours) {
    block.push(`[host.${tomlString(h.key)}]${eol}`, `  capabilities = ["pull", "resolve"]${eol}`);
    if (h.overridePath) block.push(`  override_path = true${eol}`);
    block.push(eol);
  }
  // top-level keys must come before the first table: ours go right there, ahead of the user's hosts
  let at = ts.length > 1 ? ts[1]!.start : lines.length;
  while (at > ts[0]!.start && at < lines.length && /^\s*#/.test(lines[at - 1]!)) at--; // a comment above the first table belongs to it
  if (at === lines.length) {
    if (lines.length) lines[lines.length - 1] = withTrailingEol(lines.at(-1)!, eol);
    if (lines.length && lines.at(-1)!.trim() !== '') lines.push(eol);
    if (block.at(-1) === eol) block.pop();
  }
  lines.splice(at, 0, ...block);
  const out = lines.join('');

  const after = parseEdited(out, file, FIX_HOSTS);
  const order = Object.keys((after.host as Record<string, unknown> | undefined) ?? {});
  const expected = [...ours.map((h) => h.key), ...theirs];
  if (order.join('\n') !== expected.join('\n') || typeof after.server !== 'string') {
    throw cannotEdit(file, 'the edited file would not list the mirrors first', FIX_HOSTS);
  }
  return out;
}

/** What config.toml says about where containerd's CRI plugin reads hosts.toml files. */
export interface ContainerdConfig {
  /** the directories of `config_path` in the CRI registry section (containerd 2.2 accepts a colon list); empty when unset */
  configPaths: string[];
  /** the legacy `registry.mirrors` section is set (containerd refuses it together with config_path) */
  legacyMirrors: boolean;
  version: number;
}

/** Reads config.toml's registry settings for config versions 2 (containerd 1.x) and 3 (2.x). */
export function readContainerdConfig(text: string, file: string): ContainerdConfig {
  const doc = parseTomlFile(text, file, 'containerd') as {
    version?: number;
    plugins?: Record<string, { registry?: { config_path?: unknown; mirrors?: unknown } }>;
  };
  const version = typeof doc.version === 'number' ? doc.version : 1;
  const registry = doc.plugins?.[version >= 3 ? 'io.containerd.cri.v1.images' : 'io.containerd.grpc.v1.cri']?.registry;
  return {
    configPaths: typeof registry?.config_path === 'string' ? registry.config_path.split(':').filter(Boolean) : [],
    legacyMirrors: registry?.mirrors !== undefined,
    version,
  };
}

/** The lines that make containerd's CRI plugin read `dir`, for the config version. */
export function configPathSnippet(dir: string, version: number): string {
  const section = version >= 3 ? 'plugins."io.containerd.cri.v1.images".registry' : 'plugins."io.containerd.grpc.v1.cri".registry';
  return `[${section}]\n  config_path = ${tomlString(dir)}`;
}
