/**
 * What NVIDIA driver and GPUs this machine has. One detection chain, first
 * hit wins for the driver version:
 *   TUNA_SETUP_DRIVER_VERSION → SYSROOT/sys/module/nvidia/version →
 *   SYSROOT/proc/driver/nvidia/version (proprietary and open kernel module
 *   lines) → nvidia-smi → no GPU.
 * The kernel files work inside containers that mount the host's /sys and
 * /proc without nvidia-smi; GPU names, compute capabilities and memory only
 * come from nvidia-smi. Old drivers reject the `compute_cap` field: we ask
 * again without it rather than fail.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../exec.js';
import { nativeCudaForDriver } from './cuda-drivers.js';

/** One GPU as nvidia-smi reports it; memory in MiB. */
export interface Gpu {
  name: string;
  /** "9.0"; null when the driver cannot report it */
  computeCapability: string | null;
  memoryMiB: number | null;
  /** nvidia-smi -q's "Product Brand" (Tesla, NVIDIA, GeForce RTX…), when asked for (DetectOptions.brands) */
  brand?: string | null;
}

/** Where the driver version was read: TUNA_SETUP_DRIVER_VERSION, /sys/module/nvidia/version, /proc/driver/nvidia/version, or nvidia-smi. */
export type DriverSource = 'env' | 'sysfs' | 'procfs' | 'nvidia-smi';

/** This machine's NVIDIA driver (null: none found, CPU only), its native CUDA, and its GPUs. */
export interface GpuReport {
  driver: string | null;
  driverSource: DriverSource | null;
  /** the newest CUDA the driver runs natively (nvidia-smi's "CUDA Version") */
  cudaMax: string | null;
  gpus: Gpu[];
  /** why a source was skipped, in chain order (for doctor and for `resolve`'s reasons) */
  notes: string[];
}

/** Options of `detectGpu`: `sysroot` (default `/`) prefixes /sys and /proc; `env` is passed to nvidia-smi and read for the override. */
export interface DetectOptions {
  sysroot?: string;
  env?: NodeJS.ProcessEnv;
  /** also read each GPU's brand (one more nvidia-smi call): nvidia/cuda images admit older drivers for some brands */
  brands?: boolean;
}

/** The "Product Brand" of each GPU section of `nvidia-smi -q`, in order. */
export function parseNvidiaSmiBrands(text: string): string[] {
  return [...text.matchAll(/^\s*Product Brand\s*:\s*(.+?)\s*$/gm)].map((m) => m[1]!);
}

const VERSION = /^\d{2,4}\.\d{1,3}(?:\.\d{1,3})?$/;

/** `NVRM version: NVIDIA UNIX [Open ]Kernel Module [for <arch>]  <ver>  …` → ver */
export function parseProcDriverVersion(text: string): string | null {
  const m = /NVRM version:.*?Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)\s/.exec(text);
  return m ? m[1]! : null;
}

/** Lines of `nvidia-smi --query-gpu=driver_version,name[,compute_cap],memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmiQuery(stdout: string, withComputeCap: boolean): { driver: string | null; gpus: Gpu[] } {
  const gpus: Gpu[] = [];
  let driver: string | null = null;
  for (const line of stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const fields = line.split(',').map((f) => f.trim());
    const tail = withComputeCap ? 2 : 1;
    if (fields.length < 2 + tail || !VERSION.test(fields[0]!)) continue;
    driver ??= fields[0]!;
    const memory = Number(fields[fields.length - 1]);
    const cc = withComputeCap ? fields[fields.length - 2]! : '';
    gpus.push({
      name: fields.slice(1, fields.length - tail).join(', '),
      computeCapability: /^\d+\.\d+$/.test(cc) ? cc : null,
      memoryMiB: Number.isFinite(memory) ? memory : null,
    });
  }
  return { driver, gpus };
}

async function readTrimmed(file: string): Promise<string | null> {
  return readFile(file, 'utf8').then(
    (t) => t.trim(),
    () => null,
  );
}

async function queryNvidiaSmi(env: NodeJS.ProcessEnv, notes: string[]): Promise<{ driver: string | null; gpus: Gpu[] }> {
  const ask = (fields: string) => exec(['nvidia-smi', `--query-gpu=${fields}`, '--format=csv,noheader,nounits'], { env, timeoutMs: 15_000 });
  let r = await ask('driver_version,name,compute_cap,memory.total');
  if (r.code === 127) {
    notes.push('nvidia-smi: not found on PATH');
    return { driver: null, gpus: [] };
  }
  if (r.code === 0) return parseNvidiaSmiQuery(r.stdout, true);
  if (/compute_cap/.test(r.stdout + r.stderr)) {
    notes.push('nvidia-smi: this driver cannot report compute_cap; compute capability unknown');
    r = await ask('driver_version,name,memory.total');
    if (r.code === 0) return parseNvidiaSmiQuery(r.stdout, false);
  }
  notes.push(`nvidia-smi: exit ${r.code}: ${(r.stdout + r.stderr).trim().split('\n')[0] ?? ''}`);
  return { driver: null, gpus: [] };
}

/**
 * The driver version (first of TUNA_SETUP_DRIVER_VERSION, sysfs, procfs, nvidia-smi) and, from nvidia-smi,
 * the GPUs. Never throws for a missing driver or tool: it says why in `notes`.
 */
export async function detectGpu(options: DetectOptions = {}): Promise<GpuReport> {
  const env = options.env ?? process.env;
  const root = options.sysroot ?? '/';
  const notes: string[] = [];
  let driver: string | null = null;
  let driverSource: DriverSource | null = null;

  const override = env.TUNA_SETUP_DRIVER_VERSION?.trim();
  if (override) {
    if (VERSION.test(override)) [driver, driverSource] = [override, 'env'];
    else notes.push(`TUNA_SETUP_DRIVER_VERSION='${override}' is not a driver version like 570.124.06; ignored`);
  }
  if (!driver) {
    const sys = await readTrimmed(path.join(root, 'sys/module/nvidia/version'));
    if (sys && VERSION.test(sys)) [driver, driverSource] = [sys, 'sysfs'];
    else if (sys) notes.push(`sys/module/nvidia/version: unexpected content '${sys.slice(0, 40)}'`);
  }
  if (!driver) {
    const proc = await readTrimmed(path.join(root, 'proc/driver/nvidia/version'));
    const v = proc ? parseProcDriverVersion(`${proc}\n`) : null;
    if (v) [driver, driverSource] = [v, 'procfs'];
    else if (proc) notes.push('proc/driver/nvidia/version: no NVRM version line');
  }
  const smi = await queryNvidiaSmi(env, notes);
  if (!driver && smi.driver) [driver, driverSource] = [smi.driver, 'nvidia-smi'];
  if (options.brands && smi.gpus.length) {
    const q = await exec(['nvidia-smi', '-q'], { env, timeoutMs: 30_000, maxChars: 1024 * 1024 });
    const brands = q.code === 0 ? parseNvidiaSmiBrands(q.stdout) : [];
    if (brands.length !== smi.gpus.length)
      notes.push(`nvidia-smi -q: ${q.code === 0 ? `${brands.length} brands for ${smi.gpus.length} GPUs` : `exit ${q.code}`}; GPU brands unknown`);
    else
      smi.gpus.forEach((g, i) => {
        g.brand = brands[i]!;
      });
  }
  if (!driver) notes.push('no NVIDIA driver found: CPU only');
  return { driver, driverSource, cudaMax: driver ? nativeCudaForDriver(driver) : null, gpus: smi.gpus, notes };
}

/** A Jetson's L4T release, from `/etc/nv_tegra_release` (`# R36 (release), REVISION: 4.3, …`); null elsewhere. */
export async function detectL4t(sysroot = '/'): Promise<{ release: string; major: number } | null> {
  const text = await readTrimmed(path.join(sysroot, 'etc/nv_tegra_release'));
  const m = text ? /^#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)/.exec(text) : null;
  return m ? { release: `R${m[1]}.${m[2]}`, major: Number(m[1]) } : null;
}
