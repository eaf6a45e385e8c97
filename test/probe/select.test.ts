// Mirror selection with real undici against real HTTP servers on loopback
// (test/helpers/mirror-sim.mjs): every fault a mirror shows in the wild, the
// stale case, the budget, the cache, the all-broken case, proxies.
import net from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectMirror, type SelectReport } from '@tuna-setup/sdk';
import { candidateFromPair, noHealthyMirror, type Candidate, type ProbeService } from '@tuna-setup/sdk/probe';
import { startMirrors, type MirrorSpec } from '../helpers/mirror-sim.mjs';
import { tempDir } from '../helpers/tmp.js';

type Sim = Awaited<ReturnType<typeof startMirrors>>;
const sims: Sim[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

async function sim(specs: MirrorSpec[]): Promise<Sim> {
  const s = await startMirrors(specs);
  sims.push(s);
  return s;
}

/** candidates for the simulated mirrors; `official` is the upstream; TUNA-style roots except for pytorch/docker */
function candidates(s: Sim, service: ProbeService, withStatus = false): Candidate[] {
  return s.mirrors.map((m) => {
    const url = service === 'pytorch' ? `${m.url}/pytorch/whl` : m.url;
    const c = candidateFromPair(service, `${m.name}=${url}`, { allowHttp: true });
    return withStatus ? { ...c, status: { url: `${m.url}/static/tunasync.json`, format: 'tunasync' as const, source: 'test', checked: '' } } : c;
  });
}

const run = (s: Sim, service: ProbeService = 'pypi', extra: Partial<Parameters<typeof selectMirror>[0]> = {}) =>
  selectMirror({ service, candidates: candidates(s, service), allowHttp: true, ...extra });

const entry = (r: SelectReport, name: string) => r.ranking.find((m) => m.name === name)!;

describe('pypi: every fault is excluded with its reason', () => {
  let report: SelectReport;
  let s: Sim;
  beforeAll(async () => {
    s = await sim([
      { name: 'good', latencyMs: 20, bandwidthBps: 20e6 },
      { name: 'good2', latencyMs: 30, bandwidthBps: 10e6 },
      { name: 'refused', fault: 'refused' },
      { name: 'blackhole', fault: 'blackhole' },
      { name: 'trickle', fault: 'trickle' },
      { name: 'error', fault: '5xx' },
      { name: 'missing', fault: '404' },
      { name: 'portal', fault: 'portal' },
      { name: 'stale', fault: 'stale' },
      { name: 'files404', fault: 'files-404' },
    ]);
    report = await run(s);
  });

  it.each([
    ['refused', /^connection refused$/],
    ['blackhole', /^no complete answer within \d+ ms$/],
    ['trickle', /^no complete answer within \d+ ms$/],
    ['error', /^HTTP 503 for \/pip\/$/],
    ['missing', /^HTTP 404 for \/pip\/$/],
    ['portal', /^200 text\/html for \/pip\/ lists no pip files/],
    ['stale', /^stale: lacks pip-24\.3-py3-none-any\.whl \(listed by \d of \d candidates\)/],
    ['files404', /^index links pip-24\.3-py3-none-any\.whl but it answers HTTP 404$/],
  ])('skips a mirror that is %s', (name, reason) => {
    const m = entry(report, name);
    expect(m.ok).toBe(false);
    expect(m.excluded).toMatch(reason);
    expect(report.ranking.indexOf(m)).toBeGreaterThanOrEqual(2); // after the usable ones
  });

  it('chooses the wider healthy mirror and measures both', () => {
    expect(report.chosen).toEqual({ name: 'good', url: `${s.url('good')}/pypi/web/simple` });
    expect(report.ranking.slice(0, 2).map((m) => [m.name, m.ok, m.excluded])).toEqual([
      ['good', true, null],
      ['good2', true, null],
    ]);
    const [good, good2] = report.ranking;
    expect(good!.throughputBps).toBeGreaterThan(good2!.throughputBps!);
    expect(good!.latencyMs).toBeGreaterThanOrEqual(20);
  });

  it('stays polite: our User-Agent on every request, at most a few MB per mirror, 16 MB in all', () => {
    const http = s.requests.filter((r) => r.method !== '?');
    expect(http.length).toBeGreaterThanOrEqual(10); // 7 answering mirrors probed, 3 sampled
    for (const r of http) expect(r.userAgent).toMatch(/^tuna-setup\/\d+\.\d+\.\d+ \(\+https:\/\/github\.com\//);
    for (const m of report.ranking) expect(m.bytes).toBeLessThanOrEqual(3 * 1024 * 1024);
    expect(report.bytes).toBeLessThanOrEqual(16e6);
    // samples are bounded Range requests of a file the mirror's own index links, started as each probe
    // answered — so the stale mirror (known stale only once every listing is in) was sampled too, and stopped
    const samples = http.filter((r) => r.range);
    expect(samples.map((r) => r.name).sort()).toEqual(['files404', 'good', 'good2', 'stale']);
    for (const r of samples) expect(r.range).toMatch(/^bytes=0-\d+$/);
  });

  it('finishes well inside the budget although two candidates never answer', () => {
    expect(report.elapsedMs).toBeLessThan(2000);
    expect(report.budgetMs).toBe(3000);
  });
});

describe('ranking by what a download will cost', () => {
  it('a wide mirror far away beats a narrow one next door', async () => {
    const s = await sim([
      { name: 'near-narrow', latencyMs: 1, bandwidthBps: 1e6 },
      { name: 'far-wide', latencyMs: 150, bandwidthBps: 25e6 },
    ]);
    const r = await run(s);
    expect(r.chosen?.name).toBe('far-wide');
    expect(entry(r, 'near-narrow').latencyMs!).toBeLessThan(entry(r, 'far-wide').latencyMs!);
  });

  it('between equally wide mirrors the nearer wins', async () => {
    const s = await sim([
      { name: 'far', latencyMs: 200, bandwidthBps: 20e6 },
      { name: 'near', latencyMs: 5, bandwidthBps: 20e6 },
    ]);
    expect((await run(s)).chosen?.name).toBe('near');
  });
});

describe('the budget', () => {
  it('black holes alone cost the budget, not more, and nothing is chosen', async () => {
    const s = await sim([
      { name: 'hole1', fault: 'blackhole' },
      { name: 'hole2', fault: 'blackhole' },
    ]);
    const t0 = performance.now();
    const r = await run(s, 'pypi', { budgetMs: 600 });
    const wall = performance.now() - t0;
    expect(r.chosen).toBeNull();
    expect(wall).toBeLessThan(600 + 250);
    for (const m of r.ranking) expect(m.excluded).toMatch(/no complete answer within/);
  });

  it('a black hole does not hold the decision once healthy mirrors answered', async () => {
    const s = await sim([
      { name: 'ok', latencyMs: 10, bandwidthBps: 30e6 },
      { name: 'hole', fault: 'blackhole' },
    ]);
    const r = await run(s, 'pypi', { budgetMs: 10_000 });
    expect(r.chosen?.name).toBe('ok');
    expect(r.elapsedMs).toBeLessThan(1500);
  });

  it("leaves no socket open: every connection, the black hole's too, is closed when it returns", async () => {
    const s = await sim([
      { name: 'ok', latencyMs: 5 },
      { name: 'hole', fault: 'blackhole' },
    ]);
    const r = await run(s);
    expect(r.chosen?.name).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.openConnections()).toBe(0);
  });
});

describe('freshness and sync status', () => {
  it("the upstream's upload times make a lone lagging mirror stale (PEP 691 JSON)", async () => {
    const s = await sim([
      { name: 'official', latencyMs: 50, bandwidthBps: 5e6, json: true },
      { name: 'lagging', latencyMs: 5, bandwidthBps: 50e6, json: true, fault: 'stale' },
    ]);
    const r = await run(s);
    expect(r.chosen?.name).toBe('official');
    expect(entry(r, 'lagging').excluded).toMatch(/^stale: lacks pip-24\.3-py3-none-any\.whl \(on official since \d{4}-\d\d-\d\d/);
  });

  it('a mirror whose tunasync.json says failed, paused or stale is dropped before sampling; garbled status is unknown', async () => {
    const HOUR = 3_600_000;
    const s = await sim([
      { name: 'fresh', latencyMs: 20, bandwidthBps: 5e6, status: { state: 'success', ageMs: HOUR } },
      { name: 'failed', latencyMs: 1, bandwidthBps: 50e6, status: { state: 'failed', ageMs: HOUR } },
      { name: 'paused', latencyMs: 1, bandwidthBps: 50e6, status: { state: 'paused', ageMs: HOUR } },
      { name: 'old', latencyMs: 1, bandwidthBps: 50e6, status: { state: 'success', ageMs: 50 * HOUR } },
    ]);
    const list = candidates(s, 'pypi', true);
    list.push({
      ...candidateFromPair('pypi', `nostatus=${s.url('fresh')}`, { allowHttp: true }),
      status: { url: `${s.url('fresh')}/no/such/status.json`, format: 'mirrorz', source: 't', checked: '' },
    });
    const r = await selectMirror({ service: 'pypi', candidates: list, allowHttp: true });
    expect(entry(r, 'failed').excluded).toMatch(/^mirror reports tunasync pypi failed/);
    expect(entry(r, 'paused').excluded).toMatch(/^mirror reports tunasync pypi paused/);
    expect(entry(r, 'old').excluded).toMatch(/^mirror reports tunasync pypi success: last synced 50 h ago \(limit 24 h\)/);
    expect(entry(r, 'fresh')).toMatchObject({ ok: true, sync: expect.stringMatching(/synced 60 min ago/) });
    expect(entry(r, 'nostatus')).toMatchObject({ ok: true });
    expect(entry(r, 'nostatus').sync).toBeUndefined();
    // excluded by status: no sample was taken from them
    expect(s.requests.filter((q) => q.range && ['failed', 'paused', 'old'].includes(q.name))).toEqual([]);
  });
});

describe('other services', () => {
  it('conda: valid repodata wins, a login page and week-old repodata are excluded', async () => {
    const s = await sim([
      { name: 'official', latencyMs: 40, bandwidthBps: 5e6 },
      { name: 'tuna-like', latencyMs: 5, bandwidthBps: 20e6 },
      { name: 'portal', fault: 'portal' },
      { name: 'stale', latencyMs: 1, bandwidthBps: 50e6, fault: 'stale' },
    ]);
    const r = await run(s, 'conda');
    expect(r.chosen).toEqual({ name: 'tuna-like', url: `${s.url('tuna-like')}/anaconda/cloud` });
    expect(entry(r, 'portal').excluded).toMatch(/is not repodata/);
    expect(entry(r, 'stale').excluded).toMatch(/^stale: index \d+ h older than official/);
    expect(entry(r, 'tuna-like').throughputBps).toBeGreaterThan(0);
  });

  it("conda on an arm64 machine: a mirror without linux-aarch64 (SJTU answers 403) is excluded, saying so; the catalog's known gaps cost no request", async () => {
    const s = await sim([
      { name: 'official', latencyMs: 40, bandwidthBps: 5e6 },
      { name: 'no-arm', latencyMs: 1, bandwidthBps: 50e6, subdirs: ['linux-64', 'osx-64', 'win-64'], missingStatus: 403 },
      { name: 'full', latencyMs: 5, bandwidthBps: 20e6 },
    ]);
    const r = await run(s, 'conda', { condaSubdir: 'linux-aarch64' });
    expect(r.chosen?.name).toBe('full');
    expect(entry(r, 'no-arm').excluded).toBe("HTTP 403 for conda-forge/linux-aarch64/repodata.json: no packages for this machine's platform (linux-aarch64)");
    // on x86_64 the same mirror is the fastest and wins
    expect((await run(s, 'conda', { condaSubdir: 'linux-64', fresh: true })).chosen?.name).toBe('no-arm');
    // a catalog row that says the mirror lacks it: excluded without a request
    const known = candidates(s, 'conda').map((c) =>
      c.name === 'full'
        ? { ...c, mirror: { ...c.mirror!, conda: { ...c.mirror!.conda!, lacksSubdirs: { 'conda-forge': ['linux-aarch64'] }, source: 'test row' } } }
        : c,
    );
    const before = s.requests.filter((q) => q.name === 'full').length;
    const r2 = await selectMirror({ service: 'conda', candidates: known, allowHttp: true, condaSubdir: 'linux-aarch64' });
    expect(entry(r2, 'full').excluded).toBe('no linux-aarch64 packages in conda-forge (the catalog: test row)');
    expect(s.requests.filter((q) => q.name === 'full').length).toBe(before);
    expect(r2.chosen?.name).toBe('official');
  });

  it('pytorch: an index page listing torch wheels; files that 404 exclude', async () => {
    const s = await sim([
      { name: 'official', latencyMs: 30, bandwidthBps: 5e6 },
      { name: 'mirror', latencyMs: 5, bandwidthBps: 20e6 },
      { name: 'broken', latencyMs: 1, fault: 'files-404' },
    ]);
    const r = await run(s, 'pytorch');
    expect(r.chosen?.name).toBe('mirror');
    expect(entry(r, 'broken').excluded).toMatch(/index links torch-2\.\d+\.0\+cpu-cp311-cp311-linux_x86_64\.whl but it answers HTTP 404/);
  });

  it('docker: /v2/ must answer 200/401 with the distribution API header; ranked by latency', async () => {
    const s = await sim([
      { name: 'far', latencyMs: 120 },
      { name: 'near', latencyMs: 5 },
      { name: 'portal', fault: 'portal' },
      { name: 'gone', fault: '404' },
    ]);
    const r = await run(s, 'docker');
    expect(r.chosen).toEqual({ name: 'near', url: s.url('near') });
    expect(r.ranking.map((m) => m.name).slice(0, 2)).toEqual(['near', 'far']);
    expect(entry(r, 'portal').excluded).toMatch(/without Docker-Distribution-Api-Version \(not a registry\)/);
    expect(entry(r, 'gone').excluded).toBe('HTTP 404 for /v2/');
  });
});

describe('the ranking cache', () => {
  it('a second run within the TTL probes nothing; --fresh and an expired TTL probe again', async () => {
    const s = await sim([
      { name: 'a', latencyMs: 5, bandwidthBps: 10e6 },
      { name: 'b', latencyMs: 10, bandwidthBps: 5e6 },
    ]);
    const stateDir = tempDir();
    let clock = Date.parse('2026-11-27T00:00:00Z');
    const opts = { stateDir, now: () => clock };
    const first = await run(s, 'pypi', opts);
    expect(first.cached).toBe(false);
    expect(readdirSync(path.join(stateDir, 'rankings'))).toHaveLength(1);
    const seen = s.requests.length;

    clock += 30 * 60_000;
    const second = await run(s, 'pypi', opts);
    expect(second).toMatchObject({ cached: true, chosen: first.chosen, probedAt: first.probedAt });
    expect(s.requests.length).toBe(seen);

    const forced = await run(s, 'pypi', { ...opts, fresh: true });
    expect(forced.cached).toBe(false);
    expect(s.requests.length).toBeGreaterThan(seen);

    const seen2 = s.requests.length;
    clock += 2 * 60 * 60_000;
    expect((await run(s, 'pypi', opts)).cached).toBe(false);
    expect(s.requests.length).toBeGreaterThan(seen2);
  });

  it('another candidate set is another key; a failed selection is not cached', async () => {
    const s = await sim([
      { name: 'a', latencyMs: 5 },
      { name: 'dead', fault: 'refused' },
    ]);
    const stateDir = tempDir();
    const onlyDead = candidates(s, 'pypi').filter((c) => c.name === 'dead');
    const r = await selectMirror({ service: 'pypi', candidates: onlyDead, allowHttp: true, stateDir });
    expect(r.chosen).toBeNull();
    expect(existsSync(path.join(stateDir, 'rankings'))).toBe(false);
    await run(s, 'pypi', { stateDir });
    expect((await selectMirror({ service: 'pypi', candidates: onlyDead, allowHttp: true, stateDir })).cached).toBe(false);
  });
});

describe('all broken', () => {
  it('chooses nothing, and the error lists every candidate with its reason', async () => {
    const s = await sim([
      { name: 'portal', fault: 'portal' },
      { name: 'down', fault: 'refused' },
      { name: 'err', fault: '5xx' },
    ]);
    const r = await run(s);
    expect(r.chosen).toBeNull();
    const e = noHealthyMirror(r);
    expect(e.code).toBe('NO_HEALTHY_MIRROR');
    expect(e.message).toMatch(/portal: 200 text\/html .* lists no pip files.*; down: connection refused; err: HTTP 503 for \/pip\//);
  });
});

describe('proxies', () => {
  it('honours HTTP_PROXY: every probe goes through the proxy (CONNECT), NO_PROXY exempts', async () => {
    const s = await sim([{ name: 'a', latencyMs: 5, bandwidthBps: 10e6 }]);
    const seen: string[] = [];
    const proxy = net.createServer((client) => {
      client.once('data', (head) => {
        const m = /^CONNECT (\S+) HTTP/.exec(head.toString());
        if (!m) return client.destroy();
        seen.push(m[1]!);
        const [host, port] = m[1]!.split(':');
        const upstream = net.connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.pipe(client).pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
    try {
      delete process.env.http_proxy;
      delete process.env.no_proxy;
      delete process.env.NO_PROXY;
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
      const r = await run(s);
      expect(r.chosen?.name).toBe('a');
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set([`127.0.0.1:${s.mirrors[0]!.port}`]));

      seen.length = 0;
      process.env.NO_PROXY = '127.0.0.1';
      expect((await run(s)).chosen?.name).toBe('a');
      expect(seen).toEqual([]);
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      proxy.close();
    }
  });
});
