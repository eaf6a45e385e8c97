/**
 * The one retry loop: try, and on a transient failure wait — the backoff,
 * doubled each time, or what the server asked for (Retry-After) — and try
 * again, up to `attempts`; the wait ends early when `signal` aborts. Used by
 * the registry client (HTTP 429/5xx, connection errors) and `docker pull`.
 */
export interface RetryOptions {
  attempts: number;
  /** the first wait, doubled after each retry */
  backoffMs: number;
  /** ends a wait early (the next attempt then sees it aborted) */
  signal?: AbortSignal;
  /** told before each wait */
  onRetry?: (why: string, attempt: number, delayMs: number) => void;
}

/** One attempt's outcome: done, or worth another try (why, and how long the server asked to wait). */
export type Attempt<T> = { value: T } | { retry: string; afterMs?: number };

/** `once` until it is done; after the last attempt, what `giveUp(why, attempts)` returns is thrown. An error `once` throws ends the loop at once. */
export async function withRetries<T>(
  o: RetryOptions,
  once: (attempt: number) => Promise<Attempt<T>>,
  giveUp: (why: string, attempts: number) => Error,
): Promise<T> {
  let delay = o.backoffMs;
  for (let attempt = 1; ; attempt++) {
    const r = await once(attempt);
    if ('value' in r) return r.value;
    if (attempt >= o.attempts) throw giveUp(r.retry, o.attempts);
    if (r.afterMs !== undefined) delay = r.afterMs;
    o.onRetry?.(r.retry, attempt, delay);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        o.signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, delay);
      o.signal?.addEventListener('abort', done, { once: true });
    });
    delay *= 2;
  }
}
