/**
 * The one error type of tuna-setup. Every failure a user can act on is a
 * TunaSetupError with a stable `code`, a one-line `message` that names the
 * input, file or host it is about, and a `hint` that says how to fix it.
 * Front ends print `message` and `hint` and choose the exit code; nothing
 * else in the SDK throws strings or bare Errors at users.
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
  | 'INSTALL_FAILED';


export class TunaSetupError extends Error {
  override readonly name = 'TunaSetupError';
  /** structured context a front end may print (e.g. every rejection of a resolution) */
  readonly details?: Record<string, unknown>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options);
    if (options?.details) this.details = options.details;
  }
}

export function isTunaSetupError(e: unknown): e is TunaSetupError {
  return e instanceof TunaSetupError;
}
