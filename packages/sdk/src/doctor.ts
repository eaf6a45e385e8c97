/**
 * `doctor`: what this machine has, in one report — OS, NVIDIA driver and
 * GPUs, the Docker engine and its NVIDIA runtime, and where pip, uv, conda
 * and Docker point now. Read-only; every part reports its own problems
 * instead of failing the whole.
 */
import os from 'node:os';
import { readCurrentConfigs, type CurrentConfig } from './config/current.js';
import { hostPlatform, type Target } from './config/locations.js';
import { inspectDocker, type DockerReport } from './docker/info.js';
import { detectGpu, type GpuReport } from './torch/detect.js';

/** The OS, the NVIDIA driver and GPUs, the Docker engine, and where each tool points now. */
export interface DoctorReport {
  os: { platform: NodeJS.Platform; arch: string; release: string };
  gpu: GpuReport;
  docker: DockerReport;
  configs: Record<Target, CurrentConfig>;
}

/**
 * What this machine has, read-only: driver and GPUs (sysfs, procfs,
 * nvidia-smi), Docker and how GPUs reach its containers, current mirrors.
 * @example const { gpu, docker } = await doctor();
 */
export async function doctor(options: { sysroot?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DoctorReport> {
  const [gpu, docker, configs] = await Promise.all([
    detectGpu(options),
    inspectDocker(options.env),
    readCurrentConfigs({ ...hostPlatform(), env: options.env ?? process.env }),
  ]);
  return { os: { platform: process.platform, arch: process.arch, release: os.release() }, gpu, docker, configs };
}
