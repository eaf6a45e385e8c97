/**
 * What PyTorch publishes per platform. The release table (releases.ts) is
 * Linux x86_64; `forPlatform` gives the view of a release on another
 * platform: its CUDA variants, what `pip install torch` from PyPI gets
 * there, and which variants have pytorch/pytorch images. Sources per row:
 * pytorch/test-infra release/2.X branches (`generate_binary_build_matrix.py`
 * CUDA_AARCH64_ARCHES, `release/pypi/promote_pypi_to_staging.sh`,
 * `generate_docker_release_matrix.py`), read 2026-11-27.
 */
import { TunaSetupError } from '../errors.js';
import { compareVersions, type TorchRelease } from './releases.js';

/** A platform PyTorch publishes wheels for, as `<os>-<machine>`. */
export type TorchPlatform = 'linux-x86_64' | 'linux-aarch64' | 'macos-arm64' | 'macos-x86_64' | 'windows-x86_64';
/** Every `TorchPlatform`, as a list. */
export const TORCH_PLATFORMS: readonly TorchPlatform[] = ['linux-x86_64', 'linux-aarch64', 'macos-arm64', 'macos-x86_64', 'windows-x86_64'];

/** The platform of an OS and machine as Node (`linux`, `arm64`) or Python (`linux`, `aarch64`; `darwin`; `win32`, `AMD64`) names them. */
export function platformOf(system: string, machine: string): TorchPlatform | undefined {
  const os = /^linux/.test(system) ? 'linux' : /^darwin/.test(system) ? 'macos' : /^win/.test(system) ? 'windows' : undefined;
  const arch = /^(x86_64|x64|amd64)$/i.test(machine) ? 'x86_64' : /^(aarch64|arm64)$/i.test(machine) ? (os === 'macos' ? 'arm64' : 'aarch64') : undefined;
  const p = os && arch ? `${os}-${arch}` : undefined;
  return (TORCH_PLATFORMS as readonly string[]).includes(p ?? '') ? (p as TorchPlatform) : undefined;
}

/** This process's platform (a Node on Linux arm64 is linux-aarch64). */
export const hostTorchPlatform = (): TorchPlatform | undefined => platformOf(process.platform, process.arch);

/** The CUDA variants download.pytorch.org builds for linux-aarch64 over a range of releases, and the PyPI build's. */
export interface Aarch64Row {
  releases: readonly [string, string];
  cuda: readonly string[];
  pypi: string;
  source: string;
}

const TI = 'pytorch/test-infra';
/** Linux aarch64 (SBSA): CUDA variants on download.pytorch.org, and PyPI's build. */
export const AARCH64_WHEELS: readonly Aarch64Row[] = [
  { releases: ['2.0', '2.4'], cuda: [], pypi: 'cpu', source: `${TI}: aarch64 CUDA wheels start with 2.5 (pytorch #134790)` },
  {
    releases: ['2.5', '2.5'],
    cuda: ['cu124'],
    pypi: 'cpu',
    source: `${TI} release/2.5 generate_binary_build_matrix.py (CUDA_AARCH64 → cu124); PyPI manylinux2014_aarch64 CPU`,
  },
  { releases: ['2.6', '2.6'], cuda: ['cu126'], pypi: 'cpu', source: `${TI} release/2.6 (CUDA_AARCH64 → cu126); 614125ae9 pypi prep (+cpu)` },
  {
    releases: ['2.7', '2.7'],
    cuda: ['cu128'],
    pypi: 'cpu',
    source: `${TI} release/2.7 CUDA_AARCH64_ARCHES ["12.8-aarch64"]; d0e960f2e (aarch64 +cpu to PyPI)`,
  },
  {
    releases: ['2.8', '2.8'],
    cuda: ['cu129'],
    pypi: 'cpu',
    source: `${TI} release/2.8 CUDA_AARCH64_ARCHES ["12.9-aarch64"] (no cu128 aarch64: openral #88); PyPI +cpu (pytorch #160162)`,
  },
  {
    releases: ['2.9', '2.10'],
    cuda: ['cu126', 'cu128', 'cu130'],
    pypi: 'cpu',
    source: `${TI} release/2.9, 2.10 CUDA_AARCH64_ARCHES; PyPI aarch64 CPU (pytorch #168065, test-infra #7652)`,
  },
  {
    releases: ['2.11', '2.11'],
    cuda: ['cu126', 'cu128', 'cu130'],
    pypi: 'cu130',
    source: `${TI} release/2.11 CUDA_AARCH64_ARCHES; 0cd5e78a1 promote_pypi_to_staging.sh (aarch64 +cu130 to PyPI)`,
  },
  {
    releases: ['2.12', '2.14'],
    cuda: ['cu126', 'cu130', 'cu132'],
    pypi: 'cu130',
    source: `${TI} release/2.12–2.14 CUDA_AARCH64_ARCHES_DICT (release) and promote_pypi_to_staging.sh (cu130)`,
  },
];

/** Wheel variants built for Linux only (x86_64 and aarch64), never Windows. */
const LINUX_ONLY: Readonly<Record<string, readonly string[]>> = {
  // test-infra release/2.13: "CUDA 12.9 is built for Linux only (x86 and aarch64) in the test channel"
  '2.13': ['cu129'],
};

/**
 * The release as published on `platform`; `platform` on the result tells
 * archesFor which kernel table applies. Throws UNRESOLVABLE where PyTorch
 * publishes nothing (macOS x86_64 after 2.2).
 */
export function forPlatform(release: TorchRelease, platform: TorchPlatform = 'linux-x86_64'): TorchRelease {
  const minor = release.inferredFrom ?? release.minor;
  switch (platform) {
    case 'linux-x86_64':
      return release;
    case 'linux-aarch64': {
      const row =
        AARCH64_WHEELS.find((r) => compareVersions(minor, r.releases[0]) >= 0 && compareVersions(minor, r.releases[1]) <= 0) ?? AARCH64_WHEELS.at(-1)!;
      // pytorch/pytorch CUDA images are linux/amd64 only (test-infra generate_docker_release_matrix.py)
      return { ...release, cuda: row.cuda, pypiDefault: row.pypi, imageVariants: [], platform, source: `${release.source}; aarch64: ${row.source}` };
    }
    case 'windows-x86_64':
      // PyPI's Windows torch is the +cpu build in every release (promote_pypi_to_staging.sh)
      return { ...release, cuda: release.cuda.filter((v) => !LINUX_ONLY[minor]?.includes(v)), pypiDefault: 'cpu', imageVariants: [], platform };
    case 'macos-arm64':
      // CPU and MPS: no CUDA on macOS
      return { ...release, cuda: [], pypiDefault: 'cpu', imageVariants: [], platform };
    case 'macos-x86_64':
      if (compareVersions(minor, '2.2') > 0) {
        throw new TunaSetupError(
          'UNRESOLVABLE',
          `PyTorch publishes no macOS x86_64 wheels of torch ${release.minor}: 2.2 was the last`,
          'use torch 2.2 on an Intel Mac ({torch=2.2}), or an Apple Silicon Mac (macos-arm64)',
        );
      }
      return { ...release, cuda: [], pypiDefault: 'cpu', imageVariants: [], platform };
  }
}
