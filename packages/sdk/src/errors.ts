/**
 * The one error type of tuna-setup. Every failure a user can act on is a
 * TunaSetupError with a stable `code`, a one-line `message` that names the
 * input, file or host it is about, and a `hint` that says how to fix it.
 * Nothing else in the SDK throws strings or bare Errors at users.
 *
 * A setting named in a message or hint is written `{option}` or
 * `{option=value}` (SDK option names, see SETTINGS): each front end says it in
 * its own words — the CLI `--replace-index`, the Action `replace-index: true`,
 * the SDK `replaceIndex: true` (`message`/`hint` as thrown) — and `fixes`
 * lists them as data. `usage` marks a value or combination the user gave
 * that cannot work (the CLI's exit 2).
 */
export type ErrorCode =
  | 'UNKNOWN_MIRROR'
  | 'BAD_URL'
  | 'INSECURE_URL'
  | 'BAD_MIRROR_FILE'
  | 'UNSUPPORTED_SERVICE'
  | 'BAD_TARGET'
  | 'PARSE_ERROR'
  | 'PRIVATE_INDEX'
  | 'NOT_WRITABLE'
  | 'WRITE_FAILED'
  | 'JOURNAL_MISSING'
  | 'JOURNAL_CORRUPT'
  | 'RESTORE_CONFLICT'
  | 'RELOAD_FAILED'
  | 'BAD_SERVICE'
  | 'BAD_CANDIDATE'
  | 'NO_HEALTHY_MIRROR'
  | 'BAD_BUDGET'
  | 'BAD_PROXY'
  | 'BAD_REQUIREMENTS'
  | 'OFFLINE'
  | 'BAD_TORCH_SPEC'
  | 'UNKNOWN_TORCH'
  | 'BAD_CUDA'
  | 'UNRESOLVABLE'
  | 'REGISTRY'
  | 'BAD_IMAGE'
  | 'TAG_NOT_FOUND'
  | 'BAD_GPUS'
  | 'BAD_ENV'
  | 'PULL_FAILED'
  | 'RUN_FAILED'
  | 'INSTALL_FAILED'
  | 'VERIFY_FAILED'
  | 'NO_PYTHON'
  | 'UNSUPPORTED_PLATFORM'
  | 'JOB_FAILED'
  | 'STATE_LOCKED'
  | 'USAGE'
  | 'BAD_PULL'
  | 'BAD_PUBLISH'
  | 'BAD_VOLUME'
  | 'BAD_WORKDIR'
  | 'IMAGE_NOT_LOCAL';

/** Codes that mean "this value, or this combination of settings, cannot work". */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'UNKNOWN_MIRROR',
  'BAD_URL',
  'INSECURE_URL',
  'BAD_TARGET',
  'BAD_SERVICE',
  'BAD_CANDIDATE',
  'BAD_BUDGET',
  'BAD_TORCH_SPEC',
  'UNKNOWN_TORCH',
  'BAD_CUDA',
  'BAD_GPUS',
  'BAD_ENV',
  'BAD_IMAGE',
  'UNSUPPORTED_SERVICE',
  'BAD_PULL',
  'BAD_PUBLISH',
  'BAD_VOLUME',
  'BAD_WORKDIR',
]);

/** How each front end names a setting; null: that front end has no such setting. */
export const SETTINGS: Readonly<Record<string, { flag: string | null; input: string | null }>> = {
  mirror: { flag: '--mirror', input: 'mirror' },
  mirrors: { flag: '--mirrors', input: 'mirror' },
  candidate: { flag: '--candidate', input: null },
  mirrorFile: { flag: '--mirror-file', input: null },
  targets: { flag: '--targets', input: 'configure' },
  dockerMirror: { flag: '--docker-mirror', input: 'docker-mirror' },
  registryMirror: { flag: '--registry-mirror', input: 'registry-mirrors' },
  machine: { flag: '--machine', input: null },
  to: { flag: '--to', input: null },
  check: { flag: '--check', input: null },
  podmanConfig: { flag: '--podman-config', input: null },
  dockerPidFile: { flag: '--docker-pidfile', input: null },
  replaceIndex: { flag: '--replace-index', input: 'replace-index' },
  allowHttp: { flag: '--allow-http', input: 'allow-http' },
  stateDir: { flag: '--state-dir', input: null },
  session: { flag: '--session', input: null },
  force: { flag: '--force', input: null },
  all: { flag: '--all', input: null },
  budgetMs: { flag: '--budget-ms', input: 'probe-budget-ms' },
  service: { flag: '--service', input: null },
  torch: { flag: '--torch', input: 'pytorch' },
  cuda: { flag: '--cuda', input: 'cuda' },
  driver: { flag: '--driver', input: null },
  gpuCc: { flag: '--gpu-cc', input: null },
  source: { flag: '--source', input: 'image-source' },
  flavor: { flag: '--flavor', input: 'image-flavor' },
  wheelMirror: { flag: '--wheel-mirror', input: null },
  wheels: { flag: '--wheels', input: 'torch-wheels' },
  offline: { flag: '--offline', input: null },
  image: { flag: '--image', input: 'image' },
  gpus: { flag: '--gpus', input: 'gpus' },
  pull: { flag: '--pull', input: 'pull' },
  env: { flag: '--env', input: null },
  workdir: { flag: '--workdir', input: null },
  volume: { flag: '--volume', input: null },
  publish: { flag: '--publish', input: null },
  installConda: { flag: null, input: 'install-conda' },
  interpreter: { flag: '--python', input: 'python' },
  python: { flag: '--python', input: null },
  platform: { flag: '--platform', input: null },
  installer: { flag: '--installer', input: null },
};

/** A setting that fixes (or caused) the error, with the names each front end uses for it. */
export interface Fix {
  option: string;
  flag: string | null;
  input: string | null;
  value?: string;
}

/** Whose words a message uses: the SDK's option names, the CLI's flags, or the Action's inputs. */
export type Words = 'sdk' | 'cli' | 'action';

const TOKEN = /\{([a-zA-Z]+)(?:=([^{}]*))?\}/g;

function say(option: string, value: string | undefined, words: Words): string {
  const s = SETTINGS[option];
  if (words === 'cli' && s?.flag) return value === undefined || value === 'true' ? s.flag : `${s.flag} ${value}`;
  if (words === 'action' && s?.input) return value === undefined ? s.input : `${s.input}: ${value}`;
  // a setting the Action has no input for: the CLI's, named as such (a self-hosted runner can run it)
  if (words === 'action' && s?.flag) return `the CLI's ${say(option, value, 'cli')}`;
  return value === undefined ? option : `${option}: ${value}`;
}

/** A message or hint template in one front end's words. */
export const inWords = (template: string, words: Words) =>
  template.replace(TOKEN, (all, o: string, v?: string) => (Object.hasOwn(SETTINGS, o) ? say(o, v, words) : all));

/**
 * Every failure the SDK expects: a stable `code`, a one-line `message`, a
 * `hint` with the fix, and `fixes` naming the settings as data; `say(words)`
 * renders message and hint for a front end.
 */
export class TunaSetupError extends Error {
  override readonly name = 'TunaSetupError';
  /** structured context a front end may print (e.g. every rejection of a resolution) */
  readonly details?: Record<string, unknown>;
  /** the settings the message and hint name, as data */
  readonly fixes: Fix[];
  readonly hint: string;
  constructor(
    readonly code: ErrorCode,
    /** may name settings as `{option}` / `{option=value}` */
    readonly template: string,
    readonly hintTemplate: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(inWords(template, 'sdk'), options);
    this.hint = inWords(hintTemplate, 'sdk');
    const seen = new Map<string, Fix>();
    for (const m of `${template}\n${hintTemplate}`.matchAll(TOKEN)) {
      const option = m[1]!;
      if (!Object.hasOwn(SETTINGS, option) || seen.has(`${option}=${m[2]}`)) continue;
      seen.set(`${option}=${m[2]}`, { option, flag: SETTINGS[option]!.flag, input: SETTINGS[option]!.input, ...(m[2] !== undefined ? { value: m[2] } : {}) });
    }
    this.fixes = [...seen.values()];
    if (options?.details) this.details = options.details;
  }

  /** a usage error: a value or combination the user gave that cannot work */
  get usage(): boolean {
    return USAGE_CODES.has(this.code);
  }

  /** message and hint in one front end's words */
  say(words: Words): { message: string; hint: string } {
    return { message: inWords(this.template, words), hint: inWords(this.hintTemplate, words) };
  }
}

/** Whether `e` is a TunaSetupError (rather than a bug). */
export function isTunaSetupError(e: unknown): e is TunaSetupError {
  return e instanceof TunaSetupError;
}
