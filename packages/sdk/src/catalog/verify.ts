/**
 * The catalog checked against the live mirrors — the maintainer's check
 * before a release, and anyone's when a row looks wrong. Every URL a row
 * configures is asked for once, politely: a HEAD of one small, known
 * resource under it (a PyPI project page, a channel's noarch repodata, the
 * CPU torch page, the status JSON), at most `concurrency` at a time, within
 * one deadline. Each gets a verdict: ok, moved (it redirects: the row
 * should say where), missing (404/403/410: the mirror no longer serves it),
 * stale (the repodata has not changed for `staleDays`), unreachable (no
 * answer, 5xx).
 */
import { createDispatcher, describeHttpError, httpRequest } from '../net/http.js';
import { MIRRORS } from './mirrors.js';
import type { Mirror } from './types.js';

/**
 * What `verifyCatalog` found at a row's URL: ok; moved (it redirects); missing (HTTP 404/403/410);
 * stale (repodata unchanged for `staleDays`); unreachable (no answer, or another HTTP error).
 */
export type RowVerdict = 'ok' | 'moved' | 'missing' | 'stale' | 'unreachable';
/** The `RowVerdict` values as a list, for code that needs them at run time. */
export const ROW_VERDICTS: readonly RowVerdict[] = ['ok', 'moved', 'missing', 'stale', 'unreachable'];

/** One URL of a catalog row, checked against the live mirror. */
export interface RowCheck {
  mirror: string;
  /** the row and what in it: `pypi`, `conda default_channels[0]`, `conda channel conda-forge`, `pytorchWheels`, `miniforge`, `status` */
  row: string;
  /** the URL asked for */
  url: string;
  verdict: RowVerdict;
  /** the final HTTP status, when there was an answer */
  status?: number;
  /** where a moved URL ends up */
  movedTo?: string;
  detail: string;
}

/** Options of `verifyCatalog`; the defaults suit a check of the whole catalog. */
export interface VerifyOptions {
  /** default: the catalog */
  mirrors?: readonly Mirror[];
  /** requests at once (default 4) */
  concurrency?: number;
  /** per request (default 15 s) */
  timeoutMs?: number;
  /** for the whole check (default 120 s) */
  deadlineMs?: number;
  /** repodata unchanged this long is stale (default 7) */
  staleDays?: number;
  allowHttp?: boolean;
  /** the clock the freshness of dated rows is judged by (ms since the epoch; default Date.now) */
  now?: () => number;
}

/** One URL `verifyCatalog` fetches for a catalog row: the mirror, the row's name, and whether its answer carries a date. */
export interface VerifyProbe {
  mirror: string;
  row: string;
  url: string;
  dated?: boolean;
}

/** The URLs a row configures, each with the one resource that proves it serves. */
export function verifyTargets(m: Mirror): VerifyProbe[] {
  const out: VerifyProbe[] = [];
  const add = (row: string, url: string, dated = false) => out.push({ mirror: m.name, row, url, ...(dated ? { dated } : {}) });
  if (m.pypi) add('pypi', `${m.pypi.index}/pip/`);
  if (m.conda) {
    for (const [i, c] of m.conda.defaultChannels.entries()) add(`conda default_channels[${i}]`, `${c}/noarch/repodata.json`, true);
    for (const ch of m.conda.channels) add(`conda channel ${ch}`, `${m.conda.cloud}/${ch}/noarch/repodata.json`, true);
  }
  if (m.pytorchWheels) add('pytorchWheels', `${m.pytorchWheels.index}/cpu/${m.pytorchWheels.layout === 'pep503' ? 'torch/' : ''}`);
  if (m.miniforge) add('miniforge', `${m.miniforge.url}/`);
  if (m.pythonBuilds) add('pythonBuilds', `${m.pythonBuilds.url}/`);
  if (m.status) add('status', m.status.url);
  return out;
}

/**
 * Every URL the catalog's rows configure, asked once (a HEAD of one small
 * resource), with a verdict each: ok, moved, missing, stale, unreachable.
 * @example const rows = await verifyCatalog({ mirrors: [findMirror('sjtu')] });
 */
export async function verifyCatalog(options: VerifyOptions = {}): Promise<RowCheck[]> {
  const probes = (options.mirrors ?? MIRRORS).flatMap(verifyTargets);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const staleMs = (options.staleDays ?? 7) * 86_400_000;
  const now = options.now ?? Date.now;
  const deadline = AbortSignal.timeout(options.deadlineMs ?? 120_000);
  const dispatcher = await createDispatcher({ deadline, timeoutMs });
  const results: RowCheck[] = new Array(probes.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < probes.length; i = next++) results[i] = await check(probes[i]!);
  };
  const check = async (p: VerifyProbe): Promise<RowCheck> => {
    const base = { mirror: p.mirror, row: p.row, url: p.url };
    try {
      const res = await httpRequest(p.url, {
        dispatcher,
        signal: AbortSignal.any([deadline, AbortSignal.timeout(timeoutMs)]),
        method: 'HEAD',
        maxBytes: 0,
        ...(options.allowHttp ? { allowHttp: true } : {}),
      });
      const moved = res.chain.length > 1 ? { movedTo: res.url } : {};
      const status = res.status;
      if (status === 404 || status === 403 || status === 410)
        return { ...base, status, ...moved, verdict: 'missing', detail: `HTTP ${status}${res.chain.length > 1 ? ` at ${res.url}` : ''}` };
      if (status >= 400) return { ...base, status, ...moved, verdict: 'unreachable', detail: `HTTP ${status}` };
      if (res.chain.length > 1)
        return { ...base, status, ...moved, verdict: 'moved', detail: `redirects to ${res.url} (HTTP ${status}): the row should name where it serves from` };
      const modified = Date.parse(res.headers['last-modified'] ?? '');
      if (p.dated && Number.isFinite(modified) && now() - modified > staleMs) {
        return {
          ...base,
          status,
          verdict: 'stale',
          detail: `last modified ${new Date(modified).toISOString().slice(0, 10)}, ${Math.floor((now() - modified) / 86_400_000)} days ago`,
        };
      }
      return {
        ...base,
        status,
        verdict: 'ok',
        detail: `HTTP ${status}${Number.isFinite(modified) ? `, modified ${new Date(modified).toISOString().slice(0, 10)}` : ''}`,
      };
    } catch (e) {
      return { ...base, verdict: 'unreachable', detail: describeHttpError(e, p.url) };
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, probes.length)) }, worker));
  } finally {
    await dispatcher.destroy().catch(() => {});
  }
  return results;
}
