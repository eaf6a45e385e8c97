/**
 * The wheel cache in the Action (the design is the SDK's cache/wheels.ts:
 * content-keyed entries that cannot freeze). The directories cached:
 *
 * - pip's own cache directory (`pip cache dir`: ~/.cache/pip unless the
 *   user set one), created at restore — not one of ours in RUNNER_TEMP, so
 *   actions/setup-python's `cache: pip`, which recorded that directory in its
 *   main step, finds it in its post step (setup-python #691, #831);
 * - uv's: UV_CACHE_DIR in RUNNER_TEMP, unless an earlier step (setup-uv, or
 *   the user) set UV_CACHE_DIR — then that step owns and caches it, and it is
 *   left alone rather than cached twice.
 *
 * Restored in the main step, saved in the post step when the content
 * changed since the restore (and `save-cache` is on). Backends: the Actions
 * cache (@actions/cache, loaded only when used) or the SDK's local backend
 * on self-hosted runners. Cache errors warn and never fail a job.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { exec } from '@tuna-setup/sdk';
import { cacheContent, entryKey, restoreLocalCache, saveLocalCache, wheelCacheKey } from '@tuna-setup/sdk/cache';
import { PYTORCH_CI_WORKLOAD, workloadFromFiles, type Workload } from '@tuna-setup/sdk/probe';
import type { CacheBackend, Inputs } from './inputs.js';

export interface CacheState {
  backend: Exclude<CacheBackend, 'off'>;
  /** the base of this job's keys */
  base: string;
  /** the entry restored, if any */
  restored?: string;
  /** the content hash right after the restore: unchanged in the post step → nothing to save */
  restoredHash: string;
  /** name → directory, the directories cached */
  dirs: Record<string, string>;
  save: boolean;
  local?: { root: string; maxBytes: number; scope: string; readScopes: string[] };
}

async function pythonVersion(): Promise<string> {
  const r = await exec(['python3', '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.trim() : 'none';
}

/** `ubuntu24.04`, `debian12`: wheels built on one OS release are not restored on another. */
async function osRelease(): Promise<string> {
  if (process.platform === 'linux') {
    const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
    const field = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
    if (field('ID')) return `${field('ID')}${field('VERSION_ID')}`;
  }
  return `${process.platform}${os.release().split('.')[0]}`;
}

/** pip's cache directory as pip sees it (the user's config and PIP_CACHE_DIR honoured); null: caching is off or pip is absent. */
async function pipCacheDir(): Promise<string | null> {
  const r = await exec(['python3', '-m', 'pip', 'cache', 'dir'], { timeoutMs: 30_000 });
  const dir = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code === 0 && path.isAbsolute(dir)) return dir;
  if (/cache.*disabled/i.test(r.stderr + r.stdout)) return null;
  // no pip here yet (setup-python comes later, or uv only): pip's default place
  const base =
    process.platform === 'darwin'
      ? path.join(os.homedir(), 'Library/Caches')
      : process.platform === 'win32'
        ? (process.env.LOCALAPPDATA ?? os.homedir())
        : process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, process.platform === 'win32' ? 'pip/Cache' : 'pip');
}

const absolute = (patterns: readonly string[], workspace: string) => patterns.map((p) => (path.isAbsolute(p) ? p : path.join(workspace, p))).join('\n');

/** The dependency files hashed into the key when `cache-dependency-path` is empty. */
export const DEFAULT_DEPENDENCY_FILES = [
  'requirements*.txt',
  'requirements/*.txt',
  'pyproject.toml',
  'uv.lock',
  'poetry.lock',
  'Pipfile.lock',
  'environment*.yml',
  'setup.cfg',
];

async function hashDependencies(patterns: readonly string[], workspace: string): Promise<string> {
  const given = patterns.length > 0;
  const { hashFiles } = await import('@actions/glob');
  const hash = await hashFiles(absolute(given ? patterns : DEFAULT_DEPENDENCY_FILES, workspace));
  if (!hash) {
    core.warning(
      given
        ? `cache-dependency-path matched no file (${patterns.join(', ')}): the key will not follow your requirements — check the paths, relative to the workspace`
        : `no dependency file found (${DEFAULT_DEPENDENCY_FILES.join(', ')}): the cache key cannot follow your requirements (new downloads are still saved) — set cache-dependency-path`,
    );
  }
  return hash;
}

/** The branch scopes of the local backend, like the Actions cache: write your own, read yours, then the base and default branches. */
async function scopes(env: NodeJS.ProcessEnv): Promise<{ scope: string; readScopes: string[] }> {
  const ref = env.GITHUB_REF || 'local';
  const event = await readFile(env.GITHUB_EVENT_PATH ?? '', 'utf8').then(
    (t) => JSON.parse(t) as { repository?: { default_branch?: string } },
    () => ({}) as { repository?: { default_branch?: string } },
  );
  const fallback = [
    env.GITHUB_BASE_REF ? `refs/heads/${env.GITHUB_BASE_REF}` : '',
    event.repository?.default_branch ? `refs/heads/${event.repository.default_branch}` : '',
  ];
  return { scope: ref, readScopes: [...new Set([ref, ...fallback.filter(Boolean)])] };
}

/** Points pip and uv at the cached directories and restores them; returns what the post step needs. */
export async function restoreWheelCache(inputs: Inputs, variant: string): Promise<CacheState | undefined> {
  if (inputs.cacheBackend === 'off') {
    core.info(`wheel cache: off (${inputs.cacheBackendWhy})`);
    return undefined;
  }
  const dirs: Record<string, string> = {};
  const pip = await pipCacheDir();
  if (pip) dirs.pip = pip;
  if (process.env.UV_CACHE_DIR) {
    core.info(
      `wheel cache: UV_CACHE_DIR was set before this step (${process.env.UV_CACHE_DIR}): left to whoever set it (setup-uv caches it), not cached twice`,
    );
  } else {
    dirs.uv = path.join(inputs.runner.temp, 'tuna-setup-wheels', 'uv');
    core.exportVariable('UV_CACHE_DIR', dirs.uv);
  }
  const { base, restoreKeys } = wheelCacheKey({
    os: await osRelease(),
    arch: os.arch(),
    python: await pythonVersion(),
    variant,
    depsHash: await hashDependencies(inputs.cacheDependencyPath, inputs.runner.workspace),
    suffix: inputs.cacheSuffix,
  });
  const state: CacheState = {
    backend: inputs.cacheBackend,
    base,
    restoredHash: '',
    dirs,
    save: inputs.saveCache,
    ...(inputs.cacheBackend === 'local' ? { local: { root: inputs.cacheLocalPath, maxBytes: inputs.cacheLocalMaxBytes, ...(await scopes(process.env)) } } : {}),
  };
  core.info(
    `wheel cache: ${inputs.cacheBackendWhy}; keys ${base}-<content>; caching ${Object.entries(dirs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}${state.save ? '' : ' (restore only: save-cache is false)'}`,
  );
  try {
    let matched: string | undefined;
    if (state.local) {
      matched = await restoreLocalCache(state.local, restoreKeys, dirs);
    } else {
      const cache = await import('@actions/cache');
      if (!cache.isFeatureAvailable()) {
        core.warning(
          `wheel cache: the Actions cache service is not available on this runner (${process.env.ACTIONS_CACHE_SERVICE_V2 ? 'ACTIONS_RESULTS_URL' : 'ACTIONS_CACHE_URL'} is not set); set cache-backend: local or off`,
        );
        return undefined;
      }
      // the base itself is never saved (every entry carries its content): the prefixes pick the newest
      matched = await cache.restoreCache(Object.values(dirs), base, restoreKeys);
    }
    if (matched) state.restored = matched;
    core.info(
      matched
        ? `wheel cache: restored ${matched}${matched.startsWith(`${base}-`) ? '' : ' (another dependency set: a partial match)'}`
        : 'wheel cache: nothing to restore yet',
    );
  } catch (e) {
    core.warning(`wheel cache: restore failed, continuing without it: ${(e as Error).message}`);
  }
  // the directories exist from here on, whatever runs: a later post step that checks them finds them
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  state.restoredHash = (await cacheContent(dirs)).hash;
  return state;
}

/** Whether the restored entry was of this job's own dependencies (the `cache-hit` output). */
export const cacheHit = (state: CacheState) => state.restored?.startsWith(`${state.base}-`) ?? false;

/** In the post step: save what changed since the restore, never fail the job. */
export async function saveWheelCache(state: CacheState): Promise<string> {
  if (!state.save) return 'not saved: save-cache is false';
  try {
    // uv's own housekeeping first: entries no longer referenced (downloads stay: they are the slow part)
    if (state.dirs.uv && (await exec(['uv', 'cache', 'prune'], { env: { ...process.env, UV_CACHE_DIR: state.dirs.uv }, timeoutMs: 120_000 })).code === 0)
      core.info('wheel cache: uv cache prune');
    // pip's version-check state is not a download
    if (state.dirs.pip) await rm(path.join(state.dirs.pip, 'selfcheck'), { recursive: true, force: true });
    const content = await cacheContent(state.dirs);
    if (content.hash === state.restoredHash)
      return `unchanged since ${state.restored ? `the restore of ${state.restored}` : 'the start (empty)'}: nothing to save`;
    if (content.files === 0) return 'nothing to save: no pip or uv download used the cache';
    const key = entryKey(state.base, content);
    const size = `${content.files} files, ${(content.bytes / 1e6).toFixed(1)} MB`;
    if (state.local) {
      const { evicted } = await saveLocalCache(state.local, key, state.dirs, content.bytes);
      return `saved ${key} (${size}) in ${state.local.root}, scope ${state.local.scope}${evicted.length ? `; evicted ${evicted.join(', ')}` : ''}`;
    }
    const cache = await import('@actions/cache');
    const id = await cache.saveCache(Object.values(state.dirs), key);
    return id === -1 ? `not saved: ${key} is being saved by another job, or exists` : `saved ${key} (${size})`;
  } catch (e) {
    core.warning(`wheel cache: save failed (the job is not affected): ${(e as Error).message}`);
    return 'save failed';
  }
}

/**
 * What the job will download, from the requirement files `cache-dependency-path`
 * names (pip `-r` files; lock files say little about sizes and are skipped),
 * so the mirror is ranked by the job's own downloads; undefined: the default.
 */
export async function requirementsWorkload(patterns: readonly string[], workspace: string): Promise<Workload | undefined> {
  if (!patterns.length) return undefined;
  const { create } = await import('@actions/glob');
  const files = await (await create(absolute(patterns, workspace))).glob();
  try {
    const workload = await workloadFromFiles(files);
    if (workload === PYTORCH_CI_WORKLOAD) return undefined;
    core.info(`ranking mirrors by the downloads of your requirements: ${workload.pages} index pages, ${workload.files.length} wheels`);
    return workload;
  } catch (e) {
    // it only tunes the ranking: a file it cannot use is a warning, not a failed job
    core.warning(`cache-dependency-path: ${(e as Error).message}; mirrors are ranked for a PyTorch CI job instead`);
    return undefined;
  }
}
