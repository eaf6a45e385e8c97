// Platforms (issue: torch through the fast mirror, "only x86_64 exists"):
// aarch64 servers get their own variants, kernels and PyPI build; Jetson is
// refused with what to use; macOS and Windows get what PyTorch publishes there.
// Sources: pytorch/test-infra release/2.X branches (CUDA_AARCH64_ARCHES,
// promote_pypi_to_staging.sh, generate_docker_release_matrix.py).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AARCH64_WHEELS,
  archesFor,
  detectL4t,
  forPlatform,
  machinePlatform,
  platformOf,
  resolveTorch,
  TORCH_RELEASES,
  type ResolveRequest,
} from '@tuna-setup/sdk/torch';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const MIRROR = 'https://pypi.tuna.tsinghua.edu.cn/simple';
const aarch64 = (req: Partial<ResolveRequest>) => resolveTorch({ driver: '580.95.05', platform: 'linux-aarch64', ...req });

describe('linux-aarch64 (SBSA: Grace Hopper, Graviton with GPUs, Thor)', () => {
  it("2.14 on a GH200: PyPI's aarch64 torch is the cu130 build since 2.11 (test-infra 0cd5e78a1), so it comes from the mirror", () => {
    const r = aarch64({ torch: '2.14', gpus: ['9.0'], pypiIndex: MIRROR });
    expect(r).toMatchObject({ variant: 'cu130', wheelSource: 'pypi', torchIndexUrl: MIRROR });
  });

  it("2.9 on a GH200: PyPI's aarch64 torch is CPU-only (pytorch #168065), so the CUDA build comes from the PyTorch index, saying why", () => {
    const r = aarch64({ torch: '2.9', gpus: ['9.0'], pypiIndex: MIRROR });
    expect(r).toMatchObject({ variant: 'cu130', wheelSource: 'upstream', torchIndexUrl: 'https://download.pytorch.org/whl/cu130' });
    expect(r.reasons.join('\n')).toContain("not from PyPI: its build of torch 2.9 is cpu — PyPI's torch 2.9 for linux-aarch64 is the CPU build");
  });

  it('2.8 publishes only cu129 on aarch64 (release/2.8 CUDA_AARCH64_ARCHES), not the x86 cu128', () => {
    expect(aarch64({ torch: '2.8', gpus: ['9.0'] }).variant).toBe('cu129');
    expect(() => aarch64({ torch: '2.8', cuda: '12.8' })).toThrow(/torch 2\.8 publishes no cu128 wheels for linux-aarch64 \(it has cu129\)/);
  });

  it("kernels per aarch64 variant: 2.7's cu128 (9.0;10.0;12.0, pytorch #146378) has none for an A100; cu126 (8.0;9.0) none for Blackwell", () => {
    expect(() => aarch64({ torch: '2.7', gpus: ['8.0'] })).toThrow(/no kernels for compute capability 8\.0 \(cu128 of torch 2\.7 has sm_90, sm_100, sm_120\)/);
    expect(aarch64({ torch: '2.14', cuda: '13.0', gpus: ['11.0'] }).variant).toBe('cu130'); // Thor's sm_110, only on aarch64
    expect(() => resolveTorch({ torch: '2.14', cuda: '13.0', gpus: ['11.0'], driver: '580.95.05' })).toThrow(/no kernels for compute capability 11\.0/); // x86_64 has no sm_110
    expect(archesFor('cu126', '2.14', 'linux-aarch64')).toEqual([80, 90]);
  });

  it('images: pytorch/pytorch CUDA images are linux/amd64 only — none, and what to use; the CPU runtime image has an arm64 build', () => {
    const cuda = aarch64({ torch: '2.14', gpus: ['9.0'] });
    expect(cuda.image).toBeNull();
    expect(cuda.imageProblem).toMatch(/pytorch\/pytorch has no linux\/arm64 CUDA image — \{source=ngc\} or \{source=cuda\}/);
    expect(aarch64({ torch: '2.14', cuda: 'cpu' }).image).toBe('pytorch/pytorch:2.14.0-runtime');
    expect(aarch64({ torch: '2.14', gpus: ['9.0'], source: 'cuda' }).image).toMatch(/^nvidia\/cuda:13\.0/);
  });

  it('before 2.5 there were no aarch64 CUDA wheels: a GPU machine gets the CPU build, saying why', () => {
    const r = aarch64({ torch: '2.4', gpus: ['9.0'] });
    expect(r.variant).toBe('cpu');
    expect(r.reasons.join('\n')).toContain('cpu: PyTorch publishes no CUDA builds for linux-aarch64');
  });

  it('every aarch64 variant of every release has a kernel row', () => {
    for (const release of TORCH_RELEASES) {
      for (const v of forPlatform(release, 'linux-aarch64').cuda) expect(archesFor(v, release.minor, 'linux-aarch64'), `${release.minor} ${v}`).toBeDefined();
    }
    expect(AARCH64_WHEELS.every((r) => r.source.length > 0)).toBe(true);
  });
});

describe('Jetson (L4T)', () => {
  const sysroot = (line: string) => {
    const root = tempDir('tuna-l4t-');
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'etc/nv_tegra_release'), `${line}\n# KERNEL_VARIANT: oot\n`);
    return root;
  };
  it('JetPack 6 (L4T R36) is refused, naming the Jetson wheels and containers', async () => {
    const root = sysroot('# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025');
    expect(await detectL4t(root)).toEqual({ release: 'R36.4.3', major: 36 });
    const e = await machinePlatform(root, 'linux-aarch64').catch((x) => x);
    expect(e.code).toBe('UNSUPPORTED_PLATFORM');
    expect(e.message).toMatch(/this is a Jetson \(L4T R36\.4\.3\): .* without Jetson's kernels \(sm_87\)/);
    expect(e.hint).toMatch(/pypi\.jetson-ai-lab\.io\/jp6\/cu126 .* dustynv\/l4t-pytorch/);
    expect(e.say('cli').hint).toContain('--platform linux-aarch64');
  });
  it('Thor (JetPack 7, L4T R38) is SBSA: the standard aarch64 wheels', async () => {
    expect(await machinePlatform(sysroot('# R38 (release), REVISION: 2.0, GCID: 1, BOARD: generic, EABI: aarch64'), 'linux-aarch64')).toBe('linux-aarch64');
  });
  it('an x86_64 machine never reads it; no file is no Jetson', async () => {
    expect(await machinePlatform(sysroot('# R36 (release), REVISION: 4.3'), 'linux-x86_64')).toBe('linux-x86_64');
    expect(await detectL4t(tempDir())).toBeNull();
  });
});

describe('macOS and Windows', () => {
  it('macos-arm64: the CPU (MPS) build, from the PyPI mirror; no CUDA; no image (containers are Linux)', () => {
    const r = resolveTorch({ torch: '2.14', driver: null, platform: 'macos-arm64', pypiIndex: MIRROR });
    expect(r).toMatchObject({ variant: 'cpu', wheelSource: 'pypi', torchIndexUrl: MIRROR, image: null });
    expect(r.imageProblem).toMatch(/images are Linux/);
    expect(() => resolveTorch({ torch: '2.14', cuda: '12.6', driver: null, platform: 'macos-arm64' })).toThrow(
      /PyTorch publishes no CUDA builds of torch 2\.14 for macos-arm64/,
    );
  });

  it('macos-x86_64: nothing after 2.2 (test-infra 934243719 removed the macOS x86 artifacts)', () => {
    expect(() => resolveTorch({ torch: '2.14', driver: null, platform: 'macos-x86_64' })).toThrow(/no macOS x86_64 wheels of torch 2\.14: 2\.2 was the last/);
    expect(resolveTorch({ torch: '2.2', driver: null, platform: 'macos-x86_64' }).variant).toBe('cpu');
  });

  it("windows-x86_64: PyPI's torch is the +cpu build, so a GPU takes CUDA from the PyTorch index; 2.13's cu129 is Linux-only", () => {
    const gpu = resolveTorch({ torch: '2.14', driver: '580.88', gpus: ['8.9'], platform: 'windows-x86_64', pypiIndex: MIRROR });
    expect(gpu).toMatchObject({ variant: 'cu132', wheelSource: 'upstream' }); // the newest the driver runs: PyPI has no CUDA build to prefer
    const cpu = resolveTorch({ torch: '2.14', driver: null, platform: 'windows-x86_64', pypiIndex: MIRROR });
    expect(cpu).toMatchObject({ variant: 'cpu', wheelSource: 'pypi' });
    expect(() => resolveTorch({ torch: '2.13', cuda: '12.9', driver: '580.88', platform: 'windows-x86_64' })).toThrow(
      /publishes no cu129 wheels for windows-x86_64/,
    );
    expect(resolveTorch({ torch: '2.13', cuda: '12.9', driver: '580.65.06' }).variant).toBe('cu129'); // Linux has it
  });
});

describe("platformOf: Node's and Python's names", () => {
  it.each([
    ['linux', 'x86_64', 'linux-x86_64'],
    ['linux', 'x64', 'linux-x86_64'],
    ['linux', 'aarch64', 'linux-aarch64'],
    ['linux', 'arm64', 'linux-aarch64'],
    ['darwin', 'arm64', 'macos-arm64'],
    ['darwin', 'x86_64', 'macos-x86_64'],
    ['win32', 'AMD64', 'windows-x86_64'],
    ['win32', 'x64', 'windows-x86_64'],
    ['linux', 'ppc64le', undefined],
    ['freebsd', 'amd64', undefined],
    ['win32', 'ARM64', undefined],
  ])('%s %s → %s', (system, machine, platform) => {
    expect(platformOf(system, machine)).toBe(platform);
  });
});

describe('resolve --platform', () => {
  it('resolves for an aarch64 server from an x86_64 desk', () => {
    const r = runCli(['resolve', '--platform', 'linux-aarch64', '--torch', '2.14', '--driver', '580.95.05', '--gpu-cc', '9.0', '--offline', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ variant: 'cu132', image: null });
    expect(r.json().imageProblem).toMatch(/--source ngc or --source cuda/);
  });
  it('an unknown platform is a usage error', () => {
    const r = runCli(['resolve', '--platform', 'linux-riscv64', '--offline', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.message).toMatch(/--platform 'linux-riscv64' is not one of linux-x86_64, linux-aarch64/);
  });
});
