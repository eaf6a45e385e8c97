/**
 * The CLI contract of `resolve` (the README's contract), offline: the JSON
 * shape, detection through --sysroot and a stand-in nvidia-smi, exit codes
 * and messages. The registry check is in integration/registry.test.ts.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/gpu/h100-580');
// a HOME of its own: the index pip uses now (PIP_INDEX_URL, pip.conf) is part of the answer
const home = tempDir('tuna-resolve-home-');
const offline = { TUNA_SETUP_OFFLINE: '1', TUNA_SETUP_DRIVER_VERSION: '', PIP_INDEX_URL: '', HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };

/** a PATH holding a stand-in nvidia-smi that answers like the H100 machine's */
function fakeSmiPath(): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'bin'));
  const smi = path.join(dir, 'bin', 'nvidia-smi');
  writeFileSync(smi, `#!/bin/sh\ncat ${path.join(FIXTURE, 'nvidia-smi-query.txt')}\n`);
  chmodSync(smi, 0o755);
  return `${path.join(dir, 'bin')}:/usr/bin:/bin`;
}

describe('tuna-setup resolve', () => {
  it('--json prints the contract shape; the H100 machine (driver 580.159.04, cc 9.0) gets cu132 for latest (torch 2.14)', () => {
    const r = runCli(['resolve', '--json', '--sysroot', FIXTURE], { ...offline, PATH: fakeSmiPath() });
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({
      variant: 'cu132',
      cuda: '13.2',
      torch: '2.14.0',
      torchvision: '0.29.0',
      torchaudio: null,
      torchIndexUrl: 'https://download.pytorch.org/whl/cu132',
      wheelSource: 'upstream',
      image: 'pytorch/pytorch:2.14.0-cuda13.2-cudnn9-runtime',
      digest: null,
      driver: '580.159.04',
      gpus: ['9.0'],
    });
    expect(out.reasons[0]).toBe('driver 580.159.04 (from sysfs), GPUs 9.0');
    expect(out.reasons.at(-1)).toBe('offline: the tag was not checked in the registry');
    expect(r.stderr).toBe('');
  });

  it('prints the decision and its reasons for people', () => {
    const r = runCli(['resolve', '--torch', '2.7', '--driver', '550.144.03', '--gpu-cc', '6.1', '--python', '3.11'], offline);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('variant: cu126 (CUDA 12.6) — driver 550.144.03, GPUs 6.1');
    expect(r.stdout).toContain('pip:     pip install torch==2.7.1 torchvision==0.22.1 torchaudio==2.7.1 --index-url https://download.pytorch.org/whl/cu126');
    expect(r.stdout).toContain('image:   pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime (not checked: offline)');
    expect(r.stdout).toContain('  - cu128: rejected — no kernels for compute capability 6.1');
  });

  it('no GPU at all: cpu wheels', () => {
    const r = runCli(['resolve', '--json', '--driver', 'none'], offline);
    expect(r.json()).toMatchObject({ variant: 'cpu', cuda: null, torchIndexUrl: 'https://download.pytorch.org/whl/cpu' });
  });

  it('an impossible request exits 1 with the reason and what would work; --json still prints the reasons', () => {
    const r = runCli(['resolve', '--json', '--torch', '2.13', '--driver', '470.256.02', '--gpu-cc', '7.5'], offline);
    expect(r.code).toBe(1);
    expect(r.json().reasons).toContain('cu126: rejected — driver 470.256.02 is older than 525.60.13, the minimum for CUDA 12.x (minor-version compatibility)');
    expect(r.stderr).toMatch(
      /^tuna-setup: no CUDA variant of torch 2\.13 fits: .*\nhint: would work: a driver ≥ 525\.60\.13 \(for cu126\); or torch 2\.7 \(cu118\); or --cuda cpu\n$/,
    );
  });

  it('--registry-mirror: a path prefix and an http mirror (with --allow-http) rewrite the image', () => {
    const r = runCli(
      [
        'resolve',
        '--json',
        '--torch',
        '2.7',
        '--driver',
        '570.172.08',
        '--gpu-cc',
        '8.6',
        '--registry-mirror',
        'http://hub.example:5000/dockerhub',
        '--allow-http',
      ],
      offline,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().image).toBe('hub.example:5000/dockerhub/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime');
    expect(r.json().reasons).toContain('image pulled through registry mirror hub.example:5000/dockerhub');
  });

  it('--wheel-mirror NAME takes the wheels from a catalog mirror with a PEP 503 index', () => {
    expect(runCli(['resolve', '--json', '--driver', '570.172.08', '--gpu-cc', '8.9', '--wheel-mirror', 'sjtu'], offline).json().torchIndexUrl).toBe(
      'https://mirror.sjtu.edu.cn/pytorch-wheels/cu126',
    );
    const flat = runCli(['resolve', '--driver', '570.172.08', '--wheel-mirror', 'aliyun'], offline);
    expect(flat.code).toBe(2);
    expect(flat.stderr).toMatch(/aliyun's PyTorch wheels are a flat -f listing/);
  });

  it.each([
    [['--source', 'quay'], 2, /--source 'quay' is not one of pytorch, ngc, cuda/],
    [['--flavor', 'slim'], 2, /--flavor 'slim' is not one of runtime, devel/],
    [['--gpu-cc', 'sm_86'], 2, /--gpu-cc 'sm_86' is not a compute capability like 8\.6/],
    [['--driver', 'latest'], 2, /--driver 'latest' is not a driver version/],
    [['--python', 'py3'], 2, /--python 'py3' is not a version like 3\.12/],
    [
      ['--registry-mirror', 'https://hub.example/v2/hub'],
      2,
      /--registry-mirror: 'https:\/\/hub\.example\/v2\/hub' has the path '\/v2\/hub', which is not a repository prefix/,
    ],
    [['--registry-mirror', 'http://hub.example'], 2, /--registry-mirror: 'http:\/\/hub\.example' is plain http\nhint: use https:\/\/, or pass --allow-http/],
    [['--registry-mirror', 'no_such=https://hub.example'], 2, /--registry-mirror: 'no_such' is not a registry name/],
    [['--torch', '3.0', '--driver', 'none'], 2, /torch 3\.0 is not in tuna-setup's tables\nhint: known: 2\.0–2\.14/],
    [['--cuda', '12', '--driver', 'none'], 2, /cuda '12' is not auto, X\.Y or cpu/],
  ])('bad input %j exits %i', (args, code, message) => {
    const r = runCli(['resolve', ...args], offline);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('--mirror tuna on a machine without a driver: the PyPI build from the mirror, a warning, exit 0', () => {
    const r = runCli(['resolve', '--json', '--torch', '2.13', '--mirror', 'tuna'], { ...offline, TUNA_SETUP_DRIVER_VERSION: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ variant: 'cu130', wheelSource: 'pypi', torchIndexUrl: 'https://pypi.tuna.tsinghua.edu.cn/simple' });
    expect(r.stderr).toMatch(/warning: no NVIDIA driver on this machine/);
  });

  it('the index pip uses now (pip.conf) is the PyPI source by default; a reason says where it came from', () => {
    const h = tempDir('tuna-resolve-pipconf-');
    mkdirSync(path.join(h, '.config/pip'), { recursive: true });
    writeFileSync(path.join(h, '.config/pip/pip.conf'), '[global]\nindex-url = https://mirrors.ustc.edu.cn/pypi/simple\n');
    const r = runCli(['resolve', '--json', '--torch', '2.9', '--driver', '570.172.08', '--gpu-cc', '8.9'], {
      ...offline,
      HOME: h,
      XDG_CONFIG_HOME: path.join(h, '.config'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ wheelSource: 'pypi', torchIndexUrl: 'https://mirrors.ustc.edu.cn/pypi/simple' });
    expect(r.json().reasons).toContain(`PyPI index: https://mirrors.ustc.edu.cn/pypi/simple (${path.join(h, '.config/pip/pip.conf')})`);
    // a private index is not a torch source
    writeFileSync(path.join(h, '.config/pip/pip.conf'), '[global]\nindex-url = https://pkgs.corp.example/simple\n');
    expect(
      runCli(['resolve', '--json', '--torch', '2.9', '--driver', '570.172.08'], { ...offline, HOME: h, XDG_CONFIG_HOME: path.join(h, '.config') }).json()
        .wheelSource,
    ).toBe('upstream');
  });

  it('--wheels upstream with --wheel-mirror, or --wheels mirror with --mirror, are usage errors', () => {
    expect(runCli(['resolve', '--wheels', 'upstream', '--wheel-mirror', 'sjtu', '--driver', 'none'], offline).code).toBe(2);
    expect(runCli(['resolve', '--wheels', 'mirror', '--mirror', 'tuna', '--driver', 'none'], offline).code).toBe(2);
    expect(runCli(['resolve', '--wheels', 'sometimes'], offline).stderr).toMatch(/--wheels 'sometimes' is not one of auto, pypi, mirror, upstream/);
  });
});
