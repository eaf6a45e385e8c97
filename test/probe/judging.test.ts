// The pure parts of selection: reading index pages and sync status, judging
// freshness, ranking. Table-driven; the network parts are in select.test.ts.
import { describe, expect, it } from 'vitest';
import { parseIndexPage, rank, readMirrorz, readTunasync, staleByDate, staleByListing, type RankedMirror } from '@tuna-setup/sdk/probe';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-27T00:00:00Z');

describe('index pages', () => {
  it('reads PEP 503 HTML: relative links resolved, fragments dropped, entities unescaped, data-requires-python kept', () => {
    const html = `<html><body>
      <a href="../../packages/ab/cd/pip-24.0-py3-none-any.whl#sha256=00ff" data-requires-python="&gt;=3.8">pip-24.0-py3-none-any.whl</a><br/>
      <a href='https://files.example/pip-24.0.tar.gz?x=1&amp;y=2'>pip-24.0.tar.gz</a>
      <a href="/login">Sign in</a></body></html>`;
    const files = parseIndexPage(html, 'text/html', 'https://m.example/pypi/web/simple/pip/', 'pip');
    expect(files).toEqual([
      { filename: 'pip-24.0-py3-none-any.whl', url: 'https://m.example/pypi/web/packages/ab/cd/pip-24.0-py3-none-any.whl', requiresPython: '>=3.8' },
      { filename: 'pip-24.0.tar.gz', url: 'https://files.example/pip-24.0.tar.gz?x=1&y=2' },
    ]);
  });

  it('reads PEP 691 JSON with upload-time and size', () => {
    const json = JSON.stringify({
      meta: { 'api-version': '1.1' },
      name: 'pip',
      files: [
        {
          filename: 'pip-24.1-py3-none-any.whl',
          url: 'https://files.example/pip-24.1-py3-none-any.whl',
          hashes: {},
          'upload-time': '2026-11-01T10:00:00.123Z',
          size: 1800000,
        },
        { filename: 'not-a-dist.txt', url: 'x', hashes: {} },
      ],
    });
    expect(parseIndexPage(json, 'application/vnd.pypi.simple.v1+json', 'https://pypi.example/simple/pip/', 'pip')).toEqual([
      {
        filename: 'pip-24.1-py3-none-any.whl',
        url: 'https://files.example/pip-24.1-py3-none-any.whl',
        uploadTime: Date.parse('2026-11-01T10:00:00.123Z'),
        size: 1800000,
      },
    ]);
  });

  it.each([
    ['a captive portal', 'text/html', '<html><form action="/login"><a href="/login">Log in</a></form></html>'],
    ['an error page served as 200', 'text/html', '<html><body>Service temporarily unavailable</body></html>'],
    ["another project's page", 'text/html', '<a href="/p/pipx-1.0-py3-none-any.whl">pipx-1.0-py3-none-any.whl</a>'],
    ['JSON that is not an index', 'application/vnd.pypi.simple.v1+json', '{"error":"login required"}'],
    ['broken JSON', 'application/vnd.pypi.simple.v1+json', '{"files": ['],
  ])('finds no files in %s', (_what, type, body) => {
    expect(parseIndexPage(body, type, 'https://m.example/simple/pip/', 'pip')).toEqual([]);
  });

  it('reads a flat PyTorch listing with encoded local versions', () => {
    const html = '<a href="/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl">torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl</a>';
    const [f] = parseIndexPage(html, 'text/html', 'https://download.example/whl/cpu/torch/', 'torch');
    expect(f?.filename).toBe('torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl');
    expect(f?.url).toBe('https://download.example/whl/cpu/torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl');
  });
});

describe('sync status', () => {
  const pypi = { jobs: ['pypi'], maxAgeMs: 24 * HOUR };
  const ts = (hoursAgo: number) => Math.floor((NOW - hoursAgo * HOUR) / 1000);

  it.each([
    ['success an hour ago', [{ name: 'pypi', status: 'success', last_update_ts: ts(1) }], 'ok'],
    ['syncing, last success 2 h ago', [{ name: 'pypi', status: 'syncing', last_update_ts: ts(2) }], 'ok'],
    ['success 3 days ago', [{ name: 'pypi', status: 'success', last_update_ts: ts(72) }], 'stale'],
    ['failed', [{ name: 'pypi', status: 'failed', last_update_ts: ts(1) }], 'failed'],
    ['paused', [{ name: 'pypi', status: 'paused', last_update_ts: ts(1) }], 'paused'],
    ['no pypi job', [{ name: 'debian', status: 'success', last_update_ts: ts(1) }], 'unknown'],
    ['no timestamp', [{ name: 'pypi', status: 'success' }], 'unknown'],
    ['not a list', { jobs: [] }, 'unknown'],
    ['null', null, 'unknown'],
  ])('tunasync.json: %s → %s', (_what, data, state) => {
    expect(readTunasync(data, pypi, NOW).state).toBe(state);
  });

  it.each([
    ['S, an hour ago', `S${ts(1)}X${ts(-1)}`, 'ok'],
    ['S, two days ago', `S${ts(48)}`, 'stale'],
    ['Y with an old success 3 h ago', `Y${ts(0)}O${ts(3)}`, 'ok'],
    ['Y with no previous success', `Y${ts(0)}`, 'unknown'],
    ['F (failed)', `F${ts(0)}O${ts(5)}`, 'failed'],
    ['P (paused)', 'P', 'paused'],
    ['C (caching proxy)', 'C', 'ok'],
    ['U (unknown)', 'U', 'unknown'],
    ['garbage', '???', 'unknown'],
  ])('mirrorz.json: %s → %s', (_what, status, state) => {
    expect(readMirrorz({ site: {}, mirrors: [{ cname: 'pypi', status }] }, pypi, NOW).state).toBe(state);
  });

  it('mirrorz.json without the service or without mirrors is unknown', () => {
    expect(readMirrorz({ mirrors: [{ cname: 'debian', status: 'S1' }] }, pypi, NOW).state).toBe('unknown');
    expect(readMirrorz('<html>', pypi, NOW).state).toBe('unknown');
  });
});

describe('freshness', () => {
  const f = (filename: string, hoursAgo?: number) => ({
    filename,
    url: `https://x/${filename}`,
    ...(hoursAgo !== undefined ? { uploadTime: NOW - hoursAgo * HOUR } : {}),
  });
  const old = ['pip-24.0-py3-none-any.whl', 'pip-24.1-py3-none-any.whl'].map((n) => f(n));
  const newest = f('pip-24.2-py3-none-any.whl');

  it('a mirror lacking a file the majority lists is stale, and the reason names the file', () => {
    const stale = staleByListing(
      [
        { name: 'a', upstream: false, files: [...old, newest] },
        { name: 'b', upstream: false, files: [...old, newest] },
        { name: 'c', upstream: false, files: old },
      ],
      NOW,
      6 * HOUR,
    );
    expect([...stale.keys()]).toEqual(['c']);
    expect(stale.get('c')).toMatch(/lacks pip-24\.2-py3-none-any\.whl \(listed by 2 of 3 candidates\)/);
  });

  it('a file the upstream published more than the grace ago is required even against a majority', () => {
    const stale = staleByListing(
      [
        { name: 'official', upstream: true, files: [...old, f('pip-24.2-py3-none-any.whl', 30)] },
        { name: 'a', upstream: false, files: old },
        { name: 'b', upstream: false, files: old },
      ],
      NOW,
      6 * HOUR,
    );
    expect([...stale.keys()].sort()).toEqual(['a', 'b']);
    expect(stale.get('a')).toMatch(/on official since/);
  });

  it('a release published minutes ago condemns nobody', () => {
    const stale = staleByListing(
      [
        { name: 'official', upstream: true, files: [...old, f('pip-24.2-py3-none-any.whl', 0.1)] },
        { name: 'a', upstream: false, files: old },
        { name: 'b', upstream: false, files: old },
      ],
      NOW,
      6 * HOUR,
    );
    expect(stale.size).toBe(0);
  });

  it('two candidates that disagree, without upload times, are both kept (no majority)', () => {
    expect(
      staleByListing(
        [
          { name: 'a', upstream: false, files: [...old, newest] },
          { name: 'b', upstream: false, files: old },
        ],
        NOW,
        6 * HOUR,
      ).size,
    ).toBe(0);
  });

  it("conda: repodata much older than the upstream's is stale; the median stands in for a missing upstream", () => {
    const d = (h: number) => NOW - h * HOUR;
    expect([
      ...staleByDate(
        [
          { name: 'official', upstream: true, date: d(0) },
          { name: 'a', upstream: false, date: d(5) },
          { name: 'b', upstream: false, date: d(100) },
        ],
        72 * HOUR,
      ).keys(),
    ]).toEqual(['b']);
    expect([
      ...staleByDate(
        [
          { name: 'a', upstream: false, date: d(1) },
          { name: 'b', upstream: false, date: d(2) },
          { name: 'c', upstream: false, date: d(200) },
          { name: 'd', upstream: false },
        ],
        72 * HOUR,
      ).keys(),
    ]).toEqual(['c']);
    // two dated mirrors and no upstream: no reference worth trusting
    expect(
      staleByDate(
        [
          { name: 'a', upstream: false, date: d(1) },
          { name: 'b', upstream: false, date: d(200) },
        ],
        72 * HOUR,
      ).size,
    ).toBe(0);
  });
});

describe('ranking', () => {
  const m = (name: string, latencyMs: number | null, throughputBps: number | null, excluded: string | null = null): RankedMirror => ({
    name,
    url: `https://${name}`,
    upstream: false,
    ok: excluded === null,
    latencyMs,
    throughputBps,
    excluded,
    bytes: 0,
  });

  it('a wide mirror beats a low-latency narrow one; unsampled after sampled; excluded last', () => {
    const ranked = rank([m('narrow', 5, 1e6), m('broken', null, null, 'HTTP 503 for /pip/'), m('unsampled', 1, null), m('wide', 200, 40e6)]);
    expect(ranked.map((r) => r.name)).toEqual(['wide', 'narrow', 'unsampled', 'broken']);
  });

  it('equal throughput: lower latency first', () => {
    expect(rank([m('far', 300, 10e6), m('near', 10, 10e6)]).map((r) => r.name)).toEqual(['near', 'far']);
  });
});
