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
  | 'OFFLINE';


export class TunaSetupError extends Error {
  override readonly name = 'TunaSetupError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTunaSetupError(e: unknown): e is TunaSetupError {
  return e instanceof TunaSetupError;
}
