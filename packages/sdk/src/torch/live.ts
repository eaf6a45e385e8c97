/**
 * A release or patch newer than the tables, known from the index the wheels
 * will come from. The index tells what exists now: torch's versions and their CPython
 * tags (PyPI's Linux x86_64 builds), the torchvision that pairs with each
 * (0.(minor+15).patch, the rule since torch 2.0) and whether torchaudio was
 * released too. What it cannot tell — the CUDA variants, which one is the
 * PyPI build, the kernels, cuDNN, the images — is taken from the newest
 * release in the tables, and the release says so (`inferredFrom`, `source`).
 */
import { TORCH_RELEASES, compareVersions, type TorchPatch, type TorchRelease } from './releases.js';
import { comparePep440, normalizePlatform, readWheelIndex, type WheelFile, type WheelIndexOptions } from './wheel-index.js';

/** Final, not yanked, PyPI-build (no local version) Linux x86_64 wheels: what `pip install torch` gets on a CI runner. */
const linuxBuilds = (files: readonly WheelFile[]) =>
  files.filter(
    (f) => !f.yanked && f.local === null && /^\d+\.\d+\.\d+$/.test(f.version) && f.platforms.some((p) => normalizePlatform(p).includes('linux-x86_64')),
  );

/** `cp313t` → `3.13t` */
function pythonOf(tag: string): string | undefined {
  const m = /^cp(\d)(\d+)(t?)$/.exec(tag);
  return m ? `${m[1]}.${m[2]}${m[3]}` : undefined;
}

const pythons = (files: readonly WheelFile[], version: string) =>
  new Set(files.filter((f) => f.version === version).flatMap((f) => f.python.map(pythonOf).filter((p): p is string => !!p)));

/** What `liveRelease` found on the index: a release to add to the tables' (or none), and why. */
export interface LiveRelease {
  /** undefined: the tables already know what the index has (or the index cannot pair it yet); else it replaces or extends the tables' row of its minor */
  release?: TorchRelease;
  /** one line for the reasons */
  why: string;
}

/**
 * What the index has that the tables do not: a newer minor, or newer patches
 * of `options.minor` (default: the index's newest minor) — a patch released
 * after this tuna-setup is installed from the index, with its known minor's data.
 */
export async function liveRelease(indexUrl: string, options: WheelIndexOptions & { minor?: string } = {}): Promise<LiveRelease> {
  const base = TORCH_RELEASES[TORCH_RELEASES.length - 1]!;
  const torch = linuxBuilds((await readWheelIndex(indexUrl, 'torch', options)).files);
  const newest = [...new Set(torch.map((f) => f.version))].sort(comparePep440).at(-1);
  if (!newest) return { why: `live index ${indexUrl}: no Linux x86_64 torch wheels listed` };
  const minor = options.minor ?? newest.split('.').slice(0, 2).join('.');
  const known = TORCH_RELEASES.find((r) => r.minor === minor);
  const listed = [...new Set(torch.filter((f) => f.version.startsWith(`${minor}.`)).map((f) => f.version))].sort(comparePep440);
  const fresh = known ? listed.filter((v) => comparePep440(v, known.patches.at(-1)!.torch) > 0) : listed;
  if (known && !fresh.length)
    return { why: `live index ${indexUrl}: newest torch ${listed.at(-1) ?? newest}${listed.length ? '' : ` (none of ${minor})`}, which the tables know` };
  if (!known && compareVersions(minor, base.minor) <= 0) return { why: `live index ${indexUrl}: no torch ${minor} the tables lack` };

  const vision = linuxBuilds((await readWheelIndex(indexUrl, 'torchvision', options)).files);
  const audio = await readWheelIndex(indexUrl, 'torchaudio', options).then(
    (i) => linuxBuilds(i.files),
    () => [] as WheelFile[],
  );
  const visionMinor = `0.${Number(minor.split('.')[1]) + 15}`;
  const patches: TorchPatch[] = fresh.flatMap((v) => {
    const tv = `${visionMinor}.${v.split('.')[2]}`;
    if (!vision.some((f) => f.version === tv)) return [];
    return [{ torch: v, torchvision: tv, torchaudio: audio.some((f) => f.version === v) ? v : null }];
  });
  const last = patches.at(-1);
  const read = new Date().toISOString().slice(0, 10);
  if (known) {
    if (!last)
      return {
        why: `live index ${indexUrl}: torch ${fresh.join(', ')} has no torchvision ${visionMinor}.x beside it yet; the tables decide (newest ${known.patches.at(-1)!.torch})`,
      };
    return {
      release: {
        ...known,
        patches: [...known.patches, ...patches],
        source: `${known.source}; live index ${indexUrl} (read ${read}): torch ${patches.map((p) => p.torch).join(', ')}`,
      },
      why: `torch ${patches.map((p) => p.torch).join(', ')} is newer than the tables' ${known.patches.at(-1)!.torch}: from the live index ${indexUrl}; the rest as torch ${minor}`,
    };
  }
  if (!last)
    return {
      why: `live index ${indexUrl}: torch ${newest} has no torchvision ${visionMinor}.x beside it yet; the tables decide (newest ${base.patches.at(-1)!.torch})`,
    };
  const visionPy = pythons(vision, last.torchvision);
  const python = [...pythons(torch, last.torch)].filter((p) => visionPy.has(p)).sort(compareVersions);
  return {
    release: {
      minor,
      patches,
      cuda: base.cuda,
      pypiDefault: base.pypiDefault,
      python,
      cudnn: base.cudnn,
      ...(base.imageVariants ? { imageVariants: base.imageVariants } : {}),
      released: read,
      inferredFrom: base.minor,
      source: `live index ${indexUrl} (read ${read}): torch ${patches.map((p) => p.torch).join(', ')}, torchvision ${last.torchvision}${last.torchaudio ? `, torchaudio ${last.torchaudio}` : ', no torchaudio'}; CUDA variants, the PyPI build and kernels as torch ${base.minor} (inferred)`,
    },
    why: `torch ${minor} is newer than the tables (${base.minor}): its versions and Pythons from the live index ${indexUrl}; CUDA variants, the PyPI build (${base.pypiDefault}) and kernels inferred from torch ${base.minor}`,
  };
}
