/**
 * Every input of action.yml, read once into a typed, frozen object and
 * validated: all problems are collected and reported together, each naming
 * the input and the fix, before anything is written. Defaults that depend on
 * the runner (hosted or self-hosted, RUNNER_TEMP, the event) are decided
 * here and nowhere else.
 */
import path from 'node:path';
import * as core from '@actions/core';
import { findMirror, isTunaSetupError, type Target } from '@tuna-setup/sdk';
import { checkMirrorUrl } from '@tuna-setup/sdk/catalog';
import { parseRegistryMirror, type RegistryMirror } from '@tuna-setup/sdk/registry';
import { parseTargets } from '@tuna-setup/sdk/config';
import { parseGpus, parsePullPolicy, parseRunImage, type Gpus, type PullPolicy } from '@tuna-setup/sdk/docker';
import { isOffline } from '@tuna-setup/sdk/net';
import { findRelease, IMAGE_SOURCES, isCudaSpec, WHEEL_SOURCES, type ImageFlavor, type ImageSource, type WheelSource } from '@tuna-setup/sdk/torch';

export type CacheBackend = 'actions' | 'local' | 'off';

export interface Inputs {
  mirror: string;
  configure: readonly Target[];
  dockerMirrors: readonly string[];
  registryMirrors: readonly RegistryMirror[];
  /** replace an index-url the catalog does not know (a private index) */
  replaceIndex: boolean;
  /** accept http:// mirrors */
  allowHttp: boolean;
  /** null: no PyTorch resolution */
  pytorch: string | null;
  cuda: string;
  torchWheels: WheelSource;
  /** install the resolved torch into `python` and check it */
  installTorch: boolean;
  /** the interpreter install-torch installs into (a path or a command on PATH) */
  python: string;
  /** null: no image; 'auto': resolve it */
  image: string | null;
  imageSource: ImageSource;
  imageFlavor: ImageFlavor;
  run: string | null;
  gpus: Gpus;
  /** when to pull the image for run: missing (use the one on this machine when it is there), always, never */
  pull: PullPolicy;
  /** the backend after `auto` and the cache switch are applied */
  cacheBackend: CacheBackend;
  cacheDependencyPath: readonly string[];
  /** the user's part of the key */
  cacheSuffix: string;
  /** false: restore only (e.g. pull requests) */
  saveCache: boolean;
  cacheLocalPath: string;
  cacheLocalMaxBytes: number;
  installConda: 'none' | 'miniforge' | 'micromamba';
  restoreConfig: boolean;
  /** write the job summary */
  summary: boolean;
  /** sent to github.com release downloads only; masked */
  githubToken: string | undefined;
  probeBudgetMs: number;
  runner: Readonly<{ hosted: boolean; temp: string; workspace: string; event: string; offline: boolean }>;
  /** why the cache backend is what it is, for the log */
  cacheBackendWhy: string;
}

export class InputErrors extends Error {
  constructor(readonly problems: readonly { input: string; message: string }[]) {
    super(`${problems.length} input problem${problems.length > 1 ? 's' : ''}; nothing was changed`);
  }
}

const UNTRUSTED_EVENTS = new Set(['pull_request_target', 'workflow_run']);

/** A GitHub Enterprise Server instance (not github.com, not a GHE.com data-residency host), as @actions/cache tells them apart. */
const ghes = (env: NodeJS.ProcessEnv) => {
  const host = new URL(env.GITHUB_SERVER_URL || 'https://github.com').hostname.toLowerCase();
  return host !== 'github.com' && !host.endsWith('.ghe.com') && !host.endsWith('.localhost');
};

export function loadInputs(env: NodeJS.ProcessEnv = process.env): Inputs {
  const problems: { input: string; message: string }[] = [];
  const get = (name: string) => core.getInput(name);
  /** runs a parser; a thrown problem is recorded against the input */
  function check<T>(input: string, parse: () => T, fallback: T): T {
    try {
      return parse();
    } catch (e) {
      problems.push({ input, message: isTunaSetupError(e) ? Object.values(e.say('action')).join(' — ') : (e as Error).message });
      return fallback;
    }
  }
  const oneOf = <T extends string>(input: string, allowed: readonly T[], dflt: T): T =>
    check(
      input,
      () => {
        const v = (get(input) || dflt).toLowerCase();
        if (!(allowed as readonly string[]).includes(v)) throw new Error(`'${get(input)}' is not one of ${allowed.join(', ')}`);
        return v as T;
      },
      dflt,
    );
  const bool = (input: string, dflt: boolean): boolean =>
    check(
      input,
      () => {
        const v = get(input);
        if (v === '') return dflt;
        if (['true', 'True', 'TRUE'].includes(v)) return true;
        if (['false', 'False', 'FALSE'].includes(v)) return false;
        throw new Error(`'${v}' is not a boolean: use true or false`);
      },
      dflt,
    );
  const list = (input: string) =>
    get(input)
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean);

  const hosted = env.RUNNER_ENVIRONMENT === 'github-hosted';
  const temp = env.RUNNER_TEMP || path.join(env.HOME || '/tmp', '.tuna-setup-tmp');
  const event = env.GITHUB_EVENT_NAME ?? '';
  const offline = isOffline(env);

  const allowHttp = bool('allow-http', false);
  const replaceIndex = bool('replace-index', false);
  const mirror = check(
    'mirror',
    () => {
      const spec = get('mirror') || 'auto';
      if (spec !== 'auto')
        for (const part of spec
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean))
          findMirror(part, { allowHttp });
      return spec;
    },
    'auto',
  );
  const configure = check('configure', () => parseTargets(get('configure') || 'pip,uv,conda'), [] as Target[]);
  const dockerMirrors = check('docker-mirror', () => list('docker-mirror').map((u) => checkMirrorUrl(u, '{dockerMirror}', { allowHttp })), [] as string[]);
  const registryMirrors = check(
    'registry-mirrors',
    () => list('registry-mirrors').map((m) => parseRegistryMirror(m, '{registryMirror}', { allowHttp })),
    [] as RegistryMirror[],
  );
  if (configure.includes('docker') && dockerMirrors.length === 0 && !registryMirrors.some((m) => m.registry === 'docker.io'))
    problems.push({
      input: 'docker-mirror',
      message: 'configure lists docker but no docker-mirror is given — add a registry mirror URL, or drop docker from configure',
    });
  const engines = configure.filter((t) => t === 'containerd' || t === 'podman' || t === 'buildkit');
  if (engines.length && registryMirrors.length === 0 && dockerMirrors.length === 0)
    problems.push({
      input: 'registry-mirrors',
      message: `configure lists ${engines.join(', ')} but no registry-mirrors is given — add [REGISTRY=]URL entries, or drop ${engines.length > 1 ? 'them' : 'it'} from configure`,
    });
  const pytorch = check(
    'pytorch',
    () => {
      const v = get('pytorch');
      try {
        if (v) findRelease(v);
      } catch (e) {
        // a release newer than the tables is resolved from the live index
        if (!isTunaSetupError(e) || e.code !== 'UNKNOWN_TORCH') throw e;
      }
      return v || null;
    },
    null,
  );
  const cuda = check(
    'cuda',
    () => {
      const v = (get('cuda') || 'auto').toLowerCase();
      if (!isCudaSpec(v)) throw new Error(`'${v}' is not auto, X.Y (e.g. 12.8) or cpu`);
      return v;
    },
    'auto',
  );
  const torchWheels = oneOf<WheelSource>('torch-wheels', WHEEL_SOURCES, 'auto');
  const run = get('run') || null;
  const installTorch = bool('install-torch', false);
  const python = get('python') || 'python3';
  if (installTorch && !pytorch && !problems.some((p) => p.input === 'pytorch'))
    problems.push({ input: 'install-torch', message: 'true needs pytorch (a version such as 2.14, or latest) to know what to install' });
  if (installTorch && run)
    problems.push({
      input: 'install-torch',
      message:
        "installs on the runner, but run's job uses the image's torch — drop one (with image-source: cuda, install in run's script from $TUNA_SETUP_TORCH_INDEX_URL)",
    });
  if (!installTorch && get('python')) problems.push({ input: 'python', message: 'is only used with install-torch: true' });
  const image = check(
    'image',
    () => {
      const v = get('image');
      if (!v) return run ? 'auto' : null;
      if (v !== 'auto') parseRunImage(v);
      return v;
    },
    null,
  );
  if (image === 'auto' && !pytorch && !problems.some((p) => p.input === 'pytorch')) {
    problems.push({
      input: 'image',
      message: `auto${get('image') ? '' : ' (the default when run is set)'} needs pytorch (a version such as 2.7, or latest) to resolve it — or give an image reference`,
    });
  }
  const imageSource = oneOf<ImageSource>('image-source', IMAGE_SOURCES, 'pytorch');
  const imageFlavor = oneOf<ImageFlavor>('image-flavor', ['runtime', 'devel'], 'runtime');
  const gpus = check('gpus', () => parseGpus(get('gpus') || 'all'), 'none' as Gpus);
  const pull = check('pull', () => parsePullPolicy(get('pull') || 'missing'), 'missing' as PullPolicy);
  const cache = bool('cache', true);
  const backendInput = oneOf('cache-backend', ['auto', 'actions', 'local', 'off'] as const, 'auto');
  const cacheDependencyPath = list('cache-dependency-path');
  const cacheSuffix = check(
    'cache-suffix',
    () => {
      const v = get('cache-suffix');
      if (!/^[\w.+-]{0,64}$/.test(v)) throw new Error(`'${v}' is not a key part: letters, digits, . _ + -, at most 64`);
      return v;
    },
    '',
  );
  const saveCache = bool('save-cache', true);
  const cacheLocalPath = get('cache-local-path') || path.join(env.RUNNER_TOOL_CACHE || path.join(temp, '..'), 'tuna-setup-wheels');
  const cacheLocalMaxBytes = check(
    'cache-local-max-size',
    () => {
      const v = get('cache-local-max-size') || '10240';
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`'${v}' is not a size in MiB (a whole number ≥ 1)`);
      return Number(v) * 1024 * 1024;
    },
    0,
  );
  const installConda = oneOf('install-conda', ['none', 'miniforge', 'micromamba'] as const, 'none');
  const summary = bool('summary', true);
  const githubToken = get('github-token') || undefined;
  if (githubToken) core.setSecret(githubToken);
  const restore = oneOf('restore-config', ['auto', 'true', 'false'] as const, 'auto');
  const probeBudgetMs = check(
    'probe-budget-ms',
    () => {
      const v = get('probe-budget-ms') || '3000';
      if (!/^\d+$/.test(v) || Number(v) < 100 || Number(v) > 60_000) throw new Error(`'${v}' is not a number of milliseconds from 100 to 60000`);
      return Number(v);
    },
    3000,
  );

  if (problems.length) throw new InputErrors(problems);

  let cacheBackend: CacheBackend;
  let cacheBackendWhy: string;
  if (!cache) [cacheBackend, cacheBackendWhy] = ['off', 'cache: false'];
  else if (backendInput !== 'auto') [cacheBackend, cacheBackendWhy] = [backendInput, `cache-backend: ${backendInput}`];
  else if (UNTRUSTED_EVENTS.has(event)) [cacheBackend, cacheBackendWhy] = ['off', `off on ${event} events (a cache written there could poison trusted runs)`];
  else if (event === 'release' || (env.GITHUB_REF ?? '').startsWith('refs/tags/'))
    [cacheBackend, cacheBackendWhy] = [
      'off',
      `off on ${event === 'release' ? 'release events' : 'tag pushes'} (a release builds once; set cache-backend to cache anyway)`,
    ];
  else if (hosted) [cacheBackend, cacheBackendWhy] = ['actions', 'GitHub-hosted runner: the Actions cache'];
  // GHES: its cache service is on the premises, and its runners are often ephemeral (ARC), where a local directory never hits
  else if (ghes(env) && env.ACTIONS_CACHE_URL)
    [cacheBackend, cacheBackendWhy] = ['actions', 'self-hosted runner on GitHub Enterprise Server with a cache service: the Actions cache'];
  else [cacheBackend, cacheBackendWhy] = ['local', `self-hosted runner: a persistent directory (${cacheLocalPath})`];

  return Object.freeze({
    mirror,
    configure,
    dockerMirrors,
    registryMirrors,
    replaceIndex,
    allowHttp,
    pytorch,
    cuda,
    torchWheels,
    installTorch,
    python,
    image,
    imageSource,
    imageFlavor,
    run,
    gpus,
    pull,
    cacheBackend,
    cacheBackendWhy,
    cacheDependencyPath,
    cacheSuffix,
    saveCache,
    cacheLocalPath,
    cacheLocalMaxBytes,
    installConda,
    restoreConfig: restore === 'auto' ? !hosted : restore === 'true',
    summary,
    githubToken,
    probeBudgetMs,
    runner: Object.freeze({ hosted, temp, workspace: env.GITHUB_WORKSPACE || process.cwd(), event, offline }),
  });
}
