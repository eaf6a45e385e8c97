/**
 * The wheel cache in the Action: pip and uv are pointed at one directory in
 * RUNNER_TEMP (PIP_CACHE_DIR, UV_CACHE_DIR), restored in the main step and
 * saved in the post step only on a miss. Backends: the Actions cache
 * (@actions/cache, loaded only when used) or a persistent directory on a
 * self-hosted runner (the SDK's local backend). Cache errors warn and never
 * fail a job.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { exec, PYTORCH_CI_WORKLOAD, restoreLocalCache, saveLocalCache, wheelCacheKey, workloadFromFiles, type Workload } from '@tuna-setup/sdk';
import type { CacheBackend, Inputs } from './inputs.js';

export interface CacheState {
  backend: Exclude<CacheBackend, 'off'>;
  key: string;
  hit: boolean;
  dir: string;
  local?: { root: string; maxBytes: number };
}

async function pythonVersion(): Promise<string> {
  const r = await exec(['python3', '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.trim() : 'none';
}

const absolute = (patterns: readonly string[], workspace: string) => patterns.map((p) => (path.isAbsolute(p) ? p : path.join(workspace, p))).join('\n');

async function hashDependencies(patterns: readonly string[], workspace: string): Promise<string> {
  if (!patterns.length) return '';
  const { hashFiles } = await import('@actions/glob');
  const hash = await hashFiles(absolute(patterns, workspace));
  if (!hash) core.warning(`cache-dependency-path matched no file (${patterns.join(', ')}): the key will not change when your requirements do — check the paths, relative to the workspace`);
  return hash;
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

/** Points pip and uv at the cache directory and restores it; returns what the post step needs. */
export async function restoreWheelCache(inputs: Inputs, variant: string): Promise<CacheState | undefined> {
  if (inputs.cacheBackend === 'off') {
    core.info(`wheel cache: off (${inputs.cacheBackendWhy})`);
    return undefined;
  }
  const dir = path.join(inputs.runner.temp, 'tuna-setup-wheels');
  core.exportVariable('PIP_CACHE_DIR', path.join(dir, 'pip'));
  core.exportVariable('UV_CACHE_DIR', path.join(dir, 'uv'));
  const { key, restoreKeys } = wheelCacheKey({
    os: process.platform, arch: os.arch(), python: await pythonVersion(), variant,
    depsHash: await hashDependencies(inputs.cacheDependencyPath, inputs.runner.workspace),
  });
  const state: CacheState = { backend: inputs.cacheBackend, key, hit: false, dir,
    ...(inputs.cacheBackend === 'local' ? { local: { root: inputs.cacheLocalPath, maxBytes: inputs.cacheLocalMaxBytes } } : {}) };
  core.info(`wheel cache: ${inputs.cacheBackendWhy}; key ${key}`);
  try {
    let matched: string | undefined;
    if (state.local) {
      matched = await restoreLocalCache(state.local, key, restoreKeys, dir);
    } else {
      const cache = await import('@actions/cache');
      if (!cache.isFeatureAvailable()) {
        core.warning('wheel cache: the Actions cache service is not available on this runner (no ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL); set cache-backend: local or off');
        return undefined;
      }
      matched = await cache.restoreCache([dir], key, restoreKeys);
    }
    state.hit = matched === key;
    core.info(matched ? `wheel cache: restored ${matched}${state.hit ? '' : ' (a partial match; the post step saves the new key)'}` : 'wheel cache: miss; the post step saves it');
  } catch (e) {
    core.warning(`wheel cache: restore failed, continuing without it: ${(e as Error).message}`);
  }
  return state;
}

/** In the post step: save on a miss, never fail the job. */
export async function saveWheelCache(state: CacheState): Promise<string> {
  if (state.hit) return `exact hit on ${state.key}: nothing to save`;
  if (!(await stat(state.dir).then((s) => s.isDirectory(), () => false))) return `nothing to save: ${state.dir} does not exist (no pip or uv download used it)`;
  try {
    if (state.local) {
      const { bytes, evicted } = await saveLocalCache(state.local, state.key, state.dir);
      return `saved ${state.key} (${(bytes / 1e6).toFixed(1)} MB) in ${state.local.root}${evicted.length ? `; evicted ${evicted.join(', ')}` : ''}`;
    }
    const cache = await import('@actions/cache');
    const id = await cache.saveCache([state.dir], state.key);
    return id === -1 ? `not saved: another job is saving ${state.key}` : `saved ${state.key}`;
  } catch (e) {
    core.warning(`wheel cache: save failed (the job is not affected): ${(e as Error).message}`);
    return 'save failed';
  }
}
