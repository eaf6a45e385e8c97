import { chmodSync, existsSync, unlinkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMirror, findMirror, journalFile, planApply, restoreFiles, type Target } from '@tuna-setup/sdk';
import { tempDir } from '../helpers/tmp.js';

const LIVED_IN = {
  pip: '# lab pip config\n[global]\ntimeout = 60\nindex-url = https://pypi.org/simple\n\n[install]\nno-user = true\n',
  uv: '# uv\nnative-tls = true\n\n[[index]]\nname = "torch"\nurl = "https://download.pytorch.org/whl/cu121"\nexplicit = true\n',
  conda: '# conda\nchannels:\n  - conda-forge\nenvs_dirs:\n  - /data/envs\n',
  docker: '{\n  "log-driver": "json-file",\n  "registry-mirrors": ["https://mine.example"]\n}\n',
};

function setup(existing: Partial<Record<Target, string>> = LIVED_IN) {
  const dir = tempDir();
  const paths = {
    pip: path.join(dir, 'home/.config/pip/pip.conf'),
    uv: path.join(dir, 'home/.config/uv/uv.toml'),
    conda: path.join(dir, 'home/.condarc'),
    docker: path.join(dir, 'etc/docker/daemon.json'),
  };
  for (const [t, text] of Object.entries(existing)) {
    mkdirSync(path.dirname(paths[t as Target]), { recursive: true });
    writeFileSync(paths[t as Target], text);
  }
  const stateDir = path.join(dir, 'state');
  const options = (mirror = 'tuna') => ({
    mirror: findMirror(mirror),
    targets: ['pip', 'uv', 'conda', 'docker'] as Target[],
    dockerMirrors: ['https://docker.m.example.com'],
    paths,
    stateDir,
  });
  const read = () => Object.fromEntries(Object.entries(paths).map(([t, p]) => [t, existsSync(p) ? readFileSync(p, 'utf8') : null]));
  return { dir, paths, stateDir, options, read };
}

describe('apply and restore', () => {
  it('restores lived-in configs byte for byte after two applies', async () => {
    const s = setup();
    await applyMirror(s.options());
    const first = s.read();
    expect(first.pip).toContain('index-url = https://pypi.tuna.tsinghua.edu.cn/simple');
    await applyMirror(s.options());
    expect(s.read()).toEqual(first); // apply twice = apply once
    const restored = await restoreFiles(s.stateDir);
    expect(restored.map((r) => r.action)).toEqual(['restored', 'restored', 'restored', 'restored']);
    expect(s.read()).toEqual(LIVED_IN);
    expect(existsSync(journalFile(s.stateDir))).toBe(false);
  });

  it('reports unchanged on a second apply', async () => {
    const s = setup();
    await applyMirror(s.options());
    const plan = await planApply(s.options());
    expect(plan.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('switching mirrors leaves nothing of the first one, and restore still gives the original', async () => {
    const s = setup();
    await applyMirror(s.options('tuna'));
    await applyMirror(s.options('ustc'));
    const now = s.read();
    expect(now.pip).not.toContain('tuna');
    expect(now.conda).not.toContain('tuna');
    await restoreFiles(s.stateDir);
    expect(s.read()).toEqual(LIVED_IN);
  });

  it('removes files it created, and the directories it made for them', async () => {
    const s = setup({});
    await applyMirror(s.options());
    expect(Object.values(s.read()).every((t) => t !== null)).toBe(true);
    const restored = await restoreFiles(s.stateDir);
    expect(restored.every((r) => r.action === 'removed')).toBe(true);
    expect(existsSync(path.join(s.dir, 'home/.config'))).toBe(false);
    expect(existsSync(path.join(s.dir, 'etc'))).toBe(false);
    expect(existsSync(path.join(s.dir, 'home'))).toBe(false);
    expect(existsSync(s.dir)).toBe(true); // existed before apply
  });

  it('keeps the mode of an existing file and writes through a symlink', async () => {
    const s = setup();
    chmodSync(s.paths.pip, 0o600);
    const real = path.join(s.dir, 'dotfiles-condarc');
    writeFileSync(real, LIVED_IN.conda);
    const link = s.paths.conda;
    require_unlink(link);
    symlinkSync(real, link);
    await applyMirror(s.options());
    expect(statSync(s.paths.pip).mode & 0o777).toBe(0o600);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(real, 'utf8')).toContain('default_channels');
    await restoreFiles(s.stateDir);
    expect(readFileSync(real, 'utf8')).toBe(LIVED_IN.conda);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('a dry run writes nothing, not even the journal', async () => {
    const s = setup();
    const result = await applyMirror({ ...s.options(), dryRun: true });
    expect(result.plan.changes.every((c) => c.action === 'update' && c.diff.includes('+'))).toBe(true);
    expect(s.read()).toEqual(LIVED_IN);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it('never overwrites a file changed by hand since apply (unless forced)', async () => {
    const s = setup();
    await applyMirror(s.options());
    writeFileSync(s.paths.pip, '[global]\nindex-url = https://mine.example/simple\n');
    const restored = await restoreFiles(s.stateDir);
    expect(restored.find((r) => r.path === s.paths.pip)?.action).toBe('conflict');
    expect(readFileSync(s.paths.pip, 'utf8')).toBe('[global]\nindex-url = https://mine.example/simple\n');
    expect(s.read().uv).toBe(LIVED_IN.uv);
    // the conflicting entry stays journaled; --force puts the original back
    const forced = await restoreFiles(s.stateDir, { force: true });
    expect(forced).toEqual([{ path: s.paths.pip, action: 'restored' }]);
    expect(s.read()).toEqual(LIVED_IN);
  });

  it('refuses a broken config and writes nothing at all', async () => {
    const s = setup({ ...LIVED_IN, docker: '{"debug": true,,}' });
    await expect(applyMirror(s.options())).rejects.toThrow(/daemon.json/);
    expect(s.read()).toEqual({ ...LIVED_IN, docker: '{"debug": true,,}' });
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it('refuses an unwritable path before writing anything', async () => {
    const s = setup();
    const blocker = path.join(s.dir, 'a-file');
    writeFileSync(blocker, '');
    const options = { ...s.options(), paths: { ...s.paths, docker: path.join(blocker, 'daemon.json') } };
    await expect(applyMirror(options)).rejects.toMatchObject({ code: 'NOT_WRITABLE' });
    expect(s.read().pip).toBe(LIVED_IN.pip);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it('keeps a private index unless told to replace it', async () => {
    const s = setup({ pip: '[global]\nindex-url = https://pkgs.corp.example/simple\n' });
    const options = { ...s.options(), targets: ['pip'] as Target[] };
    await expect(applyMirror(options)).rejects.toMatchObject({ code: 'PRIVATE_INDEX' });
    await applyMirror({ ...options, replaceIndex: true });
    expect(s.read().pip).toContain('tuna');
  });

  it('fails clearly on a missing or corrupt journal', async () => {
    const s = setup();
    await expect(restoreFiles(s.stateDir)).rejects.toMatchObject({ code: 'JOURNAL_MISSING' });
    mkdirSync(s.stateDir, { recursive: true });
    writeFileSync(journalFile(s.stateDir), '{"version": 1, "entries": [{"path": "relative"}]}');
    await expect(restoreFiles(s.stateDir)).rejects.toMatchObject({ code: 'JOURNAL_CORRUPT' });
    expect(s.read()).toEqual(LIVED_IN);
  });
});

function require_unlink(p: string) {
  // replace the fixture file by a link
  writeFileSync(p, '');
  unlinkSync(p);
}
