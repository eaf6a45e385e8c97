// `tuna-setup run` against a real dockerd started by the test (its own network
// namespace, busybox in a loopback registry, gpus none): the pull policy on a
// machine with no registry to reach, image references checked before anything
// runs, --env values only ever inside the container, --workdir/--volume/
// --publish/--interactive, the exit code after a signal, and --json.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CLI, runCliAsync, type CliResult } from '../helpers/cli.js';
import { dockerProcesses, startLabDockerd, type DockerLab, type Dockerd } from '../helpers/docker.js';
import { itWith, missing } from '../helpers/env.js';
import { tempDir } from '../helpers/tmp.js';

const needs = { root: true, bins: ['dockerd', 'docker-registry', 'skopeo', 'umoci', 'busybox', 'nsenter', 'ip'] };
const it = itWith(needs);

/** The CLI in a child process we can signal, feed and watch. */
function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  o: { stdin?: string; cwd?: string } = {},
): { child: ChildProcess; done: Promise<CliResult & { signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (o.stdin !== undefined) child.stdin!.end(o.stdin);
  else child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout, stderr, json: () => JSON.parse(stdout) });
    }),
  );
  return { child, done };
}

const until = async (check: () => boolean | Promise<boolean>, ms = 20_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await check()) return true;
  return false;
};

describe('tuna-setup run: a real dockerd, no network', () => {
  let lab: DockerLab;
  let dockerd: Dockerd;
  const dir = tempDir('tuna-cli-run-');
  const pulled = '127.0.0.1:5000/library/busybox:latest';
  // tagged locally under a registry nobody answers at: the air-gapped runner's image
  const airGapped = '127.0.0.1:5999/air/busybox:1';
  // tagged locally under the loopback registry, which does not have it
  const onlyHere = '127.0.0.1:5000/library/busybox:only-here';
  let digest = '';
  beforeAll(async () => {
    if (missing(needs)) return;
    ({ lab, dockerd } = await startLabDockerd(dir));
    await dockerd.docker('pull', pulled);
    await dockerd.docker('tag', pulled, airGapped);
    await dockerd.docker('tag', pulled, onlyHere);
    digest = JSON.parse((await dockerd.docker('image', 'inspect', '--format', '{{json .RepoDigests}}', pulled)).stdout)[0].split('@')[1];
    // a second tag in the registry, not yet on the machine
    await lab.nsExec([
      'skopeo',
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      'docker://127.0.0.1:5000/library/busybox:latest',
      'docker://127.0.0.1:5000/library/busybox:fresh',
    ]);
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  const env = () => ({ DOCKER_HOST: dockerd.host });
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCliAsync(['run', '--gpus', 'none', ...args], { ...env(), ...extra });
  const asked = (what: string) => new RegExp(`"(HEAD|GET) /v2/library/busybox/manifests/${what} HTTP/1.1" \\d+ .*"docker/`).test(lab.registryLog());
  const containers = async () => (await dockerd.docker('ps', '-aq')).stdout.trim();

  describe('--pull', () => {
    it('missing (the default): an image already on the machine runs with no registry to reach', async () => {
      const r = await run(['--image', airGapped, '--', 'echo', 'ran offline']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('ran offline');
      expect(r.stderr).toMatch(/127\.0\.0\.1:5999\/air\/busybox:1 is on this machine .*not pulling/);
      // a tag made on this machine has no registry digest to report
      expect((await run(['--image', airGapped, '--json', '--', 'true'])).json()).toEqual({
        image: airGapped,
        exitCode: 0,
        seconds: expect.any(Number),
        pulled: false,
      });
    }, 60_000);

    it('missing: an image not on the machine is pulled, once', async () => {
      const image = '127.0.0.1:5000/library/busybox:fresh';
      const first = await run(['--image', image, '--json', '--', 'true']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json()).toMatchObject({ image, pulled: true, digest, exitCode: 0 });
      expect(asked('fresh')).toBe(true);
      const second = await run(['--image', image, '--json', '--', 'true']);
      expect(second.json()).toMatchObject({ image, pulled: false, digest });
    });

    it('always: pulls even when the image is on the machine', async () => {
      const r = await run(['--pull', 'always', '--image', onlyHere, '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot pull 127\.0\.0\.1:5000\/library\/busybox:only-here: .*manifest unknown/);
      expect(asked('only-here')).toBe(true);
      const ok = await run(['--pull', 'always', '--image', pulled, '--json', '--', 'true']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.json()).toMatchObject({ pulled: true, digest });
    });

    it('never: an image not on the machine fails at once, naming it; the registry is not asked', async () => {
      const t0 = Date.now();
      const r = await run(['--pull', 'never', '--image', '127.0.0.1:5000/library/busybox:absent', '--json', '--', 'true']);
      expect(r.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.json().error).toMatchObject({ code: 'IMAGE_NOT_LOCAL' });
      expect(r.json().error.message).toContain('127.0.0.1:5000/library/busybox:absent is not on this machine');
      expect(r.json().error.hint).toMatch(/--pull missing/);
      expect(asked('absent')).toBe(false);
      const local = await run(['--pull', 'never', '--image', airGapped, '--', 'echo', 'local']);
      expect(local.code, local.stderr).toBe(0);
      expect(local.stdout).toContain('local');
    });

    it('a reference pinned by digest uses the local image with that digest; another digest is not there', async () => {
      const before = lab.registryLog().length;
      for (const image of [`127.0.0.1:5000/library/busybox@${digest}`, `127.0.0.1:5000/library/busybox:latest@${digest}`]) {
        const r = await run(['--pull', 'never', '--image', image, '--json', '--', 'true']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.json()).toMatchObject({ image, digest, pulled: false });
      }
      const other = `127.0.0.1:5000/library/busybox@sha256:${'0'.repeat(64)}`;
      const r = await run(['--pull', 'never', '--image', other, '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${other} is not on this machine`);
      expect(lab.registryLog().slice(before)).not.toMatch(/manifests/);
    });

    it('a value other than missing, always or never is a usage error', async () => {
      const r = await run(['--pull', 'sometimes', '--image', airGapped, '--', 'true']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--pull 'sometimes' is not missing, always or never/);
    });
  });

  it('image references are checked before anything runs: --image=--help and friends are usage errors', async () => {
    for (const image of ['--help', '-v', 'Busybox', 'busybox@sha256:abc', `busybox@md5:${'0'.repeat(32)}`, 'busybox:', 'a b', 'busybox@']) {
      const r = await run([`--image=${image}`, '--json', '--', 'true']);
      expect(r.code, `${image}: ${r.stderr}`).toBe(2);
      expect(r.json().error.code, image).toBe('BAD_IMAGE');
    }
    expect(await containers()).toBe('');
  });

  describe('--env', () => {
    it("values reach only the container: PATH and DOCKER_HOST do not steer docker, and no value is in docker's argv or environment", async () => {
      const secret = 's3cr3t value with "quotes", $dollars # and a hash  ';
      const { child, done } = startCli(
        [
          'run',
          '--gpus',
          'none',
          '--image',
          pulled,
          '--env',
          'PATH=/nonexistent',
          '--env',
          'DOCKER_HOST=tcp://127.0.0.1:1',
          '--env',
          `SECRET=${secret}`,
          '--env',
          'EMPTY=',
          '--',
          '/bin/sh',
          '-c',
          'echo "path=$PATH host=$DOCKER_HOST empty=[$EMPTY] secret=[$SECRET]"; sleep 2',
        ],
        env(),
      );
      let envFile = '';
      const seen = await until(() => {
        for (const p of dockerProcesses()) {
          if (!p.argv.includes('--name') || !p.argv.includes(`tuna-setup-run-${child.pid}`)) continue;
          expect(p.argv.join(' ')).not.toContain('s3cr3t');
          expect(p.argv.join(' ')).not.toContain('/nonexistent');
          expect(p.environ.some((e) => e.includes('s3cr3t') || e === 'PATH=/nonexistent' || e.startsWith('DOCKER_HOST=tcp://127.0.0.1:1'))).toBe(false);
          envFile = p.argv[p.argv.indexOf('--env-file') + 1]!;
          return true;
        }
        return false;
      });
      expect(seen).toBe(true);
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(envFile)).mode & 0o777).toBe(0o700);
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`path=/nonexistent host=tcp://127.0.0.1:1 empty=[] secret=[${secret}]`);
      expect(existsSync(path.dirname(envFile))).toBe(false);
    });

    it("a value as long as one line of docker's env file can be (64 KiB) passes; a byte more is refused", async () => {
      const long = 'x'.repeat(65_535 - 'BIG='.length);
      const r = await run(['--image', pulled, '--env', `BIG=${long}`, '--', 'sh', '-c', 'echo "length ${#BIG}"']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`length ${long.length}`);
      const over = await run(['--image', pulled, '--env', `BIG=${long}x`, '--', 'true']);
      expect(over.code).toBe(2);
      expect(over.stderr).toMatch(/--env BIG: the value is over 64 KiB/);
    });

    it('a value with a line break is refused before anything runs, with a way to pass it', async () => {
      const r = await run(['--image', pulled, '--env', 'KEY=-----BEGIN KEY-----\nabc', '--', 'true']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--env KEY: the value has a line break/);
      expect(r.stderr).toMatch(/--volume/);
      expect(await containers()).toBe('');
    });
  });

  it('--workdir must exist: a missing one is a usage error naming it, and nothing is created', async () => {
    const nowhere = path.join(dir, 'no', 'such', 'dir');
    const r = await run(['--image', pulled, '--workdir', nowhere, '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--workdir ${nowhere}`);
    expect(existsSync(path.join(dir, 'no'))).toBe(false);
  });

  describe('a signal to tuna-setup', () => {
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const) {
      it(`${signal}: the container is removed and the exit code is ${code} (128 + the signal's number)`, async () => {
        const { child, done } = startCli(['run', '--gpus', 'none', '--image', pulled, '--', 'sleep', '60'], env());
        expect(await until(async () => (await containers()) !== '')).toBe(true);
        child.kill(signal);
        const r = await done;
        expect(r.code, r.stderr).toBe(code);
        expect(await until(async () => (await containers()) === '')).toBe(true);
      }, 60_000);
    }

    it('the docker CLI killed under us: 128 + its signal, and its orphaned container removed', async () => {
      const { child, done } = startCli(['run', '--gpus', 'none', '--image', pulled, '--', 'sleep', '60'], env());
      let pid = 0;
      expect(
        await until(() => {
          pid = dockerProcesses().find((p) => p.argv.includes(`tuna-setup-run-${child.pid}`))?.pid ?? 0;
          return pid !== 0;
        }),
      ).toBe(true);
      expect(await until(async () => (await containers()) !== '')).toBe(true);
      process.kill(pid, 'SIGKILL');
      const r = await done;
      expect(r.code, r.stderr).toBe(137);
      expect(await until(async () => (await containers()) === '')).toBe(true);
    }, 60_000);
  });

  describe('at a desk', () => {
    it('--interactive: stdin reaches the command (no TTY allocated when stdin is not one)', async () => {
      const { done } = startCli(
        ['run', '--gpus', 'none', '--image', pulled, '--interactive', '--', 'sh', '-c', 'read line; echo "got [$line]"; test -t 0 || echo "no tty"'],
        env(),
        { stdin: 'hello from stdin\n' },
      );
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('got [hello from stdin]');
      expect(r.stdout).toContain('no tty');
    });

    it('--interactive on a terminal: a TTY is allocated', async () => {
      // script(1) gives the CLI a pseudo-terminal for stdin and stdout
      const cmd = [process.execPath, CLI, 'run', '--gpus', 'none', '--image', pulled, '--interactive', '--', 'sh', '-c', 'test -t 0 && echo "a tty"']
        .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
        .join(' ');
      const out = await new Promise<string>((resolve, reject) =>
        execFile('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...env() }, timeout: 30_000 }, (e, stdout) =>
          e ? reject(e) : resolve(stdout),
        ),
      );
      expect(out).toContain('a tty');
    });

    it('--volume SRC:DST[:ro]: SRC made absolute, read-only kept; bad ones are usage errors and create nothing', async () => {
      const work = tempDir('tuna-cli-vol-');
      mkdirSync(path.join(work, 'data'));
      writeFileSync(path.join(work, 'data', 'in.txt'), 'from the host\n');
      mkdirSync(path.join(work, 'out'));
      const r = await startCli(
        [
          'run',
          '--gpus',
          'none',
          '--image',
          pulled,
          '--volume',
          'data:/data:ro',
          '--volume',
          `${path.join(work, 'out')}:/out`,
          '--',
          'sh',
          '-c',
          'cat /data/in.txt; touch /data/x 2>/dev/null && echo "wrote ro" ; echo made > /out/made.txt',
        ],
        env(),
        { cwd: work },
      ).done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('from the host');
      expect(r.stdout).not.toContain('wrote ro');
      expect(readFileSync(path.join(work, 'out', 'made.txt'), 'utf8')).toBe('made\n');

      for (const [spec, why] of [
        [`${path.join(work, 'nope')}:/x`, /does not exist/],
        [`${path.join(work, 'data')}:relative`, /absolute/],
        [`${path.join(work, 'data')}:/x:rw,z`, /ro or rw/],
        [`${path.join(work, 'data')}:/x,readonly=false`, /comma/],
        [`${path.join(work, 'data')}:/x:/y:ro`, /SRC:DST\[:ro\]/],
        ['/x', /SRC:DST\[:ro\]/],
      ] as const) {
        const bad = await run(['--image', pulled, '--volume', spec, '--', 'true']);
        expect(bad.code, spec).toBe(2);
        expect(bad.stderr, spec).toMatch(why);
      }
      expect(readdirSync(work).sort()).toEqual(['data', 'out']);
    });

    it('--publish HOST:CONTAINER: the port binding reaches the container; bad ones are usage errors', async () => {
      const { child, done } = startCli(
        ['run', '--gpus', 'none', '--image', pulled, '--publish', '127.0.0.1:18888:8888', '--publish', '9999:53/udp', '--', 'sleep', '3'],
        env(),
      );
      const name = `tuna-setup-run-${child.pid}`;
      expect(await until(async () => (await containers()) !== '')).toBe(true);
      const bindings = JSON.parse((await dockerd.docker('inspect', '--format', '{{json .HostConfig.PortBindings}}', name)).stdout);
      expect(bindings).toEqual({ '8888/tcp': [{ HostIp: '127.0.0.1', HostPort: '18888' }], '53/udp': [{ HostIp: '', HostPort: '9999' }] });
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      for (const spec of ['8888', '0:80', '70000:80', 'localhost:80:80', '80:80/sctp', '1.2.3:80:80', '80:80,81:81']) {
        const bad = await run(['--image', pulled, '--publish', spec, '--', 'true']);
        expect(bad.code, spec).toBe(2);
        expect(bad.stderr, spec).toMatch(/--publish/);
      }
    });
  });

  it("--json: exactly one object on stdout, the job's output on stderr, the job's exit code", async () => {
    const r = await run(['--image', pulled, '--json', '--', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 7']);
    expect(r.code).toBe(7);
    const out = r.json();
    expect(out).toEqual({ image: pulled, digest, exitCode: 7, seconds: expect.any(Number), pulled: false });
    expect(r.stderr).toContain('to-stdout');
    expect(r.stderr).toContain('to-stderr');
  });
});
