/**
 * PyTorch releases as data: for each minor release, its patch versions with
 * the matching torchvision/torchaudio, the CUDA wheel variants published on
 * download.pytorch.org (Linux x86_64), the CPython versions, the PyPI default
 * variant, and which GPU architectures (sm_XX) each variant carries kernels
 * for. Adding a release is adding a row. Sources: pytorch/test-infra release
 * branches (generate_binary_build_matrix.py), pytorch RELEASE.md, the colab
 * release issues, .ci/manywheel/build_cuda.sh and measured wheels — each row
 * says which.
 */

export interface TorchPatch {
  torch: string;
  torchvision: string;
  /** null: no torchaudio release for this torch (maintenance mode from 2.12; 2.11.0 still installs) */
  torchaudio: string | null;
}

/** One PyTorch minor release: its patches, CUDA wheel variants, PyPI default, Pythons and images' cuDNN, with sources. */
export interface TorchRelease {
  /** "2.7" */
  minor: string;
  /** oldest first */
  patches: readonly TorchPatch[];
  /** CUDA wheel variants, oldest first, e.g. ['cu118', 'cu126', 'cu128'] */
  cuda: readonly string[];
  /** the variant `pip install torch` gets from PyPI on Linux */
  pypiDefault: string;
  /**
   * the variants with pytorch/pytorch images, when not every wheel variant
   * has one (test-infra's docker matrix takes CUDA_ARCHES_DICT, which a
   * Linux-only wheel build such as 2.13's cu129 is not in); absent: all of `cuda`
   */
  imageVariants?: readonly string[];
  /**
   * CPython versions the whole trio has wheels for ("3.13t": free-threaded):
   * `pip install torch torchvision` fails where torchvision has none, so a
   * torch-only Python is left out (2.5's experimental 3.13: no torchvision
   * 0.20 wheels; 2.13/2.14's 3.15 preview: torch only) and named in `source`.
   */
  python: readonly string[];
  /** cuDNN major in the pytorch/pytorch images */
  cudnn: 8 | 9;
  released: string;
  source: string;
  /** a release read from a live index: its variants and kernels are this table release's */
  inferredFrom?: string;
  /** set by forPlatform (platforms.ts): the release as published there; absent: linux-x86_64 */
  platform?: 'linux-x86_64' | 'linux-aarch64' | 'macos-arm64' | 'macos-x86_64' | 'windows-x86_64';
}

const py = (from: number, to: number, extra: string[] = []) => [...Array.from({ length: to - from + 1 }, (_, i) => `3.${from + i}`), ...extra];
const same = (minor: string, patches: number[], tv: string): TorchPatch[] =>
  patches.map((p) => ({ torch: `${minor}.${p}`, torchvision: `${tv}.${p}`, torchaudio: `${minor}.${p}` }));

const TEST_INFRA = 'pytorch/test-infra release branches generate_binary_build_matrix.py; pytorch RELEASE.md (research/torch-cuda.md §4)';

/** Every PyTorch minor release the tables know, oldest first; Linux x86_64 as published on download.pytorch.org. */
export const TORCH_RELEASES: readonly TorchRelease[] = [
  {
    minor: '2.0',
    patches: [
      { torch: '2.0.0', torchvision: '0.15.1', torchaudio: '2.0.1' },
      { torch: '2.0.1', torchvision: '0.15.2', torchaudio: '2.0.2' },
    ],
    cuda: ['cu117', 'cu118'],
    pypiDefault: 'cu117',
    python: py(8, 11),
    cudnn: 8,
    released: '2023-03',
    source: `${TEST_INFRA}; colab #3503/#3646`,
  },
  {
    minor: '2.1',
    patches: same('2.1', [0, 1, 2], '0.16'),
    cuda: ['cu118', 'cu121'],
    pypiDefault: 'cu121',
    python: py(8, 11),
    cudnn: 8,
    released: '2023-10',
    source: TEST_INFRA,
  },
  {
    minor: '2.2',
    patches: same('2.2', [0, 1, 2], '0.17'),
    cuda: ['cu118', 'cu121'],
    pypiDefault: 'cu121',
    python: py(8, 12),
    cudnn: 8,
    released: '2024-01',
    source: `${TEST_INFRA}; colab #4484`,
  },
  {
    minor: '2.3',
    patches: same('2.3', [0, 1], '0.18'),
    cuda: ['cu118', 'cu121'],
    pypiDefault: 'cu121',
    python: py(8, 12),
    cudnn: 8,
    released: '2024-04',
    source: `${TEST_INFRA}; colab #4484`,
  },
  {
    minor: '2.4',
    patches: same('2.4', [0, 1], '0.19'),
    cuda: ['cu118', 'cu121', 'cu124'],
    pypiDefault: 'cu121',
    python: py(8, 12),
    cudnn: 9,
    released: '2024-07',
    source: TEST_INFRA,
  },
  {
    minor: '2.5',
    patches: same('2.5', [0, 1], '0.20'),
    cuda: ['cu118', 'cu121', 'cu124'],
    pypiDefault: 'cu124',
    python: py(9, 12),
    cudnn: 9,
    released: '2024-10',
    source: `${TEST_INFRA}; test-infra release/2.5 PYTHON_ARCHES_DICT 3.9–3.12; torch's experimental 3.13 wheels left out: torchvision 0.20 has none (pytorch/vision #8730, #8747)`,
  },
  {
    minor: '2.6',
    patches: same('2.6', [0], '0.21'),
    cuda: ['cu118', 'cu124', 'cu126'],
    pypiDefault: 'cu124',
    python: py(9, 13),
    cudnn: 9,
    released: '2025-01',
    source: TEST_INFRA,
  },
  {
    minor: '2.7',
    patches: same('2.7', [0, 1], '0.22'),
    cuda: ['cu118', 'cu126', 'cu128'],
    pypiDefault: 'cu126',
    python: py(9, 13, ['3.13t']),
    cudnn: 9,
    released: '2025-04',
    source: TEST_INFRA,
  },
  {
    minor: '2.8',
    patches: same('2.8', [0], '0.23'),
    cuda: ['cu126', 'cu128', 'cu129'],
    pypiDefault: 'cu128',
    python: py(9, 13, ['3.13t']),
    cudnn: 9,
    released: '2025-08',
    source: TEST_INFRA,
  },
  {
    minor: '2.9',
    patches: same('2.9', [0, 1], '0.24'),
    cuda: ['cu126', 'cu128', 'cu130'],
    pypiDefault: 'cu128',
    python: py(10, 14, ['3.13t', '3.14t']),
    cudnn: 9,
    released: '2025-10',
    source: `${TEST_INFRA}; colab #5661`,
  },
  {
    minor: '2.10',
    patches: same('2.10', [0], '0.25'),
    cuda: ['cu126', 'cu128', 'cu130'],
    pypiDefault: 'cu128',
    python: py(10, 14, ['3.13t', '3.14t']),
    cudnn: 9,
    released: '2026-01',
    source: `${TEST_INFRA}; colab #5801`,
  },
  {
    minor: '2.11',
    patches: same('2.11', [0], '0.26'),
    cuda: ['cu126', 'cu128', 'cu130'],
    pypiDefault: 'cu130',
    python: py(10, 14, ['3.13t', '3.14t']),
    cudnn: 9,
    released: '2026-03',
    source: `${TEST_INFRA}; colab #5925; pytorch PR #177975`,
  },
  {
    minor: '2.12',
    patches: [
      { torch: '2.12.0', torchvision: '0.27.0', torchaudio: null },
      { torch: '2.12.1', torchvision: '0.27.1', torchaudio: null },
    ],
    cuda: ['cu126', 'cu130', 'cu132'],
    pypiDefault: 'cu130',
    python: py(10, 14, ['3.14t']),
    cudnn: 9,
    released: '2026-05',
    source: `${TEST_INFRA}; colab #5982; pytorch.github.io #2074 (no torchaudio)`,
  },
  {
    minor: '2.13',
    patches: [{ torch: '2.13.0', torchvision: '0.28.0', torchaudio: null }],
    cuda: ['cu126', 'cu129', 'cu130', 'cu132'],
    pypiDefault: 'cu130',
    imageVariants: ['cu126', 'cu130', 'cu132'],
    python: py(10, 14, ['3.14t']),
    cudnn: 9,
    released: '2026-07',
    source: `${TEST_INFRA}; cu129 (Linux only, test channel): test-infra #8215, pytorch #188443, colab #6053; 3.15 preview is torch-only (TORCH_ONLY_PYTHON_ARCHES)`,
  },
  {
    minor: '2.14',
    patches: [{ torch: '2.14.0', torchvision: '0.29.0', torchaudio: null }],
    cuda: ['cu126', 'cu130', 'cu132'],
    pypiDefault: 'cu130',
    python: py(10, 14, ['3.14t']),
    cudnn: 9,
    released: '2026-09',
    source: `${TEST_INFRA}; test-infra release/2.14 (CUDA 12.6/13.0/13.2, stable 13.0; release Pythons 3.10–3.14, 3.14t; 3.15 torch-only); colab #6093 (torchvision 0.29.0, CUDA 13.0 default, cu126/cu132 options)`,
  },
];

/**
 * GPU architectures with kernels (SASS) per variant and release range, Linux
 * x86_64. PTX is not counted: JIT from PTX is slow and fails on older
 * drivers, so a GPU is "covered" only by real kernels.
 */
export interface ArchRow {
  variant: string;
  /** the machine the wheel is built for (absent: x86_64, Linux and Windows) */
  arch?: 'aarch64';
  /** inclusive minor-release range, e.g. ['2.8', '2.10'] */
  releases: readonly [string, string];
  sm: readonly number[];
  source: string;
}

/** Which GPU architectures (sm_XX, SASS only) each CUDA wheel variant carries kernels for, per release range and machine. */
export const WHEEL_ARCHES: readonly ArchRow[] = [
  {
    variant: 'cu117',
    releases: ['2.0', '2.0'],
    sm: [37, 50, 60, 70, 75, 80, 86],
    source: 'pytorch/builder release/2.0 manywheel/build_cuda.sh (11.[67]: 3.7;5.0;6.0;7.0 + 7.5;8.0;8.6 — 9.0 only for 11.8)',
  },
  {
    variant: 'cu118',
    releases: ['2.0', '2.7'],
    sm: [37, 50, 60, 70, 75, 80, 86, 90],
    source: 'unsloth PR #7814 (2.7.1+cu118 measured); cog doctor (2.0.1+cu118); pytorch/builder release/2.0–2.5 build_cuda.sh',
  },
  {
    variant: 'cu121',
    releases: ['2.1', '2.5'],
    sm: [50, 60, 70, 75, 80, 86, 90],
    source: 'pytorch/builder release/2.1–2.5 manywheel/build_cuda.sh (5.0;6.0;7.0;7.5;8.0;8.6 + 9.0)',
  },
  {
    variant: 'cu124',
    releases: ['2.4', '2.6'],
    sm: [50, 60, 70, 75, 80, 86, 90],
    source:
      'pytorch/builder release/2.4–2.5 manywheel/build_cuda.sh (5.0;6.0;7.0;7.5;8.0;8.6 + 9.0); 2.6: the 12.4 case of .ci/manywheel/build_cuda.sh (9.0+PTX), read from a late-2024 copy',
  },
  {
    variant: 'cu126',
    releases: ['2.6', '2.14'],
    sm: [50, 60, 70, 75, 80, 86, 90],
    source: 'pytorch .ci/manywheel/build_cuda.sh, RELEASE.md (2.12–2.14 table); unsloth (2.11.0+cu126); cog (2.6.0+cu126)',
  },
  { variant: 'cu128', releases: ['2.7', '2.7'], sm: [75, 80, 86, 90, 100, 120], source: 'uv #14742; cog doctor; moi90 table.md' },
  {
    variant: 'cu128',
    releases: ['2.8', '2.10'],
    sm: [70, 75, 80, 86, 90, 100, 120],
    source: 'pytorch build_cuda.sh, PR #164471, 2.8 release notes; unsloth (2.10.0+cu128)',
  },
  { variant: 'cu128', releases: ['2.11', '2.11'], sm: [75, 80, 86, 90, 100, 120], source: 'pytorch PR #175253; unsloth (2.11.0+cu128)' },
  { variant: 'cu129', releases: ['2.8', '2.8'], sm: [70, 75, 80, 86, 90, 100, 120], source: 'pytorch build_cuda.sh' },
  {
    variant: 'cu129',
    releases: ['2.13', '2.13'],
    sm: [75, 80, 86, 90, 100, 120],
    source: 'pytorch PR #188443 (release/2.13 TORCH_CUDA_ARCH_LIST_TABLE 12.9 x86_64: 75, 80, 86, 90, 100, 120)',
  },
  { variant: 'cu130', releases: ['2.9', '2.14'], sm: [75, 80, 86, 90, 100, 120], source: 'pytorch RELEASE.md (2.12–2.14 table), PR #164471/#182849' },
  { variant: 'cu132', releases: ['2.12', '2.14'], sm: [75, 80, 86, 90, 100, 120], source: 'pytorch RELEASE.md (2.12–2.14 table), PR #182849' },
  // Linux aarch64 (SBSA): no sm_87 (Jetson Orin) anywhere; sm_110 (Thor) from CUDA 13.0
  {
    variant: 'cu124',
    arch: 'aarch64',
    releases: ['2.5', '2.5'],
    sm: [90],
    source: 'pytorch/builder PR #1828 (cuda-aarch64: 9.0, Hopper only); the shipped 2.5 wheel not measured',
  },
  { variant: 'cu126', arch: 'aarch64', releases: ['2.6', '2.6'], sm: [90], source: 'pytorch PR #144436 (aarch64 TORCH_CUDA_ARCH_LIST 9.0)' },
  {
    variant: 'cu128',
    arch: 'aarch64',
    releases: ['2.7', '2.7'],
    sm: [90, 100, 120],
    source: 'pytorch PR #146378 (aarch64 12.8: 9.0;10.0;12.0), .ci/aarch64_linux/aarch64_ci_build.sh',
  },
  { variant: 'cu129', arch: 'aarch64', releases: ['2.8', '2.8'], sm: [80, 90, 100, 120], source: 'pytorch PR #157830 (add sm_80 to the CUDA 12.9 sbsa build)' },
  {
    variant: 'cu126',
    arch: 'aarch64',
    releases: ['2.9', '2.14'],
    sm: [80, 90],
    source: 'pytorch .ci/aarch64_linux/aarch64_ci_build.sh (2.9, PR #163764), build_env_setup.py TORCH_CUDA_ARCH_LIST_TABLE 12.6 aarch64; RELEASE.md 2.12–2.14',
  },
  {
    variant: 'cu128',
    arch: 'aarch64',
    releases: ['2.9', '2.11'],
    sm: [80, 90, 100, 120],
    source: 'pytorch .ci/manywheel/build_cuda.sh filter_aarch64_archs; openral #167 (2.9.1+cu128 measured: sm_80, sm_90, sm_100, sm_120)',
  },
  {
    variant: 'cu130',
    arch: 'aarch64',
    releases: ['2.9', '2.14'],
    sm: [80, 90, 100, 110, 120],
    source: 'pytorch build_cuda.sh / build_env_setup.py (13.0 aarch64 adds 11.0); RELEASE.md 2.12–2.14; PR #161257 (Thor sm_110)',
  },
  {
    variant: 'cu132',
    arch: 'aarch64',
    releases: ['2.12', '2.14'],
    sm: [80, 90, 100, 110, 120],
    source: 'pytorch build_env_setup.py TORCH_CUDA_ARCH_LIST_TABLE 13.2 aarch64; RELEASE.md 2.12–2.14',
  },
];

/** Minor releases compare as numbers: 2.10 > 2.9. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10));
  const pb = b.split('.').map((x) => parseInt(x, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

/**
 * The sm_XX a variant's wheels of release `minor` carry kernels for: the aarch64 rows for linux-aarch64,
 * the x86_64 rows otherwise; undefined when no row covers it.
 */
export function archesFor(variant: string, minor: string, platform?: TorchRelease['platform']): readonly number[] | undefined {
  const arch = platform === 'linux-aarch64' ? 'aarch64' : undefined;
  return WHEEL_ARCHES.find(
    (r) => r.variant === variant && r.arch === arch && compareVersions(minor, r.releases[0]) >= 0 && compareVersions(minor, r.releases[1]) <= 0,
  )?.sm;
}

/** Whether pytorch/pytorch publishes an image of `release` for this wheel variant. */
export const hasPytorchImage = (release: TorchRelease, variant: string) => (release.imageVariants ?? release.cuda).includes(variant);

/**
 * Whether kernels built for `sm` run a GPU of compute capability `cc`
 * ("8.9"): SASS runs on the same major with an equal or higher minor
 * (sm_86 runs 8.9, sm_120 runs 12.1), never across majors.
 */
export function archCovers(sm: readonly number[], cc: string): boolean {
  const [major, minor] = cc.split('.').map(Number) as [number, number];
  return sm.some((s) => Math.floor(s / 10) === major && s % 10 <= minor);
}

/** "cu128" → "12.8" */
export const cudaOfVariant = (variant: string) => `${variant.slice(2, -1)}.${variant.slice(-1)}`;
/** "12.8" → "cu128" */
export const variantOfCuda = (cuda: string) => `cu${cuda.replace('.', '')}`;
