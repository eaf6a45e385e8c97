/**
 * Where each tool reads its per-user configuration, per OS, as the tools
 * themselves define it — and where tuna-setup keeps its journal.
 *
 * pip: platformdirs' user config dir — `$XDG_CONFIG_HOME/pip/pip.conf` on
 * Linux; on macOS `~/Library/Application Support/pip/pip.conf`, unless only
 * `~/.config/pip` exists (pip checks that too); `%APPDATA%\pip\pip.ini` on
 * Windows. uv: `$XDG_CONFIG_HOME/uv/uv.toml` (also on macOS), `%APPDATA%\uv\uv.toml`.
 * conda: `~/.condarc`. Docker: `/etc/docker/daemon.json`, Docker Desktop's
 * `~/.docker/daemon.json` on macOS, `%ProgramData%\docker\config\daemon.json`.
 * containerd (Linux): the directory of hosts.toml files, `/etc/containerd/certs.d`.
 * Podman (containers-registries.conf.d(5)): a drop-in, `/etc/containers/registries.conf.d/`
 * for root, `~/.config/containers/registries.conf.d/` rootless (not XDG_CONFIG_HOME). BuildKit:
 * `/etc/buildkit/buildkitd.toml`, rootless `$XDG_CONFIG_HOME/buildkit/buildkitd.toml`.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** A tool whose config tuna-setup writes. */
export type Target = 'pip' | 'uv' | 'conda' | 'docker' | 'containerd' | 'podman' | 'buildkit';
/** Every target, in the order reports and messages list them. */
export const TARGETS: readonly Target[] = ['pip', 'uv', 'conda', 'docker', 'containerd', 'podman', 'buildkit'];
/** The targets that take registry mirrors rather than the package mirror. */
export const ENGINE_TARGETS: readonly Target[] = ['docker', 'containerd', 'podman', 'buildkit'];

/** The OS, environment and home directory that config paths are resolved against; hostPlatform() is this machine's. */
export interface Platform {
  os: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  /** root reads the engines' system files; anyone else their rootless ones (podman, buildkit) */
  root?: boolean;
}

/** This machine's Platform: process.platform, process.env, the home directory, and whether this process runs as root. */
export const hostPlatform = (): Platform => ({ os: process.platform, env: process.env, home: homedir(), root: process.getuid?.() === 0 });

/**
 * Where `target` reads its configuration on `p`: a file, or for containerd the directory of hosts.toml files.
 * On macOS pip's is under ~/.config/pip when only that directory exists.
 */
export function configPath(target: Target, p: Platform = hostPlatform()): string {
  const j = p.os === 'win32' ? path.win32.join : path.posix.join;
  const xdgConfig = p.env.XDG_CONFIG_HOME || j(p.home, '.config');
  const appData = p.env.APPDATA || j(p.home, 'AppData', 'Roaming');
  switch (target) {
    case 'pip':
      if (p.os === 'win32') return j(appData, 'pip', 'pip.ini');
      if (p.os === 'darwin') {
        const mac = j(p.home, 'Library', 'Application Support', 'pip');
        const linuxLike = j(p.home, '.config', 'pip');
        return j(!existsSync(mac) && existsSync(linuxLike) ? linuxLike : mac, 'pip.conf');
      }
      return j(xdgConfig, 'pip', 'pip.conf');
    case 'uv':
      return p.os === 'win32' ? j(appData, 'uv', 'uv.toml') : j(xdgConfig, 'uv', 'uv.toml');
    case 'conda':
      return j(p.home, '.condarc');
    case 'docker':
      if (p.os === 'win32') return j(p.env.ProgramData || 'C:\\ProgramData', 'docker', 'config', 'daemon.json');
      if (p.os === 'darwin') return j(p.home, '.docker', 'daemon.json');
      return '/etc/docker/daemon.json';
    case 'containerd':
      return '/etc/containerd/certs.d';
    case 'podman':
      // containers/image reads ~/.config/containers whatever XDG_CONFIG_HOME says
      return j(p.root ? '/etc/containers' : j(p.home, '.config', 'containers'), 'registries.conf.d', '50-tuna-setup.conf');
    case 'buildkit':
      return p.root ? '/etc/buildkit/buildkitd.toml' : j(xdgConfig, 'buildkit', 'buildkitd.toml');
  }
}

/** `$XDG_STATE_HOME/tuna-setup` (default `~/.local/state/tuna-setup`), `%LOCALAPPDATA%\tuna-setup` on Windows. */
export function defaultStateDir(p: Platform = hostPlatform()): string {
  if (p.os === 'win32') return path.win32.join(p.env.LOCALAPPDATA || path.win32.join(p.home, 'AppData', 'Local'), 'tuna-setup');
  return path.posix.join(p.env.XDG_STATE_HOME || path.posix.join(p.home, '.local', 'state'), 'tuna-setup');
}

/** conda's name for a platform (`linux-64`, `linux-aarch64`, `osx-arm64`…); undefined where conda has none. */
export function condaSubdir(platform: string = process.platform, arch: string = process.arch): string | undefined {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[platform as 'linux' | 'darwin' | 'win32'];
  const cpu = { x64: '64', arm64: os === 'linux' ? 'aarch64' : 'arm64', ppc64: 'ppc64le', s390x: 's390x' }[arch as 'x64' | 'arm64' | 'ppc64' | 's390x'];
  return os && cpu ? `${os}-${cpu}` : undefined;
}
