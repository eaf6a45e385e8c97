/** `tuna-setup resolve`: the PyTorch wheel index and image that fit this driver and GPU, with the tag checked. */
import { defaultStateDir, inWords, resolveEnvironment, type EnvironmentRequest } from '@tuna-setup/sdk';
import { pypiIndexFor } from '@tuna-setup/sdk/config';
import {
  checkResolveRequest,
  IMAGE_SOURCES,
  TORCH_PLATFORMS,
  type TorchPlatform,
  WHEEL_SOURCES,
  type WheelSource,
  type ImageFlavor,
  type ImageSource,
} from '@tuna-setup/sdk/torch';
import { parseRegistryMirror } from '@tuna-setup/sdk/registry';
import { parse, refuseIgnored } from '../args.js';
import { printJson, say, UsageError, printUsage } from '../output.js';

export const usage = `tuna-setup resolve [options]
  Pick the CUDA variant, wheel index and image for this machine, and check the tag exists.

  --torch SPEC            latest (default), X.Y or X.Y.Z
  --cuda auto|X.Y|cpu     default auto: the newest variant the driver runs and every GPU has kernels for
  --driver VER            use this driver version instead of detecting it ('none': no GPU)
  --gpu-cc X.Y[,X.Y]      compute capabilities of the GPUs (repeatable; default: from nvidia-smi)
  --python X.Y            check the release has wheels for this Python
  --platform NAME         resolve for linux-x86_64, linux-aarch64, macos-arm64, macos-x86_64 or
                          windows-x86_64 (default: this machine; a Jetson before Thor is refused)
  --source NAME           image family: pytorch (default, pytorch/pytorch), ngc (nvcr.io/nvidia/pytorch),
                          cuda (nvidia/cuda, torch installed from the wheel index)
  --flavor NAME           runtime (default) or devel
  --registry-mirror [REGISTRY=]URL
                          pull the image through this mirror of its registry and check the tag there
                          (repeatable; REGISTRY defaults to docker.io; URL a registry root or a path
                          prefix such as a Harbor proxy project: harbor.corp/dockerhub-proxy)
  --wheels auto|pypi|mirror|upstream
                          where the wheels come from. auto (default): the PyPI index pip uses (a mirror)
                          when its build of torch (the release's PyPI-default CUDA) fits this machine —
                          the fast path — else the PyTorch index (--wheel-mirror if given); pypi: only
                          that; mirror: a mirror of download.pytorch.org (--wheel-mirror, default auto);
                          upstream: download.pytorch.org
  --mirror NAME|URL       the PyPI mirror for --wheels auto|pypi (default: the index pip uses now —
                          PIP_INDEX_URL or pip.conf — when it is a public one)
  --fresh                 read the PyPI index's torch listing again (a release newer than the tables is
                          learned from it, cached for an hour)
  --wheel-mirror NAME|URL take the wheels from a catalog mirror of download.pytorch.org (sjtu, nju), the
                          https:// base of one (what /whl is upstream: a Nexus or Artifactory proxy), or
                          auto: the fastest healthy, fresh one with the upstream
  --allow-http            accept http:// for --mirror and --wheel-mirror URLs (traffic can be altered)
  --state-dir DIR         where an auto wheel-mirror ranking is cached (default: $XDG_STATE_HOME/tuna-setup)
  --offline               do not check the tag in the registry (also TUNA_SETUP_OFFLINE=1)
  --sysroot DIR           read the driver version under DIR (a container with the host mounted)
  --json                  one JSON object on stdout`;

const pick = <T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined => {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} '${value}' is not one of ${allowed.join(', ')}`);
  return value as T;
};

/** The flags `resolve` and `run` share, and the request they make. */
export const resolveFlags = {
  torch: { type: 'string' },
  cuda: { type: 'string' },
  driver: { type: 'string' },
  'gpu-cc': { type: 'string', multiple: true },
  python: { type: 'string' },
  platform: { type: 'string' },
  source: { type: 'string' },
  flavor: { type: 'string' },
  'registry-mirror': { type: 'string', multiple: true },
  'wheel-mirror': { type: 'string' },
  'state-dir': { type: 'string' },
  offline: { type: 'boolean' },
  sysroot: { type: 'string' },
} as const;

export type ResolveValues = {
  [K in keyof typeof resolveFlags]?: (typeof resolveFlags)[K]['type'] extends 'boolean'
    ? boolean
    : (typeof resolveFlags)[K] extends { multiple: true }
      ? string[]
      : string;
};

export function resolveRequest(v: ResolveValues): EnvironmentRequest {
  const source = pick<ImageSource>(v.source, IMAGE_SOURCES, '--source');
  const flavor = pick<ImageFlavor>(v.flavor, ['runtime', 'devel'], '--flavor');
  const platform = pick<TorchPlatform>(v.platform, TORCH_PLATFORMS, '--platform');
  if (v.driver === 'none') refuseIgnored(v, ['gpu-cc'], 'with a driver (--driver none means no GPU)');
  if (v['wheel-mirror'] === undefined && (v as { wheels?: string }).wheels !== 'mirror')
    refuseIgnored(v, ['state-dir'], 'with --wheel-mirror auto or --wheels mirror (the ranking is cached there)');
  const gpus = (v['gpu-cc'] ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  // the values themselves are checked by the SDK (checkResolveRequest), before anything is detected or fetched
  checkResolveRequest({ driver: v.driver === 'none' ? null : v.driver, gpus, ...(v.python !== undefined ? { python: v.python } : {}) });
  const allowHttp = (v as { 'allow-http'?: boolean })['allow-http'] === true;
  const mirrors = (v['registry-mirror'] ?? []).map((m) => parseRegistryMirror(m, '--registry-mirror', { allowHttp }));
  return {
    ...(v.torch ? { torch: v.torch } : {}),
    ...(v.cuda ? { cuda: v.cuda } : {}),
    ...(v.driver !== undefined ? { driver: v.driver === 'none' ? null : v.driver } : {}),
    ...(gpus.length ? { gpus } : {}),
    ...(v.python ? { python: v.python } : {}),
    ...(platform ? { platform } : {}),
    ...(source ? { source } : {}),
    ...(flavor ? { flavor } : {}),
    ...(mirrors.length ? { registryMirrors: mirrors } : {}),
    ...(allowHttp ? { allowHttp } : {}),
    ...(v.offline ? { offline: true } : {}),
    ...(v.sysroot ? { sysroot: v.sysroot } : {}),
    ...(v['wheel-mirror'] ? { wheelMirror: v['wheel-mirror'] } : {}),
    stateDir: v['state-dir'] ?? defaultStateDir(),
  };
}

/** The flags that choose where the wheels come from (resolve and install). */
export const wheelFlags = {
  wheels: { type: 'string' },
  mirror: { type: 'string' },
  fresh: { type: 'boolean' },
  'allow-http': { type: 'boolean' },
} as const;

/** The request `resolve` and `install` make: the resolve flags, and where the wheels come from; `reasons` for the report. */
export async function wheelsRequest(
  v: ResolveValues & { wheels?: string; mirror?: string; fresh?: boolean; 'allow-http'?: boolean },
): Promise<{ request: EnvironmentRequest; reason?: string }> {
  const wheels = pick<WheelSource>(v.wheels, WHEEL_SOURCES, '--wheels') ?? 'auto';
  if (wheels === 'upstream' || wheels === 'pypi') refuseIgnored(v, ['wheel-mirror'], 'with --wheels auto or mirror');
  if (wheels === 'mirror' || wheels === 'upstream') refuseIgnored(v, ['mirror'], 'with --wheels auto or pypi');
  const allowHttp = v['allow-http'] === true;
  const pypi = wheels === 'auto' || wheels === 'pypi' ? await pypiIndexFor(v.mirror, { allowHttp }) : undefined;
  return {
    request: {
      ...resolveRequest(v),
      wheels,
      ...(pypi ? { pypiIndex: pypi.url } : {}),
      ...(v.fresh ? { fresh: true } : {}),
      ...(allowHttp ? { allowHttp } : {}),
    },
    ...(pypi ? { reason: `PyPI index: ${pypi.url} (${pypi.from})` } : {}),
  };
}

export async function resolve(args: string[]): Promise<number> {
  const { values: v } = parse(args, { ...resolveFlags, ...wheelFlags });
  if (v.help) return printUsage(usage, v.json);
  const { request, reason } = await wheelsRequest(v);
  const env = await resolveEnvironment(request);
  if (reason) env.reasons.push(reason);
  for (const w of env.warnings) process.stderr.write(`tuna-setup: warning: ${w}\n`);
  const { detected: _detected, ...out } = env;
  out.reasons = out.reasons.map((r) => inWords(r, 'cli'));
  if (out.imageProblem) out.imageProblem = inWords(out.imageProblem, 'cli');
  if (v.json) return (printJson(out), 0);
  say(`torch:   ${env.torch} (torchvision ${env.torchvision}${env.torchaudio ? `, torchaudio ${env.torchaudio}` : ''})`);
  say(
    `variant: ${env.variant}${env.cuda ? ` (CUDA ${env.cuda})` : ''} — driver ${env.driver ?? 'none'}${env.gpus.length ? `, GPUs ${env.gpus.join(', ')}` : ''}`,
  );
  say(`index:   ${env.torchIndexUrl} (${env.wheelSource})`);
  say(`pip:     pip ${env.pipArgs.join(' ')}`);
  say(
    `image:   ${env.image ? `${env.image}${env.digest ? `@${env.digest}` : ' (not checked: offline)'}` : `none — ${inWords(env.imageProblem ?? '', 'cli')}`}`,
  );
  say('why:');
  for (const r of out.reasons) say(`  - ${r}`);
  return 0;
}
