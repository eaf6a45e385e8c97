/**
 * Real dockerd reads what tuna-setup wrote: it starts with the written
 * daemon.json, re-reads registry-mirrors on our reload, and pulls busybox
 * through the loopback registry named there — with no internet, so the pull
 * can only have come through the mirror. A broken daemon.json is rejected
 * by dockerd itself, as by tuna-setup. And an air-gapped runner: the Action
 * runs the image the machine already has (`pull: missing`), and says which
 * image is missing with `pull: never`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { newRunner } from '../helpers/action.js';
import { runCliAsync } from '../helpers/cli.js';
import { startDockerLab, startLabDockerd, type DockerLab, type Dockerd } from '../helpers/docker.js';
import { itWith, missing } from '../helpers/env.js';
import { tempDir } from '../helpers/tmp.js';

const needs = { root: true, bins: ['dockerd', 'docker-registry', 'skopeo', 'umoci', 'busybox', 'nsenter', 'ip'] };
const itDocker = itWith(needs);

const LIVED_IN = '{\n  "log-level": "warn",\n  "registry-mirrors": ["https://mine.example.com"]\n}\n';

describe('dockerd reads the daemon.json tuna-setup writes', () => {
  let lab: DockerLab;
  const dir = tempDir('tuna-docker-');
  beforeAll(async () => {
    if (!missing(needs)) lab = await startDockerLab(dir);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  itDocker(
    'reloads a running dockerd and pulls busybox through the mirror; restore gives the original bytes',
    async () => {
      const config = path.join(dir, 'daemon.json');
      writeFileSync(config, LIVED_IN);
      const dockerd = await lab.startDockerd(config);
      expect(dockerd.ok, dockerd.output()).toBe(true);

      const state = path.join(dir, 'state');
      const applied = await runCliAsync([
        'apply',
        '--targets',
        'docker',
        '--mirror',
        'official',
        '--docker-mirror',
        lab.registry,
        '--allow-http',
        '--docker-config',
        config,
        '--reload-docker',
        '--docker-pidfile',
        dockerd.pidFile,
        '--state-dir',
        state,
        '--json',
      ]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.json().reload.method).toBe('sighup');
      const written = JSON.parse(readFileSync(config, 'utf8'));
      expect(written).toEqual({ 'log-level': 'warn', 'registry-mirrors': ['http://127.0.0.1:5000', 'https://mine.example.com'] });

      const mirrors = async () => (await dockerd.docker('info', '--format', '{{json .RegistryConfig.Mirrors}}').catch(() => ({ stdout: '' }))).stdout;
      for (let i = 0; i < 50 && !(await mirrors()).includes('127.0.0.1:5000'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await mirrors()).toContain('http://127.0.0.1:5000/');

      // doctor sees the engine and the mirror it now uses
      const doctor = await runCliAsync(['doctor', '--json'], { DOCKER_HOST: dockerd.host });
      expect(doctor.code, doctor.stderr).toBe(0);
      expect(doctor.json().docker).toMatchObject({
        available: true,
        nvidiaRuntime: false,
        registryMirrors: ['http://127.0.0.1:5000/', 'https://mine.example.com/'],
      });
      expect(doctor.json().docker.runtimes).toContain('runc');

      await dockerd.docker('pull', 'busybox');
      // dockerd (not skopeo) asked the mirror for the manifest
      expect(lab.registryLog()).toMatch(/"(HEAD|GET) \/v2\/library\/busybox\/manifests\/latest HTTP\/1.1" 200 .*"docker\//);
      const hello = await dockerd.docker('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo pulled through the mirror');
      expect(hello.stdout.trim()).toBe('pulled through the mirror');
      await dockerd.stop();

      // a fresh dockerd accepts the written file at start-up too
      const second = await lab.startDockerd(config);
      expect(second.ok, second.output()).toBe(true);
      await second.stop();

      const restored = await runCliAsync(['restore', '--state-dir', state]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(readFileSync(config, 'utf8')).toBe(LIVED_IN);
    },
    120_000,
  );

  itDocker(
    'a broken daemon.json is refused by dockerd and by tuna-setup alike, and left untouched',
    async () => {
      const config = path.join(dir, 'broken.json');
      const broken = '{\n  "log-level": "warn",\n}\n';
      writeFileSync(config, broken);
      const dockerd = await lab.startDockerd(config);
      expect(dockerd.ok).toBe(false);
      expect(dockerd.output()).toMatch(/unable to configure the Docker daemon with file|invalid character/);

      const r = await runCliAsync([
        'apply',
        '--targets',
        'docker',
        '--mirror',
        'official',
        '--docker-mirror',
        'https://docker.m.example.com',
        '--docker-config',
        config,
        '--state-dir',
        path.join(dir, 'state2'),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${config}:3:`);
      expect(readFileSync(config, 'utf8')).toBe(broken);
    },
    60_000,
  );
});

describe('an air-gapped runner: the Action uses the image already there', () => {
  let lab: DockerLab;
  let dockerd: Dockerd;
  const dir = tempDir('tuna-docker-air-');
  // tagged on the machine under a registry nobody answers at
  const image = '127.0.0.1:5999/air/busybox:1';
  beforeAll(async () => {
    if (missing(needs)) return;
    ({ lab, dockerd } = await startLabDockerd(dir));
    await dockerd.docker('pull', '127.0.0.1:5000/library/busybox:latest');
    await dockerd.docker('tag', '127.0.0.1:5000/library/busybox:latest', image);
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });
  const inputs = (over: Record<string, string>) => ({
    mirror: 'official',
    configure: 'pip',
    cache: 'false',
    image,
    gpus: 'none',
    run: 'echo "ran in $(hostname)"',
    ...over,
  });

  itDocker(
    'pull: missing (the default) runs the local image without asking a registry',
    async () => {
      const main = await newRunner().main(inputs({}), { DOCKER_HOST: dockerd.host });
      expect(main.code, main.log).toBe(0);
      expect(main.log).toMatch(/127\.0\.0\.1:5999\/air\/busybox:1 is on this machine .*not pulling \(pull: missing\)/);
      expect(main.log).toContain('ran in ');
    },
    60_000,
  );

  itDocker(
    'pull: never with an image the machine lacks fails at once, naming it; always pulls (and here cannot)',
    async () => {
      const never = await newRunner().main(inputs({ pull: 'never', image: '127.0.0.1:5000/library/busybox:absent' }), { DOCKER_HOST: dockerd.host });
      expect(never.code).toBe(1);
      expect(never.log).toMatch(/::error::127\.0\.0\.1:5000\/library\/busybox:absent is not on this machine, and pull: never does not pull it/);
      expect(lab.registryLog()).not.toContain('busybox/manifests/absent');
      const always = await newRunner().main(inputs({ pull: 'always', image: '127.0.0.1:5000/library/busybox:absent' }), { DOCKER_HOST: dockerd.host });
      expect(always.code).toBe(1);
      expect(always.log).toMatch(/cannot pull 127\.0\.0\.1:5000\/library\/busybox:absent/);
      const bad = await newRunner().main(inputs({ pull: 'sometimes' }), { DOCKER_HOST: dockerd.host });
      expect(bad.code).toBe(1);
      expect(bad.log).toMatch(/title=tuna-setup input 'pull'/);
    },
    60_000,
  );
});
