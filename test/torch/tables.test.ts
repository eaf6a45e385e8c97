// The torch tables, row by row: each corrected or added row is checked
// against the fact its source states, and the source is named in the test.
// Drivers: 515.105.01 (R515: CUDA 11.7), 550.144.03 (12.4), 555.58.02 (12.5),
// 560.35.05 (12.6), 570.172.08 (12.8), 580.95.05 (13.0), 590.48.01 (13.1),
// 610.43.02 (13.3) — NVIDIA Table 3.
import { describe, expect, it } from 'vitest';
import { isTunaSetupError } from '@tuna-setup/sdk';
import {
  archCovers,
  archesFor,
  findRelease,
  minDriverFor,
  nativeCudaForDriver,
  NGC_RELEASES,
  CUDA_FULL,
  resolveTorch,
  TORCH_RELEASES,
  type ResolveRequest,
} from '@tuna-setup/sdk/torch';
import { hasPytorchImage } from '../../packages/sdk/src/torch/releases.js';
import { CUDA_IMAGE_REQUIREMENTS, cudaImageAcceptsDriver, gpuBrand } from '../../packages/sdk/src/torch/cuda-drivers.js';

const release = (minor: string) => TORCH_RELEASES.find((r) => r.minor === minor)!;

function rejection(req: ResolveRequest): string {
  try {
    resolveTorch(req);
  } catch (e) {
    if (isTunaSetupError(e)) return `${e.message} | ${e.hint}`;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(req)} to be rejected`);
}

describe('kernels per wheel variant', () => {
  it('torch 2.0 +cu117 has no sm_90 (pytorch/builder release/2.0 manywheel/build_cuda.sh: 9.0 only for CUDA 11.8)', () => {
    expect(archesFor('cu117', '2.0')).toEqual([37, 50, 60, 70, 75, 80, 86]);
    expect(archCovers(archesFor('cu117', '2.0')!, '9.0')).toBe(false);
    expect(archesFor('cu118', '2.0')).toContain(90);
    // an H100 on R515 (CUDA 11.7): cu117 of 2.0 is refused for lack of kernels, cu118 runs by minor-version compatibility
    expect(rejection({ torch: '2.0', driver: '515.105.01', gpus: ['9.0'], cuda: '11.7' })).toMatch(/no kernels for compute capability 9\.0/);
    expect(rejection({ torch: '2.0', driver: '515.105.01', gpus: ['9.0'], source: 'cuda' })).toMatch(/no kernels for compute capability 9\.0/);
    expect(resolveTorch({ torch: '2.0', driver: '515.105.01', gpus: ['9.0'] }).variant).toBe('cu118');
  });

  it.each([
    ['cu121', '2.1'],
    ['cu121', '2.5'],
    ['cu124', '2.4'],
    ['cu124', '2.6'],
  ])('%s of torch %s builds sm_60, not sm_61 (pytorch/builder release/2.1–2.5 build_cuda.sh: 5.0;6.0;7.0;7.5;8.0;8.6;9.0)', (variant, minor) => {
    expect(archesFor(variant, minor)).toEqual([50, 60, 70, 75, 80, 86, 90]);
    // sm_60 kernels still run a Pascal 6.1 GPU (same major, lower minor)
    expect(archCovers(archesFor(variant, minor)!, '6.1')).toBe(true);
  });

  it('torch 2.13 +cu129 carries the Blackwell set (pytorch PR #188443: 12.9 x86_64 = 75, 80, 86, 90, 100, 120)', () => {
    expect(archesFor('cu129', '2.13')).toEqual([75, 80, 86, 90, 100, 120]);
    expect(archesFor('cu129', '2.12')).toBeUndefined();
  });

  it('every variant of every release has a kernel row (WHEEL_ARCHES covers TORCH_RELEASES)', () => {
    for (const r of TORCH_RELEASES) for (const v of r.cuda) expect(archesFor(v, r.minor), `${v} of ${r.minor}`).toBeDefined();
  });
});

describe('releases', () => {
  it('torch 2.5 lists what the trio supports: 3.9–3.12 (test-infra release/2.5 PYTHON_ARCHES_DICT; pytorch/vision #8730, #8747: no torchvision 0.20 wheels for 3.13)', () => {
    expect(release('2.5').python).toEqual(['3.9', '3.10', '3.11', '3.12']);
    expect(rejection({ torch: '2.5', driver: null, python: '3.13' })).toMatch(/torch 2\.5 has no wheels for Python 3\.13/);
  });

  it('torch 2.13 publishes cu129 on Linux, with no pytorch/pytorch image for it (test-infra #8215, pytorch #188443, colabtools #6053; docker matrix = CUDA_ARCHES_DICT)', () => {
    const r = release('2.13');
    expect(r.cuda).toEqual(['cu126', 'cu129', 'cu130', 'cu132']);
    expect(r.pypiDefault).toBe('cu130');
    expect(hasPytorchImage(r, 'cu129')).toBe(false);
    expect(['cu126', 'cu130', 'cu132'].every((v) => hasPytorchImage(r, v))).toBe(true);
    expect(hasPytorchImage(release('2.8'), 'cu129')).toBe(true);
    // an RTX 50 on R570 (12.8, below 13.x's 580): only cu129 has sm_120 and runs there
    const w = resolveTorch({ torch: '2.13', driver: '570.172.08', gpus: ['12.0'], cuda: '12.9' });
    expect(w.torchIndexUrl).toBe('https://download.pytorch.org/whl/cu129');
  });

  it('torch 2.14.0 is the newest release (colabtools #6093: torchvision 0.29.0, CUDA 13.0 default, cu126/cu132; test-infra release/2.14: Pythons 3.10–3.14, 3.14t; 3.15 torch-only)', () => {
    const { release: r, patch } = findRelease('latest');
    expect(r.minor).toBe('2.14');
    expect(patch).toEqual({ torch: '2.14.0', torchvision: '0.29.0', torchaudio: null });
    expect(r.cuda).toEqual(['cu126', 'cu130', 'cu132']);
    expect(r.pypiDefault).toBe('cu130');
    expect(r.python).toEqual(['3.10', '3.11', '3.12', '3.13', '3.14', '3.14t']);
    expect(r.cudnn).toBe(9);
    expect(archesFor('cu126', '2.14')).toEqual([50, 60, 70, 75, 80, 86, 90]);
    expect(archesFor('cu132', '2.14')).toEqual([75, 80, 86, 90, 100, 120]);
  });
});

describe('driver table', () => {
  it('CUDA 11.0 GA needs 450.51.05 / 451.48 (CUDA release notes Table 3: 11.0.2 GA; 450.36.06 is the 11.0.1 RC)', () => {
    expect(minDriverFor('11.0', 'native')).toBe('450.51.05');
    expect(minDriverFor('11.0', 'native', 'windows')).toBe('451.48');
    expect(nativeCudaForDriver('450.36.06')).toBe('10.2');
    expect(nativeCudaForDriver('450.51.05')).toBe('11.0');
  });

  it('CUDA 13.3 needs 610.43.02 on Linux, no bundled Windows driver (CUDA 13.3 release notes, Table 3)', () => {
    expect(minDriverFor('13.3', 'native')).toBe('610.43.02');
    expect(minDriverFor('13.3', 'native', 'windows')).toBeUndefined();
    expect(nativeCudaForDriver('610.43.02')).toBe('13.3');
    expect(nativeCudaForDriver('595.71.05')).toBe('13.2');
  });

  it("every NGC release's CUDA has a driver row, so each can be chosen (CUDA_DRIVERS covers NGC_RELEASES)", () => {
    for (const n of NGC_RELEASES) expect(minDriverFor(n.cuda, 'native'), n.tag).toBeDefined();
  });
});

describe('NGC releases', () => {
  it.each<[string, string, string, string]>([
    // rel-24-05 / rel-24-07 / rel-24-10 as tabulated in a stored copy of the NGC notes
    ['2.4', '550.144.03', '24.05-py3', '12.4'],
    ['2.4', '555.58.02', '24.07-py3', '12.5'],
    ['2.5', '560.35.05', '24.10-py3', '12.6'],
    // 2.10.0a0+b4e4ee81d3.nv25.12, CUDA 13.1 (stored reports; research/torch-cuda.md corrections)
    ['2.10', '590.48.01', '25.12-py3', '13.1'],
    // 26.06 is CUDA 13.3: reachable once the driver table has 13.3
    ['2.13', '610.43.02', '26.06-py3', '13.3'],
  ])('torch %s on driver %s → NGC %s (CUDA %s)', (torch, driver, tag, cuda) => {
    const r = resolveTorch({ torch, driver, gpus: ['9.0'], source: 'ngc' });
    expect(r.image).toBe(`nvcr.io/nvidia/pytorch:${tag}`);
    expect(r.imageCuda).toBe(cuda);
  });

  it('26.06 (CUDA 13.3) is not chosen for a driver that runs 13.2 at most (Table 3: 595 → 13.2)', () => {
    expect(rejection({ torch: '2.13', driver: '595.71.05', gpus: ['9.0'], source: 'ngc' })).toMatch(
      /no NGC PyTorch release with torch 2\.13 runs on driver 595\.71\.05/,
    );
  });
});

describe('nvidia/cuda NVIDIA_REQUIRE_CUDA with brand exceptions (nvidia/container-images cuda dist/*/base/Dockerfile)', () => {
  it.each<[string, string, string[], boolean]>([
    // the driver's own CUDA is enough, whatever the brand
    ['12.8', '570.172.08', [], true],
    ['13.2', '595.71.05', ['GeForce'], true],
    // dist/12.8.1: brand=tesla,driver>=535,driver<536 (and 470, 550, 560, 565)
    ['12.8', '535.230.02', ['Tesla'], true],
    ['12.8', '535.230.02', ['NVIDIA', 'NVIDIA'], true],
    ['12.8', '535.230.02', ['GeForce'], false],
    ['12.8', '535.230.02', [], false],
    ['12.8', '535.230.02', ['Tesla', 'GeForce'], false],
    ['12.8', '545.23.08', ['Tesla'], false],
    // dist/11.8.0 and 12.4.1 still name consumer brands; from 12.5 they are gone
    ['11.8', '470.256.02', ['GeForce RTX'], true],
    ['12.4', '535.230.02', ['GeForce'], true],
    ['12.6', '470.256.02', ['GeForce'], false],
    ['12.6', '470.256.02', ['Quadro RTX'], true],
    // dist/12.9.1 drops R470; dist/13.0.x admits R535, R550, R565, R570, R575
    ['12.9', '470.256.02', ['Tesla'], false],
    ['13.0', '570.172.08', ['NVIDIA'], true],
    ['13.0', '560.35.05', ['NVIDIA'], false],
    // the 13.2.0 image env: R535, R570, R580, R590
    ['13.2', '580.95.05', ['NVIDIA'], true],
    ['13.2', '590.48.01', ['NVIDIA RTX Virtual Workstation'], true],
    // no exceptions known for the image: the driver's own CUDA decides
    ['13.3', '595.71.05', ['NVIDIA'], false],
  ])('nvidia/cuda %s on %s with %j → %s', (cuda, driver, brands, ok) => {
    const v = cudaImageAcceptsDriver(cuda, driver, brands);
    expect(v.ok).toBe(ok);
    expect(v.why).toContain(driver);
  });

  it('says why a brand exception does not apply', () => {
    expect(cudaImageAcceptsDriver('12.8', '535.230.02').why).toMatch(/admits R535 only for .*tesla.* GPUs, and the GPU brand is unknown/);
    expect(cudaImageAcceptsDriver('12.8', '535.230.02', ['GeForce']).why).toMatch(/not GeForce$/);
    expect(cudaImageAcceptsDriver('12.8', '535.230.02', ['Tesla'])).toMatchObject({
      via: 'brand-exception',
      why: expect.stringMatching(/nvidia\/cuda:12\.8\.1 admits R535 for tesla GPUs/),
    });
    expect(cudaImageAcceptsDriver('12.8', '570.172.08').via).toBe('native');
  });

  it('reads NVML and nvidia-smi brand names', () => {
    expect(
      ['Tesla', 'Quadro RTX', 'NVML_BRAND_NVIDIA_VWS', 'NVIDIA RTX Virtual Workstation', 'NVIDIA Virtual Compute Server', 'GeForce RTX', 'Matrox'].map(
        gpuBrand,
      ),
    ).toEqual(['tesla', 'quadrortx', 'vws', 'vws', 'vcs', 'geforcertx', undefined]);
  });

  it('has a row for each nvidia/cuda image the resolver tags (CUDA_FULL)', () => {
    for (const cuda of Object.keys(CUDA_FULL))
      expect(
        CUDA_IMAGE_REQUIREMENTS.find((r) => r.cuda === cuda),
        cuda,
      ).toBeDefined();
    for (const r of CUDA_IMAGE_REQUIREMENTS) expect(r.tag.startsWith(`${r.cuda}.`)).toBe(true);
  });
});
