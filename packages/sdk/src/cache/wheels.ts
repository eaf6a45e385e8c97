/**
 * The wheel cache: its keys, what it holds, and the persistent-directory
 * backend for self-hosted runners.
 *
 * A cache that can never freeze: entries are saved under the key of what
 * they hold — `<base>-<content>`, the base being the version constant, OS
 * and its version, architecture, Python, torch variant, a hash of the
 * dependency files and an optional suffix; the content a hash of the file
 * list (paths and sizes). A job restores the newest entry of its base (then
 * of any dependencies), and saves only when the cache gained or lost files
 * since: a new key, so a once-saved key never blocks a fuller cache, and a
 * job that downloaded nothing saves nothing. pip and uv write their cache
 * files whole (a temp file renamed), so an interrupted install leaves
 * nothing half-written to save. Never the mirror in the key: a cache filled
 * through one mirror serves every mirror.
 *
 * The local backend keeps one directory per entry under `root/<scope>/`, a
 * scope per branch like the Actions cache (a pull request's job reads its
 * own scope, then its base branch's and the default branch's, and writes
 * only its own — it cannot plant wheels a push job restores), copied with
 * the system's `cp -R` (Node's fs.cp is 20× slower on 10k files), its sizes
 * and last use in `root/index.json` under the state lock, so eviction never
 * walks the cache.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../exec.js';
import { withStateLock } from '../fs/lock.js';
import { writeFileAtomic } from '../fs/atomic.js';

/** The cache's format version, the `v<N>` in every key: changing it leaves every older entry unrestored. */
export const WHEEL_CACHE_VERSION = '2';

/** What a job's key is made of; the mirror never is, so one cache serves every mirror. */
export interface WheelCacheKeyParts {
  /** the OS and its version: `ubuntu24.04`, `debian12`, `darwin24` */
  os: string;
  arch: string;
  /** "3.12", or "none" */
  python: string;
  /** "cu128", "cpu", or "none" when torch is not resolved */
  variant: string;
  /** hash of the dependency files; empty when none matched */
  depsHash: string;
  /** the user's own part (`cache-suffix`) */
  suffix?: string;
}

const clean = (s: string) => s.replace(/[^\w.+]+/g, '_');

/** The base of this job's keys, and the prefixes it restores from (its own base first, then any dependencies). */
export function wheelCacheKey(p: WheelCacheKeyParts): { base: string; restoreKeys: string[] } {
  const prefix = `tuna-setup-wheels-v${WHEEL_CACHE_VERSION}-${clean(p.os)}-${clean(p.arch)}-py${clean(p.python)}-${clean(p.variant)}-`;
  const tail = p.suffix ? `-${clean(p.suffix)}` : '';
  const base = `${prefix}${p.depsHash ? p.depsHash.slice(0, 16) : 'no-deps'}${tail}`;
  return { base, restoreKeys: [`${base}-`, ...(p.depsHash ? [prefix] : [])] };
}

/** The key an entry holding `content` is saved under. */
export const entryKey = (base: string, content: CacheContent) => `${base}-${content.hash.slice(0, 12)}`;

/** What the cache directories hold: a hash of every file's path and size, the file count and total bytes. */
export interface CacheContent {
  /** sha256 of every file's path and size */
  hash: string;
  files: number;
  bytes: number;
}

/** What the cache directories hold now (a missing directory holds nothing). */
export async function cacheContent(dirs: Readonly<Record<string, string>>): Promise<CacheContent> {
  const lines: string[] = [];
  let bytes = 0;
  for (const [name, dir] of Object.entries(dirs).sort(([a], [b]) => a.localeCompare(b))) {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile()) continue;
      const full = path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
      // one sync stat per file: 10k awaited stats cost more than the copy itself
      const size = statSync(full, { throwIfNoEntry: false })?.size;
      if (size === undefined) continue;
      bytes += size;
      lines.push(`${name}/${path.relative(dir, full)}\0${size}`);
    }
  }
  lines.sort();
  return { hash: createHash('sha256').update(lines.join('\n')).digest('hex'), files: lines.length, bytes };
}

/** `src`'s contents into `dst` (created), keeping what `dst` already has. */
async function copyTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  if (process.platform !== 'win32') {
    const r = await exec(['cp', '-R', `${src}/.`, dst], { timeoutMs: 30 * 60_000 });
    if (r.code === 0) return;
    if (r.code !== 127) throw new Error(`cp -R ${src} ${dst}: ${r.stderr.trim().split('\n')[0]}`);
  }
  await cp(src, dst, { recursive: true, force: true });
}

/** The local backend's settings: its root directory, size cap, and the scopes this job writes and reads. */
export interface LocalCacheOptions {
  root: string;
  /** bytes; entries beyond it are evicted, least recently used first */
  maxBytes: number;
  /** where this job saves (a branch, or a pull request) */
  scope: string;
  /** where it may restore from, in order (its own scope first) */
  readScopes: readonly string[];
}

interface IndexEntry {
  scope: string;
  key: string;
  bytes: number;
  usedAt: number;
}
const INDEX = 'index.json';
const ENTRY = /^tuna-setup-wheels-[\w.+-]+$/;

async function readIndex(root: string): Promise<IndexEntry[]> {
  const raw = await readFile(path.join(root, INDEX), 'utf8').catch(() => '');
  try {
    const v = JSON.parse(raw) as { entries?: unknown };
    return Array.isArray(v.entries)
      ? v.entries.filter(
          (e): e is IndexEntry =>
            typeof e?.key === 'string' && ENTRY.test(e.key) && typeof e.scope === 'string' && typeof e.bytes === 'number' && typeof e.usedAt === 'number',
        )
      : [];
  } catch {
    return []; // a lost index: entries not in it are swept on the next save
  }
}
const writeIndex = (root: string, entries: IndexEntry[]) => writeFileAtomic(path.join(root, INDEX), `${JSON.stringify({ version: 1, entries })}\n`);
const scopeDir = (root: string, scope: string) => path.join(root, clean(scope));

/** Restores the newest entry matching a restore key (scopes in order) into `targets`; returns its key. */
export async function restoreLocalCache(
  o: LocalCacheOptions,
  restoreKeys: readonly string[],
  targets: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  return withStateLock(o.root, async () => {
    const index = await readIndex(o.root);
    let hit: IndexEntry | undefined;
    for (const k of restoreKeys) {
      for (const scope of o.readScopes) {
        hit = index.filter((e) => e.scope === clean(scope) && e.key.startsWith(k)).sort((a, b) => b.usedAt - a.usedAt)[0];
        if (hit) break;
      }
      if (hit) break;
    }
    if (!hit) return undefined;
    const dir = path.join(o.root, hit.scope, hit.key);
    for (const [name, target] of Object.entries(targets)) {
      if (
        await stat(path.join(dir, name)).then(
          () => true,
          () => false,
        )
      )
        await copyTree(path.join(dir, name), target);
    }
    hit.usedAt = Date.now();
    await writeIndex(o.root, index);
    return hit.key;
  });
}

/** Stores `sources` as the entry `key` in this job's scope (whole, or not at all), then evicts beyond the cap. */
export async function saveLocalCache(
  o: LocalCacheOptions,
  key: string,
  sources: Readonly<Record<string, string>>,
  bytes: number,
): Promise<{ evicted: string[] }> {
  if (!ENTRY.test(key)) throw new Error(`not a wheel cache key: ${key}`);
  const scope = clean(o.scope);
  const tmp = path.join(scopeDir(o.root, scope), `.${key}.${process.pid}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  // the copy happens outside the lock; only the rename and the index are under it
  for (const [name, src] of Object.entries(sources)) {
    if (
      await stat(src).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      await copyTree(src, path.join(tmp, name));
  }
  await mkdir(tmp, { recursive: true });
  return withStateLock(o.root, async () => {
    const final = path.join(scopeDir(o.root, scope), key);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    const index = (await readIndex(o.root)).filter((e) => !(e.scope === scope && e.key === key));
    index.push({ scope, key, bytes, usedAt: Date.now() });
    const evicted = await evict(o.root, index, o.maxBytes, { scope, key });
    await writeIndex(o.root, index);
    return { evicted };
  });
}

/** Least recently used first, until the index's total fits; also sweeps entry directories the index lost. Mutates `index`. */
async function evict(root: string, index: IndexEntry[], maxBytes: number, keep: { scope: string; key: string }): Promise<string[]> {
  const evicted: string[] = [];
  let total = index.reduce((n, e) => n + e.bytes, 0);
  for (const e of [...index].sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= maxBytes) break;
    if (e.scope === keep.scope && e.key === keep.key) continue;
    await rm(path.join(root, e.scope, e.key), { recursive: true, force: true });
    index.splice(index.indexOf(e), 1);
    total -= e.bytes;
    evicted.push(e.key);
  }
  const known = new Set(index.map((e) => `${e.scope}/${e.key}`));
  for (const scope of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (!scope.isDirectory()) continue;
    for (const name of await readdir(path.join(root, scope.name)).catch(() => [] as string[])) {
      if (ENTRY.test(name) && !known.has(`${scope.name}/${name}`)) await rm(path.join(root, scope.name, name), { recursive: true, force: true });
    }
  }
  return evicted;
}
