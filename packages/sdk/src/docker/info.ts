/**
 * What the local Docker engine offers a GPU job: is it reachable, which
 * runtimes it has (`nvidia` from the NVIDIA Container Toolkit), whether CDI
 * is set up, which registry mirrors it uses — and which images it already
 * holds, so an air-gapped runner can run one without a registry. Read from
 * `docker info` and `docker image inspect` through the exec seam; an absent
 * or stopped engine is a report, not an error.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../exec.js';

/** What `docker info` says the engine offers a GPU job: reachable or not (and why), runtimes, CDI spec dirs, registry mirrors. */
export interface DockerReport {
  available: boolean;
  serverVersion: string | null;
  runtimes: string[];
  nvidiaRuntime: boolean;
  /**
   * `nvidia-container-runtime-hook` on this machine's PATH: dockerd registers
   * its `--gpus` device driver when it finds this hook (the NVIDIA Container
   * Toolkit), with or without an `nvidia` runtime in daemon.json
   */
  nvidiaHook: string | null;
  cdiSpecDirs: string[];
  registryMirrors: string[];
  /** why Docker is unavailable, when it is */
  error?: string;
}

/** The first executable `name` in PATH's directories, or null. */
async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    if (
      await access(file, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return null;
}

/**
 * Asks the engine (`docker info`, 15 s timeout) and looks for the NVIDIA hook on PATH. An absent or unreachable
 * engine is a report with `available: false` and `error`, not a throw.
 */
export async function inspectDocker(env: NodeJS.ProcessEnv = process.env): Promise<DockerReport> {
  const r = await exec(['docker', 'info', '--format', '{{json .}}'], { env, timeoutMs: 15_000 });
  const nvidiaHook = await onPath('nvidia-container-runtime-hook', env);
  const empty = { available: false, serverVersion: null, runtimes: [], nvidiaRuntime: false, nvidiaHook, cdiSpecDirs: [], registryMirrors: [] };
  if (r.code !== 0) {
    const why = r.code === 127 ? 'docker CLI not found on PATH' : r.stderr.trim().split('\n').pop() || `docker info exited ${r.code}`;
    return { ...empty, error: why };
  }
  let info: any;
  try {
    info = JSON.parse(r.stdout);
  } catch {
    return { ...empty, error: 'docker info printed no JSON' };
  }
  if (!info?.ServerVersion) {
    return { ...empty, error: (info?.ServerErrors ?? ['cannot reach the Docker daemon']).join('; ') };
  }
  const runtimes = Object.keys(info.Runtimes ?? {}).sort();
  return {
    available: true,
    serverVersion: info.ServerVersion,
    runtimes,
    nvidiaRuntime: runtimes.includes('nvidia'),
    nvidiaHook,
    cdiSpecDirs: info.CDISpecDirs ?? [],
    registryMirrors: info.RegistryConfig?.Mirrors ?? [],
  };
}

/** An image the engine holds, by id, tags and registry digests (`docker image inspect`). */
export interface LocalImage {
  /** the engine's image id (`sha256:…` of the config) */
  id: string;
  /** `name:tag` as docker lists them (`busybox:latest`, `127.0.0.1:5000/library/busybox:latest`) */
  repoTags: string[];
  /** `name@sha256:…`: the registry digests the image is known by (none for an image built or only tagged here) */
  repoDigests: string[];
}

/**
 * The local image `ref` names: `image` when the engine holds one by that
 * name, nothing when it does not, `error` when it cannot be asked. The
 * caller checks the tags and digests: docker also matches an image-id prefix.
 */
export async function inspectLocalImage(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<{ image?: LocalImage; error?: string }> {
  const r = await exec(['docker', 'image', 'inspect', '--format', '{{json .Id}}\t{{json .RepoTags}}\t{{json .RepoDigests}}', ref], { env, timeoutMs: 30_000 });
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? '';
    return /no such (image|object)/i.test(why)
      ? {}
      : { error: r.code === 127 ? 'docker CLI not found on PATH' : why || `docker image inspect exited ${r.code}` };
  }
  try {
    const [id, tags, digests] = r.stdout
      .trim()
      .split('\n')[0]!
      .split('\t')
      .map((f) => JSON.parse(f));
    return { image: { id, repoTags: tags ?? [], repoDigests: digests ?? [] } };
  } catch {
    return { error: `docker image inspect printed ${JSON.stringify(r.stdout.slice(0, 200))}` };
  }
}
