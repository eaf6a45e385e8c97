/**
 * Where the conda installers for this platform come from. Miniforge: the
 * mirror's copy of the GitHub releases (TUNA/USTC `github-release/…/LatestRelease/`),
 * then the upstream release. micromamba: the upstream release of
 * mamba-org/micromamba-releases (no catalog mirror carries it; tuna/issues
 * #1565). Each file has a `.sha256` beside it, from the same source, which
 * the download must match. An internal copy of an upstream, laid out the
 * same, can stand in for it (TUNA_SETUP_MINIFORGE_UPSTREAM,
 * TUNA_SETUP_MICROMAMBA_UPSTREAM).
 */
import { TunaSetupError } from '../errors.js';
import type { Mirror } from './types.js';

/** Miniforge's upstream GitHub releases, the fallback after a mirror's copy; TUNA_SETUP_MINIFORGE_UPSTREAM replaces it. */
export const MINIFORGE_UPSTREAM = 'https://github.com/conda-forge/miniforge/releases';

/** The upstream releases, or an internal copy of them laid out the same (TUNA_SETUP_MINIFORGE_UPSTREAM). */
const upstream = (env: NodeJS.ProcessEnv) => (env.TUNA_SETUP_MINIFORGE_UPSTREAM || MINIFORGE_UPSTREAM).replace(/\/+$/, '');

const NAMES: Record<string, string> = {
  'linux-x64': 'Miniforge3-Linux-x86_64.sh',
  'linux-arm64': 'Miniforge3-Linux-aarch64.sh',
  'linux-ppc64': 'Miniforge3-Linux-ppc64le.sh',
  'darwin-x64': 'Miniforge3-MacOSX-x86_64.sh',
  'darwin-arm64': 'Miniforge3-MacOSX-arm64.sh',
};

/** The Miniforge shell installer's file name for a platform and arch (default: this machine's); UNSUPPORTED_SERVICE where there is none, e.g. Windows. */
export function miniforgeInstallerName(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const name = NAMES[`${platform}-${arch}`];
  if (!name) {
    throw new TunaSetupError(
      'UNSUPPORTED_SERVICE',
      `no Miniforge shell installer for ${platform}/${arch}`,
      '{installConda} supports Linux (x86_64, aarch64, ppc64le) and macOS; on Windows use conda-incubator/setup-miniconda',
    );
  }
  return name;
}

/** One place to download an installer from: the file and the `.sha256` published beside it. */
export interface InstallerSource {
  /** the mirror's name, or 'official' */
  name: string;
  url: string;
  sha256Url: string;
}

/** The mirror's installer first (when it carries Miniforge), then the upstream's. */
export function miniforgeSources(mirror: Mirror, file = miniforgeInstallerName(), env: NodeJS.ProcessEnv = process.env): InstallerSource[] {
  const out: InstallerSource[] = [];
  const base = mirror.miniforge?.url.replace(/\/+$/, '');
  if (base && base !== MINIFORGE_UPSTREAM)
    out.push({ name: mirror.name, url: `${base}/LatestRelease/${file}`, sha256Url: `${base}/LatestRelease/${file}.sha256` });
  const up = upstream(env);
  out.push({ name: 'official', url: `${up}/latest/download/${file}`, sha256Url: `${up}/latest/download/${file}.sha256` });
  return out;
}

/** The hex digest in a `.sha256` file (`<hex>  <name>` or just `<hex>`). */
export function parseSha256File(text: string): string | undefined {
  return /^\s*([a-f0-9]{64})\b/i.exec(text)?.[1]?.toLowerCase();
}

/** micromamba's upstream GitHub releases (mamba-org/micromamba-releases); TUNA_SETUP_MICROMAMBA_UPSTREAM replaces it. */
export const MICROMAMBA_UPSTREAM = 'https://github.com/mamba-org/micromamba-releases/releases';

const MICROMAMBA: Record<string, string> = {
  'linux-x64': 'micromamba-linux-64',
  'linux-arm64': 'micromamba-linux-aarch64',
  'linux-ppc64': 'micromamba-linux-ppc64le',
  'darwin-x64': 'micromamba-osx-64',
  'darwin-arm64': 'micromamba-osx-arm64',
};

/**
 * Where the micromamba binary for a platform and arch comes from: the upstream release only, as no
 * catalog mirror carries it. UNSUPPORTED_SERVICE except on Linux (x86_64, aarch64, ppc64le) and macOS (x86_64, arm64).
 */
export function micromambaSources(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  env: NodeJS.ProcessEnv = process.env,
): InstallerSource[] {
  const file = MICROMAMBA[`${platform}-${arch}`];
  if (!file) {
    throw new TunaSetupError(
      'UNSUPPORTED_SERVICE',
      `no micromamba binary for ${platform}/${arch}`,
      '{installConda=micromamba} supports Linux (x86_64, aarch64, ppc64le) and macOS',
    );
  }
  const up = (env.TUNA_SETUP_MICROMAMBA_UPSTREAM || MICROMAMBA_UPSTREAM).replace(/\/+$/, '');
  return [{ name: 'official', url: `${up}/latest/download/${file}`, sha256Url: `${up}/latest/download/${file}.sha256` }];
}
