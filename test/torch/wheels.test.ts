// Where the wheels come from (issue: torch through the fast mirror). PyPI's
// `torch` on Linux is the release's PyPI-default CUDA build (REL: pypiDefault
// per release, research/torch-cuda.md §4), so when that build fits the
// machine, the chosen PyPI mirror is the fast, correct source; otherwise the
// variant the GPU needs comes from the PyTorch index. Drivers as in
// resolve.test.ts (MVC: 12.x ≥ 525.60.13, 13.x ≥ 580.65.06).
import { describe, expect, it } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import { inWords, isTunaSetupError } from '@tuna-setup/sdk';
import { resolveTorch, type ResolveRequest } from '@tuna-setup/sdk/torch';

const TUNA = 'https://pypi.tuna.tsinghua.edu.cn/simple';
const D = { r550: '550.144.03', r570: '570.172.08', r580: '580.95.05' };
const on = (req: Omit<ResolveRequest, 'pypiIndex'>) => resolveTorch({ ...req, pypiIndex: TUNA });

describe('--wheels auto with a PyPI mirror', () => {
  it('the PyPI build fits (torch 2.9 is cu128 on PyPI; driver 570 runs 12.x): the whole trio from the mirror', () => {
    const r = on({ torch: '2.9', driver: D.r570, gpus: ['8.9'] });
    expect(r).toMatchObject({ variant: 'cu128', wheelSource: 'pypi', torchIndexUrl: TUNA, warnings: [] });
    expect(r.pipArgs).toEqual(['install', 'torch==2.9.1', 'torchvision==0.24.1', 'torchaudio==2.9.1', '--index-url', TUNA]);
    expect(r.reasons).toContain('cu128 is the PyPI build of torch 2.9: from the mirror pypi.tuna.tsinghua.edu.cn');
  });

  it('a newer CUDA also fits (driver 580 runs cu130): the fast source still wins, and the reason says how to get the newer one', () => {
    const r = on({ torch: '2.9', driver: D.r580, gpus: ['9.0'] });
    expect(r).toMatchObject({ variant: 'cu128', wheelSource: 'pypi', torchIndexUrl: TUNA });
    expect(inWords(r.reasons.find((x) => x.includes('chosen instead'))!, 'cli')).toMatch(
      /^cu128: chosen instead — the PyPI build of torch 2\.9, from the mirror .* --wheels upstream for cu130$/,
    );
    const up = on({ torch: '2.9', driver: D.r580, gpus: ['9.0'], wheels: 'upstream' });
    expect(up).toMatchObject({ variant: 'cu130', wheelSource: 'upstream', torchIndexUrl: 'https://download.pytorch.org/whl/cu130' });
  });

  it('the GPU needs a variant only the PyTorch index has (sm_120 on torch 2.7: PyPI is cu126, which has no sm_120): cu128 from the upstream', () => {
    const r = on({ torch: '2.7', driver: D.r570, gpus: ['12.0'] });
    expect(r).toMatchObject({ variant: 'cu128', wheelSource: 'upstream', torchIndexUrl: 'https://download.pytorch.org/whl/cu128' });
    expect(r.reasons.join('\n')).toMatch(/not from PyPI: its build of torch 2\.7 is cu126 — no kernels for compute capability 12\.0/);
  });

  it('a wheel mirror, when one is given, serves what PyPI cannot', () => {
    const r = on({ torch: '2.7', driver: D.r570, gpus: ['12.0'], wheelIndex: 'https://mirror.sjtu.edu.cn/pytorch-wheels' });
    expect(r).toMatchObject({ wheelSource: 'mirror', torchIndexUrl: 'https://mirror.sjtu.edu.cn/pytorch-wheels/cu128' });
  });

  it('an explicit --cuda that is not the PyPI build comes from the PyTorch index', () => {
    expect(on({ torch: '2.9', driver: D.r580, cuda: '13.0' })).toMatchObject({ variant: 'cu130', wheelSource: 'upstream' });
    expect(on({ torch: '2.9', driver: D.r580, cuda: '12.8' })).toMatchObject({ variant: 'cu128', wheelSource: 'pypi' });
  });

  it("cpu comes from the PyTorch index (PyPI's Linux torch is a CUDA build)", () => {
    expect(on({ torch: '2.9', driver: D.r580, cuda: 'cpu' })).toMatchObject({
      variant: 'cpu',
      wheelSource: 'upstream',
      torchIndexUrl: 'https://download.pytorch.org/whl/cpu',
    });
  });

  it('without a PyPI mirror nothing changes: the newest fitting variant from download.pytorch.org', () => {
    expect(resolveTorch({ torch: '2.9', driver: D.r580, gpus: ['9.0'] })).toMatchObject({ variant: 'cu130', wheelSource: 'upstream' });
    // pypi.org itself is no faster than download.pytorch.org: auto does not trade the newer CUDA for it
    expect(resolveTorch({ torch: '2.9', driver: D.r580, gpus: ['9.0'], pypiIndex: 'https://pypi.org/simple' })).toMatchObject({
      variant: 'cu130',
      wheelSource: 'upstream',
    });
    expect(resolveTorch({ torch: '2.9', driver: D.r580, gpus: ['9.0'], pypiIndex: 'https://pypi.org/simple', wheels: 'pypi' })).toMatchObject({
      variant: 'cu128',
      wheelSource: 'pypi',
    });
  });
});

describe('--wheels pypi', () => {
  const fail = (req: ResolveRequest) => {
    try {
      resolveTorch(req);
    } catch (e) {
      if (isTunaSetupError(e)) return e.say('cli');
      throw e;
    }
    throw new Error('resolved');
  };
  it('refuses when the PyPI build does not fit the GPU, naming the way out', () => {
    expect(fail({ torch: '2.7', driver: D.r570, gpus: ['12.0'], wheels: 'pypi', pypiIndex: TUNA })).toEqual({
      message:
        'the PyPI build of torch 2.7 (cu126) does not fit: no kernels for compute capability 12.0 (cu126 of torch 2.7 has sm_50, sm_60, sm_70, sm_75, sm_80, sm_86, sm_90)',
      hint: '--wheels auto takes cu128 from the PyTorch index',
    });
  });
  it('refuses without a PyPI index to take them from', () => {
    expect(fail({ torch: '2.9', driver: D.r570, wheels: 'pypi' }).message).toBe('--wheels pypi needs the PyPI index the job uses');
  });
});

describe('no NVIDIA driver (GPU-less runners: every GitHub-hosted one)', () => {
  it('auto with a PyPI mirror: the PyPI build from the mirror, with a warning that the job sees no GPU', () => {
    const r = on({ torch: '2.13', driver: null });
    expect(r).toMatchObject({ variant: 'cu130', cuda: '13.0', wheelSource: 'pypi', torchIndexUrl: TUNA });
    expect(r.warnings).toEqual(['no NVIDIA driver on this machine: cu130 of torch 2.13 installs, but the job will see no GPU']);
  });
  it('an explicit CUDA resolves (building or CPU-testing against a CUDA build is ordinary), with the warning', () => {
    const r = resolveTorch({ torch: '2.6', driver: null, cuda: '12.4' });
    expect(r).toMatchObject({ variant: 'cu124', wheelSource: 'upstream', torchIndexUrl: 'https://download.pytorch.org/whl/cu124' });
    expect(r.warnings).toHaveLength(1);
  });
  it('auto without a PyPI mirror stays cpu', () => {
    expect(resolveTorch({ torch: '2.13', driver: null })).toMatchObject({ variant: 'cpu', warnings: [] });
  });
  it('an explicit CUDA the release does not publish is still refused', () => {
    expect(() => resolveTorch({ torch: '2.6', driver: null, cuda: '12.8' })).toThrow(/publishes no cu128 wheels/);
  });
});

describe('wheels that fit, with no image that does', () => {
  it('B200 (10.0) on 575, torch 2.13: cu129 wheels (Linux-only build, no pytorch/pytorch image); the image is null with what would give one', () => {
    const r = resolveTorch({ torch: '2.13', driver: '575.64.05', gpus: ['10.0'] });
    expect(r).toMatchObject({ variant: 'cu129', torchIndexUrl: 'https://download.pytorch.org/whl/cu129', image: null, imageCuda: null });
    expect(inWords(r.imageProblem!, 'cli')).toMatch(
      /pytorch\/pytorch has no cu129 image of torch 2\.13.*--source cuda installs the cu129 wheels into an nvidia\/cuda image/,
    );
    // nvidia/cuda: the driver runs 12.9 natively
    expect(resolveTorch({ torch: '2.13', driver: '575.64.05', gpus: ['10.0'], source: 'cuda' }).image).toMatch(/^nvidia\/cuda:12\.9/);
  });
  it('RTX 4090 on 560, torch 2.13: cu129 wheels, and the pytorch/pytorch cu126 image that fits', () => {
    const r = resolveTorch({ torch: '2.13', driver: '560.35.05', gpus: ['8.9'] });
    expect(r).toMatchObject({ variant: 'cu129', image: 'pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime', imageCuda: '12.6' });
  });
});

describe('uv: the same choice for a uv project (pyproject.toml)', () => {
  const MIRROR = 'https://pypi.tuna.tsinghua.edu.cn/simple';
  it('from the PyTorch index: an explicit index that only the trio comes from — no other package can be taken from it', () => {
    const r = resolveTorch({ torch: '2.11', driver: '580.95.05', gpus: ['8.6'] });
    const toml = parseToml(r.uvPyproject) as {
      tool: { uv: { index: { name: string; url: string; explicit: boolean }[]; sources: Record<string, { index: string }> } };
    };
    expect(toml.tool.uv.index).toEqual([{ name: `pytorch-${r.variant}`, url: r.torchIndexUrl, explicit: true }]);
    expect(toml.tool.uv.sources).toEqual({
      torch: { index: `pytorch-${r.variant}` },
      torchvision: { index: `pytorch-${r.variant}` },
      torchaudio: { index: `pytorch-${r.variant}` },
    });
    expect(Object.keys(parseToml(resolveTorch({ torch: '2.14', driver: '580.95.05' }).uvPyproject) as object)).toEqual(['tool']);
    expect(resolveTorch({ torch: '2.14', driver: '580.95.05' }).uvPyproject).not.toContain('torchaudio'); // no torchaudio release for 2.14
  });
  it('from the PyPI mirror: that mirror as the default index', () => {
    const r = resolveTorch({ torch: '2.14', driver: '580.95.05', pypiIndex: MIRROR });
    expect(parseToml(r.uvPyproject)).toEqual({ tool: { uv: { index: [{ url: MIRROR, default: true }] } } });
  });
});

describe('the request is checked in the SDK (not only by the CLI)', () => {
  it.each([
    [{ driver: 'banana' }, /^driver 'banana' is not a driver version like 550\.54\.15$/],
    [{ driver: '580.95.05', gpus: ['sm_86'] }, /^gpuCc 'sm_86' is not a compute capability like 8\.6$/],
    [{ driver: null, python: 'three' }, /^python 'three' is not a version like 3\.12$/],
  ])('%j: USAGE before anything is resolved', (req, message) => {
    const e = (() => {
      try {
        resolveTorch(req as ResolveRequest);
      } catch (x) {
        return x;
      }
    })() as InstanceType<typeof import('@tuna-setup/sdk').TunaSetupError>;
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(message);
  });
});
