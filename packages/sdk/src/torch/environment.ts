/**
 * The whole `resolve` use case for every front end: detect the driver and
 * GPUs (unless given), resolve the variant and image from the tables, then —
 * unless offline — prove the image tag exists in its registry and take its
 * digest. A missing tag is an error that names the nearest existing one.
 */
import { findMirror } from '../catalog/lookup.js';
import { checkMirrorUrl } from '../catalog/url.js';
import { catalogCandidates } from '../probe/candidates.js';
import { isOffline } from '../net/offline.js';
import { selectMirror } from '../probe/select.js';
import { isTunaSetupError, TunaSetupError } from '../errors.js';
import { checkListed } from './listed.js';
import { nearestTag, parseImageRef, RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { detectGpu, detectL4t, type GpuReport } from './detect.js';
import { hostTorchPlatform, TORCH_PLATFORMS, type TorchPlatform } from './platforms.js';
import { findRelease, PYTORCH_WHEEL_INDEX, requestMirrors, resolveTorch, type Resolution, type ResolveRequest } from './resolve.js';
import { liveRelease } from './live.js';
import { compareVersions, cudaOfVariant, TORCH_RELEASES } from './releases.js';

/** A resolution request; the driver and GPUs are detected unless given, and the network is used unless offline. */
export interface EnvironmentRequest extends Omit<ResolveRequest, 'driver'> {
  /** the driver version; undefined: detect it (null: no driver) */
  driver?: string | null;
  sysroot?: string;
  /** no network: no registry check, no live index, no wheel-mirror probe (default: TUNA_SETUP_OFFLINE=1) */
  offline?: boolean;
  /** check the image tag in its registry (default true; installing wheels needs no image) */
  checkImage?: boolean;
  registry?: RegistryClientOptions;
  /** serve the wheels from a mirror of download.pytorch.org: a catalog name, the https:// base of one (what /whl is upstream), or `auto` (the fastest fresh one, upstream included) */
  wheelMirror?: string;
  /** where a wheel-mirror ranking and live index listings are cached */
  stateDir?: string;
  /** read the live index again, even if a listing from the last hour is cached */
  fresh?: boolean;
  /** accept an http:// PyPI index (live listing) and wheel mirror URL */
  allowHttp?: boolean;
}

/** A resolution with the image's digest (checked in its registry) and what detection saw. */
export interface Environment extends Resolution {
  /** manifest digest; null when not checked (offline) */
  digest: string | null;
  detected?: GpuReport;
}

/**
 * Which PyTorch wheels and which image fit this machine, and why: detect the
 * driver and GPUs, resolve from the tables (and the live index when online),
 * check the wheel is on its index and the image tag in its registry.
 * @example
 * const env = await resolveEnvironment({ torch: '2.14', pypiIndex: findMirror('tuna').pypi!.index });
 * console.log(env.variant, env.torchIndexUrl, env.image, env.reasons);
 */
export async function resolveEnvironment(req: EnvironmentRequest): Promise<Environment> {
  // checked before anything is detected; an http mirror only with allowHttp (or on loopback)
  const registryMirrors = requestMirrors(req, req.allowHttp);
  let detected: GpuReport | undefined;
  let { driver, gpus, gpuBrands } = req;
  if (driver === undefined) {
    // brands matter only to nvidia/cuda images (their brand exceptions)
    detected = await detectGpu({ ...(req.sysroot ? { sysroot: req.sysroot } : {}), ...(req.source === 'cuda' ? { brands: true } : {}) });
    driver = detected.driver;
    if (!gpus?.length) gpus = detected.gpus.flatMap((g) => (g.computeCapability ? [g.computeCapability] : []));
    if (!gpuBrands?.length && detected.gpus.length && detected.gpus.every((g) => g.brand)) gpuBrands = detected.gpus.map((g) => g.brand!);
  }
  if (driver === null && req.gpus?.length) {
    throw new TunaSetupError(
      'USAGE',
      `{gpuCc} ${req.gpus.join(',')} was given, but ${detected ? 'this machine has no NVIDIA driver' : 'the driver is none'}: it would be ignored`,
      'resolving for another machine? give its {driver=VER} too; or leave {gpuCc} out',
    );
  }
  const platform = req.platform ?? (await machinePlatform(req.sysroot));
  if (req.platform && req.platform !== 'linux-x86_64' && req.platform !== 'linux-aarch64' && (req.source ?? 'pytorch') !== 'pytorch') {
    throw new TunaSetupError(
      'USAGE',
      `{source=${req.source}} images are Linux; ${req.platform} has none`,
      'leave {source} out, or resolve for linux-x86_64 / linux-aarch64',
    );
  }
  const offline = req.offline ?? isOffline();
  // a release or patch newer than the tables: known from the PyPI index the wheels would come from
  // (only an exact patch the tables list needs no look; a listing is cached for an hour)
  const spec = (req.torch ?? 'latest').trim().replace(/^v/, '');
  const exact = TORCH_RELEASES.some((r) => r.patches.some((p) => p.torch === spec));
  const minor = /^\d+\.\d+/.exec(spec)?.[0];
  const live =
    !offline && !exact && req.pypiIndex && (req.wheels ?? 'auto') !== 'mirror' && (req.wheels ?? 'auto') !== 'upstream'
      ? await liveRelease(req.pypiIndex, {
          ...(minor ? { minor } : {}),
          ...(req.stateDir ? { stateDir: req.stateDir } : {}),
          ...(req.fresh ? { fresh: true } : {}),
          ...(req.allowHttp ? { allowHttp: true } : {}),
        }).catch((e: Error) => ({ release: undefined, why: `live index not read (${e.message}): the tables decide` }))
      : undefined;
  const tables = req.releases ?? TORCH_RELEASES;
  const releases = live?.release
    ? [...tables.filter((r) => r.minor !== live.release!.minor), live.release].sort((a, b) => compareVersions(a.minor, b.minor))
    : undefined;
  const base = {
    ...req,
    registryMirrors,
    registryMirror: undefined,
    platform,
    driver,
    ...(gpus ? { gpus } : {}),
    ...(gpuBrands ? { gpuBrands } : {}),
    ...(releases ? { releases } : {}),
  };
  let resolution = resolveTorch(base);
  // not from PyPI: a wheel mirror when asked for (a name, or auto: the fastest fresh one, upstream included)
  const source = req.wheels ?? 'auto';
  if (resolution.wheelSource !== 'pypi' && (source === 'mirror' || (source === 'auto' && req.wheelMirror))) {
    const wheels = await wheelIndexFor(req.wheelMirror ?? 'auto', offline, req.stateDir, req.allowHttp);
    resolution = resolveTorch({ ...base, wheelIndex: wheels.index });
    resolution.reasons.push(wheels.why);
  } else if (resolution.wheelSource === 'upstream' && source === 'auto') {
    resolution.reasons.push(`wheels from download.pytorch.org; {wheels=mirror} probes the PyTorch wheel mirrors`);
  }
  if (live) resolution.reasons.push(live.why);
  if (!offline) {
    // the wheels themselves, on the index they come from: a mirror that is behind fails here, not in pip
    const listed = await checkListed(resolution, {
      ...(req.python ? { python: req.python } : {}),
      platform,
      ...(req.stateDir ? { stateDir: req.stateDir } : {}),
      ...(req.fresh ? { fresh: true } : {}),
      ...(req.allowHttp ? { allowHttp: true } : {}),
    }).catch((e: unknown) => {
      if (isTunaSetupError(e) && e.code === 'UNRESOLVABLE') throw e;
      return `wheels not checked on the index (${(e as Error).message})`;
    });
    resolution.reasons.push(listed);
  }
  if (detected?.driver)
    resolution.reasons.unshift(`driver ${detected.driver} (from ${detected.driverSource})${gpus?.length ? `, GPUs ${gpus.join(', ')}` : ''}`);
  if (offline || resolution.image === null || req.checkImage === false) {
    if (resolution.image)
      resolution.reasons.push(offline ? 'offline: the tag was not checked in the registry' : 'the tag was not checked in the registry (not needed to install)');
    return { ...resolution, digest: null, ...(detected ? { detected } : {}) };
  }
  // a mirror the user named over http is reached over http (the tag check goes where the pull will)
  const httpHosts = registryMirrors.filter((m) => m.url.startsWith('http:')).map((m) => new URL(m.url).host);
  const client = new RegistryClient({ ...req.registry, ...(httpHosts.length ? { httpHosts } : {}) });
  try {
    const ref = parseImageRef(resolution.image);
    const digest = await client.digest(ref);
    if (!digest) {
      const listing = await client.tags(ref.registry, ref.repository);
      const nearest = nearestAcceptable({ ...req, registryMirrors, registryMirror: undefined, driver, gpus: gpus ?? [] }, ref.tag, listing.tags);
      const partly = listing.complete ? '' : ` (of the ${listing.tags.length} tags listed before the listing stopped ${listing.stopped})`;
      throw new TunaSetupError(
        'TAG_NOT_FOUND',
        `${resolution.image} does not exist in ${ref.registry}`,
        nearest
          ? `the nearest existing tag${partly} is ${ref.repository}:${nearest.tag}${nearest.fits ? ' (it fits this driver and GPU)' : ' (not checked against this driver and GPU)'} — pass {torch}/{cuda} to match it`
          : `no tag of ${ref.repository}${partly} looks like it; check the registry mirror`,
        { details: { reasons: resolution.reasons, ...(nearest ? { nearest: nearest.tag } : {}) } },
      );
    }
    resolution.reasons.push(`tag exists: ${digest}`);
    return { ...resolution, digest, ...(detected ? { detected } : {}) };
  } finally {
    await client.close();
  }
}

/**
 * This machine's platform; a Jetson before Thor is refused: PyPI's and
 * download.pytorch.org's aarch64 wheels are SBSA builds, without Jetson's
 * sm_87 kernels or its iGPU userspace (pytorch/builder #1775, pytorch #152690).
 * JetPack 7 (L4T R38, Thor) is SBSA itself and takes the cu130 wheels (pytorch #161257).
 */
export async function machinePlatform(sysroot?: string, reported: TorchPlatform | undefined = hostTorchPlatform()): Promise<TorchPlatform> {
  const platform = reported;
  if (!platform) {
    throw new TunaSetupError(
      'UNSUPPORTED_PLATFORM',
      `PyTorch publishes no wheels for ${process.platform}-${process.arch}`,
      `resolve for another machine with {platform} (${TORCH_PLATFORMS.join(', ')})`,
    );
  }
  const l4t = platform === 'linux-aarch64' ? await detectL4t(sysroot) : null;
  if (l4t && l4t.major < 38) {
    throw new TunaSetupError(
      'UNSUPPORTED_PLATFORM',
      `this is a Jetson (L4T ${l4t.release}): the aarch64 wheels on PyPI and download.pytorch.org are server (SBSA) builds without Jetson's kernels (sm_87) or userspace`,
      "use NVIDIA's Jetson builds: the Jetson AI Lab index (https://pypi.jetson-ai-lab.io/jp6/cu126 on JetPack 6), or a dustynv/l4t-pytorch container; to resolve for a server instead, give {platform=linux-aarch64}",
    );
  }
  return platform;
}

/**
 * The existing tag nearest to a missing one: first an image the resolver
 * itself accepts for this machine (same torch patch with another variant that
 * fits, then the release's other patches), else the closest tag by shape.
 */
function nearestAcceptable(req: ResolveRequest, missing: string, tags: readonly string[]): { tag: string; fits: boolean } | undefined {
  const have = new Set(tags);
  const { release, patch } = findRelease(req.torch, req.releases);
  const patches = [patch, ...[...release.patches].reverse().filter((p) => p !== patch)];
  for (const p of patches) {
    for (const variant of [...release.cuda].reverse()) {
      try {
        const alt = resolveTorch({ ...req, torch: p.torch, cuda: cudaOfVariant(variant) });
        const tag = alt.image && parseImageRef(alt.image).tag;
        if (tag && tag !== missing && have.has(tag)) return { tag, fits: true };
      } catch {
        // this combination does not fit the machine
      }
    }
  }
  const near = nearestTag(missing, tags);
  return near ? { tag: near, fits: false } : undefined;
}

/** The wheel index base for `--wheel-mirror`: a URL, a named catalog mirror, or the winner of a pytorch selection. */
async function wheelIndexFor(spec: string, offline: boolean, stateDir?: string, allowHttp?: boolean): Promise<{ index: string; why: string }> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    const index = checkMirrorUrl(spec, '{wheelMirror}', allowHttp ? { allowHttp } : {});
    return { index, why: `wheels from ${index}, as asked` };
  }
  if (spec !== 'auto') {
    const mirror = findMirror(spec);
    const w = mirror.pytorchWheels;
    if (!w)
      throw new TunaSetupError(
        'UNSUPPORTED_SERVICE',
        `mirror '${mirror.name}' has no PyTorch wheels`,
        `use one of: ${catalogCandidates('pytorch')
          .map((c) => c.name)
          .join(', ')}`,
      );
    if (w.layout !== 'pep503')
      throw new TunaSetupError(
        'UNSUPPORTED_SERVICE',
        `${mirror.name}'s PyTorch wheels are a flat -f listing, not a PEP 503 index`,
        'name a mirror with an index (sjtu, nju) or leave {wheelMirror} out',
      );
    return { index: w.index, why: `wheels from ${mirror.name} (${w.index}), as asked` };
  }
  if (offline) return { index: PYTORCH_WHEEL_INDEX, why: 'wheels from download.pytorch.org: offline, no mirror probed' };
  const candidates = catalogCandidates('pytorch').filter((c) => c.layout === 'pep503');
  const report = await selectMirror({ service: 'pytorch', candidates, ...(stateDir ? { stateDir } : {}) });
  const chosen = report.chosen && candidates.find((c) => c.name === report.chosen!.name);
  if (!chosen) return { index: PYTORCH_WHEEL_INDEX, why: 'wheels from download.pytorch.org: no healthy, fresh wheel mirror answered' };
  return { index: chosen.url, why: `wheels from ${chosen.name} (${chosen.url}): fastest healthy, fresh PyTorch wheel index of ${candidates.length} probed` };
}
