// A release newer than the tables, learned from the PyPI index the wheels come
// from (issue: torch through the fast mirror, "a new release on the loopback
// index resolves without a table change"). The index here lists torch 2.15.0 —
// which no table row knows — with its torchvision 0.30.0 and no torchaudio.
import { describe, expect, it } from 'vitest';
import { resolveEnvironment } from '@tuna-setup/sdk';
import { liveRelease, resolveTorch, TORCH_RELEASES } from '@tuna-setup/sdk/torch';
import { linuxWheels, startPypiLike } from '../helpers/torch-index.js';
import { tempDir } from '../helpers/tmp.js';

const PY = ['cp310', 'cp311', 'cp312', 'cp313', 'cp314', 'cp314t', 'cp315'];
const index = (extra: Record<string, string[]> = {}) =>
  startPypiLike({
    torch: [...linuxWheels('torch', '2.14.0', PY), ...linuxWheels('torch', '2.15.0', PY), 'torch-2.15.0-cp311-none-macosx_11_0_arm64.whl'],
    torchvision: [
      ...linuxWheels('torchvision', '0.29.0', PY),
      ...linuxWheels(
        'torchvision',
        '0.30.0',
        PY.filter((p) => p !== 'cp315'),
      ),
    ],
    ...extra,
  });

describe('a release newer than the tables', () => {
  it('is built from the index: versions, the torchvision beside it, the Pythons both have; the rest inferred from the newest table release', async () => {
    const i = await index();
    const stateDir = tempDir('tuna-live-');
    const live = await liveRelease(i.url, { allowHttp: true, stateDir });
    const base = TORCH_RELEASES.at(-1)!;
    expect(live.release).toMatchObject({
      minor: '2.15',
      patches: [{ torch: '2.15.0', torchvision: '0.30.0', torchaudio: null }],
      python: ['3.10', '3.11', '3.12', '3.13', '3.14', '3.14t'], // 3.15: torch only, like the tables' rule
      cuda: base.cuda,
      pypiDefault: base.pypiDefault,
      inferredFrom: base.minor,
    });
    expect(live.release!.source).toMatch(
      /^live index http:\/\/127\.0\.0\.1:\d+\/simple \(read \d{4}-\d\d-\d\d\): torch 2\.15\.0, torchvision 0\.30\.0, no torchaudio; .*inferred/,
    );
    // latest resolves to it, from the mirror, with kernels checked as the newest table release has them
    const r = resolveTorch({ torch: 'latest', driver: '580.95.05', gpus: ['9.0'], pypiIndex: i.url, releases: [...TORCH_RELEASES, live.release!] });
    expect(r).toMatchObject({ torch: '2.15.0', torchvision: '0.30.0', torchaudio: null, variant: base.pypiDefault, wheelSource: 'pypi', torchIndexUrl: i.url });
    expect(r.pipArgs).toEqual(['install', 'torch==2.15.0', 'torchvision==0.30.0', '--index-url', i.url]);
    // three listings (torch, torchvision, torchaudio: 404), then the cache
    expect(i.requests).toEqual(['/simple/torch/', '/simple/torchvision/', '/simple/torchaudio/']);
    await liveRelease(i.url, { allowHttp: true, stateDir });
    expect(i.requests).toHaveLength(3 + 1); // torchaudio's 404 is not cached; the listings are
  });

  it('a torch with no torchvision beside it yet is not used: the tables decide, and the reason says why', async () => {
    const i = await startPypiLike({ torch: linuxWheels('torch', '2.15.0', PY), torchvision: linuxWheels('torchvision', '0.29.0', PY) });
    const live = await liveRelease(i.url, { allowHttp: true });
    expect(live.release).toBeUndefined();
    expect(live.why).toMatch(/torch 2\.15\.0 has no torchvision 0\.30\.x beside it yet; the tables decide/);
  });

  it('an index whose newest torch the tables know adds nothing, with one request', async () => {
    const i = await startPypiLike({ torch: linuxWheels('torch', '2.14.0', PY) });
    expect((await liveRelease(i.url, { allowHttp: true })).release).toBeUndefined();
    expect(i.requests).toEqual(['/simple/torch/']);
  });

  it("a patch newer than the tables (2.14.1 on the index, the tables stop at 2.14.0) resolves from the index, its minor's data kept", async () => {
    const i = await startPypiLike({
      torch: [...linuxWheels('torch', '2.14.0', PY), ...linuxWheels('torch', '2.14.1', PY)],
      torchvision: [...linuxWheels('torchvision', '0.29.0', PY), ...linuxWheels('torchvision', '0.29.1', PY)],
    });
    const live = await liveRelease(i.url, { allowHttp: true, minor: '2.14' });
    const table = TORCH_RELEASES.find((r) => r.minor === '2.14')!;
    expect(live.release).toMatchObject({ minor: '2.14', cuda: table.cuda, pypiDefault: table.pypiDefault, python: table.python });
    expect(live.release!.patches.map((p) => p.torch)).toEqual(['2.14.0', '2.14.1']);
    expect(live.why).toMatch(/torch 2\.14\.1 is newer than the tables' 2\.14\.0: from the live index/);
    // '2.14' (the newest patch) and an exact '2.14.1' both resolve to it, online, with no table change
    const stateDir = tempDir();
    for (const torch of ['2.14', '2.14.1']) {
      const r = await resolveEnvironment({
        torch,
        driver: '580.95.05',
        gpus: ['9.0'],
        pypiIndex: i.url,
        allowHttp: true,
        offline: false,
        checkImage: false,
        platform: 'linux-x86_64',
        stateDir,
      });
      expect(r).toMatchObject({ torch: '2.14.1', torchvision: '0.29.1', wheelSource: 'pypi' });
    }
    // an exact patch the tables list needs no new look at the index (the wheel check reads the cached listing)
    const before = i.requests.length;
    const exact = await resolveEnvironment({
      torch: '2.14.0',
      driver: '580.95.05',
      pypiIndex: i.url,
      allowHttp: true,
      offline: false,
      checkImage: false,
      platform: 'linux-x86_64',
      stateDir,
    });
    expect(exact.torch).toBe('2.14.0');
    expect(exact.reasons).toContainEqual(
      expect.stringMatching(/^listed: torch 2\.14\.0 on linux-x86_64 on http:\/\/127\.0\.0\.1:\d+\/simple \(cached listing\)$/),
    );
    expect(i.requests).toHaveLength(before);
  });
});
