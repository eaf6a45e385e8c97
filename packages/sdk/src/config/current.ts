/**
 * What each tool is pointed at right now, read from the same files `apply`
 * writes (for `doctor`). A file that is missing reads as "not set"; one that
 * does not parse is reported with its error instead of failing the report.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { findMirror, isPublicPypiIndex } from '../catalog/lookup.js';
import { TunaSetupError } from '../errors.js';
import { readCondarc } from './conda.js';
import { parseDaemonJson } from './docker.js';
import { configPath, hostPlatform, type Platform, type Target, TARGETS } from './locations.js';
import { parsePipConf, pipValue } from './pip.js';
import { uvIndexUrls } from './uv.js';

/** One target's config file as it is now: whether it exists, the URLs it names, or why it could not be read. */
export interface CurrentConfig {
  path: string;
  exists: boolean;
  /** the index / channels / mirrors it names; empty when unset */
  urls: string[];
  error?: string;
}

const readers: Record<Target, (text: string, file: string) => string[]> = {
  pip: (text, file) => {
    const v = pipValue(parsePipConf(text, file), 'index-url');
    return v ? [v] : [];
  },
  uv: (text, file) => uvIndexUrls(text, file),
  conda: (text, file) => {
    const rc = readCondarc(text, file) as { default_channels?: unknown; channel_alias?: unknown };
    return [
      ...(Array.isArray(rc.default_channels) ? rc.default_channels.map(String) : []),
      ...(typeof rc.channel_alias === 'string' ? [rc.channel_alias] : []),
    ];
  },
  docker: (text, file) => (parseDaemonJson(text, file)['registry-mirrors'] as string[] | undefined) ?? [],
  // the engines: their Docker Hub mirrors
  containerd: (text) => Object.keys((parseToml(text).host as Record<string, unknown> | undefined) ?? {}),
  podman: (text) =>
    ((parseToml(text).registry as { prefix?: string; mirror?: { location: string }[] }[] | undefined) ?? [])
      .filter((r) => r.prefix === 'docker.io')
      .flatMap((r) => (r.mirror ?? []).map((m) => m.location)),
  buildkit: (text) => {
    const hub = (parseToml(text).registry as Record<string, { mirrors?: unknown }> | undefined)?.['docker.io'];
    return Array.isArray(hub?.mirrors) ? hub.mirrors.map(String) : [];
  },
};

/** The file a target's current setting is read from: for containerd, its docker.io hosts.toml. */
const currentFile = (target: Target, platform: Platform) =>
  target === 'containerd' ? path.join(configPath(target, platform), 'docker.io', 'hosts.toml') : configPath(target, platform);

/**
 * Every target's current setting, read from the file apply writes (containerd: its docker.io hosts.toml). A missing
 * file reads as unset; one that does not parse carries its error instead of failing the whole report.
 */
export async function readCurrentConfigs(platform: Platform = hostPlatform()): Promise<Record<Target, CurrentConfig>> {
  const out = {} as Record<Target, CurrentConfig>;
  for (const target of TARGETS) {
    const file = currentFile(target, platform);
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) {
      out[target] = { path: file, exists: false, urls: [] };
      continue;
    }
    try {
      out[target] = { path: file, exists: true, urls: readers[target](text, file) };
    } catch (e) {
      out[target] = { path: file, exists: true, urls: [], error: (e as Error).message };
    }
  }
  return out;
}

/**
 * The PyPI index pip installs from now — PIP_INDEX_URL, else pip.conf's
 * index-url — when it is a public index tuna-setup knows (a mirror, or
 * PyPI itself); undefined otherwise (a private index is not ours to send
 * torch downloads to).
 */
export async function pypiIndexNow(
  env: NodeJS.ProcessEnv = process.env,
  platform: Platform = hostPlatform(),
): Promise<{ url: string; from: string } | undefined> {
  const fromEnv = env.PIP_INDEX_URL?.trim();
  if (fromEnv) return isPublicPypiIndex(fromEnv) ? { url: fromEnv, from: 'PIP_INDEX_URL' } : undefined;
  const pip = (await readCurrentConfigs(platform)).pip;
  const url = pip.urls[0];
  return url && isPublicPypiIndex(url) ? { url, from: pip.path } : undefined;
}

/** The PyPI index for torch wheels: a named mirror's (`spec`), else the one pip uses now. */
export async function pypiIndexFor(spec?: string, policy: { allowHttp?: boolean } = {}): Promise<{ url: string; from: string } | undefined> {
  if (spec === undefined) return pypiIndexNow();
  const mirror = findMirror(spec, policy);
  if (!mirror.pypi) throw new TunaSetupError('UNSUPPORTED_SERVICE', `mirror '${mirror.name}' has no PyPI index`, 'name a mirror that serves PyPI ({mirror})');
  return { url: mirror.pypi.index, from: `mirror ${mirror.name}` };
}
