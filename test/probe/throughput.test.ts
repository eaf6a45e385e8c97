// The rate and time model of selection (probe/throughput.ts) against chunk
// arrivals recorded on real links in the link lab (test/fixtures/links/) and
// against the shapes that fool a naive average: slow start, a throttler, a
// reader that falls behind.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateRate, transferMs, type Arrival } from '../../packages/sdk/src/probe/throughput.js';
import { PYTORCH_CI_WORKLOAD, workloadFromRequirements, workloadMs } from '../../packages/sdk/src/probe/workload.js';

const MB = 1e6;
const MiB = 1024 * 1024;
const recorded = (name: string) => {
  const { series } = JSON.parse(readFileSync(path.join(import.meta.dirname, '../fixtures/links', `${name}.json`), 'utf8')) as { series: [number, number][] };
  return series.map(([t, bytes]) => ({ t, bytes }));
};
const until = (a: Arrival[], ms: number) => a.filter((x) => x.t <= ms);

describe("the bottleneck from slow start's rounds (recorded on real links)", () => {
  it.each([
    // name, RTT, true rate (bytes/s), sample cut (ms after the request) when the first big round has arrived
    ['far-wide-180ms-160mbit', 180, 20 * MB, 1000],
    ['far-wide-150ms-200mbit', 150, 25 * MB, 1000],
  ])('%s: a round timed at the bottleneck, long before the average gets there', (name, rtt, truth, cut) => {
    const a = recorded(name);
    const e = estimateRate(until(a, cut), rtt);
    expect(e.basis).toBe('burst');
    expect(e.rising).toBe(true); // still in slow start: the average is far below
    expect(e.rateBps! / truth).toBeGreaterThan(0.85);
    expect(e.rateBps! / truth).toBeLessThan(1.2);
    const average = until(a, cut).reduce((n, x) => n + x.bytes, 0) / (cut / 1000);
    expect(average).toBeLessThan(truth / 20); // what the old sample measured
  });

  it('before any round of 40 KiB, it says it does not know yet (rising, not a rate to rank by)', () => {
    const e = estimateRate(until(recorded('far-wide-150ms-200mbit'), 800), 150);
    expect(e.rising).toBe(true);
    expect(e.basis).not.toBe('burst');
  });

  it.each([
    ['mid-40ms-64mbit', 40, 8 * MB],
    ['near-narrow-5ms-16mbit', 5, 2 * MB],
  ])('%s: a full link is its own rate, and settled', (name, rtt, truth) => {
    const e = estimateRate(until(recorded(name), 600), rtt);
    expect(e.rising).toBe(false);
    expect(e.rateBps! / truth).toBeGreaterThan(0.85);
    expect(e.rateBps! / truth).toBeLessThan(1.2);
  });
});

describe('shapes that fool an average', () => {
  it('a throttler: 1.5 MiB at 25 MB/s, then 0.5 MB/s, is ranked at the collapsed rate', () => {
    const a: Arrival[] = [];
    let t = 5;
    for (let b = 0; b < 1.5 * MiB; b += 64 * 1024) a.push({ t: (t += ((64 * 1024) / (25 * MB)) * 1000), bytes: 64 * 1024 });
    for (let i = 0; i < 60; i++) a.push({ t: (t += 5), bytes: 2500 });
    const e = estimateRate(a, 5);
    expect(e.basis).toBe('throttled');
    expect(e.rateBps! / (0.5 * MB)).toBeGreaterThan(0.8);
    expect(e.rateBps! / (0.5 * MB)).toBeLessThan(1.25);
  });

  it('a reader that fell behind (chunks read in one go) is not taken for a fast round', () => {
    // 200 KB read in 3 chunks within 0.3 ms after a stall: shorter than a round can be
    const a: Arrival[] = [
      { t: 10, bytes: 1448 },
      { t: 40, bytes: 65536 },
      { t: 40.1, bytes: 65536 },
      { t: 40.3, bytes: 65536 },
    ];
    expect(estimateRate(a, 10).basis).not.toBe('burst');
  });

  it('a stall (nothing for three windows, then the rest at once) is not taken for a throttler', () => {
    const a: Arrival[] = [];
    for (let t = 1; t <= 100; t += 1) a.push({ t, bytes: 20_000 });
    a.push({ t: 200, bytes: 2_000_000 });
    expect(estimateRate(a, 5).basis).not.toBe('throttled');
  });

  it('nothing arrived: no rate, and rising (unknown)', () => {
    expect(estimateRate([], 50)).toMatchObject({ rateBps: null, rising: true });
  });
});

describe("a transfer's time: RTT, ramp and rate, not the rate alone", () => {
  // the link lab's real 32 MiB downloads: far-wide 180 ms/160 Mbit 3.78–3.84 s, mid 40 ms/64 Mbit 4.58 s
  it.each([
    [180, 20 * MB, 3800],
    [40, 8 * MB, 4580],
  ])('RTT %i ms at %i B/s: 32 MiB within 15 %% of the real download', (rtt, rate, real) => {
    const predicted = rtt + transferMs(32 * MiB, rate, rtt); // + the TCP handshake
    expect(Math.abs(predicted - real) / real).toBeLessThan(0.15);
  });

  it('the ramp makes a far mirror lose on small files and win on large ones', () => {
    const far = { rateBps: 20 * MB, rttMs: 180, latencyMs: 180 };
    const mid = { rateBps: 8 * MB, rttMs: 40, latencyMs: 40 };
    expect(transferMs(512 * 1024, far.rateBps, far.rttMs)).toBeGreaterThan(transferMs(512 * 1024, mid.rateBps, mid.rttMs));
    expect(workloadMs(PYTORCH_CI_WORKLOAD, far)).toBeLessThan(workloadMs(PYTORCH_CI_WORKLOAD, mid));
    const small = { pages: 30, files: new Array(30).fill(512 * 1024) };
    expect(workloadMs(small, far)).toBeGreaterThan(workloadMs(small, mid));
  });

  it('without a round trip (a server that is only slow to answer) there is no ramp', () => {
    expect(transferMs(10 * MB, 10 * MB, 0, 200)).toBeCloseTo(1200, 5);
  });
});

describe("the workload of a job's requirements", () => {
  it('a page and a small wheel per requirement; torch brings its large wheels', () => {
    const w = workloadFromRequirements(['# tests\nnumpy>=2\npytest ; python_version>"3.8"\n-r other.txt\n', 'torch==2.7.1\n']);
    expect(w.pages).toBe(3 + 15);
    expect(w.files.filter((b) => b > MiB).length).toBe(6);
    expect(w.files.filter((b) => b <= MiB).length).toBe(3);
    expect(workloadFromRequirements(['flask\nrequests\n'])).toEqual({ pages: 2, files: [MiB / 2, MiB / 2] });
    expect(workloadFromRequirements([''])).toBe(PYTORCH_CI_WORKLOAD);
  });
});
