/**
 * Running a job inside an image with the GPU attached: preflight (Docker
 * reachable; the NVIDIA runtime or CDI when GPUs are asked for; the driver
 * runs the image's CUDA), a pull with retries and backoff, `docker run` built
 * as an argv array — the user's script is one argv element, so no quoting in
 * it can break out — streamed output and the script's exit code, a named
 * container that a cancelled job can remove, and the workspace handed back
 * to its owner (files a root container wrote break the next checkout on
 * self-hosted runners).
 */
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { TunaSetupError } from '../errors.js';
import { exec } from '../exec.js';
import { compareVersions } from '../torch/releases.js';
import { detectGpu } from '../torch/detect.js';
import { inspectDocker, type DockerReport } from './info.js';

export type Gpus = 'all' | 'none' | number;

/** `all`, `none` or a count 1–64. */
export function parseGpus(input: string): Gpus {
  const s = input.trim().toLowerCase();
  if (s === 'all' || s === 'none') return s;
  if (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 64) return Number(s);
  throw new TunaSetupError('BAD_GPUS', `gpus '${input}' is not all, none or a count`, 'use all, none, or a number of GPUs from 1 to 64');
}

export interface JobSpec {
  image: string;
  /** the command inside the image, an argv array (see bashScript) */
  command: readonly string[];
  gpus: Gpus;
  /** container name (to remove it if the job is cancelled) */
  name: string;
  /** host directory mounted at /workspace and used as the working directory */
  workspace?: string;
  /** more host directories to mount: host path → container path */
  mounts?: Record<string, string>;
  /** variables passed into the container; values travel in the docker CLI's environment, not its argv */
  env?: Record<string, string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `docker run` argv for a job (without the leading `docker`). */
export function dockerRunArgs(job: JobSpec): string[] {
  const args = ['run', '--rm', '--name', job.name];
  if (job.gpus !== 'none') args.push('--gpus', job.gpus === 'all' ? 'all' : String(job.gpus));
  if (job.workspace) args.push('-v', `${job.workspace}:/workspace`, '-w', '/workspace');
  for (const [host, inside] of Object.entries(job.mounts ?? {})) args.push('-v', `${host}:${inside}`);
  for (const key of Object.keys(job.env ?? {})) {
    if (!ENV_NAME.test(key)) throw new TunaSetupError('BAD_ENV', `environment variable name '${key}' is not valid`, 'names are letters, digits and _; not starting with a digit');
    args.push('-e', key);
  }
  args.push(job.image, ...job.command);
  return args;
}

/** A script as a command: `bash -eo pipefail -c SCRIPT`, the script one argv element. */
export const bashScript = (script: string): string[] => ['bash', '-eo', 'pipefail', '-c', script];

export interface PreflightInput {
  docker: DockerReport;
  gpus: Gpus;
  /** the driver's own CUDA (nvidia-smi's "CUDA Version"), when known */
  driverCuda?: string | null;
  /** the CUDA inside the image, when known */
  imageCuda?: string | null;
  /** whether the image enforces NVIDIA_REQUIRE_CUDA (nvidia/cuda, NGC) */
  requiresNativeCuda?: boolean;
}

/** Every reason the job cannot start, before anything is pulled. */
export function preflight(p: PreflightInput): string[] {
  const problems: string[] = [];
  if (!p.docker.available) problems.push(`Docker is not usable: ${p.docker.error ?? 'unknown error'}`);
  if (p.docker.available && p.gpus !== 'none' && !p.docker.nvidiaRuntime && p.docker.cdiSpecDirs.length === 0) {
    problems.push(`gpus: ${p.gpus} needs the NVIDIA Container Toolkit (no 'nvidia' runtime and no CDI spec dirs in docker info; runtimes: ${p.docker.runtimes.join(', ') || 'none'}) — install it, or set gpus: none`);
  }
  if (p.gpus !== 'none' && p.requiresNativeCuda && p.imageCuda && p.driverCuda && compareVersions(p.imageCuda, p.driverCuda) > 0) {
    problems.push(`the image needs CUDA ${p.imageCuda} but the driver runs CUDA ≤ ${p.driverCuda} natively — update the driver or pick an older image`);
  }
  return problems;
}

export interface PullOptions {
  attempts?: number;
  backoffMs?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** `docker pull` with retries on transient failures (network, 429, 5xx); a missing image fails at once. */
export async function pullImage(image: string, options: PullOptions = {}): Promise<void> {
  const attempts = options.attempts ?? 4;
  let delay = options.backoffMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    const r = await exec(['docker', 'pull', image], { timeoutMs: 30 * 60_000, ...(options.env ? { env: options.env } : {}) });
    if (r.code === 0) return;
    const why = (r.stderr.trim().split('\n').pop() ?? '') || `docker pull exited ${r.code}`;
    const permanent = /manifest unknown|not found|repository does not exist|unauthorized|denied|invalid reference/i.test(r.stderr);
    if (permanent || attempt >= attempts) {
      throw new TunaSetupError('PULL_FAILED', `cannot pull ${image}: ${why}`,
        permanent ? 'check the image name and tag (tuna-setup resolve checks tags)' : 'the registry or the network keeps failing; set docker-mirror, or try again later');
    }
    options.log?.(`pull ${image} failed (${why}); retrying in ${delay / 1000} s (${attempt}/${attempts})`);
    await new Promise((r2) => setTimeout(r2, delay));
    delay *= 2;
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** receives output as it comes; default: inherited stdio */
  onOutput?: (chunk: string) => void;
}

/** Runs the job, streaming its output; resolves with the script's exit code. */
export function runJob(job: JobSpec, options: RunOptions = {}): Promise<number> {
  const args = dockerRunArgs(job);
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, {
      env: { ...(options.env ?? process.env), ...job.env },
      stdio: options.onOutput ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    });
    if (options.onOutput) {
      child.stdout!.on('data', (d) => options.onOutput!(String(d)));
      child.stderr!.on('data', (d) => options.onOutput!(String(d)));
    }
    child.on('error', (e) => reject(new TunaSetupError('RUN_FAILED', `cannot start docker: ${e.message}`, 'install the Docker CLI and make sure it is on PATH')));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

/** Removes a job's container if it is still there (a cancelled job); true when one was removed. */
export async function removeContainer(name: string, env?: NodeJS.ProcessEnv): Promise<boolean> {
  const r = await exec(['docker', 'rm', '-f', name], { timeoutMs: 60_000, ...(env ? { env } : {}) });
  return r.code === 0 && r.stdout.trim() === name;
}

/**
 * Hands every file under the workspace back to the workspace directory's
 * owner, from inside a container of the same image (the runner's user may
 * not own what root wrote there).
 */
export async function restoreWorkspaceOwner(image: string, workspace: string, env?: NodeJS.ProcessEnv): Promise<{ uid: number; gid: number }> {
  const { uid, gid } = await stat(workspace);
  const r = await exec(['docker', 'run', '--rm', '-v', `${workspace}:/workspace`, '--entrypoint', 'chown', image, '-R', `${uid}:${gid}`, '/workspace'],
    { timeoutMs: 10 * 60_000, ...(env ? { env } : {}) });
  if (r.code !== 0) {
    throw new TunaSetupError('RUN_FAILED', `cannot give ${workspace} back to ${uid}:${gid}: ${r.stderr.trim().split('\n').pop()}`,
      'files the job wrote as root are left as they are; remove them with sudo before the next checkout');
  }
  return { uid, gid };
}

export interface ContainerRunOptions {
  /** the CUDA inside the image, for the preflight's driver check */
  imageCuda?: string | null;
  /** whether the image enforces NVIDIA_REQUIRE_CUDA (nvidia/cuda, NGC) */
  requiresNativeCuda?: boolean;
  sysroot?: string;
  /** wraps each phase (preflight, pull, run) — a log group in the Action; default: just runs it */
  phase?: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
  log?: (line: string) => void;
  warn?: (line: string) => void;
}

/**
 * A job from start to end, for every front end: preflight, pull, run — a
 * SIGINT/SIGTERM to this process meanwhile removes the container — then the
 * workspace and every mounted directory handed back to their owners.
 * Resolves with the job's exit code.
 */
export async function runInContainer(job: JobSpec, o: ContainerRunOptions = {}): Promise<{ exitCode: number; seconds: number }> {
  const phase = o.phase ?? (<T>(_title: string, fn: () => Promise<T>) => fn());
  const log = o.log ?? (() => {});
  await phase('Preflight', async () => {
    const [docker, gpu] = await Promise.all([inspectDocker(), job.gpus === 'none' ? undefined : detectGpu(o.sysroot ? { sysroot: o.sysroot } : {})]);
    log(`docker ${docker.serverVersion ?? 'unavailable'}; runtimes: ${docker.runtimes.join(', ') || 'none'}; gpus: ${job.gpus}`);
    const problems = preflight({ docker, gpus: job.gpus, driverCuda: gpu?.cudaMax ?? null, imageCuda: o.imageCuda ?? null, requiresNativeCuda: o.requiresNativeCuda ?? false });
    if (problems.length) throw new TunaSetupError('RUN_FAILED', `cannot run in ${job.image}: ${problems.join('; ')}`, 'fix the above, or use gpus none for a CPU-only run');
  });
  await phase(`Pull ${job.image}`, () => pullImage(job.image, { log }));
  // mount points we create are ours, so their owner gets back what the job writes
  for (const host of Object.keys(job.mounts ?? {})) await mkdir(host, { recursive: true });
  const stop = () => { void removeContainer(job.name); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const t0 = performance.now();
  let exitCode: number;
  try {
    exitCode = await phase(`Run in ${job.image}`, () => runJob(job));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`the job exited with ${exitCode} after ${seconds.toFixed(1)} s`);
  const dirs = [...(job.workspace ? [[job.workspace, 'workspace'] as const] : []), ...Object.entries(job.mounts ?? {}).map(([host, inside]) => [host, inside] as const)];
  for (const [dir, label] of dirs) {
    try {
      const owner = await restoreWorkspaceOwner(job.image, dir);
      log(`${label} files handed back to ${owner.uid}:${owner.gid}`);
    } catch (e) {
      (o.warn ?? log)((e as Error).message);
    }
  }
  return { exitCode, seconds };
}
