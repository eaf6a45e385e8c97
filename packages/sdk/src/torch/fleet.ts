/**
 * The images a fleet needs (`images plan`): every combination of torch
 * versions × machines (driver and GPUs) × image sources × flavors, resolved
 * as `resolve` would for each machine (offline, from the tables), and
 * gathered into the distinct images with the combinations each serves — what
 * an internal registry should hold (`images sync`). A combination that has
 * no image is listed with why, not dropped.
 */
import { isTunaSetupError, TunaSetupError } from '../errors.js';
import { isOffline } from '../net/offline.js';
import { checkImageTag, RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { pullThrough, type RegistryMirror } from '../registry/mirrors.js';
import { IMAGE_SOURCES, type ImageFlavor, type ImageSource } from './images.js';
import { checkResolveRequest, resolveTorch } from './resolve.js';

/** One kind of machine in the fleet: its driver (null: no GPU) and its GPUs' compute capabilities. */
export interface FleetMachine {
  driver: string | null;
  gpus?: readonly string[];
}

/** A fleet's matrix: every torch version × machine × image source × flavor is resolved. */
export interface ImageMatrix {
  /** `latest`, `X.Y` or `X.Y.Z` each */
  torch: readonly string[];
  machines: readonly FleetMachine[];
  /** default ['pytorch'] */
  sources?: readonly ImageSource[];
  /** default ['runtime'] */
  flavors?: readonly ImageFlavor[];
}

/** One combination of the matrix. */
export interface FleetCase {
  torch: string;
  driver: string | null;
  gpus: string[];
  source: ImageSource;
  flavor: ImageFlavor;
}

/** One distinct image the fleet needs, with the combinations it serves. */
export interface PlannedImage {
  image: string;
  /** its manifest digest, when the plan was checked in the registry (`checkPlan`) */
  digest?: string;
  /** torch and CUDA variant inside it */
  torch: string;
  variant: string;
  /** the combinations it serves */
  for: FleetCase[];
}

/** What `planImages` found: the distinct images, and the combinations that have none. */
export interface ImagePlan {
  images: PlannedImage[];
  /** combinations with no image, and why */
  unresolved: (FleetCase & { problem: string })[];
  /** where the tags were checked (`checkPlan`); absent: not checked */
  checked?: { requests: number };
}

const MAX_CASES = 10_000;

/** `570.172.08:8.6,9.0` → a machine; `none` → no GPU. */
export function parseMachine(spec: string, what = '{machine}'): FleetMachine {
  const s = spec.trim();
  if (s === 'none') return { driver: null };
  const colon = s.indexOf(':');
  const driver = colon === -1 ? s : s.slice(0, colon);
  const gpus = colon === -1 ? '' : s.slice(colon + 1);
  if (gpus.includes(':'))
    throw new TunaSetupError(
      'USAGE',
      `${what} '${spec}' has more than one ':'`,
      'write a machine as DRIVER[:CC[,CC…]], e.g. 570.172.08:8.6,9.0 (the GPUs comma-separated)',
    );
  const machine = {
    driver,
    gpus: gpus
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean),
  };
  try {
    checkResolveRequest({ driver: machine.driver, gpus: machine.gpus });
  } catch (e) {
    if (isTunaSetupError(e))
      throw new TunaSetupError('USAGE', `${what} '${spec}': ${e.message}`, 'write a machine as DRIVER[:CC[,CC…]], e.g. 570.172.08:8.6,9.0, or none for no GPU');
    throw e;
  }
  return machine;
}

/**
 * Resolve every combination of the matrix and gather the distinct images.
 * @example
 * const plan = planImages({ torch: ['2.7', '2.8'], machines: [{ driver: '570.172.08', gpus: ['8.6'] }, { driver: '535.247.01', gpus: ['8.0'] }] });
 * console.log(plan.images.map((i) => i.image));
 */
export function planImages(matrix: ImageMatrix): ImagePlan {
  const sources = matrix.sources?.length ? matrix.sources : (['pytorch'] as const);
  const flavors = matrix.flavors?.length ? matrix.flavors : (['runtime'] as const);
  for (const s of sources)
    if (!IMAGE_SOURCES.includes(s))
      throw new TunaSetupError('USAGE', `{source} '${s}' is not one of ${IMAGE_SOURCES.join(', ')}`, 'pick image sources from that list');
  for (const f of flavors)
    if (f !== 'runtime' && f !== 'devel') throw new TunaSetupError('USAGE', `{flavor} '${f}' is not one of runtime, devel`, 'pick runtime, devel or both');
  if (!matrix.torch.length || !matrix.machines.length)
    throw new TunaSetupError('USAGE', 'the matrix needs at least one torch version and one machine', 'give {torch} and {machine}');
  const total = matrix.torch.length * matrix.machines.length * sources.length * flavors.length;
  if (total > MAX_CASES) throw new TunaSetupError('USAGE', `the matrix has ${total} combinations (more than ${MAX_CASES})`, 'split it');

  const byImage = new Map<string, PlannedImage>();
  const unresolved: ImagePlan['unresolved'] = [];
  for (const torch of matrix.torch) {
    for (const m of matrix.machines) {
      for (const source of sources) {
        for (const flavor of flavors) {
          const c: FleetCase = { torch, driver: m.driver, gpus: [...(m.gpus ?? [])], source, flavor };
          try {
            const r = resolveTorch({ torch, driver: m.driver, gpus: c.gpus, source, flavor });
            if (!r.image) {
              unresolved.push({ ...c, problem: r.imageProblem ?? 'no image' });
              continue;
            }
            const entry = byImage.get(r.image) ?? { image: r.image, torch: r.torch, variant: r.variant, for: [] };
            entry.for.push(c);
            byImage.set(r.image, entry);
          } catch (e) {
            if (!isTunaSetupError(e) || e.code === 'USAGE' || e.code === 'BAD_TORCH_SPEC' || e.code === 'UNKNOWN_TORCH' || e.code === 'BAD_GPUS') throw e;
            unresolved.push({ ...c, problem: e.message });
          }
        }
      }
    }
  }
  return { images: [...byImage.values()].sort((a, b) => a.image.localeCompare(b.image)), unresolved };
}

/**
 * Checks every image of a plan in its registry — through `mirrors` where one
 * serves its registry, as the pull will go — at most `concurrency` at once.
 * An image that exists gets its digest; one that does not moves to
 * `unresolved` with the nearest existing tag, so a sync of the plan never
 * meets a missing tag.
 */
export async function checkPlan(
  plan: ImagePlan,
  options: { mirrors?: readonly RegistryMirror[]; registry?: RegistryClientOptions; concurrency?: number } = {},
): Promise<ImagePlan> {
  if (isOffline())
    throw new TunaSetupError(
      'USAGE',
      '{check} asks the registry, and TUNA_SETUP_OFFLINE=1 says not to use the network',
      'unset TUNA_SETUP_OFFLINE, or plan without {check}',
    );
  const mirrors = options.mirrors ?? [];
  const httpHosts = [...(options.registry?.httpHosts ?? []), ...mirrors.filter((m) => m.url.startsWith('http:')).map((m) => new URL(m.url).host)];
  const client = new RegistryClient({ deadlineMs: 120_000, ...options.registry, ...(httpHosts.length ? { httpHosts } : {}) });
  // each result in its plan position: the output does not depend on which check finished first
  const results: (PlannedImage | string)[] = new Array(plan.images.length);
  const workers = Math.max(1, Math.min(Math.floor(options.concurrency ?? 4) || 1, plan.images.length));
  try {
    let next = 0;
    const one = async () => {
      while (next < plan.images.length) {
        const at = next++;
        const planned = plan.images[at]!;
        const ref = pullThrough(planned.image, mirrors);
        const check = await checkImageTag(ref, client).catch((e: unknown) => {
          // the client's advice is resolve's ("resolve offline"): here the way out is a plan without the check
          if (!isTunaSetupError(e) || e.code !== 'REGISTRY' || !/resolve offline/.test(e.hintTemplate)) throw e;
          throw new TunaSetupError('REGISTRY', e.template, 'check the network and the proxy (HTTPS_PROXY), or plan without {check}', { cause: e });
        });
        results[at] = check.exists
          ? { ...planned, digest: check.digest }
          : `${ref} does not exist${check.nearest ? ` (the nearest tag is ${check.nearest})` : ''}`;
      }
    };
    await Promise.all(Array.from({ length: workers }, one));
  } finally {
    await client.close();
  }
  const images = results.filter((r): r is PlannedImage => typeof r !== 'string');
  const missing = plan.images.flatMap((p, i) => (typeof results[i] === 'string' ? p.for.map((c) => ({ ...c, problem: results[i] as string })) : []));
  return { images, unresolved: [...plan.unresolved, ...missing], checked: { requests: client.requests } };
}
