/**
 * Throughput samples, and how the byte and time budget is spent on them.
 *
 * A sample is a `Range` request for a real file the mirror's own index links,
 * started the moment the mirror's probe answered (on the same, warm
 * connection), read chunk by chunk with each chunk's arrival time
 * (throughput.ts turns those into a rate). How much each may read is decided
 * as the samples run, every TICK_MS:
 *
 * - a mirror still ramping may read its share of the total (256 KiB to
 *   1 MiB) — for a far, wide mirror that is slow start's first four or five
 *   rounds, enough to time a round at the bottleneck — and those bytes are
 *   kept in reserve for it;
 * - a mirror whose rate has settled stops at SETTLED_BYTES, unless it is one
 *   of the CONTENDERS best by predicted workload time: those read on to
 *   HORIZON_BYTES from what the reserve leaves, so a mirror that is fast for
 *   its first 1–2 MiB and then throttles is seen collapsing;
 * - a mirror that cannot win any more — even at an optimistic rate (1.25×
 *   a settled rate or one timed on a round of 128 KiB or more, 3× one timed on
 *   a smaller round, unbounded while it is still ramping with no round timed)
 *   its workload takes longer than the best mirror's at its measured rate —
 *   stops at once;
 * - all samples together read at most TOTAL_BYTES, and stop at the deadline.
 *
 * Against sampling every candidate for a fixed window, this spends the bytes
 * where the decision is still open: a far mirror still ramping keeps its
 * sample while a plainly narrow one next door has stopped.
 */
import type { Dispatcher } from 'undici';
import { describeHttpError, httpRequest } from '../net/http.js';
import type { ProxySettings } from '../net/proxy.js';
import { estimateRate, type Arrival, type RateEstimate } from './throughput.js';
import { workloadMs, type Workload } from './workload.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** a ramping mirror's first bytes: its share of the total, 256 KiB (slow start's fourth round) to 1 MiB */
const FIRST_MIN = 256 * KiB;
const FIRST_MAX = 1 * MiB;
/** the most one sample reads (its Range): past a throttle at 1–2 MiB */
const HORIZON_BYTES = (5 * MiB) / 2;
/** all samples together */
const TOTAL_BYTES = 13 * MiB;
const SETTLED_BYTES = 192 * KiB;
const CONTENDERS = 2;
/** a timed round this large measures the bottleneck to within a quarter */
const CONFIDENT_ROUND = 128 * KiB;
const TICK_MS = 20;
/** a rate no sample exceeds, for the optimistic bound of a mirror with no rate yet */
const OPTIMISTIC_CAP = 10e9;

export interface SampleResult {
  /** bytes read off the wire */
  bytes: number;
  /** the answer's status and type, when it came */
  status?: number;
  contentType?: string;
  /** why it failed before measuring anything */
  error?: string;
  estimate: RateEstimate;
  /** the path's round trip: a TCP handshake's time, else the sample's time to its first byte */
  rttMs: number;
  /** the sample's time to its first byte */
  latencyMs: number;
  /** the workload's predicted time from this mirror, ms (null: no rate) */
  predictedMs: number | null;
}

interface Sample {
  url: string;
  sentAt: number;
  ttfbMs?: number;
  arrivals: Arrival[];
  bytes: number;
  allowance: number;
  stop: AbortController;
  running: boolean;
  done: Promise<void>;
  result?: { status: number; contentType: string } | { error: string };
  estimate: RateEstimate;
}

export interface SamplerOptions {
  dispatcher: Dispatcher;
  /** the selection's hard deadline */
  signal: AbortSignal;
  proxies: ProxySettings;
  allowHttp?: boolean;
  workload: Workload;
  /** performance.now() by which every sample has stopped */
  deadline: number;
  /** the network round trip to a URL's origin, when a handshake was timed */
  rttOf?: (url: string) => number | undefined;
  /** how many mirrors may be sampled (their share of the bytes) */
  expected: number;
}

export class Sampler {
  private readonly samples = new Map<string, Sample>();
  private total = 0;
  private readonly first: number;
  /** the steering loop, from the first sample on (resolves with its error, if it failed) */
  private loop?: Promise<unknown>;
  /** no more samples will start */
  private closed = false;

  constructor(private readonly options: SamplerOptions) {
    this.first = Math.max(FIRST_MIN, Math.min(FIRST_MAX, Math.floor(TOTAL_BYTES / Math.max(1, options.expected))));
  }

  /** Starts a sample of `url` for the candidate `key` now (a no-op past the deadline or the byte budget). */
  start(key: string, url: string): void {
    if (this.closed || this.samples.has(key) || performance.now() >= this.options.deadline || this.total >= TOTAL_BYTES) return;
    const s: Sample = {
      url,
      sentAt: performance.now(),
      arrivals: [],
      bytes: 0,
      allowance: this.first,
      stop: new AbortController(),
      running: true,
      done: Promise.resolve(),
      estimate: estimateRate([], 0),
    };
    this.samples.set(key, s);
    s.done = httpRequest(url, {
      dispatcher: this.options.dispatcher,
      signal: this.options.signal,
      stop: s.stop.signal,
      maxBytes: HORIZON_BYTES,
      discard: true,
      headers: { range: `bytes=0-${HORIZON_BYTES - 1}`, 'accept-encoding': 'identity' },
      ...(this.options.allowHttp ? { allowHttp: true } : {}),
      onChunk: (bytes, at) => {
        if (s.ttfbMs === undefined) s.ttfbMs = at - s.sentAt;
        s.arrivals.push({ t: at - s.sentAt, bytes });
        s.bytes += bytes;
        this.total += bytes;
        // at its allowance, ask again first: a mirror this fast may have become a contender
        if (s.bytes >= s.allowance) this.steer();
        if (s.bytes >= s.allowance || this.total >= TOTAL_BYTES) s.stop.abort();
      },
    })
      .then(
        (res) => {
          s.result = { status: res.status, contentType: res.headers['content-type'] ?? '' };
        },
        (e: unknown) => {
          s.result = { error: describeHttpError(e, url, this.options.proxies) };
        },
      )
      .finally(() => {
        s.running = false;
      });
    // a failure of the steering surfaces in finish(), never as an unhandled rejection
    this.loop ??= this.steerUntilDone().then(
      () => undefined,
      (e: unknown) => e,
    );
  }

  /** Stops every sample and the steering (the selection is over, however it ended). */
  close(): void {
    this.closed = true;
    for (const s of this.samples.values()) s.stop.abort();
  }

  /** Stops the sample of a candidate that was excluded meanwhile. */
  cancel(key: string): void {
    this.samples.get(key)?.stop.abort();
  }

  /** Waits until each sample has stopped (steered meanwhile) or the deadline passed; then every result. */
  async finish(): Promise<Map<string, SampleResult>> {
    this.closed = true;
    const failed = await this.loop;
    if (failed) throw failed;
    const out = new Map<string, SampleResult>();
    for (const [key, s] of this.samples) {
      // stopped by us (deadline, budget, exclusion) before a byte came: not measured, which is not a failure
      if (s.bytes === 0 && s.stop.signal.aborted) continue;
      const estimate = this.estimate(s);
      const { rttMs, latencyMs } = this.path(s);
      const predictedMs = estimate.rateBps ? workloadMs(this.options.workload, { rateBps: estimate.rateBps, rttMs, latencyMs }) : null;
      const base = { bytes: s.bytes, estimate, rttMs, latencyMs, predictedMs };
      if (s.result && 'status' in s.result) out.set(key, { ...base, status: s.result.status, contentType: s.result.contentType });
      else out.set(key, { ...base, error: s.result?.error ?? 'no answer' });
    }
    return out;
  }

  /** one tick every TICK_MS from the first sample until the last has stopped and no more will start */
  private async steerUntilDone(): Promise<void> {
    const deadlineTimer = setTimeout(
      () => {
        for (const s of this.samples.values()) s.stop.abort();
      },
      Math.max(0, this.options.deadline - performance.now()),
    );
    try {
      while (!this.closed || [...this.samples.values()].some((s) => s.running)) {
        this.steer();
        const running = [...this.samples.values()].filter((s) => s.running).map((s) => s.done);
        await Promise.race([new Promise((r) => setTimeout(r, TICK_MS)), ...(this.closed ? [Promise.all(running)] : [])]);
      }
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  /** the round trip (a timed handshake to the sample's origin, else its first byte) and the time to a first byte */
  private path(s: Sample): { rttMs: number; latencyMs: number } {
    const latencyMs = s.ttfbMs ?? 0;
    return { rttMs: Math.min(latencyMs, this.options.rttOf?.(s.url) ?? latencyMs), latencyMs };
  }

  private estimate(s: Sample): RateEstimate {
    s.estimate = estimateRate(s.arrivals, this.path(s).rttMs);
    return s.estimate;
  }

  /** one tick: who may read how much more, who stops */
  private steer(): void {
    const w = this.options.workload;
    const measured = [...this.samples.values()].filter((s) => s.ttfbMs !== undefined);
    const pess = new Map<Sample, number>();
    const opt = new Map<Sample, number>();
    for (const s of measured) {
      const e = this.estimate(s);
      const path = this.path(s);
      pess.set(s, e.rateBps ? workloadMs(w, { ...path, rateBps: e.rateBps }) : Infinity);
      // a flow that stopped growing, or a large timed round, may be off by a quarter; one small round (under
      // 128 KiB: a late read skews it) by a factor of three; a flow still growing with no round timed says
      // nothing yet about its ceiling
      const factor = !e.rateBps
        ? undefined
        : !e.rising || (e.basis === 'burst' && e.roundBytes >= CONFIDENT_ROUND)
          ? 1.25
          : e.basis === 'burst'
            ? 3
            : undefined;
      const optimistic = factor ? Math.min(OPTIMISTIC_CAP, e.rateBps! * factor) : OPTIMISTIC_CAP;
      opt.set(s, workloadMs(w, { ...path, rateBps: optimistic }));
    }
    const ranked = [...pess].filter(([, ms]) => Number.isFinite(ms)).sort((a, b) => a[1] - b[1]);
    const best = ranked[0]?.[1] ?? Infinity;
    const contenders = new Set(
      ranked
        .filter(([s]) => s.running)
        .slice(0, CONTENDERS)
        .map(([s]) => s),
    );
    const open = (s: Sample) => s.running && opt.get(s)! <= best;
    // what the mirrors still ramping may need for a first timed round: the settled ones do not spend it
    const reserve = [...this.samples.values()]
      .filter((s) => s.running && (s.ttfbMs === undefined || (open(s) && s.estimate.rising)))
      .reduce((n, s) => n + Math.max(0, this.first - s.bytes), 0);
    let spare = Math.max(0, TOTAL_BYTES - this.total - reserve);
    for (const s of measured) {
      if (!s.running) continue;
      const settled = !s.estimate.rising && s.estimate.basis !== 'none';
      if (contenders.has(s)) {
        // a contender reads on past a throttle, from what the ramping mirrors do not need
        s.allowance = Math.max(settled ? SETTLED_BYTES : this.first, Math.min(HORIZON_BYTES, s.bytes + spare));
        spare -= Math.max(0, s.allowance - s.bytes);
      } else {
        s.allowance = settled ? SETTLED_BYTES : this.first;
      }
      if (!open(s) || s.bytes >= s.allowance) s.stop.abort();
    }
  }
}
