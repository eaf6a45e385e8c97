/**
 * What a mirror says about its own sync: tunasync.json (TUNA, BFSU, NJU — a
 * list of jobs with `status` and `last_update_ts`) and mirrorz.json v1.7
 * (USTC, SJTU — `mirrors[].status` such as `S1718000000X1718003600`, see
 * mirrorz-org/mirrorz's status format, README "status"). Pure: parsed JSON in, a
 * verdict out. Anything missing or garbled is "unknown", never an error —
 * the probe that follows still decides whether the mirror really serves.
 */
import { untrusted } from '../net/untrusted.js';

/** What a mirror's sync status says about a service; `lastSuccess` is ms since the epoch, `detail` a line for the log. */
export type SyncVerdict =
  | { state: 'ok'; lastSuccess?: number; detail: string }
  | { state: 'failed' | 'paused' | 'stale'; lastSuccess?: number; detail: string }
  | { state: 'unknown'; detail: string };

/** Which sync-status jobs carry a service, and how old a last successful sync may be. */
export interface SyncRule {
  /** job names (tunasync) / cnames (mirrorz) that carry the service */
  jobs: readonly string[];
  /** older than this since the last successful sync = stale */
  maxAgeMs: number;
}

const hours = (ms: number) => `${Math.round(ms / 3_600_000)} h`;

function byAge(lastSuccess: number | undefined, rule: SyncRule, now: number, what: string): SyncVerdict {
  if (lastSuccess === undefined) return { state: 'unknown', detail: `${what}: no last-success time` };
  const age = now - lastSuccess;
  if (age > rule.maxAgeMs) return { state: 'stale', lastSuccess, detail: `${what}: last synced ${hours(age)} ago (limit ${hours(rule.maxAgeMs)})` };
  return { state: 'ok', lastSuccess, detail: `${what}: synced ${Math.max(0, Math.round(age / 60_000))} min ago` };
}

const seconds = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? v * 1000 : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) * 1000 : undefined;

/** A tunasync.json (parsed) read for the rule's jobs: failed, paused (or disabled), stale by age, ok; unknown when it says nothing usable. */
export function readTunasync(data: unknown, rule: SyncRule, now: number): SyncVerdict {
  if (!Array.isArray(data)) return { state: 'unknown', detail: 'tunasync.json is not a list' };
  const job = data.find((j) => j && typeof j === 'object' && rule.jobs.includes(String(j.name)));
  if (!job) return { state: 'unknown', detail: `tunasync.json has no job ${rule.jobs.join('/')}` };
  const what = `tunasync ${untrusted(String(job.name), 40)} ${untrusted(String(job.status), 60)}`;
  const last = seconds(job.last_update_ts);
  switch (job.status) {
    case 'failed':
      return { state: 'failed', ...(last ? { lastSuccess: last } : {}), detail: `${what} (last success ${last ? `${hours(now - last)} ago` : 'unknown'})` };
    case 'paused':
    case 'disabled':
      return { state: 'paused', ...(last ? { lastSuccess: last } : {}), detail: what };
    default:
      return byAge(last, rule, now, what);
  }
}

/** mirrorz status: one main letter with an optional timestamp, then auxiliaries (X next, N new, O old success). */
export function readMirrorz(data: unknown, rule: SyncRule, now: number): SyncVerdict {
  const mirrors = (data as { mirrors?: unknown })?.mirrors;
  if (!Array.isArray(mirrors)) return { state: 'unknown', detail: 'mirrorz.json has no mirrors list' };
  const entry = mirrors.find((m) => m && typeof m === 'object' && rule.jobs.includes(String(m.cname)));
  if (!entry || typeof entry.status !== 'string' || entry.status.length > 200)
    return { state: 'unknown', detail: `mirrorz.json has no ${rule.jobs.join('/')}` };
  const parts = new Map<string, number | undefined>();
  for (const m of entry.status.matchAll(/([A-Z])(\d*)/g)) if (!parts.has(m[1]!)) parts.set(m[1]!, m[2] ? Number(m[2]) * 1000 : undefined);
  const main = entry.status.match(/^[A-Z]/)?.[0];
  const what = `mirrorz ${untrusted(String(entry.cname), 40)} ${untrusted(entry.status, 60)}`;
  const old = parts.get('O');
  switch (main) {
    case 'S':
      return byAge(parts.get('S'), rule, now, what);
    case 'Y':
    case 'D':
      return old !== undefined ? byAge(old, rule, now, what) : { state: 'unknown', detail: `${what}: syncing, no previous success` };
    case 'F':
      return { state: 'failed', ...(old ? { lastSuccess: old } : {}), detail: what };
    case 'P':
      return { state: 'paused', detail: what };
    case 'C':
    case 'R':
      return { state: 'ok', detail: `${what}: reverse proxy` };
    default:
      return { state: 'unknown', detail: what };
  }
}
