/**
 * What a short sample says about a mirror's real speed, and what that speed
 * means for what users download. Pure: arrival times in, estimates out.
 *
 * A sample of a second or less on a long, fat path never leaves TCP slow
 * start: its average rate (bytes ÷ time) says 0.2 MB/s for a 20 MB/s mirror
 * 180 ms away. But slow start sends in rounds — a window of data per RTT,
 * doubling each time — and a round's packets queue at the bottleneck and
 * arrive spaced at the bottleneck's rate. So:
 *
 * - **burst rate**: the arrivals are split into rounds at idle gaps; a round
 *   of ≥ 40 KiB measures the bottleneck directly (bytes after its first chunk
 *   ÷ the round's duration — the first chunk after an idle gap is read at
 *   once, so nothing stale is counted). Small rounds overstate and a late
 *   read understates, so the fastest of the rounds at least half as large
 *   as the largest counts.
 * - **sustained rate**: bytes per window of max(RTT, 25 ms); a full link
 *   (no rounds, no gaps) shows its rate here.
 * - **throttling**: when the last three windows (their median) fall below
 *   0.4 × an earlier window, the mirror served its first bytes fast and then
 *   collapsed; its rate is the collapsed one.
 * - **rising**: the flow averages under 60 % of its timed round's rate, or
 *   (no round timed) its last two windows carried ≥ 1.25 × the two before:
 *   the path is not full yet, so an average rate is only a lower bound.
 *
 * A transfer's time is then predicted from the RTT, the slow-start ramp (an
 * initial window of 10 segments doubling per RTT until it fills the path) and
 * the bottleneck rate — not from the rate alone (workload.ts sums it over what
 * users download). Shaped after BBR's delivery-rate sampling (max filter over
 * rounds) and HyStart's round detection.
 */

export interface Arrival {
  /** ms since the request was sent */
  t: number;
  bytes: number;
}

/** What `estimateRate` found in a sample's arrivals. */
export interface RateEstimate {
  /** bytes/s, or null when nothing arrived */
  rateBps: number | null;
  /** burst: slow-start rounds; sustained: a full link; throttled: collapsed after its first bytes */
  basis: 'burst' | 'sustained' | 'throttled' | 'none';
  /** still ramping at the end: the real rate may be higher */
  rising: boolean;
  /** rounds that measured the bottleneck */
  rounds: number;
  /** bytes of the largest timed round (a small one may be off by half or more) */
  roundBytes: number;
}

const BURST_GAP_MS = 2;
/** a round shorter than this, or of fewer chunks, is a burst of the reader's, not of the path */
const MIN_ROUND_MS = 2;
const MIN_ROUND_CHUNKS = 3;
const MIN_ROUND_BYTES = 40 * 1024;
const THROTTLE_RATIO = 0.4;
/** a flow averaging this share of its timed round's rate has filled its path */
const FULL_RATIO = 0.6;
/** TCP's initial window: 10 segments of 1460 bytes (RFC 6928) */
const INITIAL_WINDOW = 10 * 1460;

/**
 * The bottleneck rate a sample shows — from slow-start rounds, a full link's windows, or the throttled
 * tail — and whether the flow was still ramping up.
 * @param arrivals the body's chunks, in order, timed from the request
 * @param rttMs the path's round-trip time
 */
export function estimateRate(arrivals: readonly Arrival[], rttMs: number): RateEstimate {
  if (arrivals.length === 0) return { rateBps: null, basis: 'none', rising: true, rounds: 0, roundBytes: 0 };

  // bursts: runs of arrivals without a gap of RTT/8 (at least 2 ms: a busy reader's hiccup inside a round
  // does not split it). Small rounds overstate a rate, and a round whose last chunk was read late, or two
  // rounds that nearly touch, understate it: the fastest of the rounds at least half as large as the largest
  const timed = split(arrivals, Math.max(BURST_GAP_MS, rttMs / 8))
    .map((run) => ({ bytes: run.bytes - run.first, ms: run.end - run.start, count: run.count }))
    .filter((r) => r.count >= MIN_ROUND_CHUNKS && r.bytes >= MIN_ROUND_BYTES && r.ms >= MIN_ROUND_MS);
  const largest = Math.max(0, ...timed.map((r) => r.bytes));
  const rounds = timed.length;
  const roundBytes = largest;
  const best = timed
    .filter((r) => r.bytes >= largest / 2)
    .map((r) => ({ bytes: r.bytes, rate: r.bytes / (r.ms / 1000) }))
    .sort((a, b) => b.rate - a.rate)[0];

  // sustained: complete windows of max(RTT, 25 ms) from the first arrival
  const window = Math.max(rttMs, 25);
  const t0 = arrivals[0]!.t;
  const end = arrivals.at(-1)!.t;
  const count = Math.floor((end - t0) / window);
  const volumes = new Array<number>(count).fill(0);
  for (const a of arrivals.slice(1)) {
    const k = Math.floor((a.t - t0) / window);
    if (k < count) volumes[k] = volumes[k]! + a.bytes;
  }
  const rates = volumes.map((v) => v / (window / 1000));

  // the best three consecutive windows (one window's noise is not a rate)
  let sustained = count > 0 && count < 3 ? Math.max(...rates) : 0;
  for (let k = 2; k < count; k++) sustained = Math.max(sustained, (rates[k]! + rates[k - 1]! + rates[k - 2]!) / 3);

  // rising: with a round timed, the path is full once the flow averages 60 % of that rate; without one,
  // while the last two windows carry 1.25 × the two before (or there are not four windows yet)
  const recent = (from: number) => volumes[count - from]! + volumes[count - from - 1]!;
  const rising = best ? sustained < FULL_RATIO * best.rate : count < 4 || recent(1) >= 1.25 * recent(3);

  if (count >= 4) {
    // the median of the last three windows: one window may hold a round that jittered across a boundary,
    // or a lagging reader's share of the fast part
    const last = [rates[count - 1]!, rates[count - 2]!, rates[count - 3]!];
    const tail = [...last].sort((a, b) => a - b)[1]!;
    const peak = Math.max(...rates.slice(0, count - 3));
    // a throttler keeps delivering, slowly; windows with nothing at all are a stall (the reader's, or the path's)
    // the rate it is ranked at: the slowest of those windows — a reader lagging at the end still reads
    // fast bytes the kernel buffered before the collapse, which only ever inflates a window
    if (last.every((r) => r > 0) && tail < THROTTLE_RATIO * peak)
      return { rateBps: Math.round(Math.min(...last)), basis: 'throttled', rising: false, rounds, roundBytes };
  }
  if (best && best.rate >= sustained) return { rateBps: Math.round(best.rate), basis: 'burst', rising, rounds, roundBytes };
  if (sustained > 0) return { rateBps: Math.round(sustained), basis: 'sustained', rising, rounds, roundBytes };
  // too short for a window: what arrived over the time it took
  const total = arrivals.slice(1).reduce((n, a) => n + a.bytes, 0);
  return { rateBps: end > t0 ? Math.round(total / ((end - t0) / 1000)) : null, basis: 'none', rising: true, rounds, roundBytes };
}

interface Run {
  start: number;
  end: number;
  first: number;
  bytes: number;
  count: number;
}

/** arrivals split at gaps of at least `gapMs` */
function split(arrivals: readonly Arrival[], gapMs: number): Run[] {
  const runs: Run[] = [];
  let cur: Run | undefined;
  for (const a of arrivals) {
    if (cur && a.t - cur.end < gapMs) {
      cur.end = a.t;
      cur.bytes += a.bytes;
      cur.count += 1;
    } else {
      cur = { start: a.t, end: a.t, first: a.bytes, bytes: a.bytes, count: 1 };
      runs.push(cur);
    }
  }
  return runs;
}

/**
 * Milliseconds to fetch `bytes` with one request on an open connection: the
 * time to the first byte (`latencyMs`: the round trip plus the server's own
 * time), then slow start from the initial window, doubling per RTT until the
 * window fills the path (rate × RTT), then the rate.
 */
export function transferMs(bytes: number, rateBps: number, rttMs: number, latencyMs = rttMs): number {
  const bdp = rateBps * (rttMs / 1000);
  let ms = latencyMs;
  let left = bytes;
  for (let w = INITIAL_WINDOW; left > 0; w *= 2) {
    if (w >= bdp) return ms + (left / rateBps) * 1000;
    left -= w;
    ms += rttMs;
  }
  return ms;
}

/** A path as a ranking sees it: the bottleneck rate, the network round trip, the time to a first byte. */
export interface PathEstimate {
  rateBps: number;
  rttMs: number;
  latencyMs: number;
}
