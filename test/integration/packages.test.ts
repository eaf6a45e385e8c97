// The packages as users get them (issue: the SDK and CLI as products): packed
// with npm, installed from the tarballs into an empty project, the SDK
// imported and the CLI run from there; and the one-file CLI run with plain
// node from a directory with no node_modules at all.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = (argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync(argv[0]!, argv.slice(1), {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', ...env },
    timeout: 240_000,
  });

describe('npm pack → install → use', () => {
  it('both tarballs install into an empty project (dependencies from the npm cache); the SDK imports, the CLI runs', () => {
    const packs = tempDir('tuna-packs-');
    for (const ws of ['packages/sdk', 'packages/cli']) run(['npm', 'pack', '-w', ws, '--pack-destination', packs, '--silent'], ROOT);
    const tarballs = readdirSync(packs).sort();
    expect(tarballs).toEqual(['tuna-setup-0.6.0.tgz', 'tuna-setup-sdk-0.6.0.tgz']);
    // what a tarball holds: the built code, types, the README, the manifest — no sources or tests
    const files = run(['tar', '-tzf', path.join(packs, 'tuna-setup-sdk-0.6.0.tgz')], packs)
      .split('\n')
      .filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/README.md', 'package/package.json']));
    expect(files.some((f) => f.startsWith('package/src/') || f.includes('.test.'))).toBe(false);

    const project = tempDir('tuna-user-project-');
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
    run(['npm', 'install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.map((t) => path.join(packs, t))], project);
    const version = run(
      ['node', '-e', "import('@tuna-setup/sdk').then((m) => console.log(m.VERSION, typeof m.selectMirror, typeof m.resolveEnvironment))"],
      project,
    ).trim();
    expect(version).toBe('0.6.0 function function');
    // the parts are on subpaths (and only there): the root is the use cases
    const sub = run(
      [
        'node',
        '-e',
        "Promise.all([import('@tuna-setup/sdk'), import('@tuna-setup/sdk/torch'), import('@tuna-setup/sdk/probe')]).then(([root, torch, probe]) => console.log(Object.keys(root).length, typeof torch.resolveTorch, typeof probe.rank, 'resolveTorch' in root))",
      ],
      project,
    ).trim();
    expect(sub).toMatch(/^\d+ function function false$/);
    expect(Number(sub.split(' ')[0])).toBeLessThanOrEqual(30);
    const bin = path.join(project, 'node_modules/.bin/tuna-setup');
    expect(run([bin, '--version'], project).trim()).toBe('0.6.0');
    const resolved = JSON.parse(run([bin, 'resolve', '--torch', '2.14', '--driver', 'none', '--offline', '--json'], project));
    expect(resolved).toMatchObject({ torch: '2.14.0', variant: 'cpu' });
  }, 300_000);
});

describe('the one-file CLI (dist/cli/tuna-setup.mjs)', () => {
  it('runs with plain node from an empty directory: no node_modules anywhere above it', () => {
    const dir = tempDir('tuna-onefile-');
    copyFileSync(path.join(ROOT, 'dist/cli/tuna-setup.mjs'), path.join(dir, 'tuna-setup.mjs'));
    expect(existsSync(path.join(dir, 'node_modules'))).toBe(false);
    const home = tempDir('tuna-onefile-home-');
    const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_STATE_HOME: path.join(home, '.state'), NODE_PATH: '' };
    expect(run(['node', 'tuna-setup.mjs', '--version'], dir, env).trim()).toBe('0.6.0');
    expect(
      JSON.parse(run(['node', 'tuna-setup.mjs', 'resolve', '--torch', '2.14', '--driver', '580.95.05', '--gpu-cc', '9.0', '--offline', '--json'], dir, env)),
    ).toMatchObject({ variant: 'cu132', image: 'pytorch/pytorch:2.14.0-cuda13.2-cudnn9-runtime' });
    // it writes configs as the packaged CLI does: a dry run shows the plan
    const plan = JSON.parse(run(['node', 'tuna-setup.mjs', 'apply', '--mirror', 'tuna', '--targets', 'pip', '--dry-run', '--json'], dir, env));
    expect(JSON.stringify(plan)).toContain('https://pypi.tuna.tsinghua.edu.cn/simple');
  });
});
