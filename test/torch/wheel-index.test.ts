// Which PyTorch wheels exist now, read from a real index on loopback
// (test/helpers/torch-index.ts) in both shapes wheels come from — a PyPI-like
// mirror and a download.pytorch.org-like wheel index — in PEP 691 JSON and
// PEP 503 HTML, and from servers that misbehave.
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTunaSetupError } from '@tuna-setup/sdk';
import {
  comparePep440,
  newestVersion,
  normalizePlatform,
  parseWheelName,
  readWheelIndex,
  summarizeTorchIndex,
  wheelIndexCacheFile,
  type WheelFile,
  type WheelIndexOptions,
} from '@tuna-setup/sdk/torch';
import { CU130_FILES, PYPI_FILES, startTorchIndex, type TorchIndexServer } from '../helpers/torch-index.js';
import { tempDir } from '../helpers/tmp.js';

let srv: TorchIndexServer;
beforeAll(async () => {
  srv = await startTorchIndex({ slowMs: 5_000 });
});
afterEach(() => {
  srv.json = true;
  srv.gzip = false;
});

const read = (base: string, options: WheelIndexOptions = {}) => readWheelIndex(`${srv.url}${base}`, 'torch', { allowHttp: true, offline: false, ...options });
const named = (files: readonly WheelFile[], filename: string) => files.find((f) => f.filename === filename);

async function rejects(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string }> {
  try {
    await p;
  } catch (e) {
    if (!isTunaSetupError(e)) throw e;
    return { code: e.code, message: e.message, hint: e.hint };
  }
  throw new Error('expected a TunaSetupError');
}

/** Whether index-page.ts carries data-yanked / data-requires-python from HTML (not yet: see wheel-index.ts) */

describe('reading an index', () => {
  it('reads a PyPI-like mirror as PEP 691 JSON: PyPI builds have no local version', async () => {
    const r = await read('/simple');
    expect(r).toMatchObject({
      format: 'json',
      source: 'network',
      requests: 1,
      project: 'torch',
      url: `${srv.url}/simple/torch/`,
      indexUrl: `${srv.url}/simple`,
    });
    expect(srv.log.at(-1)?.accept).toBe('application/vnd.pypi.simple.v1+json, text/html;q=0.1');
    const f = named(r.files, 'torch-2.14.0-cp311-cp311-manylinux_2_28_x86_64.whl');
    expect(f).toEqual({
      filename: 'torch-2.14.0-cp311-cp311-manylinux_2_28_x86_64.whl',
      version: '2.14.0',
      local: null,
      python: ['cp311'],
      abi: 'cp311',
      platforms: ['manylinux_2_28_x86_64'],
      url: expect.stringMatching(new RegExp(`^${srv.url}/packages/[0-9a-f]{2}/[0-9a-f]{2}/torch-2\\.14\\.0-cp311-cp311-manylinux_2_28_x86_64\\.whl$`)),
      requiresPython: '>=3.10',
    });
    // the sdist, a broken wheel name and another project's wheel are not torch wheels
    expect(r.files.map((x) => x.filename)).not.toContain('torch-2.14.0.tar.gz');
    expect(r.files.map((x) => x.filename)).not.toContain('torch-2.14.0-cp311-broken.whl');
    expect(r.files.some((x) => x.filename.startsWith('torchvision'))).toBe(false);
    expect(r.files).toHaveLength(PYPI_FILES.length - 3);
  });

  it('reads a download.pytorch.org-like index: +cu130 local versions, /whl/cu130/ hrefs with %2B', async () => {
    const r = await read('/whl/cu130/');
    expect(r.files).toHaveLength(CU130_FILES.length);
    expect(named(r.files, 'torch-2.14.0+cu130-cp311-cp311-manylinux_2_28_x86_64.whl')).toEqual({
      filename: 'torch-2.14.0+cu130-cp311-cp311-manylinux_2_28_x86_64.whl',
      version: '2.14.0',
      local: 'cu130',
      python: ['cp311'],
      abi: 'cp311',
      platforms: ['manylinux_2_28_x86_64'],
      url: `${srv.url}/whl/cu130/torch-2.14.0%2Bcu130-cp311-cp311-manylinux_2_28_x86_64.whl`,
    });
  });

  it.each(['/simple', '/whl/cu130', '/mirror/cu130'])('JSON and HTML give the same parse (%s)', async (base) => {
    const viaJson = await read(base);
    srv.json = false;
    const viaHtml = await read(base);
    expect(viaJson.format).toBe('json');
    expect(viaHtml.format).toBe('html');
    expect(viaHtml.files).toEqual(viaJson.files);
  });

  it('a gzip-encoded page parses the same', async () => {
    const plain = await read('/whl/cu130');
    srv.gzip = true;
    const gz = await read('/whl/cu130');
    expect(gz.files).toEqual(plain.files);
  });

  it('decodes a link text that still has %2B, and names a file by its href when the text is empty', async () => {
    srv.json = false;
    const r = await read('/flat');
    expect(r.files.map((f) => f.filename)).toEqual(CU130_FILES.slice(0, 4).map((f) => f.filename));
    expect(r.files.every((f) => f.local === 'cu130' && f.version === '2.13.0')).toBe(true);
    expect(r.files.map((f) => f.url)).toEqual(CU130_FILES.slice(0, 4).map((f) => `${srv.url}/whl/cu130/${encodeURIComponent(f.filename)}`));
  });

  it('follows a redirect to another path and resolves relative hrefs against the page that answered', async () => {
    const r = await read('/moved');
    expect(r.url).toBe(`${srv.url}/mirror/cu130/torch/`);
    expect(r.requests).toBe(2);
    expect(named(r.files, 'torch-2.14.0+cu130-cp312-cp312-win_amd64.whl')?.url).toBe(`${srv.url}/mirror/cu130/torch-2.14.0%2Bcu130-cp312-cp312-win_amd64.whl`);
  });

  it('marks yanked files, with the reason when the index gives one (JSON)', async () => {
    const r = await read('/simple');
    const y = r.files.filter((f) => f.yanked);
    expect(new Set(y.map((f) => f.version))).toEqual(new Set(['2.13.1', '2.12.0']));
    expect(named(r.files, 'torch-2.13.1-cp312-cp312-win_amd64.whl')).toMatchObject({ yanked: true, yankedReason: 'broken CUDA libraries' });
    const noReason = named(r.files, 'torch-2.12.0-1-cp311-cp311-manylinux_2_28_x86_64.whl')!;
    expect(noReason.yanked).toBe(true);
    expect(noReason).not.toHaveProperty('yankedReason');
    expect(named(r.files, 'torch-2.14.0-cp312-cp312-win_amd64.whl')).not.toHaveProperty('yanked');
  });

  it('marks yanked files and requires-python from PEP 503 data- attributes (HTML)', async () => {
    srv.json = false;
    const r = await read('/simple');
    expect(named(r.files, 'torch-2.13.1-cp312-cp312-win_amd64.whl')).toMatchObject({
      yanked: true,
      yankedReason: 'broken CUDA libraries',
      requiresPython: '>=3.10',
    });
  });

  it('reads free-threaded builds (cp313-cp313t) as cp313t, and aarch64 wheels', async () => {
    const r = await read('/whl/cu130');
    expect(named(r.files, 'torch-2.14.0+cu130-cp313-cp313t-manylinux_2_28_aarch64.whl')).toMatchObject({
      python: ['cp313t'],
      abi: 'cp313t',
      platforms: ['manylinux_2_28_aarch64'],
      local: 'cu130',
    });
  });
});

describe('wheel names (PEP 427)', () => {
  it.each<[string, Partial<WheelFile> | undefined]>([
    [
      'torch-2.14.0-cp311-cp311-manylinux_2_28_x86_64.whl',
      { version: '2.14.0', local: null, python: ['cp311'], abi: 'cp311', platforms: ['manylinux_2_28_x86_64'] },
    ],
    ['torch-2.14.0+cu130-cp311-cp311-manylinux_2_28_x86_64.whl', { version: '2.14.0', local: 'cu130' }],
    [
      'torch-2.14.0%2Bcu130-cp311-cp311-linux_aarch64.whl',
      { filename: 'torch-2.14.0+cu130-cp311-cp311-linux_aarch64.whl', local: 'cu130', platforms: ['linux_aarch64'] },
    ],
    ['torch-2.9.0+rocm6.4-cp312-cp312-manylinux_2_28_x86_64.whl', { version: '2.9.0', local: 'rocm6.4' }],
    ['torch-2.15.0.dev20260901+cpu-cp311-cp311-manylinux_2_28_x86_64.whl', { version: '2.15.0.dev20260901', local: 'cpu' }],
    ['torch-2.14.0-cp313-cp313t-manylinux_2_28_x86_64.whl', { python: ['cp313t'], abi: 'cp313t' }],
    ['torch-2.14.0-cp313t-cp313t-win_amd64.whl', { python: ['cp313t'], abi: 'cp313t' }],
    ['torch-2.14.0-cp311-none-macosx_11_0_arm64.whl', { python: ['cp311'], abi: 'none', platforms: ['macosx_11_0_arm64'] }],
    [
      'triton-3.1.0-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      { version: '3.1.0', platforms: ['manylinux_2_17_x86_64', 'manylinux2014_x86_64'] },
    ],
    ['numpy-2.0.0-cp39.cp310-abi3-win_amd64.whl', { python: ['cp39', 'cp310'], abi: 'abi3' }],
    ['torch-2.14.0.tar.gz', undefined],
    ['torch-2.14.0-cp311-manylinux_2_28_x86_64.whl', undefined],
    ['torch-2.14.0-x1-cp311-cp311-win_amd64.whl', undefined],
    ['torch-latest-cp311-cp311-win_amd64.whl', undefined],
    ['torch-2.14.0+-cp311-cp311-win_amd64.whl', undefined],
  ])('%s', (filename, want) => {
    const got = parseWheelName(filename);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject(want);
  });

  it.each<[string, string[]]>([
    ['manylinux_2_28_x86_64', ['linux-x86_64']],
    ['manylinux2014_x86_64', ['linux-x86_64']],
    ['linux_x86_64', ['linux-x86_64']],
    ['manylinux_2_28_aarch64', ['linux-aarch64']],
    ['linux_aarch64', ['linux-aarch64']],
    ['musllinux_1_2_aarch64', ['linux-aarch64']],
    ['macosx_11_0_arm64', ['macos-arm64']],
    ['macosx_10_9_x86_64', ['macos-x86_64']],
    ['macosx_10_9_universal2', ['macos-arm64', 'macos-x86_64']],
    ['win_amd64', ['windows-x86_64']],
    ['win_arm64', ['windows-arm64']],
    ['any', ['any']],
    ['manylinux_2_28_ppc64le', ['linux-ppc64le']],
    ['ios_13_0_arm64_iphoneos', ['ios_13_0_arm64_iphoneos']],
  ])('platform %s is %j', (tag, want) => expect(normalizePlatform(tag)).toEqual(want));
});

describe('what the listing says', () => {
  it('summarises per version, newest first: variants, CPython builds, platforms', async () => {
    const pypi = await read('/simple');
    const cu130 = await read('/whl/cu130');
    const summary = summarizeTorchIndex([...pypi.files, ...cu130.files]);
    expect(summary.map((s) => s.version)).toEqual(['2.14.0', '2.13.1', '2.13.0', '2.12.0']);
    const v214 = summary[0]!;
    expect(v214.variants).toEqual(['cu130', 'pypi']);
    expect(v214.python).toEqual(['cp310', 'cp311', 'cp312', 'cp313', 'cp313t', 'cp314', 'cp314t']);
    expect(v214.platforms).toEqual(['linux-aarch64', 'linux-x86_64', 'macos-arm64', 'windows-x86_64']);
    expect(v214.byVariant.cu130!.platforms).toEqual(['linux-aarch64', 'linux-x86_64', 'windows-x86_64']);
    expect(v214.yanked).toBe(false);
    expect(summary.find((s) => s.version === '2.13.1')).toMatchObject({ variants: ['pypi'], yanked: true });
  });

  it('the newest version: not yanked, by minor, by variant, pre-releases only when asked', async () => {
    const { files } = await read('/simple');
    const cu = (await read('/whl/cu130')).files;
    expect(newestVersion(files)).toBe('2.14.0');
    expect(newestVersion(files, { minor: '2.13' })).toBe('2.13.0'); // 2.13.1 is yanked
    expect(newestVersion(files, { minor: '2.1' })).toBeUndefined(); // 2.13 and 2.14 are not 2.1
    expect(newestVersion([...files, ...cu], { variant: 'cu130', minor: '2.13' })).toBe('2.13.0');
    expect(newestVersion(files, { variant: 'cu130' })).toBeUndefined();
    const nightly = ['torch-2.15.0.dev20260901+cu130-cp311-cp311-manylinux_2_28_x86_64.whl', 'torch-2.15.0rc1+cu130-cp311-cp311-manylinux_2_28_x86_64.whl'].map(
      (n) => ({ ...parseWheelName(n)!, url: 'http://h/' }),
    );
    expect(newestVersion([...cu, ...nightly])).toBe('2.14.0');
    expect(newestVersion([...cu, ...nightly], { prerelease: true })).toBe('2.15.0rc1');
  });

  it.each<[string, string, number]>([
    ['2.14.0', '2.13.1', 1],
    ['2.10.0', '2.9.1', 1],
    ['2.14', '2.14.0', 0],
    ['2.15.0.dev20260901', '2.15.0a1', -1],
    ['2.15.0a1', '2.15.0rc1', -1],
    ['2.15.0rc1', '2.15.0', -1],
    ['2.15.0', '2.15.0.post1', -1],
    ['1!1.0', '2.0', 1],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(comparePep440(a, b))).toBe(sign));
});

describe('the cache', () => {
  it('a second read makes no request; fresh does; the file lives under the state dir', async () => {
    const stateDir = tempDir();
    const before = srv.count('/whl/cu130/');
    const first = await read('/whl/cu130', { stateDir });
    expect(srv.count('/whl/cu130/')).toBe(before + 1);
    expect(existsSync(wheelIndexCacheFile(stateDir, `${srv.url}/whl/cu130`, 'torch'))).toBe(true);
    expect(path.dirname(wheelIndexCacheFile(stateDir, `${srv.url}/whl/cu130`, 'torch'))).toBe(path.join(stateDir, 'wheel-index'));
    const second = await read('/whl/cu130/', { stateDir });
    expect(srv.count('/whl/cu130/')).toBe(before + 1);
    expect(second).toMatchObject({ source: 'cache', requests: 0, fetchedAt: first.fetchedAt, url: first.url, format: first.format });
    expect(second.files).toEqual(first.files);
    const fresh = await read('/whl/cu130', { stateDir, fresh: true });
    expect(fresh.source).toBe('network');
    expect(srv.count('/whl/cu130/')).toBe(before + 2);
  });

  it('reads the file again when it changed on disk, and ignores one that is not a listing', async () => {
    const stateDir = tempDir();
    const file = wheelIndexCacheFile(stateDir, `${srv.url}/whl/cu130`, 'torch');
    const first = await read('/whl/cu130', { stateDir });
    // another process wrote a listing with one file fewer
    const data = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...data, files: data.files.slice(1) }));
    expect((await read('/whl/cu130', { stateDir })).files).toEqual(first.files.slice(1));
    const before = srv.count('/whl/cu130/');
    writeFileSync(file, JSON.stringify({ ...data, files: [{ filename: 'torch-2.14.0-cp311-cp311-win_amd64.whl' }] }));
    expect((await read('/whl/cu130', { stateDir })).source).toBe('network');
    writeFileSync(file, '{ not json');
    expect((await read('/whl/cu130', { stateDir })).source).toBe('network');
    expect(srv.count('/whl/cu130/')).toBe(before + 2);
  });

  it('listings are frozen: callers share them', async () => {
    const stateDir = tempDir();
    const a = await read('/whl/cu130', { stateDir });
    const b = await read('/whl/cu130', { stateDir });
    expect(b.files).toBe(a.files);
    expect(() => (a.files as WheelFile[]).pop()).toThrow(TypeError);
    expect(() => {
      (a.files[0]!.python as string[]).push('cp27');
    }).toThrow(TypeError);
    expect(() => {
      (a.files[0] as { version: string }).version = '0';
    }).toThrow(TypeError);
  });

  it('is keyed by index URL and project', async () => {
    const stateDir = tempDir();
    await read('/whl/cu130', { stateDir });
    const other = await read('/mirror/cu130', { stateDir });
    expect(other.source).toBe('network');
    expect(wheelIndexCacheFile(stateDir, 'https://x/whl/cu130', 'torch')).not.toBe(wheelIndexCacheFile(stateDir, 'https://x/whl/cu130', 'torchvision'));
    expect(wheelIndexCacheFile(stateDir, 'https://x/whl/cu130/', 'Torch')).toBe(wheelIndexCacheFile(stateDir, 'https://x/whl/cu130', 'torch'));
  });

  it('trusts a listing for its TTL (default 1 h), then reads again', async () => {
    const stateDir = tempDir();
    let t = Date.now();
    const now = () => t;
    const before = srv.count('/simple/');
    await read('/simple', { stateDir, now });
    t += 59 * 60_000;
    expect((await read('/simple', { stateDir, now })).source).toBe('cache');
    t += 2 * 60_000;
    expect((await read('/simple', { stateDir, now })).source).toBe('network');
    expect(srv.count('/simple/')).toBe(before + 2);
    t += 10_000;
    expect((await read('/simple', { stateDir, now, ttlMs: 5_000 })).source).toBe('network');
  });

  it('offline: the cached listing whatever its age, and never the network', async () => {
    const stateDir = tempDir();
    let t = Date.now();
    await read('/whl/cu130', { stateDir, now: () => t });
    const before = srv.log.length;
    t += 48 * 3_600_000;
    const r = await read('/whl/cu130', { stateDir, now: () => t, offline: true, fresh: true });
    expect(r.source).toBe('cache');
    expect(r.files).toHaveLength(CU130_FILES.length);
    expect(srv.log.length).toBe(before);
  });

  it('offline with nothing cached: an OFFLINE error, no request', async () => {
    const before = srv.log.length;
    const e = await rejects(read('/simple', { stateDir: tempDir(), offline: true }));
    expect(e.code).toBe('OFFLINE');
    expect(e.message).toContain(`${srv.url}/simple/torch/`);
    expect((await rejects(read('/simple', { offline: true }))).hint).toContain('stateDir');
    expect(srv.log.length).toBe(before);
  });

  it('TUNA_SETUP_OFFLINE=1 means offline', async () => {
    const before = srv.log.length;
    process.env.TUNA_SETUP_OFFLINE = '1';
    try {
      const e = await rejects(readWheelIndex(`${srv.url}/simple`, 'torch', { allowHttp: true, stateDir: tempDir() }));
      expect(e.code).toBe('OFFLINE');
    } finally {
      delete process.env.TUNA_SETUP_OFFLINE;
    }
    expect(srv.log.length).toBe(before);
  });
});

describe('servers that misbehave', () => {
  it('a login page (200 text/html, no links) is an error naming the URL', async () => {
    const e = await rejects(read('/login'));
    expect(e).toMatchObject({ code: 'REGISTRY' });
    expect(e.message).toBe(`wheel index ${srv.url}/login/torch/: 200 text/html lists no torch files (a login or error page?)`);
  });

  it('a 404 says the index has no such project', async () => {
    const e = await rejects(read('/whl/cu999'));
    expect(e.message).toBe(`wheel index ${srv.url}/whl/cu999/torch/: HTTP 404`);
    expect(e.hint).toContain('no torch project');
  });

  it('a page past the cap (16 MiB) is refused as too large', async () => {
    const t0 = performance.now();
    const e = await rejects(read('/huge'));
    expect(e.message).toBe(`wheel index ${srv.url}/huge/torch/: response too large: over 16 MiB`);
    expect(e.hint).toContain('per-variant index');
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect((await rejects(read('/huge', { maxBytes: 64 * 1024 }))).message).toContain('over 1 MiB');
  });

  it('a server slower than the deadline is given up at the deadline', async () => {
    const t0 = performance.now();
    const e = await rejects(read('/slow', { deadlineMs: 300 }));
    const ms = performance.now() - t0;
    expect(e.message).toBe(`wheel index ${srv.url}/slow/torch/: no answer within 0.3 s`);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(300 + 200);
  });

  it('plain http only when allowed; a URL that is not one is BAD_URL', async () => {
    const e = await rejects(readWheelIndex(`${srv.url}/simple`, 'torch', { offline: false }));
    expect(e.message).toContain('refusing plain http');
    expect((await rejects(readWheelIndex('not a url', 'torch', { offline: false }))).code).toBe('BAD_URL');
    expect((await rejects(readWheelIndex('ftp://h/simple', 'torch', { offline: false }))).code).toBe('BAD_URL');
  });
});

describe('cost', () => {
  it('one read of a 2,000-file listing: one request; a cached read: no request, well under a millisecond once read', async () => {
    const stateDir = tempDir();
    const before = srv.count('/big/');
    const t0 = performance.now();
    const r = await read('/big', { stateDir });
    const networkMs = performance.now() - t0;
    expect(r.files).toHaveLength(2000);
    expect(srv.count('/big/') - before).toBe(1);
    const file = wheelIndexCacheFile(stateDir, `${srv.url}/big`, 'torch');
    const time = async (n: number, before?: (i: number) => void) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        before?.(i);
        const t = performance.now();
        const c = await read('/big', { stateDir, offline: i % 2 === 1 });
        times.push(performance.now() - t);
        expect(c.source).toBe('cache');
      }
      return times.sort((a, b) => a - b)[n >> 1]!;
    };
    const warm = await time(20);
    // a file this process has not read (another process wrote it): parsed from disk
    const cold = await time(20, (i) => utimesSync(file, new Date(), new Date(Date.now() + i * 1000)));
    expect(srv.count('/big/') - before).toBe(1);
    console.info(
      `wheel index, 2,000 files: loopback read ${networkMs.toFixed(1)} ms (1 request, ${r.format}, cache written); cached read median ${warm.toFixed(3)} ms in-process, ${cold.toFixed(2)} ms from disk`,
    );
    expect(networkMs).toBeLessThan(2_000);
    expect(warm).toBeLessThan(1);
    expect(cold).toBeLessThan(50);
  });
});
