// `tuna-setup install-conda` (issue: the SDK and CLI as products): the
// verified download lives in the SDK, so the CLI installs conda as the
// Action does — the mirror's Miniforge first, checked against its .sha256,
// the upstream (here an internal copy) when the mirror's does not match.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMirrors } from '../helpers/mirror-sim.mjs';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

let sim: Awaited<ReturnType<typeof startMirrors>>;
beforeAll(async () => {
  sim = await startMirrors([{ name: 'good' }, { name: 'tampered', fault: 'bad-checksum' }, { name: 'upstream' }]);
});
afterAll(() => sim.close());

describe('install-conda', () => {
  it('Miniforge from the mirror, verified, installed into --prefix', async () => {
    const prefix = path.join(tempDir('tuna-conda-'), 'miniforge3');
    const r = await runCliAsync(['install-conda', '--mirror', sim.url('good')!, '--allow-http', '--prefix', prefix, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ prefix, source: new URL(sim.url('good')!).host, bin: `${prefix}/bin` });
    expect(existsSync(path.join(prefix, 'bin/conda'))).toBe(true);
    expect(r.stderr).toMatch(/Miniforge installer from .* sha256 [0-9a-f]{64} verified/);
  });

  it('a checksum mismatch on the mirror falls back to the upstream, with a warning; nothing unverified runs', async () => {
    const prefix = path.join(tempDir('tuna-conda-'), 'miniforge3');
    const r = await runCliAsync(['install-conda', 'miniforge', '--mirror', sim.url('tampered')!, '--allow-http', '--prefix', prefix, '--json'], {
      TUNA_SETUP_MINIFORGE_UPSTREAM: `${sim.url('upstream')}/miniforge-releases`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().source).toBe('official');
    expect(r.stderr).toMatch(/warning: Miniforge installer from .* failed \(checksum mismatch: .*\); falling back to the upstream release/);
  });

  it('usage errors: no --prefix, an unknown kind, --mirror for micromamba', async () => {
    for (const args of [
      ['install-conda'],
      ['install-conda', 'anaconda', '--prefix', '/tmp/x'],
      ['install-conda', 'micromamba', '--mirror', 'tuna', '--prefix', '/tmp/x'],
    ]) {
      const r = await runCliAsync([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
