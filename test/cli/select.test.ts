/**
 * The CLI contract of `select` and `apply --mirror auto|a,b` (the README's contract),
 * run as a user runs it, against simulated mirrors on loopback.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCliAsync } from '../helpers/cli.js';
import { startMirrors } from '../helpers/mirror-sim.mjs';
import { tempDir } from '../helpers/tmp.js';

let sim: Awaited<ReturnType<typeof startMirrors>>;
beforeAll(async () => {
  sim = await startMirrors([
    { name: 'lab-fast', latencyMs: 10, bandwidthBps: 20e6 },
    { name: 'lab-slow', latencyMs: 5, bandwidthBps: 1e6 },
    { name: 'lab-stale', latencyMs: 1, bandwidthBps: 50e6, fault: 'stale' },
    { name: 'lab-portal', fault: 'portal' },
    { name: 'lab-down', fault: 'refused' },
  ]);
});
afterAll(() => sim.close());

function home() {
  const dir = tempDir();
  const env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.config'), XDG_STATE_HOME: path.join(dir, '.local/state'), TUNA_SETUP_OFFLINE: '' };
  return { dir, env };
}
const pair = (name: string) => `${name}=${sim.url(name)}`;

/** a mirror file naming the simulated sites, as a user would write one */
function mirrorFile(dir: string): string {
  const file = path.join(dir, 'mirrors.yaml');
  writeFileSync(
    file,
    sim.mirrors
      .map(
        (m) =>
          `- name: ${m.name}\n  url: ${m.url}\n  pypi: { index: ${m.url}/pypi/web/simple }\n  conda:\n    defaultChannels: [${m.url}/anaconda/pkgs/main]\n    cloud: ${m.url}/anaconda/cloud\n    channels: [conda-forge]\n`,
      )
      .join(''),
  );
  return file;
}

describe('tuna-setup select', () => {
  it('--json prints the contract shape: chosen, ranking with ok/latencyMs/throughputBps/excluded, elapsedMs', async () => {
    const h = home();
    const r = await runCliAsync(
      [
        'select',
        '--json',
        '--allow-http',
        '--fresh',
        ...['lab-fast', 'lab-slow', 'lab-stale', 'lab-portal', 'lab-down'].flatMap((n) => ['--candidate', pair(n)]),
      ],
      h.env,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.service).toBe('pypi');
    expect(out.chosen).toEqual({ name: 'lab-fast', url: `${sim.url('lab-fast')}/pypi/web/simple` });
    expect(out.elapsedMs).toBeLessThan(3000);
    expect(out.ranking.map((m: any) => m.name)).toEqual(['lab-fast', 'lab-slow', expect.any(String), expect.any(String), expect.any(String)]);
    for (const m of out.ranking) expect(Object.keys(m)).toEqual(expect.arrayContaining(['name', 'url', 'ok', 'latencyMs', 'throughputBps', 'excluded']));
    const byName = Object.fromEntries(out.ranking.map((m: any) => [m.name, m]));
    expect(byName['lab-stale'].excluded).toMatch(/^stale: lacks pip-24\.3/);
    expect(byName['lab-portal'].excluded).toMatch(/lists no pip files/);
    expect(byName['lab-down'].excluded).toBe('connection refused');
    expect(r.stderr).toBe('');
  });

  it("--requirements ranks by the job's own downloads: many small wheels favour the near mirror, a PyTorch job the wide one", async () => {
    const s = await startMirrors([
      { name: 'near', latencyMs: 1, bandwidthBps: 5e6 },
      { name: 'far-wide', latencyMs: 300, bandwidthBps: 25e6 },
    ]);
    try {
      const h = home();
      const cands = s.mirrors.flatMap((m) => ['--candidate', `${m.name}=${m.url}`]);
      const small = path.join(h.dir, 'requirements.txt');
      writeFileSync(small, Array.from({ length: 20 }, (_, i) => `package-${i}==1.0`).join('\n'));
      const byDefault = await runCliAsync(['select', '--json', '--allow-http', '--fresh', ...cands], h.env);
      expect(byDefault.json().chosen.name).toBe('far-wide');
      const bySmall = await runCliAsync(['select', '--json', '--allow-http', '--fresh', '--requirements', small, ...cands], h.env);
      expect(bySmall.json().chosen.name).toBe('near');
      expect(bySmall.json().ranking[0].predictedMs).toBeLessThan(bySmall.json().ranking[1].predictedMs);
      const missing = await runCliAsync(['select', '--allow-http', '--requirements', path.join(h.dir, 'nope.txt'), ...cands], h.env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^tuna-setup: cannot read requirements file .*nope\.txt\nhint: /);
    } finally {
      await s.close();
    }
  });

  it('prints a human table otherwise', async () => {
    const h = home();
    const r = await runCliAsync(['select', '--allow-http', '--candidate', pair('lab-fast'), '--candidate', pair('lab-portal')], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pypi: lab-fast \(http:\/\/127\.0\.0\.1:\d+\/pypi\/web\/simple\) — \d+ ms, [\d.]+ MB read$/m);
    expect(r.stdout).toMatch(/^ {2}1 {2}lab-fast +\d+ ms +[\d.]+ MB\/s {2}ok$/m);
    expect(r.stdout).toMatch(/^ {2}- {2}lab-portal .*excluded: 200 text\/html/m);
  });

  it('only broken candidates: exit 1, and stderr lists each with its reason', async () => {
    const h = home();
    const r = await runCliAsync(['select', '--json', '--allow-http', '--candidate', pair('lab-portal'), '--candidate', pair('lab-down')], h.env);
    expect(r.code).toBe(1);
    expect(r.json().chosen).toBeNull();
    expect(r.stderr).toMatch(/^tuna-setup: no healthy pypi mirror among 2 candidates — lab-portal: 200 text\/html .*; lab-down: connection refused\nhint: /);
  });

  it('reuses a ranking from the last hour unless --fresh', async () => {
    const h = home();
    const args = ['select', '--json', '--allow-http', '--candidate', pair('lab-fast'), '--candidate', pair('lab-slow')];
    expect((await runCliAsync(args, h.env)).json().cached).toBe(false);
    const seen = sim.requests.length;
    const again = (await runCliAsync(args, h.env)).json();
    expect(again.cached).toBe(true);
    expect(again.chosen.name).toBe('lab-fast');
    expect(sim.requests.length).toBe(seen);
    expect((await runCliAsync([...args, '--fresh'], h.env)).json().cached).toBe(false);
  });

  it.each([
    [['--service', 'npm'], 2, /unknown service 'npm'/],
    [['--budget-ms', 'soon'], 2, /--budget-ms 'soon' is not a positive whole number/],
    [['--candidate', 'no-url-here'], 2, /candidate 'no-url-here' is not NAME=URL/],
    [['--candidate', 'plain=http://127.0.0.1:1'], 2, /plain http.*\nhint: use https:\/\/, or pass --allow-http/],
    [['--mirrors', 'tuna,nosuch'], 2, /unknown mirror 'nosuch'/],
    [['--service', 'pytorch', '--mirrors', 'tuna'], 2, /mirror 'tuna' does not serve pytorch/],
  ])('bad input %j exits %i with a clear message', async (args, code, message) => {
    const r = await runCliAsync(['select', ...args], home().env);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('offline (TUNA_SETUP_OFFLINE=1) probes nothing', async () => {
    const seen = sim.requests.length;
    const r = await runCliAsync(['select', '--allow-http', '--candidate', pair('lab-fast')], { ...home().env, TUNA_SETUP_OFFLINE: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TUNA_SETUP_OFFLINE=1/);
    expect(sim.requests.length).toBe(seen);
  });
});

describe('tuna-setup apply --mirror auto / a comma list', () => {
  it('chooses per service among the named mirrors and writes the winners into pip.conf and .condarc', async () => {
    const h = home();
    const file = mirrorFile(h.dir);
    const r = await runCliAsync(
      ['apply', '--json', '--allow-http', '--mirror-file', file, '--mirror', 'lab-slow,lab-fast,lab-stale,lab-portal', '--targets', 'pip,conda'],
      h.env,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.mirror.name).toBe('lab-fast');
    expect(out.selection.map((s: any) => [s.service, s.chosen.name])).toEqual([
      ['pypi', 'lab-fast'],
      ['conda', 'lab-fast'],
    ]);
    expect(out.warnings).toEqual([]);
    expect(readFileSync(path.join(h.dir, '.config/pip/pip.conf'), 'utf8')).toContain(`index-url = ${sim.url('lab-fast')}/pypi/web/simple`);
    const rc = parseYaml(readFileSync(path.join(h.dir, '.condarc'), 'utf8'));
    expect(rc.custom_channels['conda-forge']).toBe(`${sim.url('lab-fast')}/anaconda/cloud`);
  });

  it('with no healthy candidate it warns and falls back to the upstream', async () => {
    const h = home();
    const file = mirrorFile(h.dir);
    const r = await runCliAsync(['apply', '--json', '--allow-http', '--mirror-file', file, '--mirror', 'lab-portal,lab-down', '--targets', 'pip'], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^tuna-setup: warning: no healthy pypi mirror \(lab-portal: .*; lab-down: connection refused\); using the upstream$/m);
    expect(r.json().mirror).toEqual({ name: 'official', url: 'https://pypi.org' });
    expect(readFileSync(path.join(h.dir, '.config/pip/pip.conf'), 'utf8')).toContain('index-url = https://pypi.org/simple');
  });

  it('offline, auto means the upstream and nothing is probed', async () => {
    const h = home();
    const seen = sim.requests.length;
    const r = await runCliAsync(['apply', '--json', '--targets', 'pip'], { ...h.env, TUNA_SETUP_OFFLINE: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().mirror.name).toBe('official');
    expect(r.stderr).toMatch(/offline \(TUNA_SETUP_OFFLINE=1\): nothing probed, using the upstream/);
    expect(sim.requests.length).toBe(seen);
  });

  it('--dry-run still selects, prints the ranking, and writes nothing but the cached ranking', async () => {
    const h = home();
    const file = mirrorFile(h.dir);
    const r = await runCliAsync(['apply', '--dry-run', '--allow-http', '--mirror-file', file, '--mirror', 'lab-fast,lab-slow', '--targets', 'pip'], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pypi: lab-fast .*\n {2}# {2}mirror/m);
    expect(r.stdout).toContain('dry run, nothing written');
    expect(() => readFileSync(path.join(h.dir, '.config/pip/pip.conf'))).toThrow();
  });
});
