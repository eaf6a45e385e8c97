/**
 * NVIDIA's "CUDA Toolkit and Corresponding Driver Versions" (CUDA release
 * notes, Table 3) as data: the driver each CUDA release (GA) shipped with.
 * A driver's native CUDA version — what `nvidia-smi` prints as "CUDA
 * Version" and what `nvidia/cuda` images check through NVIDIA_REQUIRE_CUDA —
 * is the newest row whose driver is not newer than it. Adding a CUDA release
 * is adding a row. Source: NVIDIA's CUDA Toolkit release notes, Table 3
 * (docs.nvidia.com/cuda/cuda-toolkit-release-notes, CUDA 13.2 Update 2), checked 2026-11;
 * rows from later notes say so.
 *
 * Also the NVIDIA_REQUIRE_CUDA of the nvidia/cuda images (their brand
 * exceptions), and whether a driver passes it.
 */
import { compareVersions } from './releases.js';

/** One CUDA release (GA) and the driver versions it shipped with, on Linux and Windows: the oldest that run it natively. */
export interface CudaDriverRow {
  cuda: string;
  linux: string;
  /** null: the toolkit no longer bundles a Windows driver (13.x) */
  windows: string | null;
  /** where the row comes from, when not CUDA_DRIVERS_SOURCE */
  source?: string;
}

/** Where the `CUDA_DRIVERS` rows come from, unless a row names its own `source`. */
export const CUDA_DRIVERS_SOURCE = 'NVIDIA CUDA release notes, Table 3 (13.2 Update 2 edition), via research/torch-cuda.md §3.1';

/** The driver each CUDA release (GA) shipped with, newest CUDA first, so a driver's native CUDA is the first row it is at least as new as. */
export const CUDA_DRIVERS: readonly CudaDriverRow[] = [
  {
    cuda: '13.3',
    linux: '610.43.02',
    windows: null,
    source: 'CUDA 13.3 release notes, Table 3 (13.3 GA and Update 1: >=610.43.02; Windows N/A), as transcribed in several stored repos',
  },
  { cuda: '13.2', linux: '595.45.04', windows: null },
  { cuda: '13.1', linux: '590.44.01', windows: null },
  { cuda: '13.0', linux: '580.65.06', windows: null },
  { cuda: '12.9', linux: '575.51.03', windows: '576.02' },
  { cuda: '12.8', linux: '570.26', windows: '570.65' },
  { cuda: '12.6', linux: '560.28.03', windows: '560.76' },
  { cuda: '12.5', linux: '555.42.02', windows: '555.85' },
  { cuda: '12.4', linux: '550.54.14', windows: '551.61' },
  { cuda: '12.3', linux: '545.23.06', windows: '545.84' },
  { cuda: '12.2', linux: '535.54.03', windows: '536.25' },
  { cuda: '12.1', linux: '530.30.02', windows: '531.14' },
  { cuda: '12.0', linux: '525.60.13', windows: '527.41' },
  { cuda: '11.8', linux: '520.61.05', windows: '520.06' },
  { cuda: '11.7', linux: '515.43.04', windows: '516.01' },
  { cuda: '11.6', linux: '510.39.01', windows: '511.23' },
  { cuda: '11.5', linux: '495.29.05', windows: '496.04' },
  { cuda: '11.4', linux: '470.42.01', windows: '471.11' },
  { cuda: '11.3', linux: '465.19.01', windows: '465.89' },
  { cuda: '11.2', linux: '460.27.03', windows: '460.82' },
  { cuda: '11.1', linux: '455.23', windows: '456.38' },
  // 11.0.2 GA; 450.36.06 / 451.22 is the 11.0.1 RC row
  { cuda: '11.0', linux: '450.51.05', windows: '451.48' },
  { cuda: '10.2', linux: '440.33', windows: '441.22' },
  { cuda: '10.1', linux: '418.39', windows: '418.96' },
  { cuda: '10.0', linux: '410.48', windows: '411.31' },
];

/** Compares dotted driver versions numerically: -1, 0, 1. */
export const compareDriver = compareVersions;

/** The newest CUDA the driver runs natively, or null when it predates every row. */
export function nativeCudaForDriver(driver: string, os: 'linux' | 'windows' = 'linux'): string | null {
  for (const row of CUDA_DRIVERS) {
    const min = os === 'linux' ? row.linux : row.windows;
    if (min !== null && compareDriver(driver, min) >= 0) return row.cuda;
  }
  return null;
}

/**
 * Minor-version compatibility (NVIDIA CUDA Compatibility guide, Table 2): an
 * application built with any CUDA X.y runs on a driver at or above the
 * major's floor — how PyTorch wheels and pytorch/pytorch images run. Floors
 * as light-the-torch and uv use them (research/torch-cuda.md §3.2); 13.x:
 * NVIDIA says ≥ 580, and 580.65.06 is the first 13.0 Linux driver.
 */
export const MINOR_COMPAT_FLOORS: Readonly<Record<string, { linux: string; windows: string }>> = {
  '13': { linux: '580.65.06', windows: '580' },
  '12': { linux: '525.60.13', windows: '528.33' },
  '11': { linux: '450.80.02', windows: '452.39' },
};

/** How a driver is judged against a CUDA: `native` (its own CUDA version) or `minor-compat` (the major's floor, `MINOR_COMPAT_FLOORS`). */
export type DriverRule = 'minor-compat' | 'native';

/** The oldest driver that runs CUDA `cuda` ("12.8") under the rule; undefined when the tables do not say. */
export function minDriverFor(cuda: string, rule: DriverRule, os: 'linux' | 'windows' = 'linux'): string | undefined {
  if (rule === 'minor-compat') return MINOR_COMPAT_FLOORS[cuda.split('.')[0]!]?.[os];
  const row = CUDA_DRIVERS.find((r) => r.cuda === cuda);
  return (os === 'linux' ? row?.linux : row?.windows) ?? undefined;
}

/**
 * GPU brands as NVIDIA_REQUIRE_CUDA names them: libnvidia-container's names
 * for NVML's brand types (nvmlDeviceGetBrand; `nvidia-smi -q` prints it as
 * "Product Brand").
 */
export type GpuBrand =
  | 'unknown'
  | 'quadro'
  | 'tesla'
  | 'nvs'
  | 'grid'
  | 'geforce'
  | 'titan'
  | 'vapps'
  | 'vpc'
  | 'vcs'
  | 'vws'
  | 'cloudgaming'
  | 'quadrortx'
  | 'nvidiartx'
  | 'nvidia'
  | 'geforcertx'
  | 'titanrtx';

// NVML's and nvidia-smi's longer spellings of the brands, squeezed to letters
const BRAND_SPELLINGS: Readonly<Record<string, GpuBrand>> = {
  nvidiavapps: 'vapps',
  nvidiavirtualapplications: 'vapps',
  nvidiavirtualapplication: 'vapps',
  nvidiavpc: 'vpc',
  nvidiavirtualpc: 'vpc',
  nvidiavcs: 'vcs',
  nvidiavirtualcomputeserver: 'vcs',
  nvidiavws: 'vws',
  nvidiartxvirtualworkstation: 'vws',
  nvidiacloudgaming: 'cloudgaming',
  nvidiavgaming: 'cloudgaming',
};
const BRANDS: readonly GpuBrand[] = [
  'unknown',
  'quadro',
  'tesla',
  'nvs',
  'grid',
  'geforce',
  'titan',
  'vapps',
  'vpc',
  'vcs',
  'vws',
  'cloudgaming',
  'quadrortx',
  'nvidiartx',
  'nvidia',
  'geforcertx',
  'titanrtx',
];

/** "Tesla", "Quadro RTX", "NVML_BRAND_NVIDIA_VWS", "NVIDIA RTX Virtual Workstation" → the NVIDIA_REQUIRE_CUDA name; undefined if not a brand. */
export function gpuBrand(name: string): GpuBrand | undefined {
  const squeezed = name
    .toLowerCase()
    .replace(/^nvml_brand_/, '')
    .replace(/[^a-z]/g, '');
  return BRAND_SPELLINGS[squeezed] ?? BRANDS.find((b) => b === squeezed);
}

/**
 * The brand exceptions of an nvidia/cuda image's NVIDIA_REQUIRE_CUDA:
 * `cuda>=X.Y brand=B,driver>=N,driver<N+1 …` admits, besides any driver
 * whose own CUDA is ≥ X.Y, the driver branches N for GPUs of the brands B
 * (the image's cuda-compat package makes the newer CUDA run there).
 */
export interface CudaImageRequirement {
  /** the image's CUDA, as images.ts tags it (CUDA_FULL) */
  cuda: string;
  /** the nvidia/cuda version whose Dockerfile was read */
  tag: string;
  /** driver branches admitted for the brands (`driver>=N,driver<N+1`) */
  branches: readonly number[];
  brands: readonly GpuBrand[];
  source: string;
}

// up to 12.4 the exceptions also name consumer brands; from 12.5 only data-center, workstation and virtual ones
const UP_TO_12_4: readonly GpuBrand[] = ['tesla', 'unknown', 'nvidia', 'nvidiartx', 'geforce', 'geforcertx', 'quadro', 'quadrortx', 'titan', 'titanrtx'];
const FROM_12_5: readonly GpuBrand[] = ['unknown', 'grid', 'tesla', 'nvidia', 'quadro', 'quadrortx', 'nvidiartx', 'vapps', 'vpc', 'vcs', 'vws', 'cloudgaming'];
const DIST = (tag: string) =>
  `gitlab.com/nvidia/container-images/cuda dist/${tag}/ubuntu2204/base/Dockerfile (GitHub mirror pranavmishra90/nvidia-container-images-cuda, Aug 2025)`;

/** The brand exceptions of the nvidia/cuda images' NVIDIA_REQUIRE_CUDA, one row per image CUDA, each naming its source. */
export const CUDA_IMAGE_REQUIREMENTS: readonly CudaImageRequirement[] = [
  { cuda: '11.7', tag: '11.7.1', branches: [470], brands: UP_TO_12_4, source: DIST('11.7.1') },
  { cuda: '11.8', tag: '11.8.0', branches: [470], brands: UP_TO_12_4, source: DIST('11.8.0') },
  { cuda: '12.1', tag: '12.1.1', branches: [470, 525], brands: UP_TO_12_4, source: DIST('12.1.1') },
  { cuda: '12.4', tag: '12.4.1', branches: [470, 525, 535], brands: UP_TO_12_4, source: DIST('12.4.1') },
  { cuda: '12.6', tag: '12.6.3', branches: [470, 535, 550], brands: FROM_12_5, source: DIST('12.6.3') },
  { cuda: '12.8', tag: '12.8.1', branches: [470, 535, 550, 560, 565], brands: FROM_12_5, source: DIST('12.8.1') },
  { cuda: '12.9', tag: '12.9.1', branches: [535, 550, 560, 565, 570], brands: FROM_12_5, source: DIST('12.9.1') },
  {
    cuda: '13.0',
    tag: '13.0.2',
    branches: [535, 550, 565, 570, 575],
    brands: FROM_12_5,
    source: `${DIST('13.0.0')}; 13.0.2 image env as stored in vllm/vllm-openai:v0.23.0 inspects (same list)`,
  },
  {
    cuda: '13.2',
    tag: '13.2.0',
    branches: [535, 570, 580, 590],
    brands: FROM_12_5,
    source: 'nvidia/cuda 13.2.0 image env from a stored docker inspect (third party); 13.2.1 not seen',
  },
];

/** Whether the container runtime would start an nvidia/cuda image on a driver, how, and why (a line for the user). */
export interface ImageVerdict {
  ok: boolean;
  /** how it passes: the driver's own CUDA, or a brand exception (the image's cuda-compat then carries the newer CUDA); null: it does not */
  via: 'native' | 'brand-exception' | null;
  why: string;
}

/**
 * Whether nvidia-container-cli starts an nvidia/cuda image of CUDA
 * `imageCuda` ("12.8") on this Linux driver: its NVIDIA_REQUIRE_CUDA holds
 * when the driver's own CUDA is ≥ the image's, or — its brand exceptions —
 * when the driver's branch is one the image lists and every GPU is of a
 * listed brand (space-separated clauses are ORed, comma-separated ANDed, and
 * each GPU is checked). `brands`: one per GPU, as gpuBrand reads them (raw
 * names are read through it); empty: the brand is unknown, so only the
 * driver's own CUDA can be relied on. It answers what the container runtime
 * admits: forward compatibility itself runs only on data-center GPUs (and
 * select RTX), so a GeForce that a ≤ 12.4 image's exception admits may
 * still fail at CUDA init (research/torch-cuda.md §3.2).
 */
export function cudaImageAcceptsDriver(imageCuda: string, driver: string, brands: readonly string[] = []): ImageVerdict {
  const native = nativeCudaForDriver(driver, 'linux');
  if (native !== null && compareVersions(native, imageCuda) >= 0) {
    return { ok: true, via: 'native', why: `driver ${driver} runs CUDA ${native} natively, ≥ the image's ${imageCuda}` };
  }
  const below = `driver ${driver} runs CUDA ${native ?? 'below 10.0'} natively, below the image's ${imageCuda}`;
  const req = CUDA_IMAGE_REQUIREMENTS.find((r) => r.cuda === imageCuda);
  if (!req) return { ok: false, via: null, why: `${below}, and the tables know no brand exceptions of nvidia/cuda ${imageCuda}` };
  const branch = req.branches.find((n) => compareDriver(driver, `${n}`) >= 0 && compareDriver(driver, `${n + 1}`) < 0);
  if (branch === undefined) {
    return {
      ok: false,
      via: null,
      why: `${below}, and nvidia/cuda:${req.tag} makes exceptions only for driver branches ${req.branches.map((n) => `R${n}`).join(', ')}`,
    };
  }
  if (!brands.length)
    return {
      ok: false,
      via: null,
      why: `${below}; nvidia/cuda:${req.tag} admits R${branch} only for ${req.brands.join(', ')} GPUs, and the GPU brand is unknown`,
    };
  const others = brands.filter((b) => {
    const known = gpuBrand(b);
    return !known || !req.brands.includes(known);
  });
  if (others.length)
    return {
      ok: false,
      via: null,
      why: `${below}; nvidia/cuda:${req.tag} admits R${branch} only for ${req.brands.join(', ')} GPUs, not ${[...new Set(others)].join(', ')}`,
    };
  return {
    ok: true,
    via: 'brand-exception',
    why: `${below}, but nvidia/cuda:${req.tag} admits R${branch} for ${[...new Set(brands.map((b) => gpuBrand(b)))].join(', ')} GPUs (brand exception, cuda-compat)`,
  };
}
