/**
 * The engine writers as text → text (containerd hosts.toml, registries.conf.d,
 * buildkitd.toml), registry mirror parsing and the pull-through rewrite. What
 * the engines make of the files is proven in test/integration/engines.test.ts
 * (containerd, podman and skopeo pull through them); BuildKit's buildkitd is
 * not packaged for Debian 12, so its file is checked here by parsing, against
 * the keys moby/buildkit documents (docs/buildkitd.toml.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { findMirror } from '@tuna-setup/sdk';
import { configPath, planApply, readContainerdConfig, renderBuildkitdToml, renderHostsToml, renderRegistriesConf } from '@tuna-setup/sdk/config';
import { parseRegistryMirror, pullThrough } from '@tuna-setup/sdk/registry';
import { tempDir } from '../helpers/tmp.js';

const hub = parseRegistryMirror('https://harbor.corp/dockerhub-proxy', 'x');
const root = parseRegistryMirror('mirror.example.com', 'x');
const ngc = parseRegistryMirror('nvcr.io=http://127.0.0.1:5000', 'x');

describe('registry mirrors', () => {
  it.each([
    ['harbor.corp/dockerhub-proxy', { registry: 'docker.io', url: 'https://harbor.corp/dockerhub-proxy' }],
    ['https://mirror.example.com/', { registry: 'docker.io', url: 'https://mirror.example.com' }],
    ['127.0.0.1:5000', { registry: 'docker.io', url: 'http://127.0.0.1:5000' }],
    ['index.docker.io=https://m.example', { registry: 'docker.io', url: 'https://m.example' }],
    ['NVCR.IO=https://harbor.corp/ngc', { registry: 'nvcr.io', url: 'https://harbor.corp/ngc' }],
    ['localhost:5000=https://m.example/a/b', { registry: 'localhost:5000', url: 'https://m.example/a/b' }],
  ])('%s', (spec, want) => expect(parseRegistryMirror(spec, '--registry-mirror')).toEqual(want));

  it.each([
    ['http://mirror.example.com', /plain http/],
    ['https://m.example/v2/hub', /not a repository prefix/],
    ['https://m.example/Hub', /not a repository prefix/],
    ['https://user:pw@m.example', /carries credentials/],
    ['a b=https://m.example', /not a registry name/],
  ])('refuses %s', (spec, why) => expect(() => parseRegistryMirror(spec, '--registry-mirror')).toThrow(why));

  it.each([
    ['pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime', 'harbor.corp/dockerhub-proxy/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime'],
    ['busybox', 'harbor.corp/dockerhub-proxy/library/busybox'],
    ['docker.io/library/busybox:1', 'harbor.corp/dockerhub-proxy/library/busybox:1'],
    [`index.docker.io/busybox@sha256:${'a'.repeat(64)}`, `harbor.corp/dockerhub-proxy/library/busybox@sha256:${'a'.repeat(64)}`],
    ['nvcr.io/nvidia/pytorch:25.01-py3', '127.0.0.1:5000/nvidia/pytorch:25.01-py3'],
    ['ghcr.io/org/img:1', 'ghcr.io/org/img:1'],
  ])('pulls %s through the mirror as %s', (image, want) => expect(pullThrough(image, [hub, ngc])).toBe(want));
});

describe('containerd hosts.toml', () => {
  it('a new file: the upstream as server, the mirrors in order; a path prefix as the full API path with override_path', () => {
    const doc = parseToml(renderHostsToml('', { registry: 'docker.io', mirrors: [hub, root] })) as any;
    expect(doc.server).toBe('https://registry-1.docker.io');
    expect(Object.entries(doc.host)).toEqual([
      ['https://harbor.corp/v2/dockerhub-proxy', { capabilities: ['pull', 'resolve'], override_path: true }],
      ['https://mirror.example.com', { capabilities: ['pull', 'resolve'] }],
    ]);
  });

  it("the user's file keeps its server, hosts, comments and CRLF; ours go first; a host they list keeps their table", () => {
    const theirs =
      '# corp\r\nserver = "https://registry-1.docker.io"\r\n\r\n# our own cache\r\n[host."https://mirror.example.com"]\r\n  capabilities = ["pull"]\r\n  ca = "/etc/ca.pem"\r\n';
    const out = renderHostsToml(theirs, { registry: 'docker.io', mirrors: [hub, root] });
    expect(out).toBe(
      '# corp\r\nserver = "https://registry-1.docker.io"\r\n\r\n[host."https://harbor.corp/v2/dockerhub-proxy"]\r\n  capabilities = ["pull", "resolve"]\r\n  override_path = true\r\n\r\n# our own cache\r\n[host."https://mirror.example.com"]\r\n  capabilities = ["pull"]\r\n  ca = "/etc/ca.pem"\r\n',
    );
    expect(renderHostsToml(out, { registry: 'docker.io', mirrors: [hub, root] })).toBe(out);
  });

  it('refuses a file containerd could not read, naming it', () => {
    expect(() => renderHostsToml('[host."x"\n', { registry: 'docker.io', mirrors: [hub] }, '/etc/containerd/certs.d/docker.io/hosts.toml')).toThrow(
      /\/etc\/containerd\/certs\.d\/docker\.io\/hosts\.toml:1/,
    );
  });

  it('reads config_path per config version, and a legacy mirrors section', () => {
    expect(readContainerdConfig('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n', 'c')).toEqual({
      configPaths: ['/etc/containerd/certs.d'],
      legacyMirrors: false,
      version: 2,
    });
    expect(readContainerdConfig('version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "/x:/y"\n', 'c')).toMatchObject({
      configPaths: ['/x', '/y'],
      version: 3,
    });
    expect(readContainerdConfig('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["https://m"]\n', 'c')).toEqual({
      configPaths: [],
      legacyMirrors: true,
      version: 2,
    });
  });
});

describe('registries.conf.d drop-in (podman, skopeo, buildah, CRI-O)', () => {
  it("carries the main file's entry for the registry into ours (a drop-in replaces it whole), our mirrors first", () => {
    const main =
      'unqualified-search-registries = ["docker.io"]\n[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\nblocked = false\n[[registry.mirror]]\nlocation = "old.example"\n';
    const doc = parseToml(renderRegistriesConf('', { mirrors: [hub, ngc], main })) as any;
    expect(doc.registry).toEqual([
      { prefix: 'docker.io', location: 'docker.io', blocked: false, mirror: [{ location: 'harbor.corp/dockerhub-proxy' }, { location: 'old.example' }] },
      { prefix: 'nvcr.io', location: 'nvcr.io', mirror: [{ location: '127.0.0.1:5000', insecure: true }] },
    ]);
  });

  it("keeps a drop-in's other content; refuses the v1 format, which cannot mix with v2", () => {
    const theirs = '# mine\n[aliases]\n  "x" = "quay.io/x/x"\n';
    const out = renderRegistriesConf(theirs, { mirrors: [hub] });
    expect(out.startsWith(theirs)).toBe(true);
    expect((parseToml(out) as any).aliases).toEqual({ x: 'quay.io/x/x' });
    expect(() =>
      renderRegistriesConf('', { mirrors: [hub], main: '[registries.search]\nregistries = ["docker.io"]\n', mainFile: '/etc/containers/registries.conf' }),
    ).toThrow(/\/etc\/containers\/registries\.conf is in the old v1 format/);
  });
});

describe('podman drop-in, again', () => {
  it('a mirror listed in both the main file and a drop-in is carried once; a drop-in we wrote (its journal lost) carries nothing of ours', () => {
    const main = '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "old.corp"\n';
    const dropIn = '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "old.corp"\n';
    expect((parseToml(renderRegistriesConf(dropIn, { mirrors: [hub], main })) as any).registry[0].mirror).toEqual([
      { location: 'harbor.corp/dockerhub-proxy' },
      { location: 'old.corp' },
    ]);
    const previous = renderRegistriesConf('', { mirrors: [root] });
    expect((parseToml(renderRegistriesConf(previous, { mirrors: [hub] })) as any).registry).toEqual([
      { prefix: 'docker.io', location: 'docker.io', mirror: [{ location: 'harbor.corp/dockerhub-proxy' }] },
    ]);
  });

  it('rootless, the drop-in goes where containers/image looks: ~/.config/containers, whatever XDG_CONFIG_HOME says', () => {
    expect(configPath('podman', { os: 'linux', home: '/home/u', env: { XDG_CONFIG_HOME: '/x' }, root: false })).toBe(
      '/home/u/.config/containers/registries.conf.d/50-tuna-setup.conf',
    );
    expect(configPath('podman', { os: 'linux', home: '/root', env: {}, root: true })).toBe('/etc/containers/registries.conf.d/50-tuna-setup.conf');
    expect(configPath('buildkit', { os: 'linux', home: '/home/u', env: { XDG_CONFIG_HOME: '/x' }, root: false })).toBe('/x/buildkit/buildkitd.toml');
  });
});

describe('edits that would not parse', () => {
  it("blame our edit, not the user's file", () => {
    // valid TOML whose [registry] table is written inline: our table header would redefine it
    const theirs = '[registry]\n"docker.io" = { mirrors = ["a.example"] }\n';
    expect(() => renderBuildkitdToml(theirs, { mirrors: [hub] }, '/etc/buildkit/buildkitd.toml')).toThrow(
      /\/etc\/buildkit\/buildkitd\.toml: cannot edit safely: the edited file would not parse/,
    );
  });
});

describe('buildkitd.toml', () => {
  it("puts ours before the user's mirrors (a multi-line array replaced), keeps every other key and comment, marks an http mirror", () => {
    const theirs =
      'debug = true\n# hub\n[registry."docker.io"]\n  mirrors = [\n    "old.example",  # the old one\n  ]\n  insecure = false\n\n[worker.oci]\n  enabled = true\n';
    const out = renderBuildkitdToml(theirs, { mirrors: [hub, ngc] });
    const doc = parseToml(out) as any;
    expect(doc.registry['docker.io']).toEqual({ mirrors: ['harbor.corp/dockerhub-proxy', 'old.example'], insecure: false });
    expect(doc.registry['nvcr.io']).toEqual({ mirrors: ['127.0.0.1:5000'] });
    expect(doc.registry['127.0.0.1:5000']).toEqual({ http: true });
    expect(doc.worker).toEqual({ oci: { enabled: true } });
    expect(out).toContain('# hub\n[registry."docker.io"]\n  mirrors = ["harbor.corp/dockerhub-proxy", "old.example"]\n  insecure = false\n');
    expect(renderBuildkitdToml(out, { mirrors: [hub, ngc] })).toBe(out);
  });
});

describe('planApply for the engines', () => {
  const setup = () => {
    const dir = tempDir();
    const paths = {
      docker: path.join(dir, 'daemon.json'),
      containerd: path.join(dir, 'certs.d'),
      podman: path.join(dir, 'containers/registries.conf.d/50-tuna-setup.conf'),
      buildkit: path.join(dir, 'buildkitd.toml'),
    };
    return { dir, paths, stateDir: path.join(dir, 'state'), mirror: findMirror('tuna') };
  };

  it('refuses a path-prefix mirror for Docker (registry-mirrors takes a root) and names the engines that take one', async () => {
    const s = setup();
    await expect(planApply({ ...s, targets: ['docker'], registryMirrors: ['https://harbor.corp/dockerhub-proxy'] })).rejects.toThrow(
      /which dockerd's registry-mirrors cannot express/,
    );
  });

  it('refuses an engine target with no registry mirror, with the hint', async () => {
    const s = setup();
    await expect(planApply({ ...s, targets: ['containerd'] })).rejects.toMatchObject({
      code: 'UNSUPPORTED_SERVICE',
      hintTemplate: expect.stringMatching(/\{registryMirror\}/),
    });
  });

  it("containerd's config.toml is only read: one that does not parse is a note; podman: a user's own registries.conf that hides /etc's drop-ins is a note", async () => {
    const s = setup();
    writeFileSync(path.join(s.dir, 'config.toml'), 'version = 2\n[plugins\n');
    const plan = await planApply({ ...s, targets: ['containerd'], registryMirrors: [hub] });
    expect(plan.changes).toHaveLength(1);
    expect(plan.notes.join('\n')).toMatch(/config\.toml:2: .* — config_path could not be read from it/);

    const home = tempDir();
    mkdirSync(path.join(home, '.config/containers'), { recursive: true });
    writeFileSync(path.join(home, '.config/containers/registries.conf'), 'unqualified-search-registries = ["docker.io"]\n');
    const { podman: _p, ...paths } = s.paths;
    const rootful = await planApply({ ...s, paths, targets: ['podman'], registryMirrors: [hub], platform: { os: 'linux', env: {}, home, root: true } });
    expect(rootful.changes[0]!.path).toBe('/etc/containers/registries.conf.d/50-tuna-setup.conf');
    expect(rootful.notes.join('\n')).toMatch(/registries\.conf exists, so this user's podman reads it and not \/etc\/containers\/registries\.conf\.d/);
  });

  it("one hosts.toml per registry, in config.toml's config_path; notes when config_path is unset", async () => {
    const s = setup();
    const plan = await planApply({ ...s, targets: ['containerd', 'podman', 'buildkit'], registryMirrors: [hub, ngc] });
    expect(plan.changes.map((c) => [c.target, path.relative(s.dir, c.path), c.action])).toEqual([
      ['containerd', 'certs.d/docker.io/hosts.toml', 'create'],
      ['containerd', 'certs.d/nvcr.io/hosts.toml', 'create'],
      ['podman', 'containers/registries.conf.d/50-tuna-setup.conf', 'create'],
      ['buildkit', 'buildkitd.toml', 'create'],
    ]);
    expect(plan.notes.join('\n')).toMatch(/config_path = ".*certs\.d"\nand restart containerd/);

    // config.toml (beside the hosts directory) already points there: no note; a legacy mirrors section: a note
    writeFileSync(path.join(s.dir, 'config.toml'), `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${s.paths.containerd}"\n`);
    expect((await planApply({ ...s, targets: ['containerd'], registryMirrors: [hub] })).notes).toEqual([]);
    writeFileSync(
      path.join(s.dir, 'config.toml'),
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["https://m"]\n',
    );
    expect((await planApply({ ...s, targets: ['containerd'], registryMirrors: [hub] })).notes.join('\n')).toMatch(/deprecated registry\.mirrors section/);
  });
});
