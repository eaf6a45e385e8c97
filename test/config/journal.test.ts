import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  unlinkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMirror, findMirror, restoreMirror, type Target } from '@tuna-setup/sdk';
import { applyPlan, journalFile, planApply, restoreFiles } from '@tuna-setup/sdk/config';
import { lockFile, withStateLock } from '@tuna-setup/sdk/fs';
import { itWith } from '../helpers/env.js';
import { tempDir } from '../helpers/tmp.js';

const itRoot = itWith({ root: true, bins: ['chattr'] });

const LIVED_IN = {
  pip: '# lab pip config\n[global]\ntimeout = 60\nindex-url = https://pypi.org/simple\n\n[install]\nno-user = true\n',
  uv: '# uv\nnative-tls = true\n\n[[index]]\nname = "torch"\nurl = "https://download.pytorch.org/whl/cu121"\nexplicit = true\n',
  conda: '# conda\nchannels:\n  - conda-forge\nenvs_dirs:\n  - /data/envs\n',
  docker: '{\n  "log-driver": "json-file",\n  "registry-mirrors": ["https://mine.example"]\n}\n',
};

function setup(existing: Partial<Record<Target, string>> = LIVED_IN) {
  const dir = tempDir();
  const paths: Record<'pip' | 'uv' | 'conda' | 'docker', string> = {
    pip: path.join(dir, 'home/.config/pip/pip.conf'),
    uv: path.join(dir, 'home/.config/uv/uv.toml'),
    conda: path.join(dir, 'home/.condarc'),
    docker: path.join(dir, 'etc/docker/daemon.json'),
  };
  for (const [t, text] of Object.entries(existing)) {
    mkdirSync(path.dirname(paths[t as keyof typeof paths]), { recursive: true });
    writeFileSync(paths[t as keyof typeof paths], text);
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

describe('sessions stack', () => {
  for (const order of [
    ['a', 'b'],
    ['b', 'a'],
  ] as const) {
    it(`apply a (tuna), apply b (ustc), restore ${order.join(' then ')}: the session still applied keeps its mirror, the last gives the original`, async () => {
      const s = setup();
      await applyMirror({ ...s.options('tuna'), session: 'a' });
      const tuna = s.read();
      await applyMirror({ ...s.options('ustc'), session: 'b' });
      const ustc = s.read();
      const first = await restoreMirror(s.stateDir, { session: order[0] });
      expect(s.read()).toEqual(order[0] === 'a' ? ustc : tuna);
      expect(first.every((r) => r.action === (order[0] === 'a' ? 'kept' : 'restored'))).toBe(true);
      await restoreMirror(s.stateDir, { session: order[1] });
      expect(s.read()).toEqual(LIVED_IN);
      expect(existsSync(journalFile(s.stateDir))).toBe(false);
    });
  }

  it('a second session applying the same mirror holds the files too (unchanged on disk, but journaled)', async () => {
    const s = setup();
    await applyMirror({ ...s.options('tuna'), session: 'a' });
    const applied = s.read();
    const b = await applyMirror({ ...s.options('tuna'), session: 'b' });
    expect(b.plan.changes.every((c) => c.action === 'unchanged')).toBe(true);
    await restoreMirror(s.stateDir, { session: 'a' });
    expect(s.read()).toEqual(applied); // b is still running
    await restoreMirror(s.stateDir, { session: 'b' });
    expect(s.read()).toEqual(LIVED_IN);
  });

  it('restore --all puts every file back to its original, whatever sessions are left', async () => {
    const s = setup();
    for (const [i, m] of ['tuna', 'ustc', 'bfsu'].entries()) await applyMirror({ ...s.options(m), session: `s${i}` });
    await restoreMirror(s.stateDir, { all: true });
    expect(s.read()).toEqual(LIVED_IN);
  });

  it("reads a format-1 journal (one layer, the CLI's) and restores from it", async () => {
    const s = setup();
    await applyMirror(s.options());
    const v2 = JSON.parse(readFileSync(journalFile(s.stateDir), 'utf8'));
    const v1 = {
      version: 1,
      entries: v2.entries.map((e: any) => ({ path: e.path, target: e.target, original: e.original, written: e.layers[0].written, createdDirs: e.createdDirs })),
    };
    writeFileSync(journalFile(s.stateDir), JSON.stringify(v1));
    await restoreMirror(s.stateDir);
    expect(s.read()).toEqual(LIVED_IN);
  });
});

describe('edits and old journals between sessions', () => {
  it('a hand edit between two applies is the new original: restoring gives the edit back, not the old text', async () => {
    const s = setup();
    await applyMirror({ ...s.options('tuna'), targets: ['pip'], session: 'a' });
    const edited = `${readFileSync(s.paths.pip, 'utf8')}\n[download]\ntimeout = 5\n`;
    writeFileSync(s.paths.pip, edited);
    const b = await applyMirror({ ...s.options('ustc'), targets: ['pip'], session: 'b' });
    expect(b.plan.notes.join('\n')).toMatch(/edited since tuna-setup wrote it/);
    await restoreMirror(s.stateDir, { session: 'b' });
    expect(readFileSync(s.paths.pip, 'utf8')).toBe(edited);
    // a's layer went with the old original: nothing of a's is left to restore
    await expect(restoreMirror(s.stateDir, { session: 'a' })).rejects.toMatchObject({ code: 'JOURNAL_MISSING' });
  });

  it("a format-1 journal with a job applied on top: restoring the job gives back the CLI's bytes, then the original", async () => {
    const s = setup();
    await applyMirror({ ...s.options('tuna'), targets: ['pip'] });
    const cli = readFileSync(s.paths.pip, 'utf8');
    const v2 = JSON.parse(readFileSync(journalFile(s.stateDir), 'utf8'));
    const v1 = {
      version: 1,
      entries: v2.entries.map((e: any) => ({ path: e.path, target: e.target, original: e.original, written: e.layers[0].written, createdDirs: e.createdDirs })),
    };
    writeFileSync(journalFile(s.stateDir), JSON.stringify(v1));
    await applyMirror({ ...s.options('ustc'), targets: ['pip'], session: 'job' });
    expect(await restoreMirror(s.stateDir, { session: 'job' })).toEqual([{ path: realpathSync(s.paths.pip), action: 'restored' }]);
    expect(readFileSync(s.paths.pip, 'utf8')).toBe(cli);
    await restoreMirror(s.stateDir);
    expect(readFileSync(s.paths.pip, 'utf8')).toBe(LIVED_IN.pip);
  });

  itRoot('a rollback that cannot put a file back keeps its original in the journal, and says so', async () => {
    const s = setup();
    const plan = await planApply({ ...s.options('tuna'), targets: ['pip', 'uv'] });
    const applied = await applyPlan(plan, s.stateDir, 'a');
    execFileSync('chattr', ['+i', path.dirname(s.paths.pip)]); // nothing can be renamed into it now
    try {
      await expect(applied.rollback()).rejects.toMatchObject({ code: 'WRITE_FAILED', message: expect.stringContaining(s.paths.pip) });
    } finally {
      execFileSync('chattr', ['-i', path.dirname(s.paths.pip)]);
    }
    expect(s.read().uv).toBe(LIVED_IN.uv); // put back
    expect(s.read().pip).toContain('tuna'); // stuck, but journaled:
    await restoreMirror(s.stateDir, { session: 'a' });
    expect(s.read().pip).toBe(LIVED_IN.pip);
  });
});

describe('one file, one name', () => {
  it('a link and its target are one journal entry; restore gives the original once', async () => {
    const s = setup();
    const link = path.join(s.dir, 'pip-link.conf');
    symlinkSync(s.paths.pip, link);
    await applyMirror({ ...s.options('tuna'), targets: ['pip'], paths: { pip: link } });
    await applyMirror({ ...s.options('ustc'), targets: ['pip'], paths: { pip: s.paths.pip } });
    const journal = JSON.parse(readFileSync(journalFile(s.stateDir), 'utf8'));
    expect(journal.entries.map((e: any) => e.path)).toEqual([realpathSync(s.paths.pip)]);
    await restoreMirror(s.stateDir);
    expect(readFileSync(s.paths.pip, 'utf8')).toBe(LIVED_IN.pip);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('a dangling link is written where it points, and stays a link', async () => {
    const s = setup({});
    const target = path.join(s.dir, 'dotfiles/pip.conf');
    mkdirSync(path.dirname(target));
    mkdirSync(path.dirname(s.paths.pip), { recursive: true });
    symlinkSync(target, s.paths.pip);
    const r = await applyMirror({ ...s.options(), targets: ['pip'] });
    expect(r.plan.changes[0]!.path).toBe(`${realpathSync(path.dirname(target))}/pip.conf`);
    expect(lstatSync(s.paths.pip).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toContain('tuna');
    await restoreMirror(s.stateDir);
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(s.paths.pip).isSymbolicLink()).toBe(true);
  });
});

describe('order of effects', () => {
  it('a failure after writing rolls back: every file and the journal as they were', async () => {
    const s = setup();
    await applyMirror({ ...s.options('tuna'), session: 'a' });
    const before = { files: s.read(), journal: readFileSync(journalFile(s.stateDir), 'utf8') };
    const plan = await planApply(s.options('ustc'));
    const applied = await applyPlan(plan, s.stateDir, 'b');
    expect(s.read().pip).toContain('ustc');
    await applied.rollback();
    expect(s.read()).toEqual(before.files);
    expect(readFileSync(journalFile(s.stateDir), 'utf8')).toBe(before.journal);
  });

  it('--reload-docker with no dockerd to reload writes nothing', async () => {
    const s = setup();
    await expect(applyMirror({ ...s.options(), reloadDocker: true, dockerPidFile: path.join(s.dir, 'none.pid') })).rejects.toMatchObject({
      code: 'RELOAD_FAILED',
    });
    expect(s.read()).toEqual(LIVED_IN);
    expect(existsSync(s.stateDir)).toBe(false);
  });

  it('keeps bytes that are not UTF-8 exactly as they were, and restores them', async () => {
    const s = setup({});
    const latin1 = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from(' \xff\n[global]\ntimeout = 60\n', 'latin1')]);
    mkdirSync(path.dirname(s.paths.pip), { recursive: true });
    writeFileSync(s.paths.pip, latin1);
    await applyMirror({ ...s.options(), targets: ['pip'] });
    const written = readFileSync(s.paths.pip);
    expect(written.subarray(0, latin1.indexOf('[global]'))).toEqual(latin1.subarray(0, latin1.indexOf('[global]')));
    expect(written.toString('latin1')).toContain('index-url = https://pypi.tuna.tsinghua.edu.cn/simple');
    await restoreMirror(s.stateDir);
    expect(readFileSync(s.paths.pip)).toEqual(latin1);
  });

  it('removes temp files a killed run left beside a config (old ones only)', async () => {
    const s = setup();
    const old = path.join(path.dirname(s.paths.pip), '.pip.conf.tuna-setup-0badc0de.tmp');
    const fresh = path.join(path.dirname(s.paths.pip), '.pip.conf.tuna-setup-0000beef.tmp');
    const foreign = path.join(path.dirname(s.paths.pip), '.pip.conf.other-0badc0de.tmp');
    for (const f of [old, fresh, foreign]) writeFileSync(f, 'half');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old, hourAgo, hourAgo);
    utimesSync(foreign, hourAgo, hourAgo);
    await applyMirror(s.options());
    expect([existsSync(old), existsSync(fresh), existsSync(foreign)]).toEqual([false, true, true]);
  });
});

describe('the state dir lock: flock', () => {
  const itFlock = itWith({ bins: ['flock'] });
  itFlock('waits for a live holder, and says so when waiting is over; a holder killed with SIGKILL releases it at once', async () => {
    const s = setup();
    mkdirSync(s.stateDir, { recursive: true });
    // --close: flock itself holds the lock (not sleep), so killing flock is the holder dying
    const holder = spawn('flock', ['--exclusive', '--close', s.stateDir, 'sleep', '60'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await expect(withStateLock(s.stateDir, async () => 1, { waitMs: 800 })).rejects.toMatchObject({ code: 'STATE_LOCKED' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    const t1 = Date.now();
    await applyMirror(s.options());
    expect(Date.now() - t1).toBeLessThan(3_000);
    expect(s.read().pip).toContain('tuna');
    expect(readdirSync(s.stateDir).sort()).toEqual(['journal.json']); // no lock file, no holder file
  });
});

describe('the state dir lock: the lock-file fallback', () => {
  const file = { method: 'file' } as const;
  it('waits for a live holder, and names it when waiting is over', async () => {
    const s = setup();
    mkdirSync(s.stateDir, { recursive: true });
    writeFileSync(lockFile(s.stateDir), JSON.stringify({ pid: process.pid, host: hostname(), token: 'live', since: 'now' }));
    const t0 = Date.now();
    await expect(withStateLock(s.stateDir, async () => 1, { ...file, waitMs: 300 })).rejects.toMatchObject({
      code: 'STATE_LOCKED',
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('breaks a lock whose holder died (pid gone on this host) at once', async () => {
    const s = setup();
    mkdirSync(s.stateDir, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(lockFile(s.stateDir), JSON.stringify({ pid: Number(dead), host: hostname(), token: 'dead', since: 'then' }));
    const t0 = Date.now();
    expect(await withStateLock(s.stateDir, async () => 'held', file)).toBe('held');
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(existsSync(lockFile(s.stateDir))).toBe(false);
  });

  it('breaks a lock it has seen untouched long enough — by its own clock, whatever the file says — and does not spin on one it cannot parse', async () => {
    const s = setup();
    mkdirSync(s.stateDir, { recursive: true });
    // another version's lock: a token, a pid that is not a number; its mtime claims to be from the future
    writeFileSync(lockFile(s.stateDir), '{"token":"abc","pid":"12"}');
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(lockFile(s.stateDir), future, future);
    const t0 = Date.now();
    expect(await withStateLock(s.stateDir, async () => 'held', { ...file, staleMs: 300, waitMs: 5_000 })).toBe('held');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('removes what a holder killed mid-step left (old temp and stale-aside files), keeps fresh ones', async () => {
    const s = setup();
    mkdirSync(s.stateDir, { recursive: true });
    const old = [path.join(s.stateDir, 'lock.0123456789abcdef.tmp'), path.join(s.stateDir, 'lock.stale-0123456789ab')];
    const fresh = path.join(s.stateDir, 'lock.fedcba9876543210.tmp');
    for (const f of [...old, fresh]) writeFileSync(f, '{}');
    const long = new Date(Date.now() - 3_600_000);
    for (const f of old) utimesSync(f, long, long);
    await withStateLock(s.stateDir, async () => {}, file);
    expect([...old, fresh].map((f) => existsSync(f))).toEqual([false, false, true]);
  });
});
