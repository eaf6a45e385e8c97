// The link lab's scenarios: each link a mirror behind a path of its own
// (round trip, rate), some misbehaving. The first three are the measurements
// that showed the sample window failing on real TCP (issue 9); the winner is
// whatever the real 32 MiB downloads say, not what is declared here.
const MiB = 1024 * 1024;

const nearNarrow = (i) => ({ name: `near-${i}`, rttMs: 5, mbit: 16, sameAs: 'near-0' });

export const SCENARIOS = [
  {
    name: 'far-wide 150 ms/200 Mbit vs near 5 ms/8 Mbit vs medium 40 ms/40 Mbit',
    links: [
      { name: 'far-wide', rttMs: 150, mbit: 200 },
      { name: 'near', rttMs: 5, mbit: 8 },
      { name: 'medium', rttMs: 40, mbit: 40 },
    ],
  },
  {
    name: 'five mirrors and a black hole',
    links: [
      { name: 'near-narrow', rttMs: 5, mbit: 16 },
      { name: 'far-wide', rttMs: 180, mbit: 160 },
      { name: 'mid', rttMs: 40, mbit: 64 },
      { name: 'mid2', rttMs: 60, mbit: 40 },
      { name: 'slow', rttMs: 120, mbit: 8 },
      { name: 'hole', rttMs: 50, mbit: 100, drop: true },
    ],
  },
  {
    name: 'a mirror fast for its first 1.5 MiB, then 4 Mbit',
    links: [
      { name: 'throttler', rttMs: 5, mbit: 200, server: { throttle: { afterBytes: 1.5 * MiB, bps: 0.5e6 } } },
      { name: 'honest', rttMs: 40, mbit: 40 },
      { name: 'far', rttMs: 150, mbit: 100 },
    ],
  },
  {
    name: '10 candidates, 2 black holes (packets dropped; accepts, then silence)',
    links: [
      { name: 'a', rttMs: 5, mbit: 8 },
      { name: 'b', rttMs: 10, mbit: 16 },
      { name: 'c', rttMs: 20, mbit: 24 },
      { name: 'd', rttMs: 30, mbit: 40 },
      { name: 'e', rttMs: 60, mbit: 64 },
      { name: 'f', rttMs: 90, mbit: 100 },
      { name: 'g', rttMs: 120, mbit: 160 },
      { name: 'h', rttMs: 200, mbit: 200 },
      { name: 'dropped', rttMs: 30, mbit: 100, drop: true },
      { name: 'silent', rttMs: 30, mbit: 100, server: { fault: 'blackhole' } },
    ],
  },
  {
    name: '20 candidates: one far-wide among 19 near-narrow',
    links: [...Array.from({ length: 19 }, (_, i) => nearNarrow(i)), { name: 'far-wide', rttMs: 180, mbit: 160 }],
  },
];
