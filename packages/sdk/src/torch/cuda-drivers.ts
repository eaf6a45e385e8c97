/**
 * NVIDIA's "CUDA Toolkit and Corresponding Driver Versions" (CUDA release
 * notes, Table 3) as data: the driver each CUDA release (GA) shipped with.
 * A driver's native CUDA version — what `nvidia-smi` prints as "CUDA
 * Version" and what `nvidia/cuda` images check through NVIDIA_REQUIRE_CUDA —
 * is the newest row whose driver is not newer than it. Adding a CUDA release
 * is adding a row. Source: ../shared/research/torch-cuda.md §3.1 (a stored
 * transcription of the CUDA 13.2 Update 2 release notes), checked 2026-11.
 */
import { compareVersions } from './releases.js';

export interface CudaDriverRow {
  cuda: string;
  linux: string;
  /** null: the toolkit no longer bundles a Windows driver (13.x) */
  windows: string | null;
}

export const CUDA_DRIVERS_SOURCE = 'NVIDIA CUDA release notes, Table 3 (13.2 Update 2 edition), via research/torch-cuda.md §3.1';

export const CUDA_DRIVERS: readonly CudaDriverRow[] = [
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
  { cuda: '11.0', linux: '450.36.06', windows: '451.22' },
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

export type DriverRule = 'minor-compat' | 'native';

/** The oldest driver that runs CUDA `cuda` ("12.8") under the rule; undefined when the tables do not say. */
export function minDriverFor(cuda: string, rule: DriverRule, os: 'linux' | 'windows' = 'linux'): string | undefined {
  if (rule === 'minor-compat') return MINOR_COMPAT_FLOORS[cuda.split('.')[0]!]?.[os];
  const row = CUDA_DRIVERS.find((r) => r.cuda === cuda);
  return (os === 'linux' ? row?.linux : row?.windows) ?? undefined;
}
