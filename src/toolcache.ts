/**
 * install-conda. A file comes from the first source that works — for
 * Miniforge the selected mirror's copy of the releases (TUNA and USTC carry
 * them), then the upstream release, with a warning; for micromamba the
 * upstream release — checked against the `.sha256` published beside it by
 * the same source, and kept in the tool cache under a version made from that
 * checksum, so a runner that has this exact file does not download it again.
 * Installed into RUNNER_TEMP and put on PATH; `.condarc` (written by the
 * configure phase) already points it at the mirror.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { exec, TunaSetupError, type Mirror } from '@tuna-setup/sdk';
import { micromambaSources, miniforgeInstallerName, miniforgeSources, parseSha256File, type InstallerSource } from '@tuna-setup/sdk/catalog';

export interface Installed {
  prefix: string;
  source: string;
}

const sha256File = (file: string) => new Promise<string>((resolve, reject) => {
  const h = createHash('sha256');
  createReadStream(file).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
});

/** `github-token`, sent to github.com only (its release downloads are rate-limited without one); never to a mirror. */
const authFor = (url: string, token: string | undefined) => (token && new URL(url).hostname === 'github.com' ? `token ${token}` : undefined);

/** The verified file from the first source that works, through the tool cache. */
async function fetchVerified(what: string, tool: string, file: string, sources: readonly InstallerSource[], token?: string): Promise<{ path: string; source: string }> {
  const tc = await import('@actions/tool-cache');
  const failures: string[] = [];
  for (const [i, s] of sources.entries()) {
    try {
      const expected = parseSha256File(await readFile(await tc.downloadTool(s.sha256Url, undefined, authFor(s.sha256Url, token)), 'utf8'));
      if (!expected) throw new Error(`${s.sha256Url} holds no SHA-256 digest`);
      const version = `0.0.0-${expected.slice(0, 16)}`;
      const cached = tc.find(tool, version);
      if (cached) {
        core.info(`${what} ${expected.slice(0, 16)}… from the tool cache`);
        return { path: path.join(cached, file), source: s.name };
      }
      const downloaded = await tc.downloadTool(s.url, undefined, authFor(s.url, token));
      const actual = await sha256File(downloaded);
      if (actual !== expected) throw new Error(`checksum mismatch: ${s.url} is ${actual}, ${path.basename(s.sha256Url)} says ${expected}`);
      core.info(`${what} from ${s.name} (${s.url}), sha256 ${expected} verified`);
      return { path: path.join(await tc.cacheFile(downloaded, file, tool, version), file), source: s.name };
    } catch (e) {
      failures.push(`${s.name}: ${(e as Error).message}`);
      core.warning(`${what} from ${s.name} failed (${(e as Error).message}); ${i + 1 < sources.length ? 'falling back to the upstream release' : 'no source left'}`);
    }
  }
  throw new TunaSetupError('INSTALL_FAILED', `cannot get the ${what} — ${failures.join('; ')}`,
    "check the mirror's github-release copy and the network, or set install-conda: none");
}

export async function installMiniforge(mirror: Mirror, temp: string, token?: string): Promise<Installed> {
  const file = miniforgeInstallerName();
  const installer = await fetchVerified('Miniforge installer', 'miniforge3-installer', file, miniforgeSources(mirror, file), token);
  const prefix = path.join(temp, 'miniforge3');
  const r = await exec(['bash', installer.path, '-b', '-u', '-p', prefix], { timeoutMs: 15 * 60_000 });
  if (r.code !== 0) {
    throw new TunaSetupError('INSTALL_FAILED', `the Miniforge installer exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`, `it ran as: bash ${installer.path} -b -u -p ${prefix}`);
  }
  core.addPath(path.join(prefix, 'bin'));
  core.exportVariable('CONDA', prefix);
  return { prefix, source: installer.source };
}

export async function installMicromamba(temp: string, token?: string): Promise<Installed> {
  const sources = micromambaSources();
  const file = path.basename(sources[0]!.url);
  const binary = await fetchVerified('micromamba binary', 'micromamba-binary', file, sources, token);
  const prefix = path.join(temp, 'micromamba');
  await mkdir(path.join(prefix, 'bin'), { recursive: true });
  const target = path.join(prefix, 'bin', 'micromamba');
  await copyFile(binary.path, target);
  await chmod(target, 0o755);
  core.addPath(path.join(prefix, 'bin'));
  core.exportVariable('MAMBA_ROOT_PREFIX', path.join(prefix, 'root'));
  return { prefix, source: binary.source };
}
