// The pure parts of the registry client, the container job and the image
// tables, tested on their own (before, only through dockerd and a registry).
import { describe, expect, it } from 'vitest';
import { bashScript, parseGpus, preflight, type DockerReport } from '@tuna-setup/sdk/docker';
import { nearestTag, parseChallenge, parseImageRef, RegistryClient } from '@tuna-setup/sdk/registry';
import { cudaImage } from '@tuna-setup/sdk/torch';

describe('parseChallenge: WWW-Authenticate as registries write it', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:pytorch/pytorch:pull"',
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:pytorch/pytorch:pull' } },
    ],
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"',
      { scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:user/image:pull' } },
    ],
    ['Basic realm="Registry Realm"', { scheme: 'basic', params: { realm: 'Registry Realm' } }],
    ['bearer  Realm = "https://x/token" , Service=unquoted', { scheme: 'bearer', params: { realm: 'https://x/token', service: 'unquoted' } }],
    ['Bearer realm="a\\"b"', { scheme: 'bearer', params: { realm: 'a"b' } }],
  ])('%s', (header, expected) => {
    expect(parseChallenge(header)).toEqual(expected);
  });
  it('nothing to parse is undefined', () => {
    expect(parseChallenge(undefined)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
  });
});

describe('nearestTag: the closest existing tag of the same shape', () => {
  const tags = ['2.7.0-cuda12.8-cudnn9-runtime', '2.7.1-cuda12.6-cudnn9-runtime', '2.7.1-cuda12.8-cudnn9-runtime', '2.7.1-cuda12.8-cudnn9-devel', 'latest'];
  it.each([
    ['2.7.1-cuda12.9-cudnn9-runtime', '2.7.1-cuda12.8-cudnn9-runtime'], // the nearest below
    ['2.7.0-cuda12.6-cudnn9-runtime', '2.7.0-cuda12.8-cudnn9-runtime'], // none below: the nearest above
    ['2.6.0-cuda12.4-cudnn9-runtime', '2.7.0-cuda12.8-cudnn9-runtime'],
    ['2.7.1-cuda12.8-cudnn9-runtime-extra', undefined], // no tag of that shape
  ])('%s → %s', (wanted, near) => {
    expect(nearestTag(wanted, tags)).toBe(near);
  });
});

describe('parseGpus, bashScript, preflight', () => {
  it('gpus: all, none, or a count from 1 to 64; anything else is BAD_GPUS naming the setting', () => {
    expect(parseGpus('all')).toBe('all');
    expect(parseGpus(' NONE ')).toBe('none');
    expect(parseGpus('2')).toBe(2);
    for (const bad of ['0', '65', '1.5', 'some', '-1']) expect(() => parseGpus(bad), bad).toThrow(/gpus '.*' is not all, none or a count/);
  });
  it("a script is one argv element for bash -eo pipefail -c: nothing in it is our shell's", () => {
    const script = `echo "$(id)"; rm -rf '/tmp/x'`;
    const argv = bashScript(script);
    expect(argv.at(-1)).toBe(script);
    expect(argv.slice(0, -1)).toEqual(['bash', '-eo', 'pipefail', '-c']);
  });
  it('preflight lists every reason at once: no Docker; GPUs without the toolkit; an image CUDA the driver cannot run', () => {
    const docker = (over: Partial<DockerReport> = {}): DockerReport => ({
      available: true,
      serverVersion: '26',
      runtimes: ['runc'],
      nvidiaRuntime: false,
      nvidiaHook: null,
      cdiSpecDirs: [],
      registryMirrors: [],
      ...over,
    });
    expect(preflight({ docker: docker({ available: false, error: 'cannot connect' }), gpus: 'none' })).toEqual(['Docker is not usable: cannot connect']);
    expect(preflight({ docker: docker(), gpus: 'all' })[0]).toMatch(/needs the NVIDIA Container Toolkit/);
    expect(preflight({ docker: docker({ nvidiaHook: '/usr/bin/nvidia-container-runtime-hook' }), gpus: 'all' })).toEqual([]);
    expect(preflight({ docker: docker({ cdiSpecDirs: ['/etc/cdi'] }), gpus: 2, driverCuda: '12.2', imageCuda: '12.8', requiresNativeCuda: true })[0]).toMatch(
      /needs CUDA 12\.8 but the driver runs CUDA ≤ 12\.2/,
    );
    expect(preflight({ docker: docker({ cdiSpecDirs: ['/etc/cdi'] }), gpus: 2, driverCuda: '12.2', imageCuda: '12.8', requiresNativeCuda: false })).toEqual([]); // pytorch/pytorch images carry no NVIDIA_REQUIRE_CUDA
  });
});

describe('cudaImage and parseImageRef', () => {
  it.each([
    ['11.8', 'runtime', /^nvidia\/cuda:11\.8\.\d+-cudnn8-runtime-ubuntu22\.04$/],
    ['12.4', 'devel', /^nvidia\/cuda:12\.4\.\d+-cudnn-devel-ubuntu22\.04$/],
    ['12.8', 'runtime', /^nvidia\/cuda:12\.8\.\d+-cudnn-runtime-ubuntu24\.04$/],
  ] as const)('CUDA %s %s → %s', (cuda, flavor, tag) => {
    expect(cudaImage(cuda, flavor)).toMatch(tag);
  });
  it('a CUDA the tables do not know has no tag', () => {
    expect(cudaImage('9.9', 'runtime')).toBeUndefined();
  });
  it('references: Docker Hub library names, registries with ports, tags, pins', () => {
    expect(parseImageRef('busybox')).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(parseImageRef('localhost:5000/a/b:1.0')).toEqual({ registry: 'localhost:5000', repository: 'a/b', tag: '1.0' });
    expect(parseImageRef(`nvcr.io/nvidia/pytorch:25.12-py3@sha256:${'a'.repeat(64)}`)).toEqual({
      registry: 'nvcr.io',
      repository: 'nvidia/pytorch',
      tag: '25.12-py3',
      digest: `sha256:${'a'.repeat(64)}`,
    });
    for (const bad of ['UPPER/case', 'a b', 'x@sha256:short', '']) expect(() => parseImageRef(bad), bad).toThrow(/not (a valid|an) image reference/);
  });
});

describe('RegistryClient.baseUrl', () => {
  it('https, except loopback, allowHttp, or a host the user named over http (httpHosts)', () => {
    const c = new RegistryClient({ httpHosts: ['hub.example:5000'] });
    expect(c.baseUrl('docker.io')).toBe('https://registry-1.docker.io');
    expect(c.baseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(c.baseUrl('hub.example:5000')).toBe('http://hub.example:5000');
    expect(c.baseUrl('hub.example')).toBe('https://hub.example');
  });
});
