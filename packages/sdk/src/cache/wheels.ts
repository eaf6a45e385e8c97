/**
 * The wheel cache: its key, and the persistent-directory backend for
 * self-hosted runners.
 *
 * Keys carry a version constant (bump it to invalidate every cache), the OS,
 * the architecture, the Python, the torch variant and a hash of the
 * dependency files — never the mirror: a cache filled through one mirror
 * serves every mirror. The restore key (the same without the hash) lets a
 * job start from the nearest older cache.
 *
 * The local backend keeps one directory per key under a root, written
 * atomically (copy to a temp name, rename), its mtime refreshed on every
 * restore, and evicts the least recently used entries beyond a size cap.
 */
import { cp, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';

export const WHEEL_CACHE_VERSION = '1';

export interface WheelCacheKeyParts {
  os: string;
  arch: string;
  /** "3.12", or "none" */
  python: string;
  /** "cu128", "cpu", or "none" when torch is not resolved */
  variant: string;
  /** hash of the dependency files; empty when none matched */
  depsHash: string;
}

export function wheelCacheKey(p: WheelCacheKeyParts): { key: string; restoreKeys: string[] } {
  const prefix = `tuna-setup-wheels-v${WHEEL_CACHE_VERSION}-${p.os}-${p.arch}-py${p.python}-${p.variant}-`;
  return { key: prefix + (p.depsHash || 'no-deps'), restoreKeys: [prefix] };
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))).size;
  }
  return total;
}

export interface LocalCacheOptions {
  root: string;
  /** bytes; entries beyond it are evicted, least recently used first */
  maxBytes: number;
}

const ENTRY = /^tuna-setup-wheels-[\w.+-]+$/;

/** Copies the entry for `key` (else the newest entry matching a restore key) into `target`; returns the key restored. */
export async function restoreLocalCache(o: LocalCacheOptions, key: string, restoreKeys: readonly string[], target: string): Promise<string | undefined> {
  const entries = await readdir(o.root).catch(() => [] as string[]);
  let hit = entries.includes(key) ? key : undefined;
  if (!hit) {
    const partial = await Promise.all(entries.filter((e) => ENTRY.test(e) && restoreKeys.some((k) => e.startsWith(k)))
      .map(async (e) => ({ e, t: (await stat(path.join(o.root, e))).mtimeMs })));
    hit = partial.sort((a, b) => b.t - a.t)[0]?.e;
  }
  if (!hit) return undefined;
  const dir = path.join(o.root, hit);
  await mkdir(target, { recursive: true });
  await cp(dir, target, { recursive: true, force: true });
  const now = new Date();
  await utimes(dir, now, now); // recently used
  return hit;
}

/** Stores `source` as the entry `key` (atomically), then evicts beyond the cap. Returns the entry's size. */
export async function saveLocalCache(o: LocalCacheOptions, key: string, source: string): Promise<{ bytes: number; evicted: string[] }> {
  if (!ENTRY.test(key)) throw new Error(`not a wheel cache key: ${key}`);
  await mkdir(o.root, { recursive: true });
  const tmp = path.join(o.root, `.${key}.${process.pid}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  await cp(source, tmp, { recursive: true });
  const final = path.join(o.root, key);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  const bytes = await sizeOf(final);
  return { bytes, evicted: await evictLocalCache(o, key) };
}

/** Removes the least recently used entries until the total fits `maxBytes` (the entry `keep` stays). */
export async function evictLocalCache(o: LocalCacheOptions, keep?: string): Promise<string[]> {
  const names = (await readdir(o.root).catch(() => [] as string[])).filter((e) => ENTRY.test(e));
  const entries = await Promise.all(names.map(async (e) => ({ e, t: (await stat(path.join(o.root, e))).mtimeMs, size: await sizeOf(path.join(o.root, e)) })));
  let total = entries.reduce((n, x) => n + x.size, 0);
  const evicted: string[] = [];
  for (const x of entries.sort((a, b) => a.t - b.t)) {
    if (total <= o.maxBytes) break;
    if (x.e === keep) continue;
    await rm(path.join(o.root, x.e), { recursive: true, force: true });
    total -= x.size;
    evicted.push(x.e);
  }
  return evicted;
}
