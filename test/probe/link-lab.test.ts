// Selection on real links (bench/lab/): mirrors behind TUN links with packet
// delay and htb rates, cubic on the mirrors — where a short sample never
// leaves TCP slow start. The far, wide mirror must win (the link lab's 32 MiB
// downloads: far-wide 150 ms/200 Mbit 3.2 s, medium 40 ms/40 Mbit 7.2 s, near
// 5 ms/8 Mbit > 30 s), and a mirror that throttles after its first 1.5 MiB
// must lose. The full scenario set with the truth measured is
// `node bench/link-lab.mjs`; this is its core, in CI.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { labMissing, startLab } from '../../bench/lab/lab.mjs';
import { itWith } from '../helpers/env.js';

const CHILD = path.resolve(import.meta.dirname, '../helpers/select-child.mjs');
const MiB = 1024 * 1024;
const needs = { root: true, bins: ['ip', 'tc', 'nsenter', 'cc'] };
const it = itWith(needs);

type Lab = { urls: Record<string, string>; clientArgv: (argv: string[]) => string[]; stop: () => Promise<void> };
let lab: Lab | undefined;
beforeAll(async () => {
  if (labMissing()) return; // each test then skips (or fails under TUNA_SETUP_REQUIRE_ALL=1) with the reason
  lab = await startLab(
    [
      { name: 'far-wide', rttMs: 150, mbit: 200 },
      { name: 'near', rttMs: 5, mbit: 8 },
      { name: 'medium', rttMs: 40, mbit: 40 },
      { name: 'throttler', rttMs: 5, mbit: 200, server: { throttle: { afterBytes: 1.5 * MiB, bps: 0.5e6 } } },
      { name: 'hole', rttMs: 50, mbit: 100, drop: true },
    ],
    { prefix: 'tst' },
  );
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

function select(names: string[]): Promise<{
  decision: number;
  exit: number;
  report: { chosen: { name: string } | null; ranking: { name: string; ok: boolean; rateBasis?: string; throughputBps: number | null }[] };
}> {
  const argv = lab!.clientArgv([
    process.execPath,
    CHILD,
    JSON.stringify({ service: 'pypi', candidates: names.map((n) => `${n}=${lab!.urls[n]}`), budgetMs: 3000, allowHttp: true }),
  ]);
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => {
      try {
        const r = JSON.parse(out);
        resolve({ decision: r.answeredAt - r.startedAt, exit: Date.now() - r.startedAt, report: r.report });
      } catch (e) {
        reject(e);
      }
    });
  });
}

describe('the link lab', () => {
  it('the far, wide mirror wins over near-narrow and medium, measured from a timed slow-start round', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await select(['far-wide', 'near', 'medium', 'hole']);
      expect(r.report.chosen?.name).toBe('far-wide');
      const far = r.report.ranking.find((m) => m.name === 'far-wide')!;
      expect(far.rateBasis).toBe('burst');
      expect(far.throughputBps! / 25e6).toBeGreaterThan(0.7);
      expect(r.exit).toBeLessThanOrEqual(3000);
    }
  }, 30_000);

  it('a mirror fast for its first 1.5 MiB and then 4 Mbit is ranked at 4 Mbit and loses', async () => {
    const r = await select(['throttler', 'medium', 'far-wide']);
    expect(r.report.chosen?.name).toBe('far-wide');
    const t = r.report.ranking.find((m) => m.name === 'throttler')!;
    expect(t.rateBasis).toBe('throttled');
    expect(t.throughputBps!).toBeLessThan(2e6); // 0.5 MB/s in truth; its link and first 1.5 MiB: 25 MB/s
  }, 30_000);
});
