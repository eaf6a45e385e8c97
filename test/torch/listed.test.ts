// Is the wheel on the index it will come from (issue: torch through the fast
// mirror, "wheel platform tags checked against the index")? Asked before
// installing, so a mirror that is behind or lacks a platform is an error
// that names what it has — not pip's "No matching distribution".
import { describe, expect, it } from 'vitest';
import { resolveEnvironment } from '@tuna-setup/sdk';
import { checkListed, type Resolution } from '@tuna-setup/sdk/torch';
import { linuxWheels, startPypiLike, startTorchIndex } from '../helpers/torch-index.js';

type R = Pick<Resolution, 'torch' | 'variant' | 'torchIndexUrl' | 'wheelSource'>;
const failure = (r: R, req: Parameters<typeof checkListed>[1]) =>
  checkListed(r, { allowHttp: true, ...req }).then(
    () => {
      throw new Error('listed');
    },
    (e) => e,
  );

describe('checkListed', () => {
  it("PyPI's build (no local label) for the Python and platform: listed; another Python: what it has instead", async () => {
    const i = await startTorchIndex();
    const pypi: R = { torch: '2.14.0', variant: 'cu130', torchIndexUrl: `${i.url}/simple`, wheelSource: 'pypi' };
    expect(await checkListed(pypi, { allowHttp: true, python: '3.12', platform: 'linux-x86_64' })).toBe(
      `listed: torch 2.14.0 for cp312 on linux-x86_64 on ${i.url}/simple`,
    );
    expect(await checkListed(pypi, { allowHttp: true, python: '3.13t', platform: 'linux-aarch64' })).toMatch(
      /^listed: torch 2\.14\.0 for cp313t on linux-aarch64/,
    );
    const e = await failure(pypi, { python: '3.15', platform: 'linux-x86_64' });
    expect(e.code).toBe('UNRESOLVABLE');
    expect(e.message).toBe(
      `${i.url}/simple does not list torch 2.14.0 for cp315 on linux-x86_64: it has 2.14.0 for cp310, cp311, cp312, cp313, cp313t, cp314, cp314t only`,
    );
    expect(e.say('cli').hint).toMatch(/--wheels upstream, another --mirror/);
  });

  it('a yanked release is not there: the newest build it has, and that this one is missing or yanked', async () => {
    const i = await startTorchIndex();
    const e = await failure({ torch: '2.13.1', variant: 'cu130', torchIndexUrl: `${i.url}/simple`, wheelSource: 'pypi' }, { platform: 'linux-x86_64' });
    expect(e.message).toMatch(/does not list torch 2\.13\.1 on linux-x86_64: its newest build is 2\.14\.0 \(2\.13\.1 is missing or yanked\)/);
  });

  it('a download.pytorch.org layout: the +cu130 build; a platform it lacks names the ones it has', async () => {
    const i = await startTorchIndex();
    const up: R = { torch: '2.14.0', variant: 'cu130', torchIndexUrl: `${i.url}/whl/cu130`, wheelSource: 'upstream' };
    expect(await checkListed(up, { allowHttp: true, python: '3.11', platform: 'windows-x86_64' })).toMatch(
      /^listed: torch 2\.14\.0\+cu130 for cp311 on windows-x86_64/,
    );
    const e = await failure(up, { python: '3.11', platform: 'macos-arm64' });
    expect(e.message).toMatch(
      /does not list torch 2\.14\.0\+cu130 for cp311 on macos-arm64: it has 2\.14\.0 for linux-aarch64, linux-x86_64, windows-x86_64 only/,
    );
    expect(e.say('cli').hint).toMatch(/--torch, --cuda/); // upstream: change what is asked, not the source
  });

  it('a wheel mirror that is behind: its newest build of that variant, and that it is behind', async () => {
    const i = await startTorchIndex();
    const e = await failure({ torch: '2.15.0', variant: 'cu130', torchIndexUrl: `${i.url}/mirror/cu130`, wheelSource: 'mirror' }, { platform: 'linux-x86_64' });
    expect(e.message).toMatch(/does not list torch 2\.15\.0\+cu130 on linux-x86_64: its newest cu130 build is 2\.14\.0 — the index is behind/);
  });
});

describe('resolveEnvironment online asks it', () => {
  it('a PyPI mirror still at 2.13: torch 2.14 from it is UNRESOLVABLE before anything installs', async () => {
    const i = await startPypiLike({ torch: linuxWheels('torch', '2.13.0', ['cp311', 'cp312']) });
    const e = await resolveEnvironment({
      torch: '2.14',
      driver: null,
      pypiIndex: i.url,
      allowHttp: true,
      offline: false,
      checkImage: false,
      platform: 'linux-x86_64',
      python: '3.12',
    }).catch((x) => x);
    expect(e.code).toBe('UNRESOLVABLE');
    expect(e.message).toMatch(/does not list torch 2\.14\.0 for cp312 on linux-x86_64: its newest build is 2\.13\.0 — the index is behind/);
  });

  it('an index it cannot read is a reason, not an error (pip will say more)', async () => {
    const r = await resolveEnvironment({
      torch: '2.14',
      driver: null,
      pypiIndex: 'http://127.0.0.1:9/simple',
      allowHttp: true,
      offline: false,
      checkImage: false,
      platform: 'linux-x86_64',
    });
    expect(r.reasons.at(-2)).toMatch(/^wheels not checked on the index \(/);
  });
});
