// The bundled Action (dist/) run as the runner runs it (test/helpers/action.ts):
// inputs from action.yml, the runner's files, then the post step with the state.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRunner } from '../helpers/action.js';
import { startMirrors } from '../helpers/mirror-sim.mjs';
import { loopbackCert } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';
import { startCacheService } from '../helpers/cache-service.js';
import { startCacheServiceV2 } from '../helpers/cache-service-v2.js';

describe('named mirror', () => {
  it('writes pip/uv/conda configs, exports the variables, sets every output it knows', async () => {
    const r = newRunner('github-hosted');
    const main = await r.main({ mirror: 'ustc', cache: 'false' });
    expect(main.code, main.log).toBe(0);
    expect(main.outputs).toMatchObject({
      mirror: 'ustc',
      'pip-index-url': 'https://mirrors.ustc.edu.cn/pypi/simple',
      'conda-channel-alias': 'https://mirrors.ustc.edu.cn/anaconda/cloud',
      'cache-hit': 'false',
      'probe-report': '[]',
    });
    expect(main.env).toEqual({
      PIP_INDEX_URL: 'https://mirrors.ustc.edu.cn/pypi/simple',
      UV_DEFAULT_INDEX: 'https://mirrors.ustc.edu.cn/pypi/simple',
      UV_PYTHON_INSTALL_MIRROR: 'https://mirrors.ustc.edu.cn/github-release/astral-sh/python-build-standalone',
      CONDARC: path.join(r.home, '.condarc'),
    });
    expect(readFileSync(path.join(r.home, '.config/pip/pip.conf'), 'utf8')).toContain('index-url = https://mirrors.ustc.edu.cn/pypi/simple');
    expect(main.log).toContain('::group::Select the mirror');
    expect(main.summary).toContain('### configured: ustc');
    // GitHub-hosted: the configs stay for later steps (restore-config: auto)
    const post = await r.post(main);
    expect(post.code, post.log).toBe(0);
    expect(existsSync(path.join(r.home, '.config/pip/pip.conf'))).toBe(true);
  });

  it("self-hosted: the post step puts a user's pip.conf back byte for byte", async () => {
    const r = newRunner('self-hosted');
    const original = '# mine\n[global]\nindex-url = https://pypi.org/simple\ntimeout = 60\n';
    mkdirSync(path.join(r.home, '.config/pip'), { recursive: true });
    writeFileSync(path.join(r.home, '.config/pip/pip.conf'), original);
    const main = await r.main({ mirror: 'tuna', configure: 'pip', cache: 'false' });
    expect(main.code, main.log).toBe(0);
    expect(readFileSync(path.join(r.home, '.config/pip/pip.conf'), 'utf8')).toContain('pypi.tuna.tsinghua.edu.cn');
    const post = await r.post(main);
    expect(post.code, post.log).toBe(0);
    expect(post.log).toMatch(/restored +.*pip\.conf/);
    expect(readFileSync(path.join(r.home, '.config/pip/pip.conf'), 'utf8')).toBe(original);
  });
});

describe('the Action speaks in inputs', () => {
  it('a private index: the failure names the replace-index input (not a CLI flag); replace-index: true replaces it', async () => {
    const r = newRunner('self-hosted');
    const mine = '[global]\nindex-url = https://pkgs.corp.example/simple\n';
    mkdirSync(path.join(r.home, '.config/pip'), { recursive: true });
    writeFileSync(path.join(r.home, '.config/pip/pip.conf'), mine);
    const refused = await r.main({ mirror: 'tuna', configure: 'pip', cache: 'false' });
    expect(refused.code).toBe(1);
    expect(refused.log).toMatch(
      /::error::.*uses an index tuna-setup does not know.*%0A.*pass replace-index: true if you mean it, or drop this tool from configure/,
    );
    expect(refused.log).not.toMatch(/--replace-index|--targets/);
    expect(readFileSync(path.join(r.home, '.config/pip/pip.conf'), 'utf8')).toBe(mine);
    const replaced = await r.main({ mirror: 'tuna', configure: 'pip', cache: 'false', 'replace-index': 'true' });
    expect(replaced.code, replaced.log).toBe(0);
    expect(readFileSync(path.join(r.home, '.config/pip/pip.conf'), 'utf8')).toContain('pypi.tuna.tsinghua.edu.cn');
    expect((await r.post(replaced)).code).toBe(0);
    expect(readFileSync(path.join(r.home, '.config/pip/pip.conf'), 'utf8')).toBe(mine);
  });

  it('an http mirror: refused naming allow-http: true; accepted with it (and pip trusts the host)', async () => {
    const r = newRunner('github-hosted');
    const refused = await r.main({ mirror: 'http://mirror.example/simple', configure: 'pip', cache: 'false' });
    expect(refused.code).toBe(1);
    expect(refused.log).toMatch(/mirror: 'http:\/\/mirror\.example\/simple' is plain http — use https:\/\/, or pass allow-http: true/);
    const ok = await r.main({ mirror: 'http://mirror.example/simple', configure: 'pip', cache: 'false', 'allow-http': 'true' });
    expect(ok.code, ok.log).toBe(0);
    expect(readFileSync(path.join(r.home, '.config/pip/pip.conf'), 'utf8')).toMatch(/trusted-host = mirror\.example/);
  });
});

describe('mirror: auto against loopback mirrors', () => {
  let sim: Awaited<ReturnType<typeof startMirrors>>;
  let certFile: string;
  beforeAll(async () => {
    const tls = loopbackCert();
    certFile = tls.certFile;
    sim = await startMirrors(
      [
        { name: 'fast', latencyMs: 10, bandwidthBps: 20e6 },
        { name: 'narrow', latencyMs: 2, bandwidthBps: 1e6 },
        { name: 'portal', fault: 'portal' },
        { name: 'hostile', fault: 'hostile', latencyMs: 1 },
      ],
      { tls },
    );
  });
  afterAll(() => sim.close());

  it("a mirror's strings cannot inject workflow commands, terminal escapes or Markdown", async () => {
    const r = newRunner();
    const main = await r.main({ mirror: `${sim.url('fast')},${sim.url('hostile')}`, configure: 'pip', cache: 'false' }, { NODE_EXTRA_CA_CERTS: certFile });
    expect(main.code, main.log).toBe(0);
    const hostile = JSON.parse(main.outputs['probe-report']!)[0].ranking.find((m: any) => m.url.startsWith(sim.url('hostile')!));
    expect(hostile.excluded).toMatch(/set-output.*answers HTTP 404/);
    const lines = main.log.split('\n');
    // the only mask is the Action's own, of the github-token input
    expect(lines.filter((l) => /^\s*::(set-output|add-mask::(?!ghs_emulatedJobToken0123456789$)|error title=pwned)/.test(l))).toEqual([]);
    expect(main.log).toContain('\\u000a::set-output');
    // eslint-disable-next-line no-control-regex
    expect(main.log + main.summary).not.toMatch(/\u001b/);
    // rendered, `\\u000a` shows as `\u000a`: visible, inert
    expect(main.summary).toContain('excluded: index links pip-24.3-py3-none-any\\\\u000a::set-output name=pwned::yes');
  });

  it("cache-dependency-path's requirements files size what selection ranks by", async () => {
    const r = newRunner();
    writeFileSync(path.join(r.workspace, 'requirements.txt'), 'numpy==2.1\npytest\n# a comment\n');
    const main = await r.main(
      { mirror: `${sim.url('fast')},${sim.url('narrow')}`, configure: 'pip', cache: 'false', 'cache-dependency-path': 'requirements.txt' },
      { NODE_EXTRA_CA_CERTS: certFile },
    );
    expect(main.code, main.log).toBe(0);
    expect(main.log).toMatch(/ranking mirrors by the downloads of your requirements: 2 index pages, 2 wheels/);
    const report = JSON.parse(main.outputs['probe-report']!);
    // a 2-package job from the fast mirror: two pages and two half-MiB wheels, well under a second
    expect(report[0].ranking[0].predictedMs).toBeLessThan(1000);
  });

  it("two candidates on one host: what is configured is exactly the winner's URL", async () => {
    const r = newRunner();
    const broken = `${sim.url('fast')}/broken/simple`;
    const ok = `${sim.url('fast')}/pypi/web/simple`;
    const main = await r.main({ mirror: `${broken},${ok}`, configure: 'pip', cache: 'false' }, { NODE_EXTRA_CA_CERTS: certFile });
    expect(main.code, main.log).toBe(0);
    expect(main.outputs['pip-index-url']).toBe(ok);
    expect(main.outputs.mirror).toBe(`${new URL(ok).host}-2`);
  });

  it('probes the listed mirrors over https, configures the winner, reports the ranking', async () => {
    const r = newRunner();
    const list = sim.mirrors.map((m) => m.url).join(',');
    const main = await r.main({ mirror: list, configure: 'pip', cache: 'false' }, { NODE_EXTRA_CA_CERTS: certFile });
    expect(main.code, main.log).toBe(0);
    const fast = new URL(sim.url('fast')!).host;
    expect(main.outputs.mirror).toBe(fast);
    expect(main.outputs['pip-index-url']).toBe(`${sim.url('fast')}/pypi/web/simple`);
    const report = JSON.parse(main.outputs['probe-report']!);
    expect(report[0].service).toBe('pypi');
    expect(report[0].ranking.find((m: any) => m.name === new URL(sim.url('portal')!).host).excluded).toMatch(/lists no pip files/);
    expect(main.summary).toMatch(/\| 1 \| 127\.0\.0\.1:\d+ \| \d+ ms \| [\d.]+ MB\/s \| ok \|/);
    expect(main.log).toMatch(/pypi: 127\.0\.0\.1:\d+ \(https:/);
  });
});

describe('bad input', () => {
  it('reports every problem at once, each naming the input, and writes nothing', async () => {
    const r = newRunner();
    const main = await r.main({ mirror: 'tuan', cuda: '12', gpus: 'many', 'cache-backend': 's3', 'probe-budget-ms': 'fast', image: 'Not A Ref', cache: 'yes' });
    expect(main.code).toBe(1);
    const errors = main.log.split('\n').filter((l) => l.startsWith('::error title='));
    expect(errors.map((l) => /title=tuna-setup input '([^']+)'/.exec(l)?.[1]).sort()).toEqual([
      'cache',
      'cache-backend',
      'cuda',
      'gpus',
      'image',
      'mirror',
      'probe-budget-ms',
    ]);
    expect(main.log).toMatch(/::error title=tuna-setup input 'mirror'::mirror: unknown mirror 'tuan' — use one of: tuna,/);
    expect(main.log).toMatch(/7 input problems; nothing was changed/);
    expect(readdirSync(r.home)).toEqual([]);
    expect(main.outputs).toEqual({});
  });

  it('registry-mirrors: a containerd/podman/buildkit configure without one, or a bad one, is an input problem naming registry-mirrors', async () => {
    const none = await newRunner().main({ mirror: 'official', configure: 'pip,containerd' });
    expect(none.code).toBe(1);
    expect(none.log).toMatch(
      /::error title=tuna-setup input 'registry-mirrors'::registry-mirrors: configure lists containerd but no registry-mirrors is given/,
    );
    const bad = await newRunner().main({ mirror: 'official', configure: 'pip', 'registry-mirrors': 'https://harbor.corp/v2/hub' });
    expect(bad.code).toBe(1);
    expect(bad.log).toMatch(/::error title=tuna-setup input 'registry-mirrors'::registry-mirrors: 'https:\/\/harbor\.corp\/v2\/hub' has the path '\/v2\/hub'/);
  });

  it('run without pytorch or image says what is missing', async () => {
    const main = await newRunner().main({ run: 'python -c 1' });
    expect(main.code).toBe(1);
    expect(main.log).toMatch(/input 'image'::image: auto \(the default when run is set\) needs pytorch/);
  });
});

describe('PyTorch resolution', () => {
  it('offline: resolves from the tables with the driver given, no tag check', async () => {
    const r = newRunner();
    const main = await r.main(
      { mirror: 'official', configure: 'pip', cache: 'false', pytorch: '2.7', image: 'auto' },
      { TUNA_SETUP_OFFLINE: '1', TUNA_SETUP_DRIVER_VERSION: '550.144.03' },
    );
    expect(main.code, main.log).toBe(0);
    expect(main.outputs).toMatchObject({
      'torch-index-url': 'https://download.pytorch.org/whl/cu128',
      cuda: '12.8',
      'driver-version': '550.144.03',
      image: 'pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime',
      'image-digest': '',
    });
    expect(main.env.TUNA_SETUP_TORCH_INDEX_URL).toBe('https://download.pytorch.org/whl/cu128');
    expect(main.summary).toContain('(tag not checked: offline)');
    expect(main.log).toContain('- cu128: chosen — driver 550.144.03 ≥ 525.60.13');
  });

  it('registry-mirrors: the resolved image, and a given one, are pulled through a path-prefix mirror by name; an NGC image through its own', async () => {
    const env = { TUNA_SETUP_OFFLINE: '1', TUNA_SETUP_DRIVER_VERSION: '550.144.03' };
    const mirrors = 'https://harbor.corp/dockerhub-proxy\nnvcr.io=https://harbor.corp/ngc-proxy';
    const resolved = await newRunner().main(
      { mirror: 'official', configure: 'pip', cache: 'false', pytorch: '2.7', image: 'auto', 'registry-mirrors': mirrors },
      env,
    );
    expect(resolved.code, resolved.log).toBe(0);
    expect(resolved.outputs.image).toBe('harbor.corp/dockerhub-proxy/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime');
    const given = await newRunner().main(
      { mirror: 'official', configure: 'pip', cache: 'false', image: 'nvcr.io/nvidia/pytorch:25.01-py3', 'registry-mirrors': mirrors },
      env,
    );
    expect(given.code, given.log).toBe(0);
    expect(given.outputs.image).toBe('harbor.corp/ngc-proxy/nvidia/pytorch:25.01-py3');
  });

  it('a GPU-less runner with mirror: tuna: torch through the mirror (its PyPI build), a warning, exit 0', async () => {
    const r = newRunner();
    const main = await r.main(
      { mirror: 'tuna', configure: 'pip', cache: 'false', pytorch: '2.14' },
      { TUNA_SETUP_OFFLINE: '1', TUNA_SETUP_DRIVER_VERSION: '' },
    );
    expect(main.code, main.log).toBe(0);
    expect(main.outputs).toMatchObject({ 'torch-index-url': 'https://pypi.tuna.tsinghua.edu.cn/simple', cuda: '13.0', 'driver-version': '' });
    expect(main.log).toMatch(/::warning::no NVIDIA driver on this machine: cu130 of torch 2\.14 installs, but the job will see no GPU/);
    expect(main.log).toContain('cuda: cpu for the smaller CPU-only wheels'); // the reason, in the Action's words
    const upstream = await r.main(
      { mirror: 'tuna', configure: 'pip', cache: 'false', pytorch: '2.14', 'torch-wheels': 'upstream' },
      { TUNA_SETUP_OFFLINE: '1', TUNA_SETUP_DRIVER_VERSION: '' },
    );
    expect(upstream.outputs['torch-index-url']).toBe('https://download.pytorch.org/whl/cpu');
  });
});

describe('wheel cache', () => {
  /** what setup-python's `cache: pip` records in its main step: pip's own cache dir */
  const pipCacheDir = (env: NodeJS.ProcessEnv) =>
    execFileSync('python3', ['-m', 'pip', 'cache', 'dir'], { env: { ...env, PATH: process.env.PATH }, encoding: 'utf8' }).trim();
  /** a job's pip downloads into its cache */
  const download = (dir: string, name: string, bytes: number) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, name), Buffer.alloc(bytes, 1));
  };

  it('local backend: saved when the content changed, under a key of that content; never frozen; unchanged saves nothing; LRU beyond the cap', async () => {
    const store = tempDir('tuna-wheels-');
    const inputs = { mirror: 'tuna', configure: 'pip', 'cache-local-path': store };
    const job = async (files: Record<string, number>, extra: Record<string, string> = {}) => {
      const r = newRunner('self-hosted');
      writeFileSync(path.join(r.workspace, 'requirements.txt'), 'torch==2.7.1\n');
      const main = await r.main({ ...inputs, ...extra });
      expect(main.code, main.log).toBe(0);
      const pip = pipCacheDir(r.baseEnv);
      for (const [name, bytes] of Object.entries(files)) download(path.join(pip, 'http-v2'), name, bytes);
      return { r, main, pip, post: await r.post(main) };
    };
    const entries = () => JSON.parse(readFileSync(path.join(store, 'index.json'), 'utf8')).entries.map((e: { key: string }) => e.key);

    const j1 = await job({ 'torch.whl': 300 * 1024 });
    const base = j1.main.outputs['cache-key']!;
    expect(base).toMatch(/^tuna-setup-wheels-v2-[a-z]+[\d.]*-x64-py\d+\.\d+-none-[0-9a-f]{16}$/); // the OS release is in the key
    expect(j1.main.outputs['cache-hit']).toBe('false');
    expect(j1.post.log).toMatch(new RegExp(`wheel cache: saved ${base}-[0-9a-f]{12} \\(1 files, 0\\.3 MB\\) in .*, scope local`));
    expect(entries()).toHaveLength(1);

    // the next job restores it, downloads one more wheel: a second entry, not a frozen first one
    const j2 = await job({ 'numpy.whl': 100 * 1024 });
    expect(j2.main.outputs['cache-hit']).toBe('true');
    expect(readFileSync(path.join(j2.pip, 'http-v2/torch.whl')).length).toBe(300 * 1024);
    expect(j2.post.log).toMatch(/wheel cache: saved .* \(2 files, 0\.4 MB\)/);
    // a job that downloads nothing new saves nothing
    const j3 = await job({});
    expect(j3.main.log).toMatch(new RegExp(`wheel cache: restored ${entries()[1]}`)); // the newest
    expect(j3.post.log).toMatch(/unchanged since the restore of .*: nothing to save/);
    // a 0.5 MiB cap: a bigger entry evicts the older ones, from the index (no walk)
    const j4 = await job({ 'big.whl': 400 * 1024 }, { 'cache-local-max-size': '1' });
    expect(j4.post.log).toMatch(/evicted tuna-setup-wheels-v2-/);
    expect(entries()).toHaveLength(1);
    // restore only
    const j5 = await job({ 'other.whl': 1024 }, { 'save-cache': 'false' });
    expect(j5.post.log).toContain('not saved: save-cache is false');
  });

  it("local backend, scoped like the Actions cache: a pull request's wheels never reach a push job; the pull request reads its base branch", async () => {
    const store = tempDir('tuna-wheels-');
    const inputs = { mirror: 'tuna', configure: 'pip', 'cache-local-path': store };
    const pr = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/7/merge', GITHUB_BASE_REF: 'main' };
    const push = { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' };
    const job = async (env: Record<string, string>, wheel?: string) => {
      const r = newRunner('self-hosted');
      const main = await r.main(inputs, env);
      if (wheel) download(path.join(pipCacheDir(r.baseEnv), 'http-v2'), wheel, 1000);
      return { main, post: await r.post(main, {}, env), pip: pipCacheDir(r.baseEnv) };
    };
    const planted = await job(pr, 'evil.whl');
    expect(planted.post.log).toMatch(/saved .* scope refs\/pull\/7\/merge/);
    const onMain = await job(push, 'good.whl');
    expect(onMain.main.log).toContain('wheel cache: nothing to restore yet');
    expect(existsSync(path.join(onMain.pip, 'http-v2/evil.whl'))).toBe(false);
    const nextPr = await job(pr);
    expect(nextPr.main.log).toMatch(/wheel cache: restored tuna-setup-wheels-v2-/);
    expect(existsSync(path.join(nextPr.pip, 'http-v2/evil.whl'))).toBe(true); // its own scope first
    const otherPr = await job({ ...pr, GITHUB_REF: 'refs/pull/8/merge' });
    expect(existsSync(path.join(otherPr.pip, 'http-v2/good.whl'))).toBe(true); // then its base branch's
    expect(existsSync(path.join(otherPr.pip, 'http-v2/evil.whl'))).toBe(false);
  });

  it("a good neighbour: setup-python's recorded pip cache dir exists for its post step; a UV_CACHE_DIR set before (setup-uv) is left alone", async () => {
    const r = newRunner('self-hosted');
    const recorded = pipCacheDir(r.baseEnv); // setup-python's main step, before ours
    const uvDir = path.join(r.dir, 'setup-uv-cache');
    const main = await r.main({ mirror: 'tuna', configure: 'pip', 'cache-local-path': tempDir('tuna-wheels-') }, { UV_CACHE_DIR: uvDir });
    expect(main.code, main.log).toBe(0);
    expect(main.env.PIP_CACHE_DIR).toBeUndefined();
    expect(main.env.UV_CACHE_DIR).toBeUndefined();
    expect(main.log).toContain(`UV_CACHE_DIR was set before this step (${uvDir}): left to whoever set it`);
    // no pip ran in the job; setup-python's post step checks the directory it recorded
    expect(pipCacheDir({ ...r.baseEnv, ...main.env })).toBe(recorded);
    expect(existsSync(recorded)).toBe(true);
    const post = await r.post(main);
    expect(post.code, post.log).toBe(0);
    expect(existsSync(recorded)).toBe(true);
  });

  it.each([
    [
      'v1 (GHES)',
      async () => {
        const s = await startCacheService();
        return { service: s, env: { ACTIONS_CACHE_URL: s.url } };
      },
    ],
    [
      'v2 (github.com: Twirp and blob storage)',
      async () => {
        const s = await startCacheServiceV2();
        return { service: s, env: { ACTIONS_RESULTS_URL: s.url, ACTIONS_CACHE_SERVICE_V2: 'true' } };
      },
    ],
  ] as const)(
    'actions backend against a loopback cache service %s: save, restore of the newest, and two jobs saving one key at once log info, not a warning',
    async (_v, start) => {
      const { service, env: serviceEnv } = await start();
      try {
        // hosted runners share paths (the cache version hashes them): every job here uses one home and temp
        const home = tempDir('tuna-home-');
        const env = {
          ...serviceEnv,
          ACTIONS_RUNTIME_TOKEN: 'test-token',
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REF: 'refs/heads/main',
          RUNNER_TEMP: tempDir('tuna-temp-'),
        };
        const job = () => newRunner('github-hosted', { home });
        const a = job();
        const b = job();
        const [ma, mb] = [await a.main({ mirror: 'tuna', configure: 'pip' }, env), await b.main({ mirror: 'tuna', configure: 'pip' }, env)];
        expect(ma.code, ma.log).toBe(0);
        download(path.join(pipCacheDir(a.baseEnv), 'http-v2'), 'numpy.whl', 2000);
        const [pa, pb] = await Promise.all([a.post(ma, {}, env), b.post(mb, {}, env)]);
        const logs = pa.log + pb.log;
        expect(logs).toMatch(/wheel cache: saved tuna-setup-wheels-v2-.*-[0-9a-f]{12} \(1 files/);
        expect(logs).toMatch(/not saved: .* is being saved by another job, or exists/);
        expect(logs).not.toContain('::warning::');
        expect(service.entries()).toHaveLength(1);
        expect(service.requests.join('\n')).toMatch(
          _v.startsWith('v2') ? /CreateCacheEntry[\s\S]*PUT \/blob\/cache-1[\s\S]*FinalizeCacheEntryUpload/ : /POST \/_apis\/artifactcache\/caches[\s\S]*PATCH/,
        );

        rmSync(path.join(home, '.cache'), { recursive: true, force: true });
        const c = job();
        const mc = await c.main({ mirror: 'tuna', configure: 'pip' }, env);
        expect(mc.outputs['cache-hit']).toBe('true');
        expect(readFileSync(path.join(pipCacheDir(c.baseEnv), 'http-v2/numpy.whl')).length).toBe(2000);
        expect((await c.post(mc, {}, env)).log).toMatch(/unchanged since the restore/);
        if (_v.startsWith('v2')) expect(service.requests).toContain('GET /blob/cache-1');
      } finally {
        await service.close();
      }
    },
  );

  it('auto: off on pull_request_target, release events and tag pushes; actions on hosted runners warns when the service is absent; no dependency file is a warning', async () => {
    for (const [env, why] of [
      [{ GITHUB_EVENT_NAME: 'pull_request_target' }, 'off on pull_request_target events'],
      [{ GITHUB_EVENT_NAME: 'release' }, 'off on release events'],
      [{ GITHUB_REF: 'refs/tags/v1.0' }, 'off on tag pushes'],
    ] as const) {
      expect((await newRunner('github-hosted').main({ mirror: 'tuna', configure: 'pip' }, env)).log).toContain(`wheel cache: off (${why}`);
    }
    const hosted = await newRunner('github-hosted').main({ mirror: 'tuna', configure: 'pip' });
    expect(hosted.code, hosted.log).toBe(0);
    expect(hosted.log).toMatch(/::warning::wheel cache: the Actions cache service is not available on this runner \(ACTIONS_CACHE_URL is not set\)/);
    // a self-hosted runner on GHES with a cache service: the Actions cache (ephemeral ARC runners never hit a local directory)
    const ghes = await newRunner('self-hosted').main(
      { mirror: 'tuna', configure: 'pip' },
      { GITHUB_SERVER_URL: 'https://ghes.corp.example', ACTIONS_CACHE_URL: 'http://127.0.0.1:9/' },
    );
    expect(ghes.log).toContain('wheel cache: self-hosted runner on GitHub Enterprise Server with a cache service: the Actions cache');
    const local = await newRunner('self-hosted').main({ mirror: 'tuna', configure: 'pip', 'cache-local-path': tempDir('tuna-wheels-') });
    expect(local.log).toMatch(/::warning::no dependency file found \(requirements\*\.txt, .*\): the cache key cannot follow your requirements/);
    const bad = await newRunner('self-hosted').main({ mirror: 'tuna', configure: 'pip', 'cache-suffix': 'a b' });
    expect(bad.code).toBe(1);
    expect(bad.log).toMatch(/input 'cache-suffix'::cache-suffix: 'a b' is not a key part/);
  });
});

describe('install-conda: miniforge', () => {
  let sim: Awaited<ReturnType<typeof startMirrors>>;
  let certFile: string;
  beforeAll(async () => {
    const tls = loopbackCert();
    certFile = tls.certFile;
    sim = await startMirrors([{ name: 'good' }, { name: 'tampered', fault: 'bad-checksum' }, { name: 'upstream' }], { tls });
  });
  afterAll(() => sim.close());
  const installs = () => sim.requests.filter((q) => /Miniforge3-[\w-]+\.sh$/.test(q.path)).map((q) => q.name);

  it('from the mirror, checksum verified, on PATH; a second job with the same tool cache does not download it again', async () => {
    const toolcache = tempDir('tuna-toolcache-');
    const env = { NODE_EXTRA_CA_CERTS: certFile, RUNNER_TOOL_CACHE: toolcache };
    const inputs = { mirror: sim.url('good')!, configure: 'conda', cache: 'false', 'install-conda': 'miniforge' };
    const r = newRunner();
    const main = await r.main(inputs, env);
    expect(main.code, main.log).toBe(0);
    const prefix = path.join(r.dir, 'temp', 'miniforge3');
    expect(main.path).toEqual([path.join(prefix, 'bin')]);
    expect(main.env.CONDA).toBe(prefix);
    expect(main.log).toMatch(/Miniforge installer from 127\.0\.0\.1:\d+ \(https:.*LatestRelease\/Miniforge3-Linux-x86_64\.sh\), sha256 [0-9a-f]{64} verified/);
    expect(readFileSync(path.join(prefix, 'bin', 'conda'), 'utf8')).toContain('test stand-in');
    expect(main.summary).toContain('### conda');
    expect(installs()).toEqual(['good']);

    const again = await newRunner().main(inputs, env);
    expect(again.code, again.log).toBe(0);
    expect(again.log).toMatch(/Miniforge installer [0-9a-f]{16}… already on this machine/); // the tool cache, by checksum
    expect(installs()).toEqual(['good']); // only the .sha256 was fetched again
  });

  it('a checksum mismatch on the mirror falls back to the upstream, with a warning', async () => {
    const main = await newRunner().main(
      { mirror: sim.url('tampered')!, configure: 'conda', cache: 'false', 'install-conda': 'miniforge' },
      { NODE_EXTRA_CA_CERTS: certFile, TUNA_SETUP_MINIFORGE_UPSTREAM: `${sim.url('upstream')}/miniforge-releases` },
    );
    expect(main.code, main.log).toBe(0);
    expect(main.log).toMatch(
      /::warning::Miniforge installer from 127\.0\.0\.1:\d+ failed \(checksum mismatch: .* says [0-9a-f]{64}\); falling back to the upstream release/,
    );
    expect(main.log).toContain('Miniforge installer from official');
  });

  it('no source works: the step fails naming each', async () => {
    const main = await newRunner().main(
      { mirror: sim.url('tampered')!, configure: 'conda', cache: 'false', 'install-conda': 'miniforge' },
      { NODE_EXTRA_CA_CERTS: certFile, TUNA_SETUP_MINIFORGE_UPSTREAM: `${sim.url('tampered')}/nothing-here` },
    );
    expect(main.code).toBe(1);
    expect(main.log).toMatch(/::error::cannot get the Miniforge installer — 127\.0\.0\.1:\d+: checksum mismatch.*; official: /);
  });
});

describe('install-conda: micromamba', () => {
  it('the upstream binary (here an internal copy), checksum verified, on PATH with MAMBA_ROOT_PREFIX', async () => {
    const tls = loopbackCert();
    const sim = await startMirrors([{ name: 'releases' }], { tls });
    try {
      const r = newRunner();
      const main = await r.main(
        { mirror: 'tuna', configure: 'conda', cache: 'false', 'install-conda': 'micromamba' },
        { NODE_EXTRA_CA_CERTS: tls.certFile, TUNA_SETUP_MICROMAMBA_UPSTREAM: `${sim.url('releases')}/micromamba-releases` },
      );
      expect(main.code, main.log).toBe(0);
      const bin = path.join(r.dir, 'temp', 'micromamba', 'bin');
      expect(main.path).toEqual([bin]);
      expect(main.env.MAMBA_ROOT_PREFIX).toBe(path.join(r.dir, 'temp', 'micromamba', 'root'));
      expect(readFileSync(path.join(bin, 'micromamba'), 'utf8')).toContain('test stand-in');
      expect(main.log).toMatch(/micromamba binary from official \(https:.*micromamba-linux-64\), sha256 [0-9a-f]{64} verified/);
      // github-token (the job's token by default) goes to github.com only: an internal copy never sees it, nor does the log
      expect(sim.requests.filter((q) => q.authorization)).toEqual([]);
      expect(main.log.replace('::add-mask::ghs_emulatedJobToken0123456789', '')).not.toContain('ghs_emulatedJobToken');
    } finally {
      await sim.close();
    }
  });
});

describe("the repository as an Action's", () => {
  const root = path.resolve(import.meta.dirname, '../..');
  it('the example workflows (examples/, not run here) and the CI self-test (uses: ./) use only inputs and outputs action.yml declares', async () => {
    const { parse } = await import('yaml');
    const action = parse(readFileSync(path.join(root, 'action.yml'), 'utf8'));
    const files = [
      ...readdirSync(path.join(root, 'examples'))
        .filter((f) => f.endsWith('.yml'))
        .map((f) => `examples/${f}`),
      '.github/workflows/ci.yml',
    ];
    expect(files.length).toBeGreaterThanOrEqual(4);
    // workflows in .github/workflows run in this repository: only CI, never an example that needs org/tuna-setup@v1 or a GPU
    expect(readdirSync(path.join(root, '.github/workflows'))).toEqual(['ci.yml']);
    let steps = 0;
    for (const f of files) {
      const text = readFileSync(path.join(root, f), 'utf8');
      const wf = parse(text);
      for (const job of Object.values<any>(wf.jobs)) {
        for (const step of job.steps.filter((s: any) => s.uses === 'org/tuna-setup@v1' || s.uses === './')) {
          steps++;
          for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs), `${f}: input ${key}`).toContain(key);
        }
      }
      for (const m of text.matchAll(/steps\.tuna\.outputs\.([\w-]+)/g)) expect(Object.keys(action.outputs), `${f}: output ${m[1]}`).toContain(m[1]);
    }
    expect(steps).toBeGreaterThanOrEqual(6);
  });

  it('action.yml fits the Marketplace: a description of at most 125 characters, every input and output described', async () => {
    const { parse } = await import('yaml');
    const action = parse(readFileSync(path.join(root, 'action.yml'), 'utf8'));
    expect(action.description.length).toBeLessThanOrEqual(125);
    for (const [name, spec] of Object.entries<any>({ ...action.inputs, ...action.outputs })) expect(spec.description, name).toBeTruthy();
  });
});
