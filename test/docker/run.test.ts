// The job's own values, from text to docker's argv, with nothing running:
// image references (tags and digests), the pull policy, published ports,
// volumes, the env file (what docker's format cannot carry is refused), the
// `docker run` argv (no variable's value in it), the env file gone when docker
// cannot even start, and the Action's `pull` input validated with the others.
// The same paths against a real dockerd are in test/cli/run.test.ts.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  dockerRunArgs,
  parsePublish,
  parsePullPolicy,
  parseRunImage,
  parseVolume,
  publishArg,
  renderEnvFile,
  resolveWorkdir,
  runJob,
  type JobSpec,
} from '@tuna-setup/sdk/docker';
import { InputErrors, loadInputs } from '../../src/inputs.js';
import { tempDir } from '../helpers/tmp.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  it.each([
    ['busybox', { name: 'busybox', tag: 'latest', digest: null }],
    ['busybox:1.36', { name: 'busybox', tag: '1.36', digest: null }],
    ['docker.io/library/busybox:1', { name: 'busybox', tag: '1', digest: null }],
    ['pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime', { name: 'pytorch/pytorch', tag: '2.7.1-cuda12.8-cudnn9-runtime', digest: null }],
    ['127.0.0.1:5000/library/busybox', { name: '127.0.0.1:5000/library/busybox', tag: 'latest', digest: null }],
    ['nvcr.io/nvidia/pytorch:25.01-py3', { name: 'nvcr.io/nvidia/pytorch', tag: '25.01-py3', digest: null }],
    [`busybox@${D}`, { name: 'busybox', tag: null, digest: D }],
    [`ghcr.io/org/img:v1@${D}`, { name: 'ghcr.io/org/img', tag: 'v1', digest: D }],
  ])('%s is read as docker lists it', (ref, want) => {
    expect(parseRunImage(ref)).toEqual({ ref, ...want });
  });

  it.each([
    ['--help', /starts with '-'/],
    ['-v', /starts with '-'/],
    ['-', /starts with '-'/],
    ['', /not a valid/],
    ['Busybox', /not a valid/],
    ['busybox:', /not a valid/],
    ['a b', /not a valid/],
    ['busybox@', /not a digest/],
    ['busybox@sha256:abc', /not a digest/],
    [`busybox@sha256:${'AB'.repeat(32)}`, /not a digest/],
    [`busybox@md5:${'0'.repeat(32)}`, /not a digest/],
    [`busybox@${D}@${D}`, /not a digest/],
    ['bad..host/x:1', /not a valid/],
    ['busybox:tag;rm', /not a valid/],
  ])('%j is refused', (ref, why) => {
    expect(() => parseRunImage(ref)).toThrow(why);
    try {
      parseRunImage(ref);
    } catch (e) {
      expect((e as { code: string }).code).toBe('BAD_IMAGE');
    }
  });
});

describe('pull policy', () => {
  it.each(['missing', 'always', 'never', ' Never '])('%j is a policy', (p) => expect(parsePullPolicy(p)).toBe(p.trim().toLowerCase()));
  it.each(['', 'sometimes', 'if-not-present'])('%j is refused, naming the three', (p) => {
    expect(() => parsePullPolicy(p)).toThrow(/is not missing, always or never/);
  });
});

describe('--publish', () => {
  it.each([
    ['8888:8888', { hostPort: 8888, containerPort: 8888, protocol: 'tcp' }, '8888:8888/tcp'],
    ['127.0.0.1:8888:8888', { hostIp: '127.0.0.1', hostPort: 8888, containerPort: 8888, protocol: 'tcp' }, '127.0.0.1:8888:8888/tcp'],
    ['9999:53/udp', { hostPort: 9999, containerPort: 53, protocol: 'udp' }, '9999:53/udp'],
    ['[::1]:8080:80', { hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }, '[::1]:8080:80/tcp'],
    ['1:65535', { hostPort: 1, containerPort: 65535, protocol: 'tcp' }, '1:65535/tcp'],
  ])('%s', (spec, want, arg) => {
    expect(parsePublish(spec)).toEqual(want);
    expect(publishArg(parsePublish(spec))).toBe(arg);
  });

  it.each(['8888', '0:80', '80:0', '65536:80', 'x:80', '80:80/sctp', 'localhost:80:80', '1.2.3:80:80', '80:80,81:81', '-p:80', '::1:80:80', ''])(
    '%j is refused',
    (spec) => {
      expect(() => parsePublish(spec)).toThrow(/publish/);
    },
  );

  it('a mapping built by hand is checked too', () => {
    expect(() => publishArg({ hostPort: 70000, containerPort: 80, protocol: 'tcp' })).toThrow(/host port/);
    expect(() => publishArg({ hostIp: '0.0.0.0 -v /:/host', hostPort: 80, containerPort: 80, protocol: 'tcp' })).toThrow(/not an IP address/);
  });
});

describe('--volume and --workdir', () => {
  const dir = tempDir('tuna-volume-');
  mkdirSync(path.join(dir, 'data'));

  it('SRC is made absolute against the working directory; ro and rw are kept', () => {
    expect(parseVolume('data:/data', dir)).toEqual({ source: path.join(dir, 'data'), target: '/data', readOnly: false });
    expect(parseVolume(`${dir}/data:/mnt/in:ro`, '/')).toEqual({ source: path.join(dir, 'data'), target: '/mnt/in', readOnly: true });
    expect(parseVolume('./data/../data:/d:rw', dir).source).toBe(path.join(dir, 'data'));
  });

  it.each([
    ['nope:/x', /does not exist/],
    ['data:x', /not absolute/],
    ['data:/', /cannot be \//],
    ['data:/x:rw,z', /ro or rw/],
    ['data:/x,readonly=false', /comma/],
    ['data,x:/y', /comma/],
    ['data:/x:/y:ro', /is not SRC:DST\[:ro\]/],
    ['data', /is not SRC:DST/],
    [':/x', /is not SRC:DST/],
    ['data:/x:', /is not SRC:DST/],
    ['data:/x\n', /line break/],
  ])('%j is refused', (spec, why) => {
    expect(() => parseVolume(spec, dir)).toThrow(why);
  });

  it('--workdir: an existing directory, made absolute; nothing else', () => {
    expect(resolveWorkdir('data', dir)).toBe(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'file'), '');
    expect(() => resolveWorkdir('file', dir)).toThrow(/is not a directory/);
    expect(() => resolveWorkdir('no/such', dir)).toThrow(new RegExp(`${path.join(dir, 'no/such')} does not exist`));
  });
});

describe('the env file', () => {
  it('one NAME=VALUE a line, values taken literally', () => {
    expect(renderEnvFile({ A: 'x y', B: '"quoted" $HOME # not a comment  ', EMPTY: '', U: 'ünïcødé ✓' })).toBe(
      'A=x y\nB="quoted" $HOME # not a comment  \nEMPTY=\nU=ünïcødé ✓\n',
    );
    expect(renderEnvFile({})).toBe('');
  });

  it.each([
    ['a newline', 'line one\nline two', /line break/],
    ['a carriage return (docker drops one at the end of a line)', 'value\r', /line break/],
    ['a NUL', 'a\0b', /NUL/],
    ['a lone surrogate (not UTF-8)', 'a\uD800b', /not valid Unicode/],
    ['a line over 64 KiB', 'x'.repeat(65_535 - 'V='.length + 1), /over 64 KiB/],
  ])('refuses %s, saying to mount a file instead', (_what, value, why) => {
    expect(() => renderEnvFile({ V: value })).toThrow(why);
    try {
      renderEnvFile({ V: value });
    } catch (e) {
      expect((e as { hint: string }).hint).toMatch(/volume.*\/run\/secrets\/V:ro/);
    }
  });

  it('a line of exactly 64 KiB - 1 bytes (what docker reads) passes, counted in UTF-8 bytes', () => {
    expect(renderEnvFile({ V: 'x'.repeat(65_535 - 2) })).toHaveLength(65_536);
    expect(() => renderEnvFile({ V: 'é'.repeat(32_767) })).toThrow(/over 64 KiB/); // 2 + 65534 bytes
  });

  it('refuses a name docker would misread', () => {
    for (const name of ['1A', 'A-B', 'A B', '', 'A=B']) expect(() => renderEnvFile({ [name]: 'v' })).toThrow(/name .* is not valid/);
  });
});

describe('the docker run argv', () => {
  const job: JobSpec = {
    image: 'busybox',
    command: ['sh', '-c', 'echo "$SECRET"'],
    gpus: 2,
    name: 'tuna-setup-run-1',
    workspace: '/srv/work,space',
    mounts: { '/cache': '/tuna-setup-wheels' },
    volumes: [{ source: '/data', target: '/data', readOnly: true }],
    publish: [{ hostIp: '127.0.0.1', hostPort: 8888, containerPort: 8888, protocol: 'tcp' }],
    interactive: true,
    env: { SECRET: 's3cr3t', PATH: '/x' },
  };

  it('binds with --mount (never creating a source), variables only through the env file, the command last', () => {
    expect(dockerRunArgs(job, { envFile: '/tmp/e/env', tty: false })).toEqual([
      'run',
      '--rm',
      '--name',
      'tuna-setup-run-1',
      '-i',
      '--gpus',
      '2',
      '--mount',
      'type=bind,"source=/srv/work,space",target=/workspace',
      '-w',
      '/workspace',
      '--mount',
      'type=bind,source=/cache,target=/tuna-setup-wheels',
      '--mount',
      'type=bind,source=/data,target=/data,readonly',
      '-p',
      '127.0.0.1:8888:8888/tcp',
      '--env-file',
      '/tmp/e/env',
      'busybox',
      'sh',
      '-c',
      'echo "$SECRET"',
    ]);
    expect(dockerRunArgs(job, { envFile: '/tmp/e/env', tty: true }).slice(4, 6)).toEqual(['-i', '-t']);
    expect(dockerRunArgs({ ...job, interactive: false }, { envFile: '/e', tty: true })).not.toContain('-i');
  });

  it('variables without an env file are an error, not silently dropped', () => {
    expect(() => dockerRunArgs(job)).toThrow(/need an env file/);
    expect(dockerRunArgs({ ...job, env: {} })).not.toContain('--env-file');
  });

  it('the env file is removed when docker cannot even start', async () => {
    const tmp = tempDir('tuna-envfile-');
    await expect(
      runJob({ ...job, interactive: false, workspace: tmp, mounts: {}, volumes: [] }, { env: { PATH: '/nonexistent' }, tempDir: tmp }),
    ).rejects.toThrow(/cannot start docker/);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("the Action's pull input", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const inputs = (over: Record<string, string>) => {
    for (const [k, v] of Object.entries({ image: `busybox@${D}`, run: 'true', gpus: 'none', ...over })) vi.stubEnv(`INPUT_${k.toUpperCase()}`, v);
    return loadInputs({ RUNNER_TEMP: '/tmp', GITHUB_WORKSPACE: '/tmp' });
  };

  it('defaults to missing; always and never are taken; a digest-pinned image is accepted', () => {
    expect(inputs({}).pull).toBe('missing');
    expect(inputs({ pull: 'never' }).pull).toBe('never');
    expect(inputs({ pull: 'always' }).image).toBe(`busybox@${D}`);
  });

  it('anything else is one problem naming the input, reported with the others', () => {
    try {
      inputs({ pull: 'sometimes', image: '--help' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputErrors);
      expect((e as InputErrors).problems.map((p) => p.input).sort()).toEqual(['image', 'pull']);
      expect((e as InputErrors).problems.find((p) => p.input === 'pull')!.message).toMatch(/^pull 'sometimes' is not missing, always or never/);
    }
  });
});
