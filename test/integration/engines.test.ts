/**
 * The container engines read what `apply` wrote, and pull through it: real
 * containerd (ctr --hosts-dir), real podman and skopeo (registries.conf.d in
 * its real place, in a mount namespace of the test's own), a real
 * distribution pull-through cache in front of an "upstream" registry, and a
 * Harbor-shaped proxy project in front of the cache (a path prefix). Nothing
 * here reaches the internet: docker.io is served by the mirrors alone.
 * Restore puts every file back byte for byte.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import { runCliAsync } from '../helpers/cli.js';
import { itWith, missing } from '../helpers/env.js';
import { buildLayouts, pushLayout, startPrefixForwarder, startRegistry, type LabRegistry } from '../helpers/mirror-lab.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const needs = { root: true, bins: ['docker-registry', 'skopeo', 'umoci', 'containerd', 'ctr', 'podman', 'unshare'] };
const itEngines = itWith(needs);

describe('container engines pull through the mirrors apply wrote', () => {
  let dir: string;
  let upstream: LabRegistry;
  let cache: LabRegistry;
  let harbor: LabRegistry;

  beforeAll(async () => {
    if (missing(needs)) return;
    dir = tempDir();
    const layout = buildLayouts(dir);
    upstream = await startRegistry(dir, 'upstream');
    await pushLayout(layout, 'latest', `${upstream.host}/library/busybox:latest`);
    cache = await startRegistry(dir, 'cache', { proxyOf: `http://${upstream.host}` });
    harbor = await startPrefixForwarder(cache.host, 'dockerhub-proxy');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([upstream, cache, harbor].filter(Boolean).map((r) => r.stop()));
  });

  const cli = (args: string[], home: string) =>
    runCliAsync(args, { HOME: home, XDG_STATE_HOME: path.join(home, 'state'), XDG_CONFIG_HOME: path.join(home, 'config') });

  itEngines(
    "containerd: ctr pulls docker.io/library/busybox through a Harbor proxy project named in hosts.toml; restore gives the user's file back",
    async () => {
      const home = tempDir();
      const hostsDir = path.join(home, 'containerd', 'certs.d');
      // the user's own hosts.toml for docker.io: a cache that is down, with a comment
      mkdirSync(path.join(hostsDir, 'docker.io'), { recursive: true });
      const theirs = '# ours, keep\nserver = "https://registry-1.docker.io"\n\n[host."http://127.0.0.1:9"]\n  capabilities = ["pull", "resolve"]\n';
      writeFileSync(path.join(hostsDir, 'docker.io', 'hosts.toml'), theirs);

      const applied = await cli(
        [
          'apply',
          '--mirror',
          'official',
          '--targets',
          'containerd',
          '--containerd-dir',
          hostsDir,
          '--registry-mirror',
          `http://${harbor.host}/dockerhub-proxy`,
          '--registry-mirror',
          `ghcr.io=http://${cache.host}`,
          '--json',
        ],
        home,
      );
      expect(applied.code, applied.stderr).toBe(0);
      const out = applied.json();
      expect(out.changes.map((c: { path: string; action: string }) => [path.relative(hostsDir, c.path), c.action])).toEqual([
        ['docker.io/hosts.toml', 'update'],
        ['ghcr.io/hosts.toml', 'create'],
      ]);
      expect(out.notes.join('\n')).toMatch(/config_path = .*certs\.d/);
      const hosts = parseToml(readFileSync(path.join(hostsDir, 'docker.io', 'hosts.toml'), 'utf8')) as { host: Record<string, { override_path?: boolean }> };
      expect(Object.keys(hosts.host)).toEqual([`http://${harbor.host}/v2/dockerhub-proxy`, 'http://127.0.0.1:9']);
      expect(readFileSync(path.join(hostsDir, 'docker.io', 'hosts.toml'), 'utf8')).toContain('# ours, keep');

      // a containerd of the test's own: own root, state and socket, CRI off
      const root = path.join(home, 'ctrd');
      mkdirSync(root, { recursive: true });
      const sock = path.join(root, 'containerd.sock');
      writeFileSync(path.join(root, 'config.toml'), `version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n`);
      const daemon: ChildProcess = spawn(
        'containerd',
        ['--config', path.join(root, 'config.toml'), '--root', path.join(root, 'root'), '--state', path.join(root, 'state'), '--address', sock],
        { stdio: 'ignore' },
      );
      try {
        for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
        const pulled = await run(
          'ctr',
          ['--address', sock, '--namespace', 'tuna-test', 'image', 'pull', '--hosts-dir', hostsDir, 'docker.io/library/busybox:latest'],
          { timeout: 60_000 },
        );
        expect(pulled.stdout).toMatch(/done/);
      } finally {
        daemon.kill('SIGTERM');
      }
      // containerd resolves the tag with HEAD (and says which registry it stands in for: ?ns=docker.io), then fetches by digest
      expect(harbor.requests()).toContainEqual(expect.stringMatching(/^HEAD \/v2\/dockerhub-proxy\/library\/busybox\/manifests\/latest\?ns=docker\.io 200$/));
      expect(harbor.requests()).toContainEqual(expect.stringMatching(/^GET \/v2\/dockerhub-proxy\/library\/busybox\/blobs\/sha256:\w+\?ns=docker\.io 200$/));
      expect(cache.requests()).toContainEqual(expect.stringMatching(/^GET \/v2\/library\/busybox\/blobs\/sha256:\w+(\?\S*)? 200$/));

      const restored = await cli(['restore', '--json'], home);
      expect(restored.code, restored.stderr).toBe(0);
      expect(readFileSync(path.join(hostsDir, 'docker.io', 'hosts.toml'), 'utf8')).toBe(theirs);
      expect(existsSync(path.join(hostsDir, 'ghcr.io', 'hosts.toml'))).toBe(false);
    },
    120_000,
  );

  itEngines(
    'podman and skopeo: the registries.conf.d drop-in, in its real place, sends docker.io pulls to the mirror; restore removes it',
    async () => {
      const home = tempDir();
      // a copy of /etc/containers, mounted over the real one only inside the test's mount namespace
      const etc = path.join(home, 'etc-containers');
      cpSync('/etc/containers', etc, { recursive: true });
      const dropIn = path.join(etc, 'registries.conf.d', '50-tuna-setup.conf');
      const before = readFileSync(path.join(etc, 'registries.conf'));

      const applied = await cli(
        [
          'apply',
          '--mirror',
          'official',
          '--targets',
          'podman',
          '--podman-config',
          dropIn,
          '--registry-mirror',
          `http://${harbor.host}/dockerhub-proxy`,
          '--json',
        ],
        home,
      );
      expect(applied.code, applied.stderr).toBe(0);
      const conf = parseToml(readFileSync(dropIn, 'utf8')) as { registry: { prefix: string; mirror: { location: string; insecure?: boolean }[] }[] };
      expect(conf.registry).toEqual([{ prefix: 'docker.io', location: 'docker.io', mirror: [{ location: `${harbor.host}/dockerhub-proxy`, insecure: true }] }]);

      const inNamespace = (cmd: string[]) =>
        run('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /etc/containers && exec "$@"', etc, ...cmd], { timeout: 90_000 });
      const storage = path.join(home, 'storage');
      const seenBefore = harbor.requests().length;
      const inspected = await inNamespace(['skopeo', 'inspect', '--raw', 'docker://docker.io/library/busybox:latest']);
      expect(JSON.parse(inspected.stdout).schemaVersion).toBe(2);
      const pulled = await inNamespace([
        'podman',
        '--root',
        path.join(storage, 'root'),
        '--runroot',
        path.join(storage, 'run'),
        '--storage-driver',
        'vfs',
        '--events-backend',
        'none',
        '--cgroup-manager',
        'cgroupfs',
        'pull',
        '--quiet',
        'docker.io/library/busybox:latest',
      ]);
      expect(pulled.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
      const through = harbor.requests().slice(seenBefore);
      expect(through).toContainEqual(expect.stringMatching(/^GET \/v2\/dockerhub-proxy\/library\/busybox\/manifests\/latest 200$/));
      expect(through).toContainEqual(expect.stringMatching(/^GET \/v2\/dockerhub-proxy\/library\/busybox\/blobs\/sha256:\w+ 200$/));

      expect((await cli(['restore', '--json'], home)).code).toBe(0);
      expect(existsSync(dropIn)).toBe(false);
      expect(readFileSync(path.join(etc, 'registries.conf'))).toEqual(before);
    },
    180_000,
  );
});
