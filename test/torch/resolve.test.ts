// The resolver, table-driven across drivers, GPUs and releases. Each expected
// answer is traced in its comment to the tables' sources:
//   MVC  = minor-version-compatibility floors (11.x ≥ 450.80.02, 12.x ≥ 525.60.13,
//          13.x ≥ 580.65.06; research/torch-cuda.md §3.2)
//   T3   = NVIDIA Table 3, a driver's native CUDA (§3.1)
//   REL  = variants per release (§4);  SM = kernels per variant (§6.3)
//   NGC  = NGC releases (§5.3)
import { describe, expect, it } from 'vitest';
import { isTunaSetupError } from '@tuna-setup/sdk';
import { resolveTorch, type ResolveRequest } from '@tuna-setup/sdk/torch';

const D = {
  r418: '418.226.00',
  r470: '470.256.02',
  r525: '525.147.05',
  r535: '535.230.02',
  r550: '550.144.03',
  r560: '560.35.05',
  r570: '570.172.08',
  r575: '575.64.05',
  r580: '580.95.05',
};

function rejects(req: ResolveRequest): { message: string; hint: string; reasons: string[] } {
  try {
    resolveTorch(req);
  } catch (e) {
    if (!isTunaSetupError(e)) throw e;
    return { message: e.message, hint: e.hint, reasons: (e.details?.reasons as string[] | undefined) ?? [] };
  }
  throw new Error(`expected ${JSON.stringify(req)} to be rejected`);
}

describe('wheels and pytorch/pytorch images (minor-version compatibility + kernels)', () => {
  it.each<[string, ResolveRequest, string]>([
    // REL 2.7: cu118/cu126/cu128; MVC: 470 < 525.60.13 rules out 12.x, ≥ 450.80.02 keeps 11.8
    ['old driver 470, Turing', { torch: '2.7', driver: D.r470, gpus: ['7.5'] }, 'cu118'],
    // MVC: 525.147.05 ≥ 525.60.13 runs every 12.x; SM 2.7 cu128 has sm_86
    ['driver 525, Ampere 8.6', { torch: '2.7', driver: D.r525, gpus: ['8.6'] }, 'cu128'],
    // SM: 2.7 cu128 starts at sm_75 — Pascal 6.1 falls back to cu126 (sm_60 runs 6.1)
    ['Pascal 6.1 on 535', { torch: '2.7', driver: D.r535, gpus: ['6.1'] }, 'cu126'],
    // REL 2.8: cu126/cu128/cu129; SM 2.8 cu129 keeps sm_70
    ['Volta 7.0 on 550, torch 2.8', { torch: '2.8', driver: D.r550, gpus: ['7.0'] }, 'cu129'],
    // MVC: cu130 needs 580; SM: 2.11 cu128 dropped sm_70 → cu126
    ['Volta 7.0 on 550, torch 2.11', { torch: '2.11', driver: D.r550, gpus: ['7.0'] }, 'cu126'],
    // SM: 2.10 cu128 still has sm_70
    ['Volta 7.0 on 570, torch 2.10', { torch: '2.10', driver: D.r570, gpus: ['7.0'] }, 'cu128'],
    // MVC: 560 < 580 rules out cu130/cu132; REL 2.13 also has cu129 (12.x); SM: its sm_86 runs Ada 8.9
    ['Ada 8.9 on 560, torch 2.13', { torch: '2.13', driver: D.r560, gpus: ['8.9'] }, 'cu129'],
    // MVC: 580.95.05 ≥ 580.65.06; REL 2.13 newest is cu132; SM has sm_120
    ['Blackwell 12.0 on 580, torch 2.13', { torch: '2.13', driver: D.r580, gpus: ['12.0'] }, 'cu132'],
    // SM: cu130/cu132 start at sm_75 → Pascal gets cu126 even on the newest driver
    ['Pascal 6.1 on 580, torch 2.13', { torch: '2.13', driver: D.r580, gpus: ['6.1'] }, 'cu126'],
    // MVC: 575 < 580 → no cu130; SM 2.9 cu128 has sm_100
    ['Blackwell 10.0 on 575, torch 2.9', { torch: '2.9', driver: D.r575, gpus: ['10.0'] }, 'cu128'],
    ['Hopper 9.0 on 580, latest', { torch: 'latest', driver: D.r580, gpus: ['9.0'] }, 'cu132'],
    // every GPU must have kernels: 6.1 + 8.6 → cu126
    ['mixed Pascal + Ampere on 580', { torch: '2.13', driver: D.r580, gpus: ['6.1', '8.6'] }, 'cu126'],
    // REL 2.0: cu117/cu118; both run on 525 → newest
    ['Ampere 8.0 on 525, torch 2.0', { torch: '2.0', driver: D.r525, gpus: ['8.0'] }, 'cu118'],
    // unknown GPU: driver alone decides (and a reason says kernels were not checked)
    ['driver only, no GPU info', { torch: '2.13', driver: D.r570 }, 'cu129'],
    // Windows floors: 12.x ≥ 528.33
    ['Windows 528.33', { torch: '2.7', driver: '528.33', os: 'windows', gpus: ['8.6'] }, 'cu128'],
    ['Windows 527.41 (below the 12.x floor)', { torch: '2.7', driver: '527.41', os: 'windows', gpus: ['8.6'] }, 'cu118'],
    // no driver → CPU wheels
    ['no driver', { torch: '2.13', driver: null }, 'cpu'],
    ['--cuda cpu with a driver', { torch: '2.13', driver: D.r580, gpus: ['9.0'], cuda: 'cpu' }, 'cpu'],
    ['--cuda 12.6 when it fits', { torch: '2.13', driver: D.r550, gpus: ['8.6'], cuda: '12.6' }, 'cu126'],
  ])('%s → %s', (_name, req, variant) => {
    const r = resolveTorch(req);
    expect(r.variant).toBe(variant);
    expect(r.torchIndexUrl).toBe(`https://download.pytorch.org/whl/${variant}`);
    expect(r.reasons.length).toBeGreaterThan(1);
  });

  it('explains every rejection before the choice', () => {
    const r = resolveTorch({ torch: '2.14', driver: D.r560, gpus: ['8.9'] });
    expect(r.reasons).toEqual([
      'torch 2.14 → 2.14.0 (torchvision 0.29.0, no torchaudio release for it)',
      'cu132: rejected — driver 560.35.05 is older than 580.65.06, the minimum for CUDA 13.x (minor-version compatibility)',
      'cu130: rejected — driver 560.35.05 is older than 580.65.06, the minimum for CUDA 13.x (minor-version compatibility)',
      'cu126: chosen — driver 560.35.05 ≥ 525.60.13 for CUDA 12.x (minor-version compatibility); kernels for 8.9',
      'image: pytorch/pytorch for torch 2.14.0, CUDA 12.6, cuDNN 9',
    ]);
    expect(r.image).toBe('pytorch/pytorch:2.14.0-cuda12.6-cudnn9-runtime');
    expect(r.pipArgs).toEqual(['install', 'torch==2.14.0', 'torchvision==0.29.0', '--index-url', 'https://download.pytorch.org/whl/cu126']);
  });

  it("a kernel rejection names the GPU and the variant's architectures", () => {
    const r = resolveTorch({ torch: '2.7', driver: D.r535, gpus: ['6.1'] });
    expect(r.reasons).toContain('cu128: rejected — no kernels for compute capability 6.1 (cu128 of torch 2.7 has sm_75, sm_80, sm_86, sm_90, sm_100, sm_120)');
  });

  it.each<[string, ResolveRequest, RegExp, RegExp]>([
    // MVC: 418 is below every floor the tables have
    ['driver 418', { torch: '2.7', driver: D.r418, gpus: ['7.5'] }, /older than 450\.80\.02/, /a driver ≥ 450\.80\.02 \(for cu118\); or cuda: cpu$/],
    // 2.13 has no 11.x; REL: the newest release with cu118 is 2.7
    [
      'torch 2.13 on 470',
      { torch: '2.13', driver: D.r470, gpus: ['7.5'] },
      /older than 525\.60\.13/,
      /a driver ≥ 525\.60\.13 \(for cu126\); or torch 2\.7 \(cu118\); or cuda: cpu/,
    ],
    // SM: 2.14 cu126 lacks sm_120; cu130 needs 580 (MVC); 2.13 cu129 has sm_120 and runs on 570
    [
      'RTX 50 (12.0) on 570, torch 2.14',
      { torch: '2.14', driver: D.r570, gpus: ['12.0'] },
      /no kernels for compute capability 12\.0/,
      /a driver ≥ 580\.65\.06 \(for cu130\); or torch 2\.13 \(cu129\)/,
    ],
    // SM: nothing in 2.6 has sm_100; 2.7 cu128 does
    ['B200 (10.0) on torch 2.6', { torch: '2.6', driver: D.r575, gpus: ['10.0'] }, /no kernels for compute capability 10\.0/, /torch 2\.7 \(cu128\)/],
    [
      '--cuda 12.8 on 470',
      { torch: '2.7', driver: D.r470, gpus: ['8.6'], cuda: '12.8' },
      /^cu128 of torch 2\.7 does not fit: driver 470\.256\.02 is older than 525\.60\.13/,
      /a driver ≥ 525\.60\.13/,
    ],
    // REL: 2.7 has no cu130; 2.9–2.14 do
    [
      '--cuda 13.0 on torch 2.7',
      { torch: '2.7', driver: D.r580, cuda: '13.0' },
      /torch 2\.7 publishes no cu130 wheels \(it has cu118, cu126, cu128\)/,
      /torch 2\.9, 2\.10, 2\.11, 2\.12, 2\.13, 2\.14 for cu130/,
    ],
  ])('impossible: %s', (_name, req, message, hint) => {
    const e = rejects(req);
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(hint);
  });
});

describe("nvidia/cuda images (the driver's own CUDA, NVIDIA_REQUIRE_CUDA)", () => {
  it('driver 550 runs CUDA ≤ 12.4 natively (T3): cu128 and cu126 are out, cu118 is in', () => {
    const r = resolveTorch({ torch: '2.7', driver: D.r550, gpus: ['8.6'], source: 'cuda' });
    expect(r.variant).toBe('cu118');
    expect(r.image).toBe('nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04');
    expect(r.reasons).toContain('cu128: rejected — driver 550.144.03 is older than 570.26, the minimum for CUDA 12.8 natively (NVIDIA_REQUIRE_CUDA)');
  });

  it('driver 580 runs 13.0 but not 13.2 (T3: 13.2 needs 595.45.04)', () => {
    const r = resolveTorch({ torch: '2.13', driver: D.r580, gpus: ['9.0'], source: 'cuda', flavor: 'devel' });
    expect(r.variant).toBe('cu130');
    expect(r.image).toBe('nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04');
  });

  it('the smallest driver upgrade is offered', () => {
    expect(rejects({ torch: 'latest', driver: D.r535, gpus: ['8.6'], source: 'cuda' }).hint).toMatch(
      /^would work: a driver ≥ 560\.28\.03 \(for cu126\); or torch 2\.7 \(cu118\)/,
    );
  });
});

describe('NGC images', () => {
  it('newest NGC release of the torch minor whose CUDA the driver runs natively (NGC 25.04: torch 2.7, CUDA 12.9; T3: 575 runs 12.9)', () => {
    const r = resolveTorch({ torch: '2.7', driver: D.r575, gpus: ['9.0'], source: 'ngc' });
    expect(r.image).toBe('nvcr.io/nvidia/pytorch:25.04-py3');
    expect(r.imageCuda).toBe('12.9');
  });

  it('every NGC torch 2.9 image is CUDA 13.0: driver 575 cannot run them', () => {
    const e = rejects({ torch: '2.9', driver: D.r575, gpus: ['9.0'], source: 'ngc' });
    expect(e.message).toMatch(/no NGC PyTorch release with torch 2\.9 runs on driver 575\.64\.05/);
    expect(e.reasons).toContain('ngc 25.11-py3: rejected — CUDA 13.0 needs a driver that runs it natively; driver 575.64.05 runs ≤ 12.9');
  });

  it('a torch without an NGC release in the tables says which exist', () => {
    expect(rejects({ torch: '2.14', driver: D.r580, source: 'ngc' }).hint).toMatch(
      /NGC ships torch 2\.3, 2\.4, 2\.5, 2\.6, 2\.7, 2\.8, 2\.9, 2\.10, 2\.11, 2\.12, 2\.13/,
    );
  });
});

describe('images, companions and inputs', () => {
  it.each([
    // cuDNN 8 before 2.4, 9 from 2.4 (§5.1)
    [{ torch: '2.3.1', driver: D.r550, gpus: ['8.0'] }, 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime'],
    [{ torch: '2.4', driver: D.r550, gpus: ['8.0'], flavor: 'devel' as const }, 'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel'],
    // no GPU: the release's PyPI-default CUDA image (it runs on CPU too)
    [{ torch: '2.8', driver: null }, 'pytorch/pytorch:2.8.0-cuda12.8-cudnn9-runtime'],
    // through a registry mirror (Docker Hub images only)
    [
      { torch: '2.7', driver: D.r570, gpus: ['8.6'], registryMirror: 'hub.example.cn:5000' },
      'hub.example.cn:5000/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime',
    ],
    [{ torch: '2.7', driver: D.r575, gpus: ['9.0'], source: 'ngc' as const, registryMirror: 'hub.example.cn' }, 'nvcr.io/nvidia/pytorch:25.04-py3'],
  ])('%j → %s', (req, image) => {
    expect(resolveTorch(req).image).toBe(image);
  });

  it('torchvision/torchaudio follow the patch; 2.0 pairs differ; a wheel mirror replaces the index base', () => {
    const r = resolveTorch({ torch: '2.0.0', driver: D.r525, gpus: ['8.0'], wheelIndex: 'https://mirror.sjtu.edu.cn/pytorch-wheels/' });
    expect([r.torch, r.torchvision, r.torchaudio]).toEqual(['2.0.0', '0.15.1', '2.0.1']);
    expect(r.torchIndexUrl).toBe('https://mirror.sjtu.edu.cn/pytorch-wheels/cu118');
  });

  it.each<[ResolveRequest, RegExp, RegExp]>([
    [{ torch: '2.15', driver: null }, /torch 2\.15 is not in tuna-setup's tables/, /known: 2\.0–2\.14 \(newest 2\.14\.0\)/],
    [{ torch: '2.7.9', driver: null }, /torch 2\.7\.9 was never released/, /2\.7\.0, 2\.7\.1/],
    [{ torch: 'newest', driver: null }, /torch 'newest' is not a version/, /latest, X\.Y or X\.Y\.Z/],
    [{ torch: '2.13', driver: null, python: '3.9' }, /torch 2\.13 has no wheels for Python 3\.9/, /use torch 2\.8 or older for Python 3\.9/],
    [{ torch: '2.4', driver: null, python: '3.13' }, /torch 2\.4 has no wheels for Python 3\.13/, /use torch 2\.14 for Python 3\.13/],
    [{ torch: '2.7', driver: D.r570, cuda: '12' }, /cuda '12' is not auto, X\.Y or cpu/, /torch 2\.7 publishes 11\.8, 12\.6, 12\.8/],
  ])('bad request %j', (req, message, hint) => {
    const e = rejects(req);
    expect(e.message).toMatch(message);
    expect(e.hint).toMatch(hint);
  });

  it('Python in the release is accepted and said so; free-threaded builds count where listed', () => {
    expect(resolveTorch({ torch: '2.13', driver: null, python: '3.14t' }).reasons).toContain('python 3.14t: torch 2.13 has wheels for it');
  });
});
