/**
 * Installing conda — Miniforge from the mirror's copy of its releases (the
 * upstream as fallback), or the micromamba binary — for every front end. A
 * file comes from the first source that works and is checked against the
 * `.sha256` published beside it by the same source; a cache (the Action's
 * tool cache; none for the CLI) keyed by that checksum spares a download of
 * a file the machine already has. `token` (the Action's github-token) goes to
 * github.com only — the HTTP client drops it on a redirect to another origin.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';
import { exec } from '../exec.js';
import { createDispatcher, describeHttpError, httpRequest } from '../net/http.js';
import { micromambaSources, miniforgeInstallerName, miniforgeSources, parseSha256File, type InstallerSource } from './installers.js';
import type { Mirror } from './types.js';

/** Where verified files are kept between runs (the Action's tool cache), by checksum. */
export interface VerifiedCache {
  /** the cached file for this checksum, if any */
  find(sha256: string): string | undefined | Promise<string | undefined>;
  /** keeps `file` under this checksum; returns where it now is */
  store(file: string, sha256: string): Promise<string>;
}

/** Options of `fetchVerified` and the conda installers. */
export interface FetchOptions {
  /** sent as `Authorization: token …` to github.com only */
  token?: string;
  cache?: VerifiedCache;
  allowHttp?: boolean;
  /** progress and fallbacks, one line each */
  log?: (line: string) => void;
  /** per source (default 10 min) */
  timeoutMs?: number;
}

const MiB = 1024 * 1024;

/** What a source answered that is not the file: its message is the reason as it is. */
class SourceError extends Error {}

/** The verified file from the first source that works; INSTALL_FAILED naming every source's failure. */
export async function fetchVerified(
  what: string,
  sources: readonly InstallerSource[],
  o: FetchOptions = {},
): Promise<{ path: string; source: string; sha256: string }> {
  const log = o.log ?? (() => {});
  const failures: string[] = [];
  for (const [i, s] of sources.entries()) {
    const deadline = AbortSignal.timeout(o.timeoutMs ?? 600_000);
    const dispatcher = await createDispatcher({ deadline, timeoutMs: 60_000 });
    const get = (url: string, maxBytes: number) =>
      httpRequest(url, {
        dispatcher,
        signal: deadline,
        maxBytes,
        whole: true,
        ...(o.allowHttp ? { allowHttp: true } : {}),
        ...(o.token && new URL(url).hostname === 'github.com' ? { headers: { authorization: `token ${o.token}` } } : {}),
      });
    try {
      const sums = await get(s.sha256Url, 64 * 1024);
      if (sums.status !== 200) throw new SourceError(`HTTP ${sums.status} for ${s.sha256Url}`);
      const expected = parseSha256File(sums.body.toString('utf8'));
      if (!expected) throw new SourceError(`${s.sha256Url} holds no SHA-256 digest`);
      const cached = await o.cache?.find(expected);
      if (cached) {
        log(`${what} ${expected.slice(0, 16)}… already on this machine`);
        return { path: cached, source: s.name, sha256: expected };
      }
      const res = await get(s.url, 1024 * MiB);
      if (res.status !== 200) throw new SourceError(`HTTP ${res.status} for ${s.url}`);
      const actual = createHash('sha256').update(res.body).digest('hex');
      if (actual !== expected) throw new SourceError(`checksum mismatch: ${s.url} is ${actual}, ${path.basename(s.sha256Url)} says ${expected}`);
      const dir = await mkdtemp(path.join(tmpdir(), 'tuna-setup-download-'));
      const file = path.join(dir, path.basename(new URL(s.url).pathname));
      await writeFile(file, res.body);
      log(`${what} from ${s.name} (${s.url}), sha256 ${expected} verified`);
      return { path: o.cache ? await o.cache.store(file, expected) : file, source: s.name, sha256: expected };
    } catch (e) {
      const why = e instanceof SourceError || e instanceof TunaSetupError ? e.message : describeHttpError(e, s.url);
      failures.push(`${s.name}: ${why}`);
      log(`warning: ${what} from ${s.name} failed (${why}); ${i + 1 < sources.length ? 'falling back to the upstream release' : 'no source left'}`);
    } finally {
      await dispatcher.destroy().catch(() => {});
    }
  }
  throw new TunaSetupError(
    'INSTALL_FAILED',
    `cannot get the ${what} — ${failures.join('; ')}`,
    "check the mirror's github-release copy and the network, or install conda yourself ({installConda=none})",
  );
}

/** An installed conda: its prefix and the source its file came from. */
export interface CondaInstall {
  /** where it is: PREFIX/bin holds conda or micromamba */
  prefix: string;
  /** which source the file came from (a mirror's name, or official) */
  source: string;
}

/** Miniforge from the mirror (the upstream as fallback), installed into `prefix` with `bash installer -b -u -p prefix`. */
export async function installMiniforge(mirror: Mirror, prefix: string, o: FetchOptions = {}): Promise<CondaInstall> {
  const file = miniforgeInstallerName();
  const installer = await fetchVerified('Miniforge installer', miniforgeSources(mirror, file), o);
  const r = await exec(['bash', installer.path, '-b', '-u', '-p', prefix], { timeoutMs: 15 * 60_000 });
  if (!o.cache) await rm(path.dirname(installer.path), { recursive: true, force: true });
  if (r.code !== 0) {
    throw new TunaSetupError(
      'INSTALL_FAILED',
      `the Miniforge installer exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`,
      `it ran as: bash ${installer.path} -b -u -p ${prefix}`,
    );
  }
  return { prefix, source: installer.source };
}

/** The micromamba binary (upstream), as `prefix/bin/micromamba`. */
export async function installMicromamba(prefix: string, o: FetchOptions = {}): Promise<CondaInstall> {
  const binary = await fetchVerified('micromamba binary', micromambaSources(), o);
  await mkdir(path.join(prefix, 'bin'), { recursive: true });
  const target = path.join(prefix, 'bin', 'micromamba');
  await copyFile(binary.path, target);
  await chmod(target, 0o755);
  if (!o.cache) await rm(path.dirname(binary.path), { recursive: true, force: true });
  return { prefix, source: binary.source };
}
