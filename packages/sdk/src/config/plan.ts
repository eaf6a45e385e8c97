/**
 * From "this mirror, these tools" to a Plan: plain data saying which files
 * change and how (unified diff), and which environment variables a CI step
 * could export instead. Making a plan reads files and writes nothing; a dry
 * run prints it, `applyPlan` (journal.ts) carries it out.
 *
 * A file we already rewrote (its bytes are what the journal says we wrote)
 * is rendered from its original bytes, so applying twice gives the same
 * bytes, and switching mirrors leaves nothing of the previous one behind.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { checkMirrorUrl } from '../catalog/url.js';
import { isPublicPypiIndex } from '../catalog/lookup.js';
import type { Mirror } from '../catalog/types.js';
import { TunaSetupError } from '../errors.js';
import { renderCondarc, type CondaSettings } from './conda.js';
import { renderDaemonJson } from './docker.js';
import { configPathSnippet, hostsDirName, readContainerdConfig, renderHostsToml } from './containerd.js';
import { renderRegistriesConf } from './podman.js';
import { renderBuildkitdToml } from './buildkit.js';
import { mirrorPrefix, parseRegistryMirror, type RegistryMirror } from '../registry/mirrors.js';
import { canonicalPath, readJournal, sha256 } from './journal.js';
import { MIRRORS } from '../catalog/mirrors.js';
import { condaSubdir, configPath, ENGINE_TARGETS, hostPlatform, type Platform, type Target, TARGETS } from './locations.js';
import { pipIndexUrls, renderPipConf, type PipSettings } from './pip.js';
import { renderUvToml, uvIndexUrls, type UvSettings } from './uv.js';

/** One file a plan writes: its path, the text before and after, and the unified diff ('' when unchanged). */
export interface PlannedChange {
  target: Target;
  path: string;
  action: 'create' | 'update' | 'unchanged';
  /** the text now on disk; null when the file does not exist */
  before: string | null;
  after: string;
  /** how the text maps to bytes: utf8, or latin1 for a file that is not UTF-8 (every byte kept as it was) */
  encoding: TextEncoding;
  diff: string;
}

/** What applying a mirror would do, as plain data: the file changes, the variables a CI step could export instead, and notes. */
export interface Plan {
  mirror: { name: string; url: string };
  changes: PlannedChange[];
  /** what a CI step can export instead of (or besides) the files */
  env: Record<string, string>;
  /** things the user should know: channels the mirror lacks, layout caveats */
  notes: string[];
}

/** What to plan: the mirror, the targets, the state dir holding the journal, and overrides (registry mirrors, paths, platform, policy). */
export interface PlanOptions {
  mirror: Mirror;
  targets: readonly Target[];
  stateDir: string;
  /** Docker Hub registry mirrors (`--docker-mirror`), before the catalog's */
  dockerMirrors?: readonly string[];
  /**
   * registry mirrors for the engines (docker, containerd, podman, buildkit), as `[REGISTRY=]URL`
   * strings or parsed: a registry root, or a path prefix (a Harbor proxy project) where the engine supports one
   */
  registryMirrors?: readonly (string | RegistryMirror)[];
  /** per-target file overrides (default: where each tool looks, see locations.ts; containerd: the hosts directory) */
  paths?: Partial<Record<Target, string>>;
  /** the user opted into http:// mirrors (adds pip trusted-host / uv allow-insecure-host) */
  allowHttp?: boolean;
  /** replace an index-url the catalog does not know (a private index) */
  replaceIndex?: boolean;
  /** mirrors from the user's file, counted as known indexes */
  extraMirrors?: readonly Mirror[];
  platform?: Platform;
  /** conda's platform subdir for this machine (default: this one's): channels the mirror lacks it for stay upstream */
  condaSubdir?: string;
  /** the project whose uv.lock is looked at (default: the working directory) */
  projectDir?: string;
}

/** How a config file's text maps to its bytes: UTF-8, or latin1 for a file that is not UTF-8 (every byte kept). */
export type TextEncoding = 'utf8' | 'latin1';

/** The registries a project's uv.lock names (`source = { registry = "…" }`); none without one. */
function lockedIndexes(dir: string): string[] {
  const file = path.join(dir, 'uv.lock');
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  if (size === undefined || size > 64 * 1024 * 1024) return [];
  const text = readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(/source\s*=\s*\{\s*registry\s*=\s*"([^"\n]{1,500})"/g)].map((m) => m[1]!))];
}

/** Text from a config file's bytes without losing any: UTF-8 when it is, else one char per byte. */
function decodeConfig(bytes: Buffer): { text: string; encoding: TextEncoding } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  }
}

/** Past this many edited lines a diff costs more than it tells (the diff algorithm is quadratic in them). */
const MAX_DIFF_EDITS = 1_000;

function unifiedDiff(from: string, to: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(from, to, before, after, undefined, undefined, { context: 3, maxEditLength: MAX_DIFF_EDITS });
  if (patch === undefined) return `--- ${from}\n+++ ${to}\n@@ not shown: more than ${MAX_DIFF_EDITS} lines differ @@\n`;
  return patch.replace(/^(Index:.*\n)?=+\n/, '').replace(/\t$/gm, '');
}

/** A comma list of target names (case-insensitive, duplicates dropped); throws BAD_TARGET for an unknown name or an empty list. */
export function parseTargets(list: string): Target[] {
  const items = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const bad = items.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (bad.length || items.length === 0) {
    throw new TunaSetupError(
      'BAD_TARGET',
      `unknown target${bad.length > 1 ? 's' : ''} '${bad.join(',') || list}'`,
      `targets are a comma list of: ${TARGETS.join(', ')}`,
    );
  }
  return [...new Set(items)] as Target[];
}

/** Masks user:password@ in a URL before it reaches a message. */
const safeUrl = (u: string) => u.replace(/\/\/[^/@]*@/, '//***@');

function hostOf(url: string): string | undefined {
  const u = new URL(url);
  return u.protocol === 'http:' ? u.host : undefined;
}

function guardPrivateIndex(existing: string[], ours: string, file: string, options: PlanOptions): void {
  if (options.replaceIndex) return;
  const foreign = existing.find((u) => u.replace(/\/+$/, '') !== ours && !isPublicPypiIndex(u, options.extraMirrors));
  if (foreign) {
    throw new TunaSetupError(
      'PRIVATE_INDEX',
      `${file} already uses an index tuna-setup does not know: ${safeUrl(foreign)}`,
      'that looks like a private index, and mixing a public mirror into it invites dependency confusion; pass {replaceIndex=true} if you mean it, or drop this tool from {targets}',
    );
  }
}

function requireService<T>(value: T | undefined, mirror: Mirror, what: string, target: Target): T {
  if (value === undefined) {
    throw new TunaSetupError(
      'UNSUPPORTED_SERVICE',
      `mirror '${mirror.name}' has no ${what} in the catalog`,
      `drop ${target} from {targets}, or pick a mirror that serves ${what}`,
    );
  }
  return value;
}

/** The registry mirrors for the engines: `registryMirrors`, then `dockerMirrors` (Docker Hub), then the catalog's Docker Hub mirror. */
function engineMirrors(options: PlanOptions): RegistryMirror[] {
  if (!options.targets.some((t) => ENGINE_TARGETS.includes(t))) return [];
  const all = [
    ...(options.registryMirrors ?? []).map((m) => (typeof m === 'string' ? parseRegistryMirror(m, '{registryMirror}', { allowHttp: options.allowHttp }) : m)),
    ...(options.dockerMirrors ?? []).map((u) => {
      const m = parseRegistryMirror(checkMirrorUrl(u, '{dockerMirror}', { allowHttp: options.allowHttp }), '{dockerMirror}', { allowHttp: true });
      if (mirrorPrefix(m) !== '')
        throw new TunaSetupError(
          'BAD_URL',
          `{dockerMirror}: '${u}' has a path`,
          'a Docker Hub mirror for dockerd is a registry root, e.g. https://docker.example.com; a path-prefix mirror goes in {registryMirror}',
        );
      return m;
    }),
    ...(options.mirror.dockerHub ? [{ registry: 'docker.io', url: options.mirror.dockerHub.url.replace(/\/+$/, '') }] : []),
  ];
  return all.filter((m, i) => all.findIndex((o) => o.registry === m.registry && o.url === m.url) === i);
}

function noRegistryMirror(mirror: Mirror, target: Target, what: string): TunaSetupError {
  return new TunaSetupError(
    'UNSUPPORTED_SERVICE',
    `${target}: no registry mirror to write — mirror '${mirror.name}' has no ${what} in the catalog`,
    `no institutional Chinese Docker Hub mirror is open since 2024; pass ${target === 'docker' ? '{dockerMirror} or ' : ''}{registryMirror} (your own, your cloud's, or a Harbor/Nexus proxy), or drop ${target} from {targets}`,
  );
}

/**
 * The Plan for pointing each target at `options.mirror`: reads the files and the journal, writes nothing. A file
 * tuna-setup already wrote is rendered from its original bytes.
 */
export async function planApply(options: PlanOptions): Promise<Plan> {
  const { mirror } = options;
  const platform = options.platform ?? hostPlatform();
  const journal = await readJournal(options.stateDir);
  const notes = new Set<string>();
  const env: Record<string, string> = {};
  const changes: PlannedChange[] = [];

  // validate every target's inputs before reading any file
  const registryMirrors = engineMirrors(options);
  const files = await Promise.all(options.targets.map((target) => canonicalPath(options.paths?.[target] ?? configPath(target, platform))));
  const renderers: { target: Target; file: string; render: (text: string) => string }[] = [];
  for (const [i, target] of options.targets.entries()) {
    const file = files[i]!;
    const add = (render: (text: string) => string, at = file) => renderers.push({ target, file: at, render });
    switch (target) {
      case 'pip': {
        const pypi = requireService(mirror.pypi, mirror, 'PyPI index', target);
        if (pypi.note) notes.add(`${mirror.name} PyPI: ${pypi.note}`);
        const trustedHost = hostOf(pypi.index);
        const settings: PipSettings = { indexUrl: pypi.index, ...(trustedHost ? { trustedHost } : {}) };
        env.PIP_INDEX_URL = pypi.index;
        if (trustedHost) env.PIP_TRUSTED_HOST = trustedHost;
        add((text) => {
          guardPrivateIndex(
            pipIndexUrls(text, file).map((k) => k.value),
            pypi.index,
            file,
            options,
          );
          return renderPipConf(text, settings, file);
        });
        break;
      }
      case 'uv': {
        const pypi = requireService(mirror.pypi, mirror, 'PyPI index', target);
        if (pypi.note) notes.add(`${mirror.name} PyPI: ${pypi.note}`);
        const insecureHost = hostOf(pypi.index);
        const python = mirror.pythonBuilds;
        const settings: UvSettings = {
          indexUrl: pypi.index,
          ...(insecureHost ? { insecureHost } : {}),
          ...(python ? { pythonInstallMirror: python.url } : {}),
        };
        env.UV_DEFAULT_INDEX = pypi.index;
        if (insecureHost) env.UV_INSECURE_HOST = insecureHost;
        if (python) {
          env.UV_PYTHON_INSTALL_MIRROR = python.url;
          notes.add(`${mirror.name} Python downloads (uv python install): ${python.url}${python.note ? ` — ${python.note}` : ''}`);
        }
        const locked = lockedIndexes(options.projectDir ?? process.cwd()).filter((u) => u.replace(/\/+$/, '') !== pypi.index);
        if (locked.length) {
          notes.add(
            `uv.lock records packages from ${locked.join(', ')}: with ${pypi.index} as uv's default index, \`uv lock\` and \`uv sync\` rewrite those URLs (uv #6349) — keep them with \`uv sync --frozen\`, or lock with UV_INDEX=${locked[0]}`,
          );
        }
        add((text) => {
          guardPrivateIndex(uvIndexUrls(text, file), pypi.index, file, options);
          return renderUvToml(text, settings, file);
        });
        break;
      }
      case 'conda': {
        const conda = requireService(mirror.conda, mirror, 'conda channels', target);
        // conda reads a missing platform subdir as an empty channel: what the mirror lacks for this machine stays upstream
        const subdir = options.condaSubdir ?? condaSubdir();
        const lacking = (channel: string) => subdir !== undefined && (conda.lacksSubdirs?.[channel] ?? []).includes(subdir);
        const upstream = MIRRORS.find((m) => m.name === 'official')!.conda!;
        const kept = conda.channels.filter((c) => !lacking(c));
        const settings: CondaSettings = {
          defaultChannels: lacking('pkgs/main') ? upstream.defaultChannels : conda.defaultChannels,
          customChannels: Object.fromEntries(kept.map((c) => [c, conda.cloud])),
        };
        const left = [...(lacking('pkgs/main') ? ['the default channels (pkgs/main)'] : []), ...conda.channels.filter(lacking)];
        if (left.length) notes.add(`warning: ${mirror.name} has no ${subdir} packages in ${left.join(', ')}: left on the upstream for this machine`);
        if (conda.note) notes.add(`${mirror.name} conda: ${conda.note}`);
        if (conda.lacks?.length) notes.add(`${mirror.name} conda: does not carry ${conda.lacks.join(', ')}; those channels still come from upstream`);
        env.CONDARC = file;
        add((text) => renderCondarc(text, settings, file));
        break;
      }
      case 'docker': {
        const hub = registryMirrors.filter((m) => m.registry === 'docker.io');
        if (hub.length === 0) throw noRegistryMirror(mirror, target, 'Docker Hub registry mirror');
        const prefixed = hub.find((m) => mirrorPrefix(m) !== '');
        if (prefixed) {
          throw new TunaSetupError(
            'UNSUPPORTED_SERVICE',
            `docker: ${prefixed.url} is a path prefix inside a registry, which dockerd's registry-mirrors cannot express (up to Engine 24 a mirror is a registry root; from 25 a path goes before /v2, not after it as a proxy project's does)`,
            'give Docker a mirror at a registry root (a distribution pull-through cache, or a Harbor/Nexus proxy on its own host or port); a path-prefix mirror works for containerd, podman and buildkit in {targets}',
          );
        }
        const others = [...new Set(registryMirrors.filter((m) => m.registry !== 'docker.io').map((m) => m.registry))];
        if (others.length)
          notes.add(
            `docker: dockerd mirrors Docker Hub only; images from ${others.join(', ')} are pulled through their mirrors by rewriting the image name (run/resolve --registry-mirror)`,
          );
        add((text) => renderDaemonJson(text, { registryMirrors: hub.map((m) => m.url) }, file));
        break;
      }
      case 'containerd': {
        if (registryMirrors.length === 0) throw noRegistryMirror(mirror, target, 'registry mirror');
        const configFile = path.join(path.dirname(file), 'config.toml');
        const config = await readFile(configFile, 'utf8').catch(() => '');
        // containerd's own config is only read here, never written: one that does not parse is a note, not a failure
        let cfg: ReturnType<typeof readContainerdConfig>;
        try {
          cfg = readContainerdConfig(config, configFile);
        } catch (e) {
          notes.add(`containerd: ${(e as Error).message} — config_path could not be read from it`);
          cfg = readContainerdConfig('', configFile);
        }
        const dir = options.paths?.containerd === undefined && cfg.configPaths[0] ? await canonicalPath(cfg.configPaths[0]) : file;
        if (cfg.legacyMirrors)
          notes.add(
            `containerd: ${path.join(path.dirname(file), 'config.toml')} still has the deprecated registry.mirrors section; containerd refuses it together with config_path — remove it so the hosts.toml files below are read`,
          );
        if (!cfg.configPaths.some((p) => path.resolve(p) === dir)) {
          notes.add(
            `containerd: the CRI plugin (kubelet's pulls) reads these hosts.toml files only when config.toml says so — add\n${configPathSnippet(dir, cfg.version)}\nand restart containerd; \`ctr image pull --hosts-dir ${dir}\` reads them as they are`,
          );
        } else if (cfg.configPaths.length > 1) {
          notes.add(
            `containerd: config_path lists several directories; containerd 2.1+ pulls through its transfer service, which reads it as one directory and then ignores every hosts.toml (containerd#12415) — set it to ${dir} alone`,
          );
        }
        for (const registry of new Set(registryMirrors.map((m) => m.registry))) {
          const at = path.join(dir, hostsDirName(registry), 'hosts.toml');
          add((text) => renderHostsToml(text, { registry, mirrors: registryMirrors.filter((m) => m.registry === registry) }, at), at);
        }
        break;
      }
      case 'podman': {
        if (registryMirrors.length === 0) throw noRegistryMirror(mirror, target, 'registry mirror');
        const mainFile = path.join(path.dirname(path.dirname(file)), 'registries.conf');
        const main = await readFile(mainFile, 'utf8').catch(() =>
          options.paths?.podman === undefined ? readFile('/etc/containers/registries.conf', 'utf8').catch(() => '') : '',
        );
        // containers/image reads a user's own registries.conf instead of /etc's, and then skips /etc's drop-ins
        const own = path.join(platform.home, '.config', 'containers', 'registries.conf');
        if (file.startsWith('/etc/') && existsSync(own)) {
          notes.add(
            `podman: ${own} exists, so this user's podman reads it and not ${path.dirname(file)} — for this user, write ~/.config/containers/registries.conf.d (run apply without root, or pass {podmanConfig})`,
          );
        }
        add((text) => renderRegistriesConf(text, { mirrors: registryMirrors, main, mainFile }, file));
        break;
      }
      case 'buildkit': {
        if (registryMirrors.length === 0) throw noRegistryMirror(mirror, target, 'registry mirror');
        notes.add('buildkit: buildkitd reads buildkitd.toml when it starts — restart it (or recreate the buildx builder with --buildkitd-config)');
        add((text) => renderBuildkitdToml(text, { mirrors: registryMirrors }, file));
        break;
      }
      default:
        throw new Error(`no writer for target ${target satisfies never}`);
    }
  }

  for (const { target, file, render } of renderers) {
    const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw new TunaSetupError('NOT_WRITABLE', `cannot read ${file}: ${e.message}`, 'check the path and its permissions');
    });
    const entry = journal?.entries.find((e) => e.path === file);
    const ours = bytes !== null && entry !== undefined && sha256(bytes) === entry.layers.at(-1)!.written;
    // a file we hold is rendered from its original bytes: applying twice, or switching mirrors, leaves nothing behind
    const baseBytes = ours ? (entry.original === null ? null : Buffer.from(entry.original, 'base64')) : bytes;
    const base = baseBytes === null ? { text: '', encoding: 'utf8' as const } : decodeConfig(baseBytes);
    const before = bytes === null ? null : bytes.toString(base.encoding);
    const after = render(base.text);
    const action = before === null ? 'create' : after === before ? 'unchanged' : 'update';
    if (entry && !ours && action !== 'unchanged') notes.add(`${file} was edited since tuna-setup wrote it: the edited file is what restore gives back now`);
    const diff = action === 'unchanged' ? '' : unifiedDiff(before === null ? '/dev/null' : file, file, before ?? '', after);
    changes.push({ target, path: file, action, before, after, encoding: base.encoding, diff });
  }
  return { mirror: { name: mirror.name, url: mirror.url }, changes, env, notes: [...notes] };
}
