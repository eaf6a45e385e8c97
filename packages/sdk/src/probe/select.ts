/**
 * Picking the mirror that will really serve this machine fastest, within a
 * time budget, politely. The pipeline (how chsrc, mirrorz and TUNA's own
 * selection measure mirrors, improved where they mislead):
 *
 * 1. **Validated probe, all candidates at once.** Each candidate gets one
 *    request for a real resource on the service's own path (services.ts); only
 *    the right content counts, and the time to its first byte is the latency.
 *    The mirrors' own sync status (tunasync.json / mirrorz.json) is fetched at
 *    the same time — one small JSON per site — so reading it costs no extra
 *    round trip; a mirror reporting the service failed, paused or stale is
 *    dropped (its sample stopped). The phase ends when every candidate
 *    has answered, or a grace period after the first healthy answer
 *    (max(first + 500 ms, 3 × first), at most half the budget): a black hole
 *    costs that grace, never the budget.
 * 2. **Freshness** from what the candidates served (freshness.ts).
 * 3. **Throughput samples** (sample.ts), each started the moment its
 *    mirror's probe answered, on the same connection: a `Range` of a real
 *    artifact the mirror's own index links, timed chunk by chunk. The bytes
 *    go where the decision is still open — a ramping mirror its share (256 KiB
 *    to 1 MiB), the best two up to 2.5 MiB (past a throttle), a mirror that
 *    can no longer win stops — at most 13 MiB in all, until DECISION_MS (or
 *    the budget).
 * 4. **Rank** by the predicted time of what users download (throughput.ts):
 *    the bottleneck rate from slow start's rounds (a short sample on a long,
 *    fat path never leaves slow start, so its average rate would lie), the
 *    RTT and the ramp, summed over a workload of index pages and wheels
 *    (default: a PyTorch CI job's). A mirror that throttles after its first
 *    bytes is ranked at its throttled rate.
 *
 * Every request carries our User-Agent and goes through one dispatcher that
 * honours the proxy environment and is destroyed at the end: no socket
 * outlives the selection. A ranking that chose a mirror is cached (cache.ts).
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { TunaSetupError } from '../errors.js';
import { readCachedRanking, rankingCacheFile, writeCachedRanking } from './cache.js';
import { catalogCandidates } from './candidates.js';
import { staleByDate, staleByListing } from './freshness.js';
import { createDispatcher, describeHttpError, httpRequest, originOf } from '../net/http.js';
import { readProxyEnv, viaProxy } from '../net/proxy.js';
import { safeDecode, untrusted } from '../net/untrusted.js';
import type { IndexFile } from './index-page.js';
import { Sampler, type SampleResult } from './sample.js';
import { PYTORCH_CI_WORKLOAD, workloadMs, type Workload } from './workload.js';
import { condaSubdir } from '../config/locations.js';
import { condaSubdirGap, SERVICE_PROBES, serviceRow, type Candidate, type ProbeService } from './services.js';
import { readMirrorz, readTunasync, type SyncVerdict } from './status.js';

/** How long a selection may take when `budgetMs` is not given, in ms. */
export const DEFAULT_BUDGET_MS = 3000;
/** How long a cached ranking is reused when `cacheTtlMs` is not given: one hour, in ms. */
export const DEFAULT_CACHE_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_PYPI_PROJECT = 'pip';
const GRACE_MS = 500;
/** how long a probed mirror's sample waits for its site's status, when that has not come yet */
const STATUS_WAIT_MS = 250;
/** samples end by then (from the start), or 100 ms before the budget when that is earlier */
const DECISION_MS = 1400;
/** the download the benchmarks time as the truth: a typical wheel of a PyTorch CI job */
export const REFERENCE_BYTES = 32 * 1024 * 1024;
/** below this a sample is a trickle, not a mirror */
const MIN_THROUGHPUT = 16 * 1024;
/** a file upstream published this long ago must be on every fresh mirror */
const FRESHNESS_GRACE_MS = 6 * 3_600_000;
/** conda repodata this much older than the reference is stale */
const CONDA_MAX_LAG_MS = 72 * 3_600_000;

/** Options of `selectMirror`: the service, who competes, the time budget, the cache and the workload to rank by. */
export interface SelectOptions {
  service: ProbeService;
  /** who competes; default: the catalog's mirrors for the service plus the upstream */
  candidates?: readonly Candidate[];
  budgetMs?: number;
  /** the PyPI project whose page is probed (default pip) */
  project?: string;
  allowHttp?: boolean;
  /** default: a fresh EnvHttpProxyAgent, destroyed at the end */
  dispatcher?: Dispatcher;
  /** cache the ranking here; without it nothing is cached */
  stateDir?: string;
  /** probe even when a cached ranking is recent */
  fresh?: boolean;
  cacheTtlMs?: number;
  /** the wall clock, for sync ages and the cache (tests) */
  now?: () => number;
  /** what users will download, to rank by (default: a PyTorch CI job, PYTORCH_CI_WORKLOAD) */
  workload?: Workload;
  /** conda: the platform subdir a mirror must carry besides noarch (default: this machine's, e.g. linux-aarch64); null: not checked */
  condaSubdir?: string | null;
}

/** One candidate in a selection: its measurements, its predicted time, and whether (or why not) it may be chosen. */
export interface RankedMirror {
  name: string;
  url: string;
  upstream: boolean;
  /** usable: answered with the right content, fresh, not too slow */
  ok: boolean;
  /** time to the probe's first byte */
  latencyMs: number | null;
  /** the bottleneck rate the sample measured, bytes/s; null when not sampled */
  throughputBps: number | null;
  /** how the rate was found: slow-start rounds, a full link, or throttled after its first bytes */
  rateBasis?: 'burst' | 'sustained' | 'throttled';
  /** the workload's predicted time from this mirror, ms */
  predictedMs?: number;
  /** why it may not be chosen; null when ok */
  excluded: string | null;
  /** what its sync status said, when it publishes one */
  sync?: string;
  /** the catalog row could not be checked against the mirror's own sources (why) */
  unverified?: string;
  /** where the probe ended up when the mirror redirected (the URL configured stays `url`) */
  redirectedTo?: string;
  /** bytes read from this mirror in this selection */
  bytes: number;
}

/** A selection's outcome: the winner (null: none healthy), every candidate ranked with its numbers or its reason. */
export interface SelectReport {
  service: ProbeService;
  chosen: { name: string; url: string } | null;
  ranking: RankedMirror[];
  elapsedMs: number;
  budgetMs: number;
  /** when the mirrors were probed (ISO time) */
  probedAt: string;
  /** this report came from the ranking cache, nothing was probed */
  cached: boolean;
  /** bytes read in all */
  bytes: number;
}

interface Probed {
  candidate: Candidate;
  entry: RankedMirror;
  files?: IndexFile[];
  artifact?: string;
  date?: number;
  settled: boolean;
  abort: AbortController;
}

/**
 * Probe every candidate for one service at once and rank them by how fast
 * they will really serve this machine (validated answer, freshness, a
 * bounded sample), within `budgetMs`. Writes nothing but a cached ranking.
 * @example
 * const report = await selectMirror({ service: 'pypi', budgetMs: 2000 });
 * console.log(report.chosen?.name, report.ranking.map((m) => [m.name, m.excluded]));
 */
export async function selectMirror(options: SelectOptions): Promise<SelectReport> {
  const t0 = performance.now();
  const now = options.now ?? Date.now;
  const service = options.service;
  const candidates = options.candidates ?? catalogCandidates(service);
  if (candidates.length === 0) {
    throw new TunaSetupError('NO_HEALTHY_MIRROR', `no candidates for ${service}`, 'name some with {mirrors} or {candidate=NAME=URL}');
  }
  const project = options.project ?? DEFAULT_PYPI_PROJECT;
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  if (!(budgetMs > 0))
    throw new TunaSetupError('BAD_BUDGET', `budget ${budgetMs} ms is not a positive number`, 'give {budgetMs} a number of milliseconds, e.g. 3000');

  const workload = options.workload ?? PYTORCH_CI_WORKLOAD;
  const cacheFile = options.stateDir ? rankingCacheFile(options.stateDir, service, candidates, project, workload) : undefined;
  if (cacheFile && !options.fresh) {
    const cached = await readCachedRanking(cacheFile, options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, now());
    if (cached) return { ...cached, cached: true, elapsedMs: Math.round(performance.now() - t0) };
  }

  const proxies = readProxyEnv();
  const hard = new AbortController();
  setMaxListeners(0, hard.signal); // one listener per candidate
  const hardTimer = setTimeout(() => hard.abort(), budgetMs);
  // each origin's TCP handshake time: its network round trip, apart from the server's own time to answer
  const handshakes = new Map<string, number>();
  const onConnect = (origin: string, ms: number) => handshakes.set(origin, Math.min(ms, handshakes.get(origin) ?? Infinity));
  const dispatcher = options.dispatcher ?? (await createDispatcher({ deadline: hard.signal, timeoutMs: budgetMs, proxies, onConnect }));
  const elapsed = () => performance.now() - t0;
  const sampler = new Sampler({
    dispatcher,
    signal: hard.signal,
    proxies,
    workload,
    rttOf: (url) => handshakes.get(originOf(url)),
    expected: candidates.length,
    deadline: t0 + Math.min(budgetMs - 100, DECISION_MS),
    ...(options.allowHttp ? { allowHttp: true } : {}),
  });
  try {
    const probe = SERVICE_PROBES[service];
    const statusCtl = new AbortController();
    hard.signal.addEventListener('abort', () => statusCtl.abort(), { once: true });
    setMaxListeners(0, statusCtl.signal);
    const statuses = fetchStatuses(candidates, dispatcher, statusCtl.signal, options.allowHttp);
    /** what the mirror's own status says of this service, once it is known */
    const syncOf = (p: Probed, data: unknown): SyncVerdict | undefined => {
      const source = p.candidate.status;
      if (!source || data === undefined || !probe.sync.jobs.length) return undefined;
      return source.format === 'tunasync' ? readTunasync(data, probe.sync, now()) : readMirrorz(data, probe.sync, now());
    };
    const reportedBad = (v: SyncVerdict | undefined) => v?.state === 'failed' || v?.state === 'paused' || v?.state === 'stale';
    // the sample starts at once, on the warm connection — unless the mirror's status (fetched alongside, waited
    // for at most STATUS_WAIT_MS more) already says the service is failed, paused or stale
    const sampleUnlessReportedBad = async (p: Probed) => {
      const source = p.candidate.status;
      const data = source ? await within(statuses.get(source.url)!, STATUS_WAIT_MS) : undefined;
      if (!reportedBad(syncOf(p, data))) sampler.start(p.candidate.name, p.artifact!);
    };

    // phase 1: one validated request per candidate, all at once
    const probed: Probed[] = candidates.map((candidate) => ({
      candidate,
      entry: {
        name: candidate.name,
        url: candidate.url,
        upstream: candidate.upstream,
        ok: false,
        latencyMs: null,
        throughputBps: null,
        excluded: null,
        bytes: 0,
        ...(serviceRow(candidate, service)?.unverified ? { unverified: serviceRow(candidate, service)!.unverified! } : {}),
      },
      settled: false,
      abort: linked(hard.signal),
    }));
    const subdir = service === 'conda' ? (options.condaSubdir === undefined ? condaSubdir() : (options.condaSubdir ?? undefined)) : undefined;
    const runs = probed.map(async (p) => {
      const req = probe.request(p.candidate, project);
      // the catalog already knows the mirror has nothing for this platform: no request
      const gap = subdir && !p.candidate.upstream ? condaSubdirGap(p.candidate, subdir) : undefined;
      if (gap) {
        p.entry.excluded = gap;
        p.settled = true;
        return false;
      }
      try {
        const res = await httpRequest(req.url, {
          dispatcher,
          signal: p.abort.signal,
          headers: req.headers,
          maxBytes: req.maxBytes,
          ...(req.whole ? { whole: true } : {}),
          ...(options.allowHttp ? { allowHttp: true } : {}),
        });
        if (p.abort.signal.aborted) return false; // the phase ended first: already counted as no answer
        p.entry.bytes += res.wireBytes;
        p.entry.latencyMs = Math.round(res.ttfbMs);
        if (res.chain.length > 1) p.entry.redirectedTo = res.url;
        let verdict = probe.check(res, p.candidate, project);
        if (verdict.ok && subdir) {
          // conda reads a missing platform subdir as an empty channel, silently: the mirror must have this machine's
          const path = `conda-forge/${subdir}/repodata.json`;
          const head = await httpRequest(`${p.candidate.url}/${path}`, {
            dispatcher,
            signal: p.abort.signal,
            method: 'HEAD',
            maxBytes: 0,
            ...(options.allowHttp ? { allowHttp: true } : {}),
          });
          p.entry.bytes += head.wireBytes;
          if (head.status >= 400) verdict = { ok: false, reason: `HTTP ${head.status} for ${path}: no packages for this machine's platform (${subdir})` };
        }
        if (verdict.ok) {
          p.entry.ok = true;
          if (verdict.files) p.files = verdict.files;
          if (verdict.artifact) {
            p.artifact = verdict.artifact;
            void sampleUnlessReportedBad(p);
          }
          if (verdict.date !== undefined) p.date = verdict.date;
        } else {
          p.entry.excluded = verdict.reason;
        }
      } catch (e) {
        // aborted by the end of the phase: the reason is set there
        if (!p.abort.signal.aborted) p.entry.excluded = describeHttpError(e, req.url, proxies);
      }
      p.settled = true;
      return p.entry.ok;
    });
    await firstPhase(runs, budgetMs / 2, elapsed);
    for (const p of probed) {
      if (p.settled) continue;
      p.abort.abort();
      p.entry.ok = false;
      p.entry.excluded = `no complete answer within ${Math.round(elapsed())} ms${viaProxy(proxies, p.candidate.url)}`;
    }
    statusCtl.abort();

    // the mirrors' own word on their sync, then freshness from what they served
    const now0 = now();
    for (const p of probed) {
      const source = p.candidate.status;
      const v = source && syncOf(p, await statuses.get(source.url));
      if (!v) continue;
      p.entry.sync = v.detail;
      if (p.entry.ok && reportedBad(v)) exclude(p, `mirror reports ${v.detail}`);
    }
    const healthy = () => probed.filter((p) => p.entry.ok);
    if (probe.freshness === 'listing') {
      const stale = staleByListing(
        healthy().map((p) => ({ name: p.candidate.name, upstream: p.candidate.upstream, files: p.files ?? [] })),
        now0,
        FRESHNESS_GRACE_MS,
      );
      for (const p of healthy()) {
        const why = stale.get(p.candidate.name);
        if (why) exclude(p, why);
      }
    } else if (probe.freshness === 'date') {
      const stale = staleByDate(
        healthy().map((p) => ({ name: p.candidate.name, upstream: p.candidate.upstream, ...(p.date !== undefined ? { date: p.date } : {}) })),
        CONDA_MAX_LAG_MS,
      );
      for (const p of healthy()) {
        const why = stale.get(p.candidate.name);
        if (why) exclude(p, why);
      }
    }

    // phase 2: the samples started in phase 1 run on, steered, to their end; an excluded mirror's stops now
    for (const p of probed) if (!p.entry.ok) sampler.cancel(p.candidate.name);
    const samples = await sampler.finish();
    for (const p of healthy()) {
      const r = p.artifact && samples.get(p.candidate.name);
      if (r) judgeSample(p, r);
    }

    const ranking = rank(
      probed.map((p) => p.entry),
      workload,
    );
    const first = ranking[0];
    const report: SelectReport = {
      service,
      chosen: first?.ok ? { name: first.name, url: first.url } : null,
      ranking,
      elapsedMs: Math.round(elapsed()),
      budgetMs,
      probedAt: new Date(now()).toISOString(),
      cached: false,
      bytes: ranking.reduce((n, r) => n + r.bytes, 0),
    };
    if (cacheFile) await writeCachedRanking(cacheFile, report, now());
    return report;
  } finally {
    sampler.close();
    clearTimeout(hardTimer);
    hard.abort();
    if (!options.dispatcher) await dispatcher.destroy().catch(() => {});
  }
}

function exclude(p: Probed, why: string) {
  p.entry.ok = false;
  p.entry.excluded = why;
}

function linked(parent: AbortSignal): AbortController {
  const c = new AbortController();
  parent.addEventListener('abort', () => c.abort(), { once: true });
  return c;
}

/** Resolves when every probe settled, or a grace after the first healthy answer, or at `capMs`. */
function firstPhase(runs: Promise<boolean>[], capMs: number, elapsed: () => number): Promise<void> {
  return new Promise((resolve) => {
    let pending = runs.length;
    const timers = [setTimeout(done, capMs)];
    let graceSet = false;
    let finished = false;
    function done() {
      finished = true;
      for (const t of timers) clearTimeout(t);
      resolve();
    }
    for (const run of runs) {
      void run.then((ok) => {
        pending -= 1;
        if (finished) return;
        if (pending === 0) return done();
        if (ok && !graceSet) {
          graceSet = true;
          const first = elapsed();
          timers.push(setTimeout(done, Math.max(0, Math.min(capMs, Math.max(first + GRACE_MS, 3 * first)) - first)));
        }
      });
    }
  });
}

/** Each status URL's parsed JSON (undefined when it cannot be had), fetched once per site, all at once. */
function fetchStatuses(candidates: readonly Candidate[], dispatcher: Dispatcher, signal: AbortSignal, allowHttp?: boolean): Map<string, Promise<unknown>> {
  const urls = [...new Set(candidates.flatMap((c) => (c.status ? [c.status.url] : [])))];
  return new Map(
    urls.map((url) => [
      url,
      (async () => {
        try {
          const res = await httpRequest(url, {
            dispatcher,
            signal,
            headers: { accept: 'application/json', 'accept-encoding': 'gzip' },
            maxBytes: 2 * 1024 * 1024,
            whole: true,
            maxInflated: 8 * 1024 * 1024,
            ...(allowHttp ? { allowHttp: true } : {}),
          });
          return res.status === 200 && res.complete ? (JSON.parse(res.body.toString('utf8')) as unknown) : undefined;
        } catch {
          return undefined; // unknown status is not a verdict: the probe decides
        }
      })(),
    ]),
  );
}

/** `promise`'s value, or undefined after `ms` */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A mirror's sample as its rate and predicted time, or its exclusion. */
function judgeSample(p: Probed, r: SampleResult): void {
  const url = p.artifact!;
  p.entry.bytes += r.bytes;
  if (r.error !== undefined) return exclude(p, `sample of ${fileName(url)}: ${r.error}`);
  if (r.status !== 200 && r.status !== 206) return exclude(p, `index links ${fileName(url)} but it answers HTTP ${r.status}`);
  if (/text\/html/i.test(r.contentType ?? '')) return exclude(p, `index links ${fileName(url)} but it serves an HTML page`);
  const bps = r.estimate.rateBps;
  if (bps === null) return exclude(p, `sample of ${fileName(url)}: no data within the sample`);
  p.entry.throughputBps = bps;
  if (r.estimate.basis !== 'none') p.entry.rateBasis = r.estimate.basis;
  if (r.predictedMs !== null) p.entry.predictedMs = Math.round(r.predictedMs);
  if (bps < MIN_THROUGHPUT) exclude(p, `too slow: ${bps} B/s in the sample`);
}

/** the linked file's name for a reason: as the mirror spelled it, decoded where it decodes, as data */
const fileName = (url: string) => untrusted(safeDecode(new URL(url).pathname.split('/').pop() || url), 120);

/**
 * Usable mirrors by the workload's predicted time (from the rate and the
 * latency when no prediction was made), unsampled ones after by latency, then the rest.
 */
export function rank(entries: readonly RankedMirror[], workload: Workload = PYTORCH_CI_WORKLOAD): RankedMirror[] {
  const cost = (r: RankedMirror) =>
    r.predictedMs ?? (r.throughputBps ? workloadMs(workload, { rateBps: r.throughputBps, rttMs: r.latencyMs ?? 0, latencyMs: r.latencyMs ?? 0 }) : Infinity);
  const usable = entries.filter((r) => r.ok).sort((a, b) => cost(a) - cost(b) || a.latencyMs! - b.latencyMs!);
  return [...usable, ...entries.filter((r) => !r.ok)];
}

/** The error for a selection where nothing may be chosen, listing every candidate's reason. */
export function noHealthyMirror(report: SelectReport): TunaSetupError {
  const reasons = report.ranking.map((r) => `${r.name}: ${r.excluded ?? 'not usable'}`).join('; ');
  return new TunaSetupError(
    'NO_HEALTHY_MIRROR',
    `no healthy ${report.service} mirror among ${report.ranking.length} candidates — ${reasons}`,
    'check the network or proxy (HTTPS_PROXY), raise {budgetMs}, or name a mirror you know works',
    { details: { ...report } },
  );
}
