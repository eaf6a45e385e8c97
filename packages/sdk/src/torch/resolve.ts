/**
 * Which PyTorch wheel index and which image fit this driver and these GPUs —
 * and why. Pure: the tables (releases.ts, cuda-drivers.ts, images.ts) and the
 * request in, a Resolution with a reason for every decision out.
 *
 * The variant is the newest CUDA variant the release publishes that
 *  - the driver can run: wheels and pytorch/pytorch images need the major's
 *    minor-version-compatibility floor; nvidia/cuda images (source `cuda`)
 *    need the driver's own CUDA ≥ the variant's, as NVIDIA_REQUIRE_CUDA
 *    enforces;
 *  - has kernels for every GPU (compute capability vs the variant's sm list).
 * NGC images carry NVIDIA's own torch build: the newest NGC release of the
 * same torch minor whose CUDA the driver runs natively.
 * An impossible request throws UNRESOLVABLE with every rejection and what
 * would work: a newer driver, an older torch, or `--cuda cpu`.
 */
import { TunaSetupError } from '../errors.js';
import { compareDriver, cudaImageAcceptsDriver, minDriverFor, nativeCudaForDriver, type DriverRule } from './cuda-drivers.js';
import { cudaImage, ngcImage, NGC_RELEASES, pytorchImage, type ImageFlavor, type ImageSource } from './images.js';
import { mirrorLocation, parseRegistryMirror, pullThrough, registryOf, type RegistryMirror } from '../registry/mirrors.js';
import { forPlatform, type TorchPlatform } from './platforms.js';
import {
  archCovers,
  archesFor,
  compareVersions,
  cudaOfVariant,
  hasPytorchImage,
  TORCH_RELEASES,
  variantOfCuda,
  type TorchPatch,
  type TorchRelease,
} from './releases.js';

/** PyTorch's own wheel index, the upstream: `<index>/<variant>` (cpu, cu128 …) is a PEP 503 index. */
export const PYTORCH_WHEEL_INDEX = 'https://download.pytorch.org/whl';

/**
 * Where the wheels come from. pypi: the PyPI index the job uses (a mirror):
 * on Linux x86_64 its `torch` is the release's PyPI-default CUDA build, with
 * its nvidia-* wheels beside it; mirror: a mirror of download.pytorch.org;
 * upstream: download.pytorch.org. auto: PyPI when its build fits the machine
 * (the fast path), else the best variant from a wheel mirror or the upstream.
 */
export type WheelSource = 'auto' | 'pypi' | 'mirror' | 'upstream';
/** Every `WheelSource`, as a list. */
export const WHEEL_SOURCES: readonly WheelSource[] = ['auto', 'pypi', 'mirror', 'upstream'];

/** What `resolveTorch` resolves: the torch and CUDA asked for, the machine (driver, GPUs, Python, platform), the image and the wheel sources. */
export interface ResolveRequest {
  /** `latest` (default), `2.7` (newest patch) or `2.7.1` */
  torch?: string;
  /** `auto` (default), `X.Y` or `cpu` */
  cuda?: string;
  /** the driver version; null: no NVIDIA driver */
  driver: string | null;
  /** compute capabilities of every GPU ("8.6"); empty: unknown */
  gpus?: readonly string[];
  /** every GPU's brand ("Tesla", "NVIDIA"): {source=cuda} images admit some older driver branches for some brands */
  gpuBrands?: readonly string[];
  /** `3.12`; unchecked when absent */
  python?: string;
  /** where the wheels will run (default linux-x86_64; `os: 'windows'` alone means windows-x86_64) */
  platform?: TorchPlatform;
  /** the driver table to use (default: from the platform) */
  os?: 'linux' | 'windows';
  source?: ImageSource;
  flavor?: ImageFlavor;
  /** Docker Hub images are rewritten through this registry mirror host (`host[:port][/prefix]`) */
  registryMirror?: string;
  /** images are pulled through these mirrors of their registries (`[REGISTRY=]URL`, or parsed): a root or a path prefix */
  registryMirrors?: readonly (string | RegistryMirror)[];
  /** base of a PEP 503 mirror of download.pytorch.org/whl */
  wheelIndex?: string;
  /** where the wheels may come from (default auto) */
  wheels?: WheelSource;
  /** the releases to resolve among (default: the tables; with a live one read from the index appended) */
  releases?: readonly TorchRelease[];
  /** the PyPI index the job installs from (the chosen mirror's); without it there is no pypi source */
  pypiIndex?: string;
}

/** What `resolveTorch` decided: the torch trio, the variant and its index, install arguments for pip and uv, the image, and why. */
export interface Resolution {
  torch: string;
  torchvision: string;
  torchaudio: string | null;
  /** `cu128` or `cpu` */
  variant: string;
  /** `12.8`, null for cpu */
  cuda: string | null;
  torchIndexUrl: string;
  /** which source torchIndexUrl is */
  wheelSource: 'pypi' | 'mirror' | 'upstream';
  /** arguments after `pip` (and after `uv pip`): install the matching trio from the index */
  pipArgs: string[];
  /**
   * the same for a uv project, for pyproject.toml: the index as an explicit
   * `[[tool.uv.index]]` that only torch, torchvision and torchaudio are taken
   * from (`[tool.uv.sources]`), so no other package ever comes from it; from a
   * PyPI mirror, that mirror as the default index. (uv's own
   * `--torch-backend` always goes to download.pytorch.org, never a mirror.)
   */
  uvPyproject: string;
  source: ImageSource;
  /** null: no image of this source fits (the wheels do; `imageProblem` says why and what would) */
  image: string | null;
  /** the CUDA inside the image */
  imageCuda: string | null;
  /** why there is no image, with what would give one */
  imageProblem?: string;
  driver: string | null;
  gpus: string[];
  /** why, step by step; a setting is named as a template (`{wheels=upstream}`): show them with `inWords(reason, words)` */
  reasons: string[];
  /** what works but deserves attention (a CUDA build on a machine without a GPU) */
  warnings: string[];
}

const fail = (message: string, hint: string, reasons: string[]) => new TunaSetupError('UNRESOLVABLE', message, hint, { details: { reasons } });

/** `auto`, `cpu` or `X.Y`: the forms `cuda` takes. */
export const isCudaSpec = (s: string) => /^(auto|cpu|\d+\.\d)$/.test(s.trim().toLowerCase());

/**
 * The table release and patch for `latest`, `X.Y` (its newest patch) or `X.Y.Z` (a leading `v` is allowed).
 * BAD_TORCH_SPEC for anything else; UNKNOWN_TORCH for a release or patch not in `releases`.
 */
export function findRelease(spec = 'latest', releases: readonly TorchRelease[] = TORCH_RELEASES): { release: TorchRelease; patch: TorchPatch } {
  const s = spec.trim().replace(/^v/, '');
  const newest = releases[releases.length - 1]!;
  const known = `known: ${releases[0]!.minor}–${newest.minor} (newest ${newest.patches.at(-1)!.torch})`;
  if (s === 'latest') return { release: newest, patch: newest.patches.at(-1)! };
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new TunaSetupError('BAD_TORCH_SPEC', `torch '${spec}' is not a version`, `give latest, X.Y or X.Y.Z (${known})`);
  const release = releases.find((r) => r.minor === `${m[1]}.${m[2]}`);
  if (!release)
    throw new TunaSetupError(
      'UNKNOWN_TORCH',
      `torch ${spec} is not in tuna-setup's tables`,
      `${known}; resolved online with a PyPI mirror that lists it, or a newer tuna-setup, it is known`,
    );
  if (m[3] === undefined) return { release, patch: release.patches.at(-1)! };
  const patch = release.patches.find((p) => p.torch === s);
  if (!patch)
    throw new TunaSetupError('UNKNOWN_TORCH', `torch ${s} was never released`, `torch ${release.minor} has ${release.patches.map((p) => p.torch).join(', ')}`);
  return { release, patch };
}

interface Verdict {
  ok: boolean;
  why: string;
}

/** Can this driver run this variant under the rule, and do all GPUs have kernels in it? */
function judge(variant: string, release: TorchRelease, req: ResolveRequest, rule: DriverRule): Verdict {
  const cuda = cudaOfVariant(variant);
  const os = req.os ?? 'linux';
  const need = minDriverFor(cuda, rule, os);
  let why: string | undefined;
  const ruleName = rule === 'native' ? `CUDA ${cuda} natively (NVIDIA_REQUIRE_CUDA)` : `CUDA ${cuda.split('.')[0]}.x (minor-version compatibility)`;
  if (req.driver === null) return { ok: false, why: 'no NVIDIA driver' };
  if (!need) return { ok: false, why: `the tables give no minimum ${os} driver for ${ruleName}` };
  if (compareDriver(req.driver, need) < 0) {
    // nvidia/cuda's NVIDIA_REQUIRE_CUDA brand exceptions: data-center GPUs on listed branches run it through cuda-compat
    const exception = rule === 'native' && req.gpuBrands?.length ? cudaImageAcceptsDriver(cuda, req.driver, req.gpuBrands) : undefined;
    if (!exception?.ok) return { ok: false, why: exception?.why ?? `driver ${req.driver} is older than ${need}, the minimum for ${ruleName}` };
    why = exception.why;
  }
  const sm = archesFor(variant, release.inferredFrom ?? release.minor, release.platform);
  const gpus = req.gpus ?? [];
  if (sm && gpus.length) {
    const uncovered = gpus.filter((cc) => !archCovers(sm, cc));
    if (uncovered.length) {
      return {
        ok: false,
        why: `no kernels for compute capability ${[...new Set(uncovered)].join(', ')} (${variant} of torch ${release.minor} has ${sm.map((s) => `sm_${s}`).join(', ')})`,
      };
    }
  }
  return { ok: true, why: `${why ?? `driver ${req.driver} ≥ ${need} for ${ruleName}`}${gpus.length ? `; kernels for ${[...new Set(gpus)].join(', ')}` : ''}` };
}

/** The newest variant of `release` that passes, or undefined. */
function bestVariant(release: TorchRelease, req: ResolveRequest, rule: DriverRule): string | undefined {
  return [...release.cuda].reverse().find((v) => judge(v, release, req, rule).ok);
}

/** What would make an impossible request work. */
function alternatives(release: TorchRelease, req: ResolveRequest, rule: DriverRule): string {
  const out: string[] = [];
  if (req.driver !== null) {
    // the smallest driver upgrade that makes some variant with kernels for these GPUs run
    const upgrades = release.cuda
      .flatMap((v) => {
        const sm = archesFor(v, release.inferredFrom ?? release.minor, release.platform);
        const need = minDriverFor(cudaOfVariant(v), rule, req.os ?? 'linux');
        const kernels = !sm || (req.gpus ?? []).every((cc) => archCovers(sm, cc));
        return kernels && need && compareDriver(req.driver!, need) < 0 ? [{ v, need }] : [];
      })
      .sort((a, b) => compareDriver(a.need, b.need));
    if (upgrades[0]) out.push(`a driver ≥ ${upgrades[0].need} (for ${upgrades[0].v})`);
    const releases = TORCH_RELEASES.flatMap((r) => {
      try {
        return [forPlatform(r, req.platform)];
      } catch {
        return [];
      }
    });
    const older = [...releases].reverse().find((r) => compareVersions(r.minor, release.minor) < 0 && bestVariant(r, req, rule));
    if (older) out.push(`torch ${older.minor} (${bestVariant(older, req, rule)})`);
    const newer = releases.find((r) => compareVersions(r.minor, release.minor) > 0 && bestVariant(r, req, rule));
    if (newer && !older) out.push(`torch ${newer.minor} (${bestVariant(newer, req, rule)})`);
  }
  out.push('{cuda=cpu}');
  return `would work: ${out.join('; or ')}`;
}

/**
 * The request's values, checked where they are used — a front end only maps
 * its flags or inputs: a driver that is not a version (`banana` would
 * otherwise read as "older than 450.80.02"), a compute capability that is
 * not `X.Y`, a Python that is not `3.X[t]`. USAGE naming the setting.
 */
export function checkResolveRequest(req: { driver?: string | null; gpus?: readonly string[]; python?: string }): void {
  if (req.driver !== null && req.driver !== undefined && !/^\d+(\.\d+){0,2}$/.test(req.driver)) {
    throw new TunaSetupError(
      'USAGE',
      `{driver} '${req.driver}' is not a driver version like 550.54.15`,
      'give the version nvidia-smi reports, or none for a machine without a GPU',
    );
  }
  for (const cc of req.gpus ?? []) {
    if (!/^\d{1,2}\.\d$/.test(cc))
      throw new TunaSetupError('USAGE', `{gpuCc} '${cc}' is not a compute capability like 8.6`, 'nvidia-smi --query-gpu=compute_cap lists them');
  }
  if (req.python !== undefined && !/^3\.\d+t?$/.test(req.python))
    throw new TunaSetupError('USAGE', `{python} '${req.python}' is not a version like 3.12`, 'give X.Y, or X.Yt for a free-threaded build');
}

/**
 * The torch trio, CUDA variant, wheel index and image that fit the request on its machine, with a reason for
 * each step. Pure. UNRESOLVABLE with every rejection and what would work; USAGE, BAD_CUDA, BAD_TORCH_SPEC
 * or UNKNOWN_TORCH for input it cannot use.
 */
export function resolveTorch(request: ResolveRequest): Resolution {
  checkResolveRequest(request);
  const reasons: string[] = [];
  const platform = request.platform ?? (request.os === 'windows' ? 'windows-x86_64' : 'linux-x86_64');
  const req: ResolveRequest = { ...request, platform, os: request.os ?? (platform.startsWith('windows') ? 'windows' : 'linux') };
  const { release: table, patch } = findRelease(req.torch, req.releases);
  const release = forPlatform(table, platform);
  const onPlatform = platform === 'linux-x86_64' ? '' : ` for ${platform}`;
  const source = req.source ?? 'pytorch';
  const flavor = req.flavor ?? 'runtime';
  const gpus = [...(req.gpus ?? [])];
  reasons.push(
    `torch ${req.torch ?? 'latest'} → ${patch.torch} (torchvision ${patch.torchvision}${patch.torchaudio ? `, torchaudio ${patch.torchaudio}` : ', no torchaudio release for it'})`,
  );

  if (req.python) {
    const py = req.python.trim();
    if (!release.python.includes(py)) {
      const works = [...TORCH_RELEASES].reverse().find((r) => r.python.includes(py));
      throw fail(
        `torch ${release.minor} has no wheels for Python ${py} (it supports ${release.python.join(', ')})`,
        works
          ? `use torch ${works.minor}${compareVersions(works.minor, release.minor) < 0 ? ' or older' : ''} for Python ${py}, or a Python it supports`
          : `no torch release in the tables supports Python ${py}`,
        reasons,
      );
    }
    reasons.push(`python ${py}: torch ${release.minor} has wheels for it`);
  }

  // wheels follow minor-version compatibility; an nvidia/cuda base image needs the driver's own CUDA
  const rule: DriverRule = source === 'cuda' ? 'native' : 'minor-compat';
  const wanted = (req.cuda ?? 'auto').trim().toLowerCase();
  const wheels = req.wheels ?? 'auto';
  const warnings: string[] = [];
  // PyPI's torch is the platform's PyPI build: a CUDA one on Linux x86_64 (and aarch64 from 2.11), CPU elsewhere (platforms.ts)
  // auto goes to PyPI for speed: only a mirror of it is faster than download.pytorch.org
  const upstreamPypi = req.pypiIndex !== undefined && /^https:\/\/pypi\.org\/simple\/?$/.test(req.pypiIndex);
  const pypi = (wheels === 'pypi' || (wheels === 'auto' && !upstreamPypi)) && req.pypiIndex ? req.pypiIndex.replace(/\/+$/, '') : undefined;
  if (wheels === 'pypi' && !pypi) {
    throw fail('{wheels=pypi} needs the PyPI index the job uses', 'name the mirror ({mirror}), or {wheels=auto}', reasons);
  }
  const pypiHost = pypi ? new URL(pypi).host : '';
  let variant: string;
  let fromPypi = false;
  const pypiCpu = pypi !== undefined && release.pypiDefault === 'cpu';
  const noCuda = () =>
    fail(
      `PyTorch publishes no CUDA builds of torch ${release.minor}${onPlatform}`,
      `{cuda=cpu}${platform.startsWith('macos') ? ' (MPS is in the CPU build)' : ''}`,
      reasons,
    );
  if (wanted === 'cpu') {
    if (wheels === 'pypi' && !pypiCpu)
      throw fail(
        `PyPI's torch ${release.minor}${onPlatform} is the ${release.pypiDefault} build, not cpu`,
        'use {wheels=auto} (cpu wheels come from the PyTorch index), or drop {cuda=cpu}',
        reasons,
      );
    variant = 'cpu';
    fromPypi = pypiCpu;
    reasons.push(`cpu: asked for${fromPypi ? ` — PyPI's build${onPlatform} is the CPU one: from the mirror ${pypiHost}` : ''}`);
  } else if (wanted === 'auto' && (req.driver === null || !release.cuda.length) && (!pypi || pypiCpu)) {
    variant = 'cpu';
    fromPypi = pypiCpu;
    reasons.push(
      `cpu: ${req.driver === null ? 'no NVIDIA driver found' : `PyTorch publishes no CUDA builds${onPlatform}`}${fromPypi ? ` — the PyPI build of torch ${release.minor}${onPlatform}, from the mirror ${pypiHost}` : ''}`,
    );
  } else if (req.driver === null) {
    // no driver here: a CUDA build still installs, builds and runs on the CPU (the job sees no GPU)
    variant = wanted === 'auto' ? release.pypiDefault : variantOfCuda(wanted);
    if (!isCudaSpec(wanted))
      throw new TunaSetupError(
        'BAD_CUDA',
        `{cuda} '${req.cuda}' is not auto, X.Y or cpu`,
        `e.g. {cuda=12.8}; torch ${release.minor} publishes ${release.cuda.map(cudaOfVariant).join(', ')}`,
      );
    if (!release.cuda.length) throw noCuda();
    if (!release.cuda.includes(variant)) {
      throw fail(
        `torch ${release.minor} publishes no ${variant} wheels (it has ${release.cuda.join(', ')})`,
        `pick one of ${release.cuda.map(cudaOfVariant).join(', ')}`,
        reasons,
      );
    }
    fromPypi = pypi !== undefined && variant === release.pypiDefault;
    reasons.push(
      wanted === 'auto'
        ? `${variant}: no NVIDIA driver found — the PyPI build of torch ${release.minor}, from the mirror ${pypiHost} (it runs on the CPU too; {cuda=cpu} for the smaller CPU-only wheels)`
        : `${variant}: asked for; no NVIDIA driver here, so the driver and kernels are not checked`,
    );
    warnings.push(`no NVIDIA driver on this machine: ${variant} of torch ${release.minor} installs, but the job will see no GPU`);
  } else {
    if (!isCudaSpec(wanted)) {
      throw new TunaSetupError(
        'BAD_CUDA',
        `{cuda} '${req.cuda}' is not auto, X.Y or cpu`,
        `e.g. {cuda=12.8}; torch ${release.minor} publishes ${release.cuda.map(cudaOfVariant).join(', ')}`,
      );
    }
    if (!release.cuda.length) throw noCuda();
    const candidates = wanted === 'auto' ? [...release.cuda].reverse() : [variantOfCuda(wanted)];
    if (wanted !== 'auto' && !release.cuda.includes(candidates[0]!)) {
      const has = TORCH_RELEASES.filter((r) => {
        try {
          return forPlatform(r, platform).cuda.includes(candidates[0]!);
        } catch {
          return false;
        }
      }).map((r) => r.minor);
      throw fail(
        `torch ${release.minor} publishes no ${candidates[0]} wheels${onPlatform} (it has ${release.cuda.join(', ')})`,
        has.length ? `pick one of those, or torch ${has.join(', ')} for ${candidates[0]}` : `pick one of ${release.cuda.join(', ')}`,
        reasons,
      );
    }
    if (!gpus.length)
      reasons.push("GPU compute capability unknown (nvidia-smi did not report it): kernels not checked — give the GPUs' compute capability to check them");
    let chosen: string | undefined;
    let last: Verdict | undefined;
    for (const v of candidates) {
      last = judge(v, release, req, rule);
      reasons.push(`${v}: ${last.ok ? 'chosen' : 'rejected'} — ${last.why}`);
      if (last.ok) {
        chosen = v;
        break;
      }
    }
    if (!chosen) {
      // the last rejection (the oldest variant's) says what even the most compatible build lacks
      const why = last?.why ?? 'no variant';
      throw fail(
        wanted === 'auto' ? `no CUDA variant of torch ${release.minor} fits: ${why}` : `${candidates[0]} of torch ${release.minor} does not fit: ${why}`,
        alternatives(release, req, rule),
        reasons,
      );
    }
    variant = chosen;
    if (pypi) {
      const pypiFits =
        release.pypiDefault === 'cpu'
          ? { ok: false, why: `PyPI's torch ${release.minor}${onPlatform} is the CPU build` }
          : judge(release.pypiDefault, release, req, rule);
      if (variant === release.pypiDefault) {
        fromPypi = true;
        reasons.push(`${variant} is the PyPI build of torch ${release.minor}: from the mirror ${pypiHost}`);
      } else if (wanted === 'auto' && pypiFits.ok) {
        // the fast source wins over a newer CUDA the machine could also run
        reasons.push(
          `${release.pypiDefault}: chosen instead — the PyPI build of torch ${release.minor}, from the mirror ${pypiHost}, also fits (${pypiFits.why}); {wheels=upstream} for ${variant}`,
        );
        variant = release.pypiDefault;
        fromPypi = true;
      } else if (wheels === 'pypi') {
        throw fail(
          `the PyPI build of torch ${release.minor} (${release.pypiDefault}) does not fit: ${pypiFits.ok ? `${variant} was asked for` : pypiFits.why}`,
          `{wheels=auto} takes ${variant} from the PyTorch index`,
          reasons,
        );
      } else {
        reasons.push(
          `not from PyPI: its build of torch ${release.minor} is ${release.pypiDefault}${pypiFits.ok ? `, and ${variant} was asked for` : ` — ${pypiFits.why}`}`,
        );
      }
    }
  }
  const cuda = variant === 'cpu' ? null : cudaOfVariant(variant);
  const mirrored = wheels !== 'upstream' && req.wheelIndex !== undefined && req.wheelIndex.replace(/\/+$/, '') !== PYTORCH_WHEEL_INDEX;
  const wheelSource = fromPypi ? 'pypi' : mirrored ? 'mirror' : 'upstream';
  const index = fromPypi ? pypi! : `${(wheelSource === 'mirror' ? req.wheelIndex! : PYTORCH_WHEEL_INDEX).replace(/\/+$/, '')}/${variant}`;
  const pipArgs = [
    'install',
    `torch==${patch.torch}`,
    `torchvision==${patch.torchvision}`,
    ...(patch.torchaudio ? [`torchaudio==${patch.torchaudio}`] : []),
    '--index-url',
    index,
  ];
  const uvPyproject = uvIndexToml(index, fromPypi ? null : variant, patch.torchaudio !== null);

  // the image
  let image: string | null = null;
  let imageCuda: string | null = null;
  let imageProblem: string | undefined;
  if (!platform.startsWith('linux')) {
    // containers are Linux: the image is for the machine the job runs on, not this one
    imageProblem = `images are Linux: resolve for the machine the container runs on ({platform=linux-x86_64} or linux-aarch64)`;
    reasons.push(`image: none — ${imageProblem}`);
  } else if (platform === 'linux-aarch64' && source === 'pytorch') {
    // test-infra generate_docker_release_matrix.py: CUDA images linux/amd64 only; the CPU runtime image also linux/arm64
    if (variant === 'cpu' && flavor === 'runtime') {
      image = `pytorch/pytorch:${patch.torch}-runtime`;
      reasons.push(`image: pytorch/pytorch for torch ${patch.torch}, CPU (its arm64 build)`);
    } else {
      imageProblem = `pytorch/pytorch has no linux/arm64 ${variant === 'cpu' ? 'devel' : 'CUDA'} image — {source=ngc} or {source=cuda} (multi-arch) on aarch64`;
      reasons.push(`image: none — ${imageProblem}`);
    }
  } else if (source === 'ngc') {
    const native = req.driver ? nativeCudaForDriver(req.driver, req.os ?? 'linux') : null;
    const rows = NGC_RELEASES.filter((r) => r.torch.startsWith(`${release.minor}.`));
    if (!rows.length) {
      const minors = [...new Set(NGC_RELEASES.map((r) => r.torch.split('.').slice(0, 2).join('.')))];
      throw fail(`no NGC PyTorch release with torch ${release.minor} in the tables`, `NGC ships torch ${minors.join(', ')}; or use {source=pytorch}`, reasons);
    }
    const fits = rows.filter(
      (r) =>
        (req.driver === null || (native !== null && compareVersions(r.cuda, native) <= 0)) &&
        (compareVersions(r.cuda, '13.0') < 0 || gpus.every((cc) => compareVersions(cc, '7.5') >= 0)),
    );
    const pick = fits.at(-1);
    for (const r of [...rows].reverse()) {
      if (r === pick) break;
      reasons.push(
        `ngc ${r.tag}: rejected — ${native === null ? 'driver CUDA unknown' : compareVersions(r.cuda, native) > 0 ? `CUDA ${r.cuda} needs a driver that runs it natively; driver ${req.driver} runs ≤ ${native}` : `CUDA ${r.cuda} dropped GPUs below compute capability 7.5`}`,
      );
    }
    if (!pick)
      throw fail(
        `no NGC PyTorch release with torch ${release.minor} runs on driver ${req.driver}`,
        `update the driver (NGC ${rows[0]!.tag} needs CUDA ${rows[0]!.cuda} natively), or use {source=pytorch}`,
        reasons,
      );
    image = ngcImage(pick.tag);
    imageCuda = pick.cuda;
    reasons.push(
      `image: NGC ${pick.tag} (torch ${pick.torch} built by NVIDIA, CUDA ${pick.cuda})${req.driver ? `; driver runs CUDA ≤ ${native} natively` : ''}${platform === 'linux-aarch64' ? '; its arm64 build is not checked, only the tag' : ''}`,
    );
  } else {
    // a CPU job still needs an image: the release's PyPI-default CUDA runs fine without a GPU
    imageCuda = cuda ?? cudaOfVariant(table.pypiDefault);
    if (source === 'cuda') {
      const ref = cudaImage(imageCuda, flavor);
      if (!ref) throw fail(`no nvidia/cuda tag known for CUDA ${imageCuda}`, 'use {source=pytorch}', reasons);
      image = ref;
      reasons.push(
        `image: nvidia/cuda for CUDA ${imageCuda}${variant === 'cpu' ? ' (no GPU: the PyPI default, which runs on CPU too)' : ''}; install torch into it from ${index}${platform === 'linux-aarch64' ? '; its arm64 build is not checked, only the tag' : ''}`,
      );
    } else {
      // pytorch/pytorch is not built for every wheel variant (2.13's Linux-only cu129): the best one it has
      const imageVariant =
        variant === 'cpu' || hasPytorchImage(release, variant)
          ? undefined
          : [...(release.imageVariants ?? release.cuda)].reverse().find((v) => req.driver === null || judge(v, release, req, rule).ok);
      if (variant !== 'cpu' && !hasPytorchImage(release, variant)) {
        if (!imageVariant) {
          // the wheels fit; an image does not: say so, and what would give one
          imageProblem = `pytorch/pytorch has no ${variant} image of torch ${release.minor}, and none of its images (${(release.imageVariants ?? release.cuda).join(', ')}) fits this machine — {source=cuda} installs the ${variant} wheels into an nvidia/cuda image; or update the driver`;
          reasons.push(`image: none — ${imageProblem}`);
          imageCuda = null;
        } else {
          imageCuda = cudaOfVariant(imageVariant);
          reasons.push(`image: pytorch/pytorch has no ${variant} build of torch ${release.minor}; its ${imageVariant} image fits this machine`);
        }
      }
      if (!imageProblem) {
        image = pytorchImage(patch.torch, imageCuda!, release.cudnn, flavor);
        reasons.push(
          `image: pytorch/pytorch for torch ${patch.torch}, CUDA ${imageCuda}, cuDNN ${release.cudnn}${variant === 'cpu' ? ' (no GPU: the PyPI default CUDA image, which runs on CPU too)' : ''}`,
        );
      }
    }
  }
  const mirrors = requestMirrors(req);
  const pulled = image && pullThrough(image, mirrors);
  if (pulled !== image) reasons.push(`image pulled through registry mirror ${mirrorLocation(mirrors.find((m) => m.registry === registryOf(image!))!)}`);
  else if (image && mirrors.length) reasons.push(`${image} is on ${registryOf(image)}: no registry mirror given for it`);

  return {
    torch: patch.torch,
    torchvision: patch.torchvision,
    torchaudio: patch.torchaudio,
    variant,
    cuda,
    torchIndexUrl: index,
    wheelSource,
    pipArgs,
    uvPyproject,
    source,
    image: pulled,
    imageCuda,
    ...(imageProblem ? { imageProblem } : {}),
    driver: req.driver,
    gpus,
    reasons,
    warnings,
  };
}

/** pyproject.toml lines for uv: the PyTorch index explicit, for the trio only; a PyPI mirror as the default index. */
function uvIndexToml(index: string, variant: string | null, torchaudio: boolean): string {
  if (variant === null) return `[[tool.uv.index]]\nurl = ${JSON.stringify(index)}\ndefault = true\n`;
  const name = `pytorch-${variant}`;
  return [
    '[[tool.uv.index]]',
    `name = ${JSON.stringify(name)}`,
    `url = ${JSON.stringify(index)}`,
    'explicit = true',
    '',
    '[tool.uv.sources]',
    ...['torch', 'torchvision', ...(torchaudio ? ['torchaudio'] : [])].map((p) => `${p} = { index = ${JSON.stringify(name)} }`),
    '',
  ].join('\n');
}

/** The request's registry mirrors, parsed: `registryMirrors`, then the Docker Hub host `registryMirror`; http ones only with `allowHttp` (or on loopback). */
export function requestMirrors(req: Pick<ResolveRequest, 'registryMirror' | 'registryMirrors'>, allowHttp = false): RegistryMirror[] {
  return [
    ...(req.registryMirrors ?? []).map((m) => (typeof m === 'string' ? parseRegistryMirror(m, '{registryMirror}', { allowHttp }) : m)),
    ...(req.registryMirror ? [parseRegistryMirror(req.registryMirror, '{registryMirror}', { allowHttp })] : []),
  ];
}
