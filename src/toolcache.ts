/**
 * install-conda: Miniforge from the selected mirror (TUNA and USTC carry the
 * GitHub releases), the upstream release when the mirror fails (with a
 * warning), the installer checked against the `.sha256` published beside it
 * by the same source, and kept in the tool cache under a version made from
 * that checksum — so a runner that has this exact installer does not download
 * it again. Installed into RUNNER_TEMP and put on PATH; `.condarc` (written
 * by the configure phase) already points it at the mirror.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { exec, miniforgeInstallerName, miniforgeSources, parseSha256File, TunaSetupError, type Mirror } from '@tuna-setup/sdk';

const TOOL = 'miniforge3-installer';

const sha256File = (file: string) => new Promise<string>((resolve, reject) => {
  const h = createHash('sha256');
  createReadStream(file).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
});

/** Returns the prefix Miniforge was installed into. */
export async function installMiniforge(mirror: Mirror, temp: string): Promise<{ prefix: string; source: string }> {
  const tc = await import('@actions/tool-cache');
  const file = miniforgeInstallerName();
  const failures: string[] = [];
  let installer: string | undefined;
  let source = '';
  for (const s of miniforgeSources(mirror, file)) {
    try {
      const expected = parseSha256File(await readFile(await tc.downloadTool(s.sha256Url), 'utf8'));
      if (!expected) throw new Error(`${s.sha256Url} holds no SHA-256 digest`);
      const version = `0.0.0-${expected.slice(0, 16)}`;
      const cached = tc.find(TOOL, version);
      if (cached) {
        installer = path.join(cached, file);
        core.info(`Miniforge installer ${expected.slice(0, 16)}… from the tool cache`);
      } else {
        const downloaded = await tc.downloadTool(s.url);
        const actual = await sha256File(downloaded);
        if (actual !== expected) throw new Error(`checksum mismatch: ${s.url} is ${actual}, ${path.basename(s.sha256Url)} says ${expected}`);
        installer = path.join(await tc.cacheFile(downloaded, file, TOOL, version), file);
        core.info(`Miniforge installer from ${s.name} (${s.url}), sha256 ${expected} verified`);
      }
      source = s.name;
      break;
    } catch (e) {
      failures.push(`${s.name}: ${(e as Error).message}`);
      core.warning(`Miniforge from ${s.name} failed (${(e as Error).message}); ${s.name === 'official' ? 'no source left' : 'falling back to the upstream release'}`);
    }
  }
  if (!installer) {
    throw new TunaSetupError('INSTALL_FAILED', `cannot get the Miniforge installer — ${failures.join('; ')}`,
      "check the mirror's github-release/conda-forge/miniforge copy and the network, or set install-conda: none");
  }
  const prefix = path.join(temp, 'miniforge3');
  const r = await exec(['bash', installer, '-b', '-u', '-p', prefix], { timeoutMs: 15 * 60_000 });
  if (r.code !== 0) {
    throw new TunaSetupError('INSTALL_FAILED', `the Miniforge installer exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`, `it ran as: bash ${installer} -b -u -p ${prefix}`);
  }
  core.addPath(path.join(prefix, 'bin'));
  core.exportVariable('CONDA', prefix);
  return { prefix, source };
}
