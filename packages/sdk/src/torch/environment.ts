/**
 * The whole `resolve` use case for every front end: detect the driver and
 * GPUs (unless given), resolve the variant and image from the tables, then —
 * unless offline — prove the image tag exists in its registry and take its
 * digest. A missing tag is an error that names the nearest existing one.
 */
import { isOffline } from '../probe/choose.js';
import { TunaSetupError } from '../errors.js';
import { checkImageTag, parseImageRef, RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { detectGpu, type GpuReport } from './detect.js';
import { resolveTorch, type Resolution, type ResolveRequest } from './resolve.js';

export interface EnvironmentRequest extends Omit<ResolveRequest, 'driver'> {
  /** the driver version; undefined: detect it (null: no driver) */
  driver?: string | null;
  sysroot?: string;
  /** no registry check (default: TUNA_SETUP_OFFLINE=1) */
  offline?: boolean;
  registry?: RegistryClientOptions;
}

export interface Environment extends Resolution {
  /** manifest digest; null when not checked (offline) */
  digest: string | null;
  detected?: GpuReport;
}

export async function resolveEnvironment(req: EnvironmentRequest): Promise<Environment> {
  let detected: GpuReport | undefined;
  let { driver, gpus } = req;
  if (driver === undefined) {
    detected = await detectGpu(req.sysroot ? { sysroot: req.sysroot } : {});
    driver = detected.driver;
    if (!gpus?.length) gpus = detected.gpus.flatMap((g) => (g.computeCapability ? [g.computeCapability] : []));
  }
  const resolution = resolveTorch({ ...req, driver, ...(gpus ? { gpus } : {}) });
  if (detected?.driver) resolution.reasons.unshift(`driver ${detected.driver} (from ${detected.driverSource})${gpus?.length ? `, GPUs ${gpus.join(', ')}` : ''}`);
  if (req.offline ?? isOffline()) {
    resolution.reasons.push('offline: the tag was not checked in the registry');
    return { ...resolution, digest: null, ...(detected ? { detected } : {}) };
  }
  const client = new RegistryClient(req.registry);
  try {
    const check = await checkImageTag(resolution.image, client);
    if (!check.exists) {
      const ref = parseImageRef(resolution.image);
      throw new TunaSetupError('TAG_NOT_FOUND', `${resolution.image} does not exist in ${ref.registry}`,
        check.nearest ? `the nearest existing tag is ${ref.repository}:${check.nearest} — pass it with --image, or change --torch/--cuda` : `no tag of ${ref.repository} looks like it; check the registry mirror`,
        { details: { reasons: resolution.reasons, ...(check.nearest ? { nearest: check.nearest } : {}) } });
    }
    resolution.reasons.push(`tag exists: ${check.digest}`);
    return { ...resolution, digest: check.digest, ...(detected ? { detected } : {}) };
  } finally {
    await client.close();
  }
}
