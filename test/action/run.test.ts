// The Action's `run` path against a real dockerd started by the test (its own
// network namespace, a local busybox image in a loopback registry, gpus: none):
// streamed output, the job's exit code, the workspace mount and its ownership,
// and a cancelled job's container removed.
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { runJob } from '@tuna-setup/sdk/docker';
import { newRunner } from '../helpers/action.js';
import { runCliAsync } from '../helpers/cli.js';
import { startDockerLab, startLabDockerd, type DockerLab, type Dockerd } from '../helpers/docker.js';
import { itWith, missing } from '../helpers/env.js';
import { tempDir } from '../helpers/tmp.js';

const needs = { root: true, bins: ['dockerd', 'docker-registry', 'skopeo', 'umoci', 'busybox', 'nsenter', 'ip'] };
const it = itWith(needs);

describe('run: the job inside the image', () => {
  let lab: DockerLab;
  let dockerd: Dockerd;
  const dir = tempDir('tuna-action-docker-');
  beforeAll(async () => {
    if (missing(needs)) return;
    ({ lab, dockerd } = await startLabDockerd(dir));
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  const image = '127.0.0.1:5000/library/busybox:latest';
  const inputs = (run: string) => ({ mirror: 'official', configure: 'pip', cache: 'false', image, gpus: 'none', run });

  it('streams the output, propagates the exit code, mounts the workspace and gives its files back to the owner', async () => {
    const r = newRunner('self-hosted');
    chownSync(r.workspace, 1234, 1234);
    writeFileSync(path.join(r.workspace, 'input.txt'), 'from the checkout\n');
    const main = await r.main(inputs('echo "job sees: $(cat input.txt)"; echo "$CI" > made-by-job.txt; exit 3'), { DOCKER_HOST: dockerd.host });
    expect(main.code, main.log).toBe(3);
    expect(main.log).toContain('job sees: from the checkout');
    expect(main.log).toMatch(/::error::the job in 127\.0\.0\.1:5000\/library\/busybox:latest exited with 3/);
    expect(main.outputs.image).toBe(image);
    const made = statSync(path.join(r.workspace, 'made-by-job.txt'));
    expect([made.uid, made.gid]).toEqual([1234, 1234]);
    expect(main.log).toContain('workspace files handed back to 1234:1234');
    expect(main.summary).toMatch(/exited \*\*3\*\*/);
    // nothing left behind
    expect((await dockerd.docker('ps', '-aq')).stdout.trim()).toBe('');
    const post = await r.post(main, {}, { DOCKER_HOST: dockerd.host });
    expect(post.code, post.log).toBe(0);
  });

  it('the wheel cache is mounted into the job: what pip/uv write there is saved by the post step', async () => {
    const store = tempDir('tuna-run-wheels-');
    const r = newRunner('self-hosted');
    const main = await r.main(
      {
        ...inputs('mkdir -p "$PIP_CACHE_DIR" && echo wheel > "$PIP_CACHE_DIR/from-the-job.whl" && echo "cache at $PIP_CACHE_DIR"'),
        cache: 'true',
        'cache-local-path': store,
      },
      { DOCKER_HOST: dockerd.host },
    );
    expect(main.code, main.log).toBe(0);
    expect(main.log).toContain('cache at /tuna-setup-wheels/pip');
    const post = await r.post(main, {}, { DOCKER_HOST: dockerd.host });
    expect(post.log).toMatch(/wheel cache: saved tuna-setup-wheels-/);
    const saved = /wheel cache: saved (\S+)/.exec(post.log)![1]!;
    expect(readFileSync(path.join(store, 'local', saved, 'pip', 'from-the-job.whl'), 'utf8')).toBe('wheel\n');
  });

  it('an image pinned by digest (image: name@sha256:…) runs by that digest and is the image-digest output; the tag-only run outputs the digest it ran on', async () => {
    const tagged = await newRunner().main(inputs('true'), { DOCKER_HOST: dockerd.host });
    expect(tagged.code, tagged.log).toBe(0);
    const digest = tagged.outputs['image-digest']!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const pinned = `127.0.0.1:5000/library/busybox@${digest}`;
    const main = await newRunner().main({ ...inputs('echo pinned ok'), image: pinned, pull: 'always' }, { DOCKER_HOST: dockerd.host });
    expect(main.code, main.log).toBe(0);
    expect(main.log).toContain('pinned ok');
    expect(main.outputs).toMatchObject({ image: pinned, 'image-digest': digest });
    const absent = await newRunner().main(
      { ...inputs('true'), image: `127.0.0.1:5000/library/busybox@sha256:${'0'.repeat(64)}`, pull: 'always' },
      { DOCKER_HOST: dockerd.host },
    );
    expect(absent.code).toBe(1);
    expect(absent.log).toMatch(/::error::.*busybox@sha256:0{64}/);
  });

  it('pipefail: a failing stage of a pipeline fails the job', async () => {
    const main = await newRunner().main(inputs('false | cat; echo unreachable'), { DOCKER_HOST: dockerd.host });
    expect(main.code).toBe(1);
    expect(main.log).not.toContain('unreachable');
  });

  it('the script is one argv element: quotes and $(…) in it reach bash, not our shell', async () => {
    const main = await newRunner().main(inputs(`echo "a'b" '$HOME' "$(echo ok)"; test "$(echo 1)" = 1`), { DOCKER_HOST: dockerd.host });
    expect(main.code, main.log).toBe(0);
    expect(main.log).toContain(`a'b $HOME ok`);
  });

  it('a cancelled job: its container is stopped, and the post step removes whatever is left', async () => {
    const r = newRunner();
    let killed = false;
    const main = await r.main(inputs('echo started; sleep 60'), { DOCKER_HOST: dockerd.host }, (child) => {
      const poll = setInterval(async () => {
        const ps = await dockerd.docker('ps', '--filter', 'name=tuna-setup-', '--format', '{{.Names}}').catch(() => ({ stdout: '' }));
        if (ps.stdout.trim() && !killed) {
          killed = true;
          clearInterval(poll);
          child.kill('SIGTERM');
        }
      }, 200);
      child.on('exit', () => clearInterval(poll));
    });
    expect(killed).toBe(true);
    expect(main.code).not.toBe(0);
    expect(main.state.container).toMatch(/^tuna-setup-42-1-\d+$/);
    const post = await r.post(main, {}, { DOCKER_HOST: dockerd.host });
    expect(post.code, post.log).toBe(0);
    for (let i = 0; i < 50 && (await dockerd.docker('ps', '-aq')).stdout.trim(); i++) await new Promise((x) => setTimeout(x, 200));
    expect((await dockerd.docker('ps', '-aq')).stdout.trim()).toBe('');
  }, 60_000);

  it('the SDK stops a job by AbortSignal (a library installs no process signal handler): the container is removed, 128+15', async () => {
    const before = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
    const ctl = new AbortController();
    const env = { ...process.env, DOCKER_HOST: dockerd.host };
    const name = `tuna-setup-abort-${process.pid}`;
    const poll = setInterval(async () => {
      const ps = await dockerd.docker('ps', '--filter', `name=${name}`, '--format', '{{.Names}}').catch(() => ({ stdout: '' }));
      if (ps.stdout.trim()) {
        clearInterval(poll);
        ctl.abort();
      }
    }, 200);
    let during: number[] = [];
    const watch = setInterval(() => {
      during = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
    }, 50);
    const r = await runJob({ image, command: ['sleep', '60'], gpus: 'none', name }, { env, signal: ctl.signal, onOutput: () => {} });
    clearInterval(poll);
    clearInterval(watch);
    expect(r).toEqual({ exitCode: 143, signal: 'SIGTERM' });
    expect(during).toEqual(before);
    expect((await dockerd.docker('ps', '-aq', '--filter', `name=${name}`)).stdout.trim()).toBe('');
  });

  it("CLI run: the job sees the mirror pip and uv were pointed at, as the Action's job does; --env wins", async () => {
    const r = await runCliAsync(
      [
        'run',
        '--image',
        image,
        '--gpus',
        'none',
        '--env',
        'UV_DEFAULT_INDEX=https://mine.example/simple',
        '--workdir',
        tempDir('tuna-cli-run-'),
        '--',
        'sh',
        '-c',
        'echo "pip=$PIP_INDEX_URL uv=$UV_DEFAULT_INDEX"',
      ],
      { DOCKER_HOST: dockerd.host, PIP_INDEX_URL: 'https://pypi.tuna.tsinghua.edu.cn/simple', UV_DEFAULT_INDEX: 'https://pypi.tuna.tsinghua.edu.cn/simple' },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('pip=https://pypi.tuna.tsinghua.edu.cn/simple uv=https://mine.example/simple');
  });

  it("CLI run: the command's argv and exit code, --env values kept out of docker's argv", async () => {
    const work = tempDir('tuna-cli-run-');
    const r = await runCliAsync(
      [
        'run',
        '--image',
        image,
        '--gpus',
        'none',
        '--env',
        'SECRET=s3cr3t value',
        '--workdir',
        work,
        '--',
        'sh',
        '-c',
        'echo "got $SECRET"; touch /workspace/done; exit 5',
      ],
      { DOCKER_HOST: dockerd.host },
    );
    expect(r.code, r.stderr).toBe(5);
    expect(r.stdout).toContain('got s3cr3t value');
    expect(statSync(path.join(work, 'done')).isFile()).toBe(true);
  });

  it('CLI run: gpus asked for without the NVIDIA runtime fails before pulling, saying what to do', async () => {
    const r = await runCliAsync(['run', '--image', image, '--gpus', 'all', '--', 'true'], { DOCKER_HOST: dockerd.host, TUNA_SETUP_DRIVER_VERSION: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /--gpus all needs the NVIDIA Container Toolkit \(nvidia-container-toolkit\): no nvidia-container-runtime-hook on PATH, no 'nvidia' runtime and no CDI spec dirs/,
    );
  });
});

// The GPU path without a GPU: dockerd registers its `--gpus` device driver when
// nvidia-container-runtime-hook is on its PATH, and adds that hook to the
// container's OCI prestart hooks with NVIDIA_VISIBLE_DEVICES in the process
// env. A stand-in hook records what it is handed (its argv and the NVIDIA_*
// variables of the bundle's config.json) and exits 0, as the real one does
// after setting up the devices.
describe('run with gpus: the device request reaches the NVIDIA hook', () => {
  let lab: DockerLab;
  let dockerd: Dockerd;
  const dir = tempDir('tuna-gpu-hook-');
  const hookDir = path.join(dir, 'hook-bin');
  const hookLog = path.join(dir, 'hook.log');
  beforeAll(async () => {
    if (missing(needs)) return;
    mkdirSync(hookDir);
    writeFileSync(
      path.join(hookDir, 'nvidia-container-runtime-hook'),
      `#!/usr/bin/python3
import json, os, sys
state = json.load(sys.stdin)
with open(os.path.join(state["bundle"], "config.json")) as f:
    env = json.load(f)["process"]["env"]
with open(${JSON.stringify(hookLog)}, "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "nvidia": sorted(e for e in env if e.startswith("NVIDIA_"))}) + "\\n")
`,
      { mode: 0o755 },
    );
    lab = await startDockerLab(dir);
    writeFileSync(path.join(dir, 'daemon.json'), '{}\n');
    dockerd = await lab.startDockerd(path.join(dir, 'daemon.json'), { env: { PATH: `${hookDir}:${process.env.PATH}` } });
    if (!dockerd.ok) throw new Error(dockerd.output());
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });
  const image = '127.0.0.1:5000/library/busybox:latest';
  const hooked = () =>
    existsSync(hookLog)
      ? readFileSync(hookLog, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { argv: string[]; nvidia: string[] })
      : [];
  const withHook = { PATH: `${hookDir}:${process.env.PATH}`, TUNA_SETUP_DRIVER_VERSION: '' };

  it('the Action with gpus: all, and the CLI with --gpus 2: the hook runs as a prestart hook with the devices asked for', async () => {
    const main = await newRunner().main(
      { mirror: 'official', configure: 'pip', cache: 'false', image, gpus: 'all', run: 'echo in the job' },
      { DOCKER_HOST: dockerd.host, ...withHook },
    );
    expect(main.code, main.log).toBe(0);
    expect(main.log).toContain('in the job');
    expect(hooked()).toEqual([{ argv: ['prestart'], nvidia: expect.arrayContaining(['NVIDIA_VISIBLE_DEVICES=all']) }]);
    const r = await runCliAsync(['run', '--image', image, '--gpus', '2', '--', 'true'], { DOCKER_HOST: dockerd.host, ...withHook });
    expect(r.code, r.stderr).toBe(0);
    expect(hooked()[1]).toEqual({ argv: ['prestart'], nvidia: expect.arrayContaining(['NVIDIA_VISIBLE_DEVICES=0,1']) });
  });

  it('gpus: none asks for no device: the hook is not run', async () => {
    const before = hooked().length;
    const r = await runCliAsync(['run', '--image', image, '--gpus', 'none', '--', 'true'], { DOCKER_HOST: dockerd.host, ...withHook });
    expect(r.code, r.stderr).toBe(0);
    expect(hooked()).toHaveLength(before);
  });

  it('doctor names how GPUs reach containers', async () => {
    const r = await runCliAsync(['doctor'], { DOCKER_HOST: dockerd.host, ...withHook });
    expect(r.stdout).toContain(`--gpus through ${path.join(hookDir, 'nvidia-container-runtime-hook')}`);
    const without = await runCliAsync(['doctor'], { DOCKER_HOST: dockerd.host, TUNA_SETUP_DRIVER_VERSION: '' });
    expect(without.stdout).toContain('no GPU containers: install the NVIDIA Container Toolkit (nvidia-container-toolkit)');
  });
});
