/**
 * Running a job inside an image with the GPU attached: the job's own values
 * checked first (image reference, variables, directories, ports), preflight
 * (Docker reachable; the NVIDIA runtime or CDI when GPUs are asked for; the
 * driver runs the image's CUDA), the image found on this machine or pulled as
 * the pull policy says (with retries and backoff), `docker run` built as an
 * argv array — the user's script is one argv element, so no quoting in it can
 * break out — streamed output and the script's exit code, a named container
 * that a signal to this process removes (the exit code is then 128 + that
 * signal's number), and the workspace handed back to its owner (files a root
 * container wrote break the next checkout on self-hosted runners).
 *
 * The job's variables never reach docker's argv (`ps` shows argv) nor the
 * docker CLI's own environment (where DOCKER_HOST or PATH would steer docker
 * itself): they go through an env file in a private directory (0700, the file
 * 0600) that is removed when docker exits, on error and on a signal.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';
import { exec } from '../exec.js';
import { withRetries } from '../net/retry.js';
import { compareVersions } from '../torch/releases.js';
import { cudaImageAcceptsDriver } from '../torch/cuda-drivers.js';
import { detectGpu } from '../torch/detect.js';
import { inspectDocker, inspectLocalImage, type DockerReport, type LocalImage } from './info.js';
import {
  checkVolume,
  parseRunImage,
  publishArg,
  renderEnvFile,
  resolveWorkdir,
  type PortMapping,
  type PullPolicy,
  type RunImage,
  type Volume,
} from './options.js';

/** The GPUs a job gets: `all`, `none`, or a count (1–64, as parseGpus checks). */
export type Gpus = 'all' | 'none' | number;

/** `all`, `none` or a count 1–64. */
export function parseGpus(input: string): Gpus {
  const s = input.trim().toLowerCase();
  if (s === 'all' || s === 'none') return s;
  if (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 64) return Number(s);
  throw new TunaSetupError('BAD_GPUS', `{gpus} '${input}' is not all, none or a count`, 'use all, none, or a number of GPUs from 1 to 64');
}

/** A job: the image, the command, the GPUs, the container's name, and what to mount, publish and pass in. */
export interface JobSpec {
  /** `[registry/]name[:tag]`, optionally pinned `@sha256:…` (see parseRunImage) */
  image: string;
  /** the command inside the image, an argv array (see bashScript) */
  command: readonly string[];
  gpus: Gpus;
  /** container name (to remove it if the job is cancelled) */
  name: string;
  /** an existing host directory, mounted at /workspace and used as the working directory; handed back to its owner afterwards */
  workspace?: string;
  /** tuna-setup's own host directories to mount (host path → container path): created when missing, handed back to their owners afterwards */
  mounts?: Record<string, string>;
  /** the user's bind mounts: the sources must exist; mounted as given, never created nor re-owned */
  volumes?: readonly Volume[];
  /** ports published on the host (`-p`) */
  publish?: readonly PortMapping[];
  /** keep stdin open for the command (`-i`), with a TTY (`-t`) when this process's stdin is a terminal */
  interactive?: boolean;
  /** variables for the command: through a private env file, never in docker's argv or its own environment (see renderEnvFile) */
  env?: Record<string, string>;
}

/** `--mount` for a bind mount: docker parses the value as CSV, so a field with a comma or a quote is quoted. `--mount` (unlike `-v`) never creates a missing source. */
function bindMount(source: string, target: string, readOnly = false): string[] {
  const field = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
  return ['--mount', ['type=bind', `source=${source}`, `target=${target}`, ...(readOnly ? ['readonly'] : [])].map(field).join(',')];
}

/**
 * The `docker run` argv for a job (without the leading `docker`). The job's
 * variables travel in `envFile` (see renderEnvFile), which the caller writes;
 * `tty` adds `-t` to an interactive job.
 */
export function dockerRunArgs(job: JobSpec, o: { envFile?: string; tty?: boolean } = {}): string[] {
  const args = ['run', '--rm', '--name', job.name];
  if (job.interactive) args.push('-i', ...(o.tty ? ['-t'] : []));
  if (job.gpus !== 'none') args.push('--gpus', job.gpus === 'all' ? 'all' : String(job.gpus));
  if (job.workspace) args.push(...bindMount(job.workspace, '/workspace'), '-w', '/workspace');
  for (const [host, inside] of Object.entries(job.mounts ?? {})) args.push(...bindMount(host, inside));
  for (const v of job.volumes ?? []) args.push(...bindMount(v.source, v.target, v.readOnly));
  for (const p of job.publish ?? []) args.push('-p', publishArg(p));
  if (Object.keys(job.env ?? {}).length) {
    if (!o.envFile)
      throw new TunaSetupError(
        'RUN_FAILED',
        `the job's variables (${Object.keys(job.env!).join(', ')}) need an env file`,
        "pass envFile (a file with renderEnvFile's text), or use runJob, which writes one",
      );
    args.push('--env-file', o.envFile);
  }
  args.push(job.image, ...job.command);
  return args;
}

/**
 * Every problem with a job's own values, found before anything runs: the
 * image reference, the variables, the workspace and volumes (they must
 * exist), the ports. Returns the parsed image.
 */
export function checkJob(job: JobSpec): RunImage {
  const image = parseRunImage(job.image);
  renderEnvFile(job.env ?? {});
  if (job.workspace !== undefined) {
    if (!path.isAbsolute(job.workspace))
      throw new TunaSetupError('BAD_WORKDIR', `{workdir} ${job.workspace} is not an absolute path`, 'give the workspace as an absolute path');
    resolveWorkdir(job.workspace);
  }
  for (const v of job.volumes ?? []) checkVolume(v);
  for (const p of job.publish ?? []) publishArg(p);
  return image;
}

/** A script as a command: `bash -eo pipefail -c SCRIPT`, the script one argv element. */
export const bashScript = (script: string): string[] => ['bash', '-eo', 'pipefail', '-c', script];

/** What preflight checks: the engine's report, the GPUs asked for, and what is known of the driver's and the image's CUDA. */
export interface PreflightInput {
  docker: DockerReport;
  gpus: Gpus;
  /** the driver's own CUDA (nvidia-smi's "CUDA Version"), when known */
  driverCuda?: string | null;
  /** the CUDA inside the image, when known */
  imageCuda?: string | null;
  /** whether the image enforces NVIDIA_REQUIRE_CUDA (nvidia/cuda, NGC) */
  requiresNativeCuda?: boolean;
  /** the driver version and every GPU's brand: an nvidia/cuda image's brand exceptions may admit an older driver */
  driver?: string | null;
  gpuBrands?: readonly string[];
}

/** Every reason the job cannot start, before anything is pulled. */
export function preflight(p: PreflightInput): string[] {
  const problems: string[] = [];
  if (!p.docker.available) problems.push(`Docker is not usable: ${p.docker.error ?? 'unknown error'}`);
  if (p.docker.available && p.gpus !== 'none' && !p.docker.nvidiaRuntime && !p.docker.nvidiaHook && p.docker.cdiSpecDirs.length === 0) {
    problems.push(
      `{gpus=${p.gpus}} needs the NVIDIA Container Toolkit (nvidia-container-toolkit): no nvidia-container-runtime-hook on PATH, no 'nvidia' runtime and no CDI spec dirs in docker info (runtimes: ${p.docker.runtimes.join(', ') || 'none'}) — install it, or set {gpus=none}`,
    );
  }
  if (
    p.gpus !== 'none' &&
    p.requiresNativeCuda &&
    p.imageCuda &&
    p.driverCuda &&
    compareVersions(p.imageCuda, p.driverCuda) > 0 &&
    !(p.driver && p.gpuBrands?.length && cudaImageAcceptsDriver(p.imageCuda, p.driver, p.gpuBrands).ok)
  ) {
    problems.push(`the image needs CUDA ${p.imageCuda} but the driver runs CUDA ≤ ${p.driverCuda} natively — update the driver or pick an older image`);
  }
  return problems;
}

/** pullImage's retries (default 4 attempts, the first wait 2 s, doubled each time), the docker CLI's environment, a log. */
export interface PullOptions {
  attempts?: number;
  backoffMs?: number;
  env?: NodeJS.ProcessEnv;
  /** progress lines of the pull */
  log?: (line: string) => void;
}

/** `docker pull` with retries on transient failures (network, 429, 5xx); a missing image fails at once. */
export async function pullImage(image: string, options: PullOptions = {}): Promise<void> {
  const attempts = options.attempts ?? 4;
  const failed = (why: string, permanent: boolean) =>
    new TunaSetupError(
      'PULL_FAILED',
      `cannot pull ${image}: ${why}`,
      permanent
        ? 'check the image name and tag (tuna-setup resolve checks tags)'
        : 'the registry or the network keeps failing; set {dockerMirror}, or try again later',
    );
  await withRetries(
    {
      attempts,
      backoffMs: options.backoffMs ?? 2_000,
      onRetry: (why, attempt, delay) => options.log?.(`pull ${image} failed (${why}); retrying in ${delay / 1000} s (${attempt}/${attempts})`),
    },
    async () => {
      const r = await exec(['docker', 'pull', image], { timeoutMs: 30 * 60_000, ...(options.env ? { env: options.env } : {}) });
      if (r.code === 0) return { value: undefined };
      const why = (r.stderr.trim().split('\n').pop() ?? '') || `docker pull exited ${r.code}`;
      if (/manifest unknown|not found|repository does not exist|unauthorized|denied|invalid reference/i.test(r.stderr)) throw failed(why, true);
      return { retry: why };
    },
    (why) => failed(why, false),
  );
}

/** How runJob runs: the docker CLI's environment, where output goes, where the env file is made, and what stops it. */
export interface RunOptions {
  /** the docker CLI's environment (default: this process's); the job's variables are never added to it */
  env?: NodeJS.ProcessEnv;
  /** receives output as it comes; default: inherited stdio */
  onOutput?: (chunk: string) => void;
  /** where the container's stdout goes without onOutput: this process's stdout (default) or its stderr (so stdout can carry one JSON object) */
  stdout?: 'stdout' | 'stderr';
  /** where the private env file's directory is made (default: the OS temp dir) */
  tempDir?: string;
  /**
   * stops the job: the container is removed and the job ends as SIGTERM would
   * end it. Given, no process signal handler is installed (a library's
   * caller owns its signals); absent, SIGINT/SIGTERM/SIGHUP stop it
   */
  signal?: AbortSignal;
}

/** How a job ended: the script's exit code (128 + the signal's number when a signal stopped it), and that signal. */
export interface JobExit {
  exitCode: number;
  /** the signal that ended the job: one this process got (the container was then removed), or one that killed the docker CLI */
  signal?: NodeJS.Signals;
}

/** Signals that end a job early: the container is removed, and the exit code is 128 + the signal's number. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const signalExitCode = (s: NodeJS.Signals) => 128 + (constants.signals[s] ?? 0);

/** The job's env file in a private directory (0700; the file 0600); `remove` deletes both, synchronously (exit and signal handlers too). */
async function writeEnvFile(text: string, dir: string): Promise<{ path: string; remove: () => void }> {
  const home = await mkdtemp(path.join(dir, 'tuna-setup-env-'));
  const remove = () => rmSync(home, { recursive: true, force: true });
  try {
    const file = path.join(home, 'env');
    await writeFile(file, text, { mode: 0o600, flag: 'wx' });
    return { path: file, remove };
  } catch (e) {
    remove();
    throw new TunaSetupError('RUN_FAILED', `cannot write the job's env file in ${dir}: ${(e as Error).message}`, 'make the temp directory writable (TMPDIR)', {
      cause: e,
    });
  }
}

/**
 * Runs the job, streaming its output; resolves with the script's exit code.
 * While it runs, SIGINT, SIGTERM or SIGHUP to this process — or, given
 * `options.signal`, its abort instead — removes the container and the job
 * ends with 128 + that signal's number (a second process signal stops
 * waiting for that); a docker CLI killed by a signal gets its container
 * removed too. The env file is gone when this returns or throws.
 */
export async function runJob(job: JobSpec, options: RunOptions = {}): Promise<JobExit> {
  const envText = renderEnvFile(job.env ?? {});
  let envFile: { path: string; remove: () => void } | undefined;
  let received: NodeJS.Signals | undefined;
  let removing: Promise<void> | undefined;
  let ended = false;
  // the container may not exist yet (docker run is still creating it): try until it is gone or docker run has ended
  const removeUntilGone = async () => {
    for (let i = 0; i < 40 && !(await removeContainer(job.name, options.env)) && !ended; i++) await new Promise((r) => setTimeout(r, 250));
  };
  const onExit = () => envFile?.remove();
  const onSignal = (s: NodeJS.Signals) => {
    if (received) {
      // asked twice: stop waiting, and end as that signal would have
      stopListening();
      envFile?.remove();
      process.kill(process.pid, s);
      return;
    }
    received = s;
    removing = removeUntilGone();
  };
  const onAbort = () => {
    if (received) return;
    received = 'SIGTERM';
    removing = removeUntilGone();
  };
  const stopListening = () => {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    options.signal?.removeEventListener('abort', onAbort);
    process.off('exit', onExit);
  };
  if (options.signal) {
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  } else {
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
  }
  process.on('exit', onExit);
  try {
    if (envText) envFile = await writeEnvFile(envText, options.tempDir ?? tmpdir());
    const args = dockerRunArgs(job, { ...(envFile ? { envFile: envFile.path } : {}), tty: Boolean(job.interactive && process.stdin.isTTY) });
    const { code, signal } = received
      ? { code: null, signal: null }
      : await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
          const out = options.onOutput ? 'pipe' : options.stdout === 'stderr' ? 2 : 'inherit';
          const child = spawn('docker', args, {
            env: options.env ?? process.env,
            stdio: [job.interactive ? 'inherit' : 'ignore', out, options.onOutput ? 'pipe' : 'inherit'],
          });
          if (options.onOutput) {
            child.stdout!.on('data', (d) => options.onOutput!(String(d)));
            child.stderr!.on('data', (d) => options.onOutput!(String(d)));
          }
          child.on('error', (e) =>
            reject(new TunaSetupError('RUN_FAILED', `cannot start docker: ${e.message}`, 'install the Docker CLI and make sure it is on PATH')),
          );
          child.on('close', (c, sig) => resolve({ code: c, signal: sig }));
        });
    ended = true;
    const stoppedBy = received ?? signal;
    if (stoppedBy) {
      // a signal to us, or the docker CLI killed under us: whatever container it left (even one created, never started) goes
      await removing;
      await removeContainer(job.name, options.env);
      return { exitCode: signalExitCode(stoppedBy), signal: stoppedBy };
    }
    return { exitCode: code ?? 1 };
  } finally {
    ended = true;
    stopListening();
    envFile?.remove();
  }
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
export async function restoreWorkspaceOwner(image: string, workspace: string, env?: NodeJS.ProcessEnv): Promise<{ uid: number; gid: number } | null> {
  const { uid, gid } = await stat(workspace);
  // a root-owned directory (`--workdir /`, /srv, …) already owns what a root job wrote; `chown -R root` there
  // would only take files away from the other users who own things under it
  if (uid === 0 || path.resolve(workspace) === path.parse(path.resolve(workspace)).root) return null;
  const r = await exec(['docker', 'run', '--rm', ...bindMount(workspace, '/workspace'), '--entrypoint', 'chown', image, '-R', `${uid}:${gid}`, '/workspace'], {
    timeoutMs: 10 * 60_000,
    ...(env ? { env } : {}),
  });
  if (r.code !== 0) {
    throw new TunaSetupError(
      'RUN_FAILED',
      `cannot give ${workspace} back to ${uid}:${gid}: ${r.stderr.trim().split('\n').pop()}`,
      'files the job wrote as root are left as they are; remove them with sudo before the next checkout',
    );
  }
  return { uid, gid };
}

/**
 * The image on this machine, found or pulled as `policy` says: `missing`
 * uses a local image that has the reference's tag — or, for a reference
 * pinned by digest, that digest — and pulls otherwise; `always` pulls;
 * `never` fails, naming the image, when it is not here. Locality is asked of
 * the engine (`docker image inspect`), and checked against the image's tags
 * and digests (docker would also match an image-id prefix). `digest` is the
 * registry digest the image is known by under this name, when it has one.
 */
export async function ensureImage(
  image: RunImage,
  policy: PullPolicy,
  o: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<{ pulled: boolean; digest?: string }> {
  const log = o.log ?? (() => {});
  const env = o.env ?? process.env;
  const digestOf = (local: LocalImage | undefined) => {
    const d = image.digest ?? local?.repoDigests.find((r) => r.startsWith(`${image.name}@`))?.slice(image.name.length + 1);
    return d ? { digest: d } : {};
  };
  if (policy !== 'always') {
    const { image: local, error } = await inspectLocalImage(image.ref, env);
    const here = local && (image.digest ? local.repoDigests.includes(`${image.name}@${image.digest}`) : local.repoTags.includes(`${image.name}:${image.tag}`));
    if (here) {
      log(`${image.ref} is on this machine (${local.id.replace(/^sha256:/, '').slice(0, 12)}): not pulling (pull: ${policy})`);
      return { pulled: false, ...digestOf(local) };
    }
    if (policy === 'never') {
      throw new TunaSetupError(
        'IMAGE_NOT_LOCAL',
        `${image.ref} is not on this machine, and {pull=never} does not pull it${error ? ` (docker image inspect: ${error})` : ''}`,
        'load it first (docker load -i FILE.tar, from docker save where there is a network), or let it be pulled: {pull=missing}',
      );
    }
    log(`${image.ref} is not on this machine: pulling it`);
  }
  await pullImage(image.ref, { log, env });
  return { pulled: true, ...digestOf((await inspectLocalImage(image.ref, env)).image) };
}

/** runInContainer's options: the image's CUDA for the preflight, the pull policy, output, temp dir, cancellation, logging. */
export interface ContainerRunOptions {
  /** the CUDA inside the image, for the preflight's driver check */
  imageCuda?: string | null;
  /** whether the image enforces NVIDIA_REQUIRE_CUDA (nvidia/cuda, NGC) */
  requiresNativeCuda?: boolean;
  sysroot?: string;
  /** when to pull (see ensureImage); default `missing`: an image already on this machine is used as it is */
  pull?: PullPolicy;
  /** where the container's stdout goes: this process's stdout (default) or its stderr */
  stdout?: 'stdout' | 'stderr';
  /** where the private env file is made (default: the OS temp dir; the Action: RUNNER_TEMP) */
  tempDir?: string;
  /** stops the job (see RunOptions.signal): no process signal handlers are installed when given */
  signal?: AbortSignal;
  /** wraps each phase (preflight, pull, run) — a log group in the Action; default: just runs it */
  phase?: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
  /** progress lines (the pull, the container) */
  log?: (line: string) => void;
  /** what the user should know but is not an error */
  warn?: (line: string) => void;
}

/** How runInContainer's job ended, how long it ran, whether the image was pulled, and its registry digest. */
export interface ContainerRun extends JobExit {
  /** seconds the job ran (not counting preflight and pull) */
  seconds: number;
  /** whether the image was pulled (false: it was already on this machine) */
  pulled: boolean;
  /** the image's registry digest (`sha256:…`), when it has one under this name */
  digest?: string;
}

/**
 * A job from start to end, for every front end: the job's values checked,
 * preflight, the image found or pulled, the run — a SIGINT/SIGTERM/SIGHUP to
 * this process meanwhile removes the container — then the workspace and
 * tuna-setup's own mounted directories handed back to their owners.
 * Resolves with the job's exit code.
 */
export async function runInContainer(job: JobSpec, o: ContainerRunOptions = {}): Promise<ContainerRun> {
  const image = checkJob(job);
  const pull = o.pull ?? 'missing';
  const phase = o.phase ?? (<T>(_title: string, fn: () => Promise<T>) => fn());
  const log = o.log ?? (() => {});
  await phase('Preflight', async () => {
    const [docker, gpu] = await Promise.all([
      inspectDocker(),
      job.gpus === 'none' ? undefined : detectGpu({ ...(o.sysroot ? { sysroot: o.sysroot } : {}), ...(o.requiresNativeCuda ? { brands: true } : {}) }),
    ]);
    log(`docker ${docker.serverVersion ?? 'unavailable'}; runtimes: ${docker.runtimes.join(', ') || 'none'}; gpus: ${job.gpus}`);
    const brands = gpu?.gpus.length && gpu.gpus.every((g) => g.brand) ? gpu.gpus.map((g) => g.brand!) : [];
    const problems = preflight({
      docker,
      gpus: job.gpus,
      driverCuda: gpu?.cudaMax ?? null,
      imageCuda: o.imageCuda ?? null,
      requiresNativeCuda: o.requiresNativeCuda ?? false,
      driver: gpu?.driver ?? null,
      gpuBrands: brands,
    });
    if (problems.length)
      throw new TunaSetupError('RUN_FAILED', `cannot run in ${job.image}: ${problems.join('; ')}`, 'fix the above, or use {gpus=none} for a CPU-only run');
  });
  const title = { missing: `Pull ${image.ref} unless it is on this machine`, always: `Pull ${image.ref}`, never: `Find ${image.ref} on this machine` }[pull];
  const { pulled, digest } = await phase(title, () => ensureImage(image, pull, { log }));
  // mount points we create are ours, so their owner gets back what the job writes
  for (const host of Object.keys(job.mounts ?? {})) await mkdir(host, { recursive: true });
  const t0 = performance.now();
  const { exitCode, signal } = await phase(`Run in ${image.ref}`, () =>
    runJob(job, {
      ...(o.stdout ? { stdout: o.stdout } : {}),
      ...(o.tempDir ? { tempDir: o.tempDir } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  log(`the job ${signal ? `was stopped by ${signal} (exit ${exitCode})` : `exited with ${exitCode}`} after ${seconds.toFixed(1)} s`);
  const dirs = [
    ...(job.workspace ? [[job.workspace, 'workspace'] as const] : []),
    ...Object.entries(job.mounts ?? {}).map(([host, inside]) => [host, inside] as const),
  ];
  for (const [dir, label] of dirs) {
    try {
      const owner = await restoreWorkspaceOwner(job.image, dir);
      log(owner ? `${label} files handed back to ${owner.uid}:${owner.gid}` : `${label} is root's: its files are left as the job wrote them`);
    } catch (e) {
      (o.warn ?? log)((e as Error).message);
    }
  }
  return { exitCode, seconds, pulled, ...(digest ? { digest } : {}), ...(signal ? { signal } : {}) };
}

/** Where a wheel cache directory is mounted in a job's container (`/tuna-setup-wheels/pip`, `/…/uv`). */
export const CACHE_IN_CONTAINER = '/tuna-setup-wheels';

/**
 * What every front end gives a job's container, so `tuna-setup run` and the
 * Action's `run` see the same: the mirror the host's tools were pointed at
 * (PIP_INDEX_URL, UV_DEFAULT_INDEX, from `env`), the resolved PyTorch index
 * (TUNA_SETUP_TORCH_INDEX_URL), and the wheel cache directories mounted at
 * CACHE_IN_CONTAINER with PIP_CACHE_DIR/UV_CACHE_DIR pointing there.
 */
export function jobEnvironment(o: { env?: NodeJS.ProcessEnv; torchIndexUrl?: string; cacheDirs?: Readonly<Record<string, string>> } = {}): {
  env: Record<string, string>;
  mounts: Record<string, string>;
} {
  const host = o.env ?? process.env;
  const cache = o.cacheDirs ?? {};
  const env: Record<string, string> = {};
  for (const k of ['PIP_INDEX_URL', 'UV_DEFAULT_INDEX'] as const) if (host[k]) env[k] = host[k]!;
  if (o.torchIndexUrl) env.TUNA_SETUP_TORCH_INDEX_URL = o.torchIndexUrl;
  if (cache.pip) env.PIP_CACHE_DIR = `${CACHE_IN_CONTAINER}/pip`;
  if (cache.uv) env.UV_CACHE_DIR = `${CACHE_IN_CONTAINER}/uv`;
  return { env, mounts: Object.fromEntries(Object.entries(cache).map(([name, dir]) => [dir, `${CACHE_IN_CONTAINER}/${name}`])) };
}
