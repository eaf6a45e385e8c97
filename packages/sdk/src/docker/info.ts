/**
 * What the local Docker engine offers a GPU job: is it reachable, which
 * runtimes it has (`nvidia` from the NVIDIA Container Toolkit), whether CDI
 * is set up, and which registry mirrors it uses. Read from `docker info`
 * through the exec seam; an absent or stopped engine is a report, not an
 * error.
 */
import { exec } from '../exec.js';

export interface DockerReport {
  available: boolean;
  serverVersion: string | null;
  runtimes: string[];
  nvidiaRuntime: boolean;
  cdiSpecDirs: string[];
  registryMirrors: string[];
  /** why Docker is unavailable, when it is */
  error?: string;
}

export async function inspectDocker(env: NodeJS.ProcessEnv = process.env): Promise<DockerReport> {
  const r = await exec(['docker', 'info', '--format', '{{json .}}'], { env, timeoutMs: 15_000 });
  const empty = { available: false, serverVersion: null, runtimes: [], nvidiaRuntime: false, cdiSpecDirs: [], registryMirrors: [] };
  if (r.code !== 0) {
    const why = r.code === 127 ? 'docker CLI not found on PATH' : (r.stderr.trim().split('\n').pop() || `docker info exited ${r.code}`);
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
    cdiSpecDirs: info.CDISpecDirs ?? [],
    registryMirrors: info.RegistryConfig?.Mirrors ?? [],
  };
}
