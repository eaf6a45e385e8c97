/**
 * install-conda in the Action: the SDK installs (catalog/install-conda.ts —
 * the mirror's copy first, the upstream as fallback, checked against the
 * `.sha256` beside it); this keeps the verified file in the runner's tool
 * cache under a version made from that checksum, so a runner that has this
 * exact file does not download it again, and puts conda on PATH.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import type { Mirror } from '@tuna-setup/sdk';
import { installMicromamba as sdkMicromamba, installMiniforge as sdkMiniforge, type CondaInstall, type VerifiedCache } from '@tuna-setup/sdk/catalog';

/** The runner's tool cache, by checksum: `tool`@0.0.0-<sha16>. */
async function toolCache(tool: string): Promise<VerifiedCache> {
  const tc = await import('@actions/tool-cache');
  const version = (sha: string) => `0.0.0-${sha.slice(0, 16)}`;
  return {
    // one file per version, named as it was downloaded (Miniforge3-Linux-x86_64.sh, micromamba-linux-64)
    find: (sha) => {
      const dir = tc.find(tool, version(sha));
      const name = dir ? readdirSync(dir)[0] : undefined;
      return dir && name ? path.join(dir, name) : undefined;
    },
    store: async (file, sha) => path.join(await tc.cacheFile(file, path.basename(file), tool, version(sha)), path.basename(file)),
  };
}

const options = async (tool: string, token: string | undefined) => ({
  cache: await toolCache(tool),
  ...(token ? { token } : {}),
  log: (l: string) => (l.startsWith('warning: ') ? core.warning(l.slice(9)) : core.info(l)),
});

export async function installMiniforge(mirror: Mirror, temp: string, token?: string): Promise<CondaInstall> {
  const installed = await sdkMiniforge(mirror, path.join(temp, 'miniforge3'), await options('miniforge3-installer', token));
  core.addPath(path.join(installed.prefix, 'bin'));
  core.exportVariable('CONDA', installed.prefix);
  return installed;
}

export async function installMicromamba(temp: string, token?: string): Promise<CondaInstall> {
  const installed = await sdkMicromamba(path.join(temp, 'micromamba'), await options('micromamba-binary', token));
  core.addPath(path.join(installed.prefix, 'bin'));
  core.exportVariable('MAMBA_ROOT_PREFIX', path.join(installed.prefix, 'root'));
  return installed;
}
