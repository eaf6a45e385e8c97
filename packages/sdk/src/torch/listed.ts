/**
 * Does the index the wheels come from list them — this torch, this build
 * (`+cu130`, or no label on PyPI), for this CPython and platform? The tables
 * say what PyTorch published; a mirror may be behind, or lack a platform.
 * Asked before anything is installed, so a stale mirror is an error naming
 * what it does have, not pip's "No matching distribution".
 */
import { TunaSetupError } from '../errors.js';
import type { TorchPlatform } from './platforms.js';
import type { Resolution } from './resolve.js';
import { comparePep440, normalizePlatform, readWheelIndex, type WheelFile, type WheelIndexOptions } from './wheel-index.js';

/** `3.13t` → `cp313t` */
const cpTag = (python: string) => `cp${python.replace('.', '')}`;

/** Options of `checkListed`: how the index is read, and the Python and platform the wheel must be for (unchecked when absent). */
export interface ListedRequest extends WheelIndexOptions {
  /** `3.12`; unchecked when absent */
  python?: string;
  platform?: TorchPlatform;
}

/** One line for the reasons when the index lists the wheel; UNRESOLVABLE naming what it lists when it does not. */
export async function checkListed(r: Pick<Resolution, 'torch' | 'variant' | 'torchIndexUrl' | 'wheelSource'>, req: ListedRequest): Promise<string> {
  const index = await readWheelIndex(r.torchIndexUrl, 'torch', req);
  const local = r.wheelSource === 'pypi' ? null : r.variant;
  const live = index.files.filter((f) => !f.yanked);
  const onPlatform = (f: WheelFile) => !req.platform || f.platforms.some((p) => normalizePlatform(p).includes(req.platform!));
  const forPython = (f: WheelFile) => !req.python || f.python.includes(cpTag(req.python));
  const build = live.filter((f) => f.version === r.torch && f.local === local);
  const what = `torch ${r.torch}${local ? `+${local}` : ''}${req.python ? ` for ${cpTag(req.python)}` : ''}${req.platform ? ` on ${req.platform}` : ''}`;
  if (build.some((f) => onPlatform(f) && forPython(f))) return `listed: ${what} on ${r.torchIndexUrl}${index.source === 'cache' ? ' (cached listing)' : ''}`;

  let has: string;
  if (build.length) {
    const mine = build.filter(onPlatform);
    has = mine.length
      ? `it has ${r.torch} for ${[...new Set(mine.flatMap((f) => f.python))].sort().join(', ')} only`
      : `it has ${r.torch} for ${[...new Set(build.flatMap((f) => f.platforms.flatMap(normalizePlatform)))].sort().join(', ')} only`;
  } else {
    const versions = [...new Set(live.filter((f) => f.local === local).map((f) => f.version))].sort(comparePep440);
    const newest = versions.at(-1);
    has = !newest
      ? `it lists no ${local ?? 'unlabelled (PyPI)'} torch build at all`
      : `its newest ${local ? `${local} ` : ''}build is ${newest}${comparePep440(newest, r.torch) < 0 ? ' — the index is behind' : ` (${r.torch} is missing or yanked)`}`;
  }
  throw new TunaSetupError(
    'UNRESOLVABLE',
    `${r.torchIndexUrl} does not list ${what}: ${has}`,
    r.wheelSource === 'upstream'
      ? 'pick a torch, Python or platform it lists ({torch}, {cuda})'
      : 'take the wheels from another source ({wheels=upstream}, another {mirror}), or a torch it lists ({torch})',
    { details: { index: r.torchIndexUrl, listed: index.files.length } },
  );
}
