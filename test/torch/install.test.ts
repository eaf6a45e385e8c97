// `tuna-setup install` (issue: torch through the fast mirror, "install, then
// prove it"): real pip installs tiny real torch wheels from a loopback index
// into a real virtual environment, and the check imports them there.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkInstalled, type InstalledTorch } from '@tuna-setup/sdk/torch';
import { newRunner } from '../helpers/action.js';
import { runCliAsync } from '../helpers/cli.js';
import { isolatedPipEnv } from '../helpers/pypi.js';
import { tempDir } from '../helpers/tmp.js';
import { localWheelTag, pureWheel, startWheelhouse, torchvisionWheel, torchWheel, type Wheelhouse } from '../helpers/wheelhouse.js';

const CU130 = ['sm_75', 'sm_80', 'sm_86', 'sm_90', 'sm_100', 'sm_120', 'compute_120'];
let house: Wheelhouse;

beforeAll(() => {
  const dir = tempDir('tuna-wheels-');
  const tag = localWheelTag();
  const demo = pureWheel(dir, 'tunademo', '1.0');
  house = undefined as unknown as Wheelhouse;
  return startWheelhouse({
    // a PyPI mirror: PyPI's torch 2.14.0 is the cu130 build, with no local version
    '/simple': [torchWheel(dir, tag, { version: '2.14.0', cuda: '13.0', arches: CU130 }), torchvisionWheel(dir, tag, '0.29.0', '2.14.0'), demo],
    // a mirror whose torch was built without Hopper kernels
    '/bad/simple': [
      torchWheel(dir, tag, { version: '2.14.0', cuda: '13.0', arches: CU130.filter((a) => a !== 'sm_90') }),
      torchvisionWheel(dir, tag, '0.29.0', '2.14.0'),
    ],
    // a mirror that lost torchvision
    '/partial/simple': [torchWheel(dir, tag, { version: '2.14.0', cuda: '13.0', arches: CU130 })],
    // download.pytorch.org's layout
    '/whl/cpu': [torchWheel(dir, tag, { version: '2.14.0+cpu', cuda: null }), torchvisionWheel(dir, tag, '0.29.0+cpu', '2.14.0+cpu')],
  }).then((h) => {
    house = h;
  });
});

function venv(): { python: string; env: NodeJS.ProcessEnv } {
  const home = tempDir('tuna-install-');
  execFileSync('python3', ['-m', 'venv', path.join(home, 'venv')]);
  // no driver on this machine whatever the test box has, and no index but the ones given
  return {
    python: path.join(home, 'venv/bin/python'),
    env: { ...isolatedPipEnv(home), TUNA_SETUP_DRIVER_VERSION: '', PATH: `/nonexistent-nvidia:${process.env.PATH}` },
  };
}

const requested = (since: number, prefix: string) => house.log.slice(since).filter((l) => l.startsWith(`GET ${prefix}`));

describe('install through real pip', () => {
  it("on a GPU-less runner: torch 2.14 from the PyPI mirror (its cu130 build), the user's package in the same command, verified by importing it", async () => {
    const { python, env } = venv();
    const since = house.log.length;
    const r = await runCliAsync(
      ['install', 'tunademo', '--torch', '2.14', '--driver', 'none', '--mirror', `${house.url}/simple`, '--allow-http', '--python', python, '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({
      torch: '2.14.0',
      torchvision: '0.29.0',
      variant: 'cu130',
      cuda: '13.0',
      wheelSource: 'pypi',
      torchIndexUrl: `${house.url}/simple`,
      installer: 'pip',
    });
    expect(out.commands).toEqual([
      [python, '-m', 'pip', 'install', '--disable-pip-version-check', 'torch==2.14.0', 'torchvision==0.29.0', '--index-url', `${house.url}/simple`, 'tunademo'],
    ]);
    expect(out.verified).toEqual({ torch: '2.14.0', cuda: '13.0', arches: CU130, cudaAvailable: false, devices: [], torchvision: '0.29.0', torchaudio: null });
    expect(out.warnings.join()).toMatch(/no NVIDIA driver/);
    expect(out.python).toMatchObject({
      executable: python,
      version: execFileSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim(),
    });
    expect(r.stderr).toMatch(/Successfully installed .*torch-2\.14\.0/); // pip's own output, passed through on stderr
    expect(requested(since, '/files/simple/').map((l) => l.split('/').pop()!.split('-')[0])).toEqual(
      expect.arrayContaining(['torch', 'torchvision', 'tunademo']),
    );
    expect(execFileSync(python, ['-c', 'import tunademo, torch; print(torch.__version__)'], { encoding: 'utf8' }).trim()).toBe('2.14.0');
  });

  it("a CPU build from a PyTorch wheel mirror URL; the user's package from the user's own index, torch held by a constraint", async () => {
    const { python, env } = venv();
    const since = house.log.length;
    const r = await runCliAsync(
      [
        'install',
        'tunademo',
        '--torch',
        '2.14.0',
        '--cuda',
        'cpu',
        '--wheels',
        'mirror',
        '--wheel-mirror',
        `${house.url}/whl`,
        '--allow-http',
        '--python',
        python,
        '--json',
      ],
      { ...env, PIP_INDEX_URL: `${house.url}/simple` },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ variant: 'cpu', cuda: null, wheelSource: 'mirror', torchIndexUrl: `${house.url}/whl/cpu` });
    expect(out.commands).toHaveLength(2);
    expect(out.commands[0]).toEqual(expect.arrayContaining(['--index-url', `${house.url}/whl/cpu`]));
    expect(out.commands[1]).toEqual(expect.arrayContaining(['tunademo', '--constraint']));
    expect(out.commands[1]).not.toContain('--index-url');
    expect(out.verified).toMatchObject({ torch: '2.14.0+cpu', cuda: null, torchvision: '0.29.0+cpu' });
    // the trio only from the wheel mirror; the PyPI index asked for the user's package alone
    expect(requested(since, '/simple/')).toEqual(['GET /simple/tunademo/']);
    expect(new Set(requested(since, '/whl/cpu/').map((l) => l.split(' ')[1]))).toEqual(new Set(['/whl/cpu/torch/', '/whl/cpu/torchvision/'])); // ours (is the wheel listed?) and pip's
  });

  it('catches a torch without kernels for the GPU: exit 1, VERIFY_FAILED naming the compute capability and the arch list', async () => {
    const { python, env } = venv();
    const r = await runCliAsync(
      [
        'install',
        '--torch',
        '2.14',
        '--driver',
        '580.95.05',
        '--gpu-cc',
        '9.0',
        '--mirror',
        `${house.url}/bad/simple`,
        '--allow-http',
        '--python',
        python,
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(1);
    const { error, problems, installed } = r.json();
    expect(error.code).toBe('VERIFY_FAILED');
    expect(error.message).toMatch(/no kernels for compute capability 9\.0: this torch has sm_75 sm_80 sm_86 sm_100 sm_120 compute_120/);
    expect(error.hint).toMatch(/--wheels upstream/);
    expect(problems).toHaveLength(1);
    expect(installed.arches).not.toContain('sm_90');
  });

  it('a torch that sees a GPU it has no kernels for (torch.cuda reports the device) fails too', async () => {
    const { python, env } = venv();
    const r = await runCliAsync(
      ['install', '--torch', '2.14', '--driver', '580.95.05', '--mirror', `${house.url}/bad/simple`, '--allow-http', '--python', python, '--json'],
      { ...env, FAKE_TORCH_DEVICES: 'NVIDIA H100 80GB HBM3=9.0' },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.json().error.message).toMatch(/compute capability 9\.0/);
    expect(r.json().installed.devices).toEqual([{ name: 'NVIDIA H100 80GB HBM3', capability: '9.0' }]);
  });

  it("pip failing (the mirror has no torchvision): INSTALL_FAILED with pip's reason, the command and the index", async () => {
    const { python, env } = venv();
    const r = await runCliAsync(
      ['install', '--torch', '2.14', '--driver', 'none', '--mirror', `${house.url}/partial/simple`, '--allow-http', '--python', python, '--json'],
      env,
    );
    expect(r.code).toBe(1);
    const { error, command, output } = r.json();
    expect(error.code).toBe('INSTALL_FAILED');
    expect(error.message).toMatch(/pip install exited 1: .*torchvision==0\.29\.0/);
    expect(error.hint).toMatch(/partial\/simple has no matching wheel .*--wheels upstream/);
    expect(command).toContain('torchvision==0.29.0');
    expect(output).toMatch(/No matching distribution/);
  });
});

describe('install refuses before installing anything', () => {
  it('an interpreter that does not exist: NO_PYTHON naming it and the flag', async () => {
    const r = await runCliAsync(['install', '--python', '/nonexistent/bin/python', '--driver', 'none', '--offline', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'NO_PYTHON', message: "Python '/nonexistent/bin/python' was not found" });
    expect(r.json().error.hint).toMatch(/--python PATH/);
  });

  it.each([
    [['--', '--index-url', 'https://evil.example/simple'], /installer argument '--index-url' would change the index/],
    [['--', '--extra-index-url=https://x.example/simple'], /would change the index/],
    [['--installer', 'conda'], /--installer 'conda' is not one of auto, pip, uv/],
    [['--wheels', 'pypi', '--wheel-mirror', 'sjtu'], /--wheel-mirror is only used with --wheels auto or mirror/],
  ])('%j: a usage error (exit 2)', async (args, message) => {
    const r = await runCliAsync(['install', '--json', '--python', 'python3', '--driver', 'none', '--offline', ...args]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.json().error.message).toMatch(message);
  });
});

describe('checkInstalled: what makes an installed torch wrong', () => {
  const env = { torch: '2.14.0', torchvision: '0.29.0', variant: 'cu130', cuda: '13.0' as string | null, gpus: ['8.6'], wheelSource: 'upstream' as const };
  const seen: InstalledTorch = {
    torch: '2.14.0+cu130',
    cuda: '13.0',
    arches: CU130,
    cudaAvailable: true,
    devices: [],
    torchvision: '0.29.0+cu130',
    torchaudio: null,
  };
  it.each<[string, Partial<typeof env>, Partial<InstalledTorch>, RegExp | null, number?]>([
    ['right', {}, {}, null],
    ['sm_86 runs 8.9 (same major, higher minor)', { gpus: ['8.9'] }, {}, null],
    ['another patch', {}, { torch: '2.14.1+cu130' }, /torch 2\.14\.1\+cu130 is installed, not 2\.14\.0/],
    ['another variant from the PyTorch index', {}, { torch: '2.14.0+cu126', cuda: '12.6' }, /the cu126 build, not cu130/],
    ['a CPU build where CUDA was resolved', {}, { torch: '2.14.0+cpu', cuda: null }, /a CPU build \(torch\.version\.cuda is None\), not CUDA 13\.0/],
    ['a CUDA build where CPU was resolved', { variant: 'cpu', cuda: null }, {}, /a CUDA 13\.0 build where a CPU build was resolved/],
    ['CUDA 12.9 for 13.0', {}, { cuda: '12.9' }, /built for CUDA 12\.9, not 13\.0/],
    ['PTX only (compute_120) does not count for 12.0', { gpus: ['12.0'] }, { arches: ['sm_90', 'compute_120'] }, /no kernels for compute capability 12\.0/],
    ['Pascal on cu130', { gpus: ['6.1'] }, {}, /no kernels for compute capability 6\.1/],
    ['GPUs here but torch sees none', {}, { cudaAvailable: false }, /is_available\(\) is False, though nvidia-smi sees 2 GPUs/, 2],
    ['torchvision missing', {}, { torchvision: null }, /torchvision does not import/],
    ['torchvision of another release', {}, { torchvision: '0.28.0' }, /torchvision 0\.28\.0 is installed, not 0\.29\.0/],
  ])('%s', (_name, e, s, problem, gpusHere = 0) => {
    const problems = checkInstalled({ ...env, ...e }, { ...seen, ...s }, gpusHere);
    if (problem === null) expect(problems).toEqual([]);
    else expect(problems.join('\n')).toMatch(problem);
  });
});

describe("the Action's install-torch", () => {
  it('a GPU-less hosted runner: pytorch 2.14 through the mirror, installed into python with the written pip.conf, checked; torch-version out', async () => {
    const { python } = venv();
    const r = newRunner();
    const main = await r.main(
      { mirror: `${house.url}/simple`, 'allow-http': 'true', configure: 'pip', cache: 'false', pytorch: '2.14', 'install-torch': 'true', python },
      { TUNA_SETUP_OFFLINE: '1', TUNA_SETUP_DRIVER_VERSION: '', PATH: `/nonexistent-nvidia:${process.env.PATH}` },
    );
    expect(main.code, main.log).toBe(0);
    expect(main.outputs).toMatchObject({ 'torch-index-url': `${house.url}/simple`, cuda: '13.0', 'torch-version': '2.14.0' });
    expect(main.log).toMatch(/::group::Install torch 2\.14\.0 \(cu130\) into .*venv\/bin\/python/);
    expect(main.log).toMatch(/Successfully installed .*torch-2\.14\.0/);
    expect(main.log).toContain('verified: torch 2.14.0, CUDA 13.0, kernels sm_75');
    expect(main.summary).toMatch(/### installed\s+torch 2\.14\.0 \\\(pypi: http:\/\/127\.0\.0\.1:\d+\/simple\\\) into .* with pip/); // markdown-escaped
  });

  it.each([
    [{ 'install-torch': 'true' }, /input 'install-torch'::install-torch: true needs pytorch/],
    [
      { 'install-torch': 'true', pytorch: '2.14', run: 'python -V' },
      /input 'install-torch'::install-torch: installs on the runner, but run's job uses the image's torch/,
    ],
    [{ python: 'python3' }, /input 'python'::python: is only used with install-torch: true/],
  ])('%j: an input problem before anything is written', async (inputs, message) => {
    const r = newRunner();
    const main = await r.main({ mirror: 'tuna', configure: 'pip', cache: 'false', ...inputs }, { TUNA_SETUP_OFFLINE: '1' });
    expect(main.code).toBe(1);
    expect(main.log).toMatch(message);
    expect(main.env).toEqual({});
  });
});
