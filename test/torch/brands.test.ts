// nvidia/cuda images' brand exceptions (issue: torch through the fast mirror,
// "NVIDIA_REQUIRE_CUDA brand exceptions are ignored, refusing valid
// datacenter setups"): `cuda>=12.8 … brand=tesla,driver>=535,driver<536`
// admits R535 on data-center GPUs (cuda-compat carries the newer CUDA).
// Source of the branch lists: nvidia/container-images/cuda dist/<ver>/ubuntu2204/base/Dockerfile.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preflight, type DockerReport } from '@tuna-setup/sdk/docker';
import { detectGpu, parseNvidiaSmiBrands, resolveTorch } from '@tuna-setup/sdk/torch';
import { tempDir } from '../helpers/tmp.js';

// `nvidia-smi -q` sections as the tool prints them (two GPUs; other lines elided)
const Q = `
==============NVSMI LOG==============

Timestamp                                 : Fri Nov 27 13:00:00 2026
Driver Version                            : 535.183.01
CUDA Version                              : 12.2

Attached GPUs                             : 2
GPU 00000000:07:00.0
    Product Name                          : NVIDIA A100-SXM4-80GB
    Product Brand                         : NVIDIA
    Product Architecture                  : Ampere
GPU 00000000:0F:00.0
    Product Name                          : Tesla V100-SXM2-32GB
    Product Brand                         : Tesla
    Product Architecture                  : Volta
`;

const R535 = '535.183.01';

describe('brand exceptions in the resolution ({source=cuda})', () => {
  it('R535 with data-center GPUs: nvidia/cuda 12.8 admits it — cu128, saying it is the brand exception', () => {
    const r = resolveTorch({ torch: '2.7', driver: R535, gpus: ['8.0'], gpuBrands: ['NVIDIA'], source: 'cuda' });
    expect(r.variant).toBe('cu128');
    expect(r.image).toMatch(/^nvidia\/cuda:12\.8/);
    expect(r.reasons.join('\n')).toMatch(
      /cu128: chosen — driver 535\.183\.01 runs CUDA 12\.2 natively, below the image's 12\.8, but nvidia\/cuda:12\.8\.1 admits R535 for nvidia GPUs \(brand exception, cuda-compat\)/,
    );
  });

  it('the same driver without brands, or with a GeForce (not in 12.5+ exceptions): only what the driver runs natively', () => {
    expect(resolveTorch({ torch: '2.7', driver: R535, gpus: ['8.0'], source: 'cuda' }).variant).toBe('cu118');
    const geforce = resolveTorch({ torch: '2.7', driver: R535, gpus: ['8.6'], gpuBrands: ['GeForce RTX'], source: 'cuda' });
    expect(geforce.variant).toBe('cu118');
    expect(geforce.reasons.join('\n')).toMatch(
      /cu128: rejected — driver 535\.183\.01 runs CUDA 12\.2 natively, below the image's 12\.8; nvidia\/cuda:12\.8\.1 admits R535 only for .*tesla.* GPUs, not GeForce RTX/,
    );
  });

  it('a branch the image does not list (R545) is not admitted, whatever the brand', () => {
    expect(resolveTorch({ torch: '2.7', driver: '545.29.06', gpus: ['8.0'], gpuBrands: ['Tesla'], source: 'cuda' }).variant).toBe('cu118');
  });

  it('wheels and pytorch/pytorch images never needed it (minor-version compatibility): brands change nothing there', () => {
    const wheels = resolveTorch({ torch: '2.7', driver: R535, gpus: ['8.0'] });
    expect(wheels.variant).toBe('cu128'); // R535 runs every CUDA 12.x wheel
    expect(resolveTorch({ torch: '2.7', driver: R535, gpus: ['8.0'], gpuBrands: ['Tesla'] }).reasons).toEqual(wheels.reasons);
  });
});

describe('brand detection and the run preflight', () => {
  it("reads every GPU's Product Brand from nvidia-smi -q", () => {
    expect(parseNvidiaSmiBrands(Q)).toEqual(['NVIDIA', 'Tesla']);
    expect(parseNvidiaSmiBrands('No devices were found')).toEqual([]);
  });

  it('detectGpu({ brands }) asks nvidia-smi -q once and gives each GPU its brand; a count mismatch leaves them unknown, with a note', async () => {
    const bin = path.join(tempDir('fake-smi-'), 'bin');
    mkdirSync(bin);
    const smi = (q: string) => {
      writeFileSync(
        path.join(bin, 'nvidia-smi'),
        `#!/bin/sh\ncase "$1" in\n  -q) cat <<'EOF'\n${q}\nEOF\n;;\n  *) printf '${R535}, NVIDIA A100-SXM4-80GB, 8.0, 81920\\n${R535}, Tesla V100-SXM2-32GB, 7.0, 32768\\n';;\nesac\n`,
      );
      chmodSync(path.join(bin, 'nvidia-smi'), 0o755);
    };
    smi(Q);
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const r = await detectGpu({ sysroot: tempDir(), env, brands: true });
    expect(r.gpus.map((g) => g.brand)).toEqual(['NVIDIA', 'Tesla']);
    expect((await detectGpu({ sysroot: tempDir(), env })).gpus[0]!.brand).toBeUndefined(); // not asked: no second call
    smi(Q.split('GPU 00000000:0F')[0]!);
    const partial = await detectGpu({ sysroot: tempDir(), env, brands: true });
    expect(partial.gpus.map((g) => g.brand)).toEqual([undefined, undefined]);
    expect(partial.notes).toContain('nvidia-smi -q: 1 brands for 2 GPUs; GPU brands unknown');
  });

  it('preflight: an nvidia/cuda 12.8 image on R535 passes with data-center brands, and is refused without them', () => {
    const docker: DockerReport = {
      available: true,
      serverVersion: '26.1.5',
      runtimes: ['runc', 'nvidia'],
      nvidiaRuntime: true,
      nvidiaHook: null,
      cdiSpecDirs: [],
      registryMirrors: [],
    };
    const base = { docker, gpus: 'all' as const, driverCuda: '12.2', imageCuda: '12.8', requiresNativeCuda: true, driver: R535 };
    expect(preflight({ ...base, gpuBrands: ['NVIDIA', 'Tesla'] })).toEqual([]);
    expect(preflight({ ...base, gpuBrands: [] })).toEqual([
      'the image needs CUDA 12.8 but the driver runs CUDA ≤ 12.2 natively — update the driver or pick an older image',
    ]);
    expect(preflight({ ...base, gpuBrands: ['NVIDIA', 'GeForce'] })).toHaveLength(1); // every GPU must be of a listed brand
  });
});
