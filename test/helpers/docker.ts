/**
 * Real Docker on loopback, with no internet: a network namespace of the
 * test's own, a distribution registry (Debian docker-registry) holding a
 * busybox image made without a daemon (umoci + skopeo), and dockerd (Debian
 * docker.io) started on a throwaway root and socket. Everything is killed by
 * pid and removed at the end, including what dockerd leaves outside its roots
 * (/etc/docker/key.json, /run/docker) when they were not there before.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DockerLab {
  dir: string;
  ns: string; // path of the network namespace
  registry: string; // http://127.0.0.1:5000
  registryLog: () => string;
  nsExec: (argv: string[], timeoutMs?: number) => Promise<{ stdout: string; stderr: string }>;
  /** `env`: dockerd's own environment on top of ours (its PATH is where it looks for nvidia-container-runtime-hook) */
  startDockerd: (configFile: string, options?: { env?: NodeJS.ProcessEnv }) => Promise<Dockerd>;
  stop: () => Promise<void>;
}

export interface Dockerd {
  ok: boolean;
  output: () => string;
  pidFile: string;
  /** DOCKER_HOST value for this daemon */
  host: string;
  docker: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;
  stop: () => Promise<void>;
}

const dockerCli = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const start = Date.now();
    const tick = () => (check() ? resolve(true) : Date.now() - start > timeoutMs ? resolve(false) : setTimeout(tick, 100));
    tick();
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Every docker CLI process running now, as `ps` would show it: its argv, and its environment. */
export function dockerProcesses(): { pid: number; argv: string[]; environ: string[] }[] {
  const found: { pid: number; argv: string[]; environ: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
        .split('\0')
        .filter((a, i, all) => a !== '' || i < all.length - 1);
      if (path.basename(argv[0] ?? '') !== 'docker') continue;
      found.push({ pid: Number(entry), argv, environ: readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** An OCI layout holding a busybox image (tag latest), made with umoci and no daemon. */
export function buildBusyboxLayout(dir: string): string {
  const layout = path.join(dir, 'oci');
  const bundle = path.join(dir, 'bundle');
  execFileSync('umoci', ['init', '--layout', layout]);
  execFileSync('umoci', ['new', '--image', `${layout}:latest`]);
  execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  mkdirSync(path.join(bundle, 'rootfs/bin'), { recursive: true });
  copyFileSync('/bin/busybox', path.join(bundle, 'rootfs/bin/busybox'));
  for (const applet of ['sh', 'chown', 'echo', 'true', 'sleep', 'cat']) symlinkSync('busybox', path.join(bundle, 'rootfs/bin', applet));
  // jobs run as `bash -eo pipefail -c …`: busybox sh understands those options
  writeFileSync(path.join(bundle, 'rootfs/bin/bash'), '#!/bin/sh\nexec /bin/sh "$@"\n', { mode: 0o755 });
  execFileSync('umoci', ['repack', '--image', `${layout}:latest`, bundle]);
  execFileSync('umoci', ['config', '--image', `${layout}:latest`, '--config.cmd', '/bin/sh']);
  rmSync(bundle, { recursive: true, force: true });
  return layout;
}

export async function startDockerLab(dir: string): Promise<DockerLab> {
  const leftovers = ['/etc/docker/key.json', '/run/docker'].filter((p) => !existsSync(p));
  const name = `tuna-test-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', name]);
  const ns = `/var/run/netns/${name}`;
  execFileSync('nsenter', [`--net=${ns}`, 'ip', 'link', 'set', 'lo', 'up']);
  const children: ChildProcess[] = [];
  const nsExec = (argv: string[], timeoutMs = 60_000) => run('nsenter', [`--net=${ns}`, ...argv], { timeout: timeoutMs });

  // busybox image, built without a daemon
  const layout = buildBusyboxLayout(dir);

  // the registry, inside the namespace
  const regConfig = path.join(dir, 'registry.yml');
  writeFileSync(
    regConfig,
    `version: 0.1\nlog: { level: info }\nstorage: { filesystem: { rootdirectory: ${path.join(dir, 'registry-data')} } }\nhttp: { addr: 127.0.0.1:5000 }\n`,
  );
  const regLog = path.join(dir, 'registry.log');
  const reg = spawn('nsenter', [`--net=${ns}`, 'docker-registry', 'serve', regConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(reg);
  let regOut = '';
  reg.stdout!.on('data', (d) => (regOut += d));
  reg.stderr!.on('data', (d) => (regOut += d));
  if (!(await waitFor(() => /listening on/.test(regOut), 15_000))) throw new Error(`docker-registry did not start:\n${regOut}`);
  await nsExec(['skopeo', 'copy', '--dest-tls-verify=false', `oci:${layout}:latest`, 'docker://127.0.0.1:5000/library/busybox:latest']);

  const dockerds: Dockerd[] = [];
  let n = 0;
  const startDockerd = async (configFile: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<Dockerd> => {
    const id = `d${n++}`;
    const root = path.join(dir, id);
    mkdirSync(root, { recursive: true });
    const sock = path.join(root, 'docker.sock');
    const pidFile = path.join(root, 'docker.pid');
    const child = spawn(
      'nsenter',
      [
        `--net=${ns}`,
        'dockerd',
        '--config-file',
        configFile,
        '--data-root',
        path.join(root, 'data'),
        '--exec-root',
        path.join(root, 'exec'),
        '--host',
        `unix://${sock}`,
        '--pidfile',
        pidFile,
        '--bridge=none',
        '--iptables=false',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    // ready when `docker info` answers (log lines depend on the config's log-level)
    let answered = false;
    const ask = () =>
      run(dockerCli, ['-H', `unix://${sock}`, 'info', '--format', '{{.ID}}'], { timeout: 5_000 }).then(
        () => {
          answered = true;
        },
        () => {},
      );
    const deadline = Date.now() + 30_000;
    while (!answered && !exited() && Date.now() < deadline) {
      if (existsSync(sock)) await ask();
      if (!answered) await new Promise((r) => setTimeout(r, 200));
    }
    const d: Dockerd = {
      ok: !exited() && answered,
      output: () => out,
      pidFile,
      host: `unix://${sock}`,
      docker: (...args) => run(dockerCli, ['-H', `unix://${sock}`, ...args], { timeout: 60_000 }),
      stop: async () => {
        await kill(child);
        execFileSync('sh', ['-c', 'grep " $0" /proc/mounts | cut -d" " -f2 | sort -r | xargs -r umount -l', root]);
      },
    };
    dockerds.push(d);
    return d;
  };

  return {
    dir,
    ns,
    registry: 'http://127.0.0.1:5000',
    registryLog: () => regOut + (existsSync(regLog) ? readFileSync(regLog, 'utf8') : ''),
    nsExec,
    startDockerd,
    stop: async () => {
      for (const d of dockerds) await d.stop();
      for (const c of children) await kill(c);
      execFileSync('ip', ['netns', 'del', name]);
      for (const p of leftovers) rmSync(p, { recursive: true, force: true });
    },
  };
}

/** A lab and a dockerd in it started with an empty daemon.json: what the run tests need. */
export async function startLabDockerd(dir: string): Promise<{ lab: DockerLab; dockerd: Dockerd }> {
  const lab = await startDockerLab(dir);
  const config = path.join(dir, 'daemon.json');
  writeFileSync(config, '{}\n');
  const dockerd = await lab.startDockerd(config);
  if (!dockerd.ok) throw new Error(dockerd.output());
  return { lab, dockerd };
}
