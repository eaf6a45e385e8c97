/**
 * The CLI contract of `apply` and `restore` (the README's contract): --json
 * prints one object, exit 0/1/2, one-line cause + hint on stderr, nothing
 * written on any error.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { itWith } from '../helpers/env.js';
import { tempDir } from '../helpers/tmp.js';

const itRoot = itWith({ root: true, bins: ['mount', 'umount'] });

function home() {
  const dir = tempDir();
  const env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, '.config'), XDG_STATE_HOME: path.join(dir, '.local/state') };
  const files = () => readdirSync(dir, { recursive: true }).map(String).sort();
  return { dir, env, files };
}

describe('tuna-setup apply', () => {
  it('--json prints the contract shape and writes pip, uv and conda configs', () => {
    const h = home();
    const r = runCli(['apply', '--mirror', 'tuna', '--json'], h.env);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.mirror).toEqual({ name: 'tuna', url: 'https://mirrors.tuna.tsinghua.edu.cn' });
    expect(out.changes.map((c: any) => [c.target, c.path, c.action])).toEqual([
      ['pip', path.join(h.dir, '.config/pip/pip.conf'), 'create'],
      ['uv', path.join(h.dir, '.config/uv/uv.toml'), 'create'],
      ['conda', path.join(h.dir, '.condarc'), 'create'],
    ]);
    expect(out.env).toEqual({
      PIP_INDEX_URL: 'https://pypi.tuna.tsinghua.edu.cn/simple',
      UV_DEFAULT_INDEX: 'https://pypi.tuna.tsinghua.edu.cn/simple',
      CONDARC: path.join(h.dir, '.condarc'),
    });
    expect(r.stderr).toBe('');
  });

  it('writes a .condarc that conda reads as TUNA documents it', () => {
    const h = home();
    expect(runCli(['apply', '--mirror', 'tuna', '--targets', 'conda'], h.env).code).toBe(0);
    const rc = parseYaml(readFileSync(path.join(h.dir, '.condarc'), 'utf8'));
    // conda: default_channels replaces the URLs behind the `defaults` channel;
    // custom_channels maps <name> to <base>/<name>; both are lists/maps of URLs
    expect(rc.default_channels).toEqual(['main', 'r', 'msys2'].map((c) => `https://mirrors.tuna.tsinghua.edu.cn/anaconda/pkgs/${c}`));
    expect(rc.custom_channels['conda-forge']).toBe('https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud');
    expect(rc.custom_channels.nvidia).toBeUndefined(); // TUNA does not carry it
    expect(rc.show_channel_urls).toBe(true);
  });

  it('--dry-run prints diffs and writes nothing', () => {
    const h = home();
    const r = runCli(['apply', '--mirror', 'ustc', '--dry-run'], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('+index-url = https://mirrors.ustc.edu.cn/pypi/simple');
    expect(r.stdout).toContain('dry run, nothing written');
    expect(h.files()).toEqual([]);
  });

  it('a second apply reports unchanged', () => {
    const h = home();
    runCli(['apply', '--mirror', 'tuna'], h.env);
    const r = runCli(['apply', '--mirror', 'tuna', '--json'], h.env);
    expect(r.json().changes.map((c: any) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  const failures: { name: string; args: string[]; code: number; stderr: RegExp }[] = [
    {
      name: 'an unknown mirror, listing the valid ones',
      args: ['--mirror', 'tunaa'],
      code: 2,
      stderr: /unknown mirror 'tunaa'\nhint: use one of: .*tuna, bfsu, ustc, sjtu, nju, aliyun, tencent, huawei, official/,
    },
    { name: 'a malformed URL', args: ['--mirror', 'https://'], code: 2, stderr: /not a URL/ },
    { name: 'http without the opt-in', args: ['--mirror', 'http://mirror.example/simple'], code: 2, stderr: /plain http\nhint: .*--allow-http/ },
    { name: 'credentials in a URL', args: ['--mirror', 'https://u:secret@mirror.example/simple'], code: 2, stderr: /carries credentials/ },
    { name: 'an unknown target', args: ['--mirror', 'tuna', '--targets', 'pip,npm'], code: 2, stderr: /unknown target 'npm'/ },
    { name: 'a service the mirror lacks', args: ['--mirror', 'tencent', '--targets', 'conda'], code: 2, stderr: /no conda channels/ },
    { name: 'docker without a registry mirror', args: ['--mirror', 'tuna', '--targets', 'docker'], code: 2, stderr: /--docker-mirror/ },
    { name: 'an unknown flag (usage error)', args: ['--mirorr', 'tuna'], code: 2, stderr: /Unknown option '--mirorr'/ },
    { name: 'a flag without its value (usage error)', args: ['--mirror'], code: 2, stderr: /--mirror/ },
  ];
  for (const f of failures) {
    it(`refuses ${f.name} with exit ${f.code}, a cause and a hint, writing nothing`, () => {
      const h = home();
      const r = runCli(['apply', ...f.args], h.env);
      expect(r.code).toBe(f.code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(f.stderr);
      expect(r.stderr).toMatch(/\nhint: /);
      expect(h.files()).toEqual([]);
    });
  }

  it('refuses a broken existing config, naming file and line, and leaves every file untouched', () => {
    const h = home();
    const conf = path.join(h.dir, '.config/pip/pip.conf');
    mkdirSync(path.dirname(conf), { recursive: true });
    writeFileSync(conf, '[global]\nindex-url = https://pypi.org/simple\n[global]\n');
    const r = runCli(['apply', '--mirror', 'tuna'], h.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${conf}:3: section [global] appears twice`);
    expect(readFileSync(conf, 'utf8')).toBe('[global]\nindex-url = https://pypi.org/simple\n[global]\n');
    expect(existsSync(path.join(h.dir, '.condarc'))).toBe(false);
  });

  it('takes mirrors from a YAML file of the user', () => {
    const h = home();
    const file = path.join(h.dir, 'mirrors.yaml');
    writeFileSync(file, 'name: campus\nurl: https://mirrors.campus.example\npypi:\n  index: https://mirrors.campus.example/pypi/simple\n');
    const r = runCli(['apply', '--mirror-file', file, '--mirror', 'campus', '--targets', 'pip', '--json'], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().env.PIP_INDEX_URL).toBe('https://mirrors.campus.example/pypi/simple');
    const bad = runCli(['apply', '--mirror-file', file.replace('mirrors', 'nope'), '--mirror', 'campus'], h.env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot read mirror file/);
  });
});

describe('tuna-setup restore', () => {
  it('--json lists each file and what was done', () => {
    const h = home();
    runCli(['apply', '--mirror', 'tuna', '--targets', 'pip'], h.env);
    const r = runCli(['restore', '--json'], h.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual({ restored: [{ path: path.join(h.dir, '.config/pip/pip.conf'), action: 'removed' }] });
  });

  it('exits 1 with a hint when there is no journal', () => {
    const h = home();
    const r = runCli(['restore'], h.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no journal in .*\nhint: pass the --state-dir used for apply/);
  });

  it('exits 1 and keeps a file edited by hand since apply', () => {
    const h = home();
    runCli(['apply', '--mirror', 'tuna', '--targets', 'pip'], h.env);
    const conf = path.join(h.dir, '.config/pip/pip.conf');
    writeFileSync(conf, '[global]\ntimeout = 5\n');
    const r = runCli(['restore'], h.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/changed by hand since apply[\s\S]*--force/);
    expect(readFileSync(conf, 'utf8')).toBe('[global]\ntimeout = 5\n');
  });
});

describe('paths and the journal', () => {
  it('a relative --pip-config is journaled absolute: restore works from any directory', async () => {
    const h = home();
    const work = path.join(h.dir, 'work');
    mkdirSync(work);
    writeFileSync(path.join(work, 'pip.conf'), '[global]\ntimeout = 60\n');
    const applied = await runCliAsync(['apply', '--mirror', 'tuna', '--targets', 'pip', '--pip-config', 'pip.conf', '--json'], h.env, work);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json().changes[0].path).toBe(path.join(work, 'pip.conf'));
    const again = await runCliAsync(['apply', '--mirror', 'ustc', '--targets', 'pip', '--pip-config', './pip.conf'], h.env, work);
    expect(again.code, again.stderr).toBe(0);
    const restored = await runCliAsync(['restore', '--json'], h.env, h.dir);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.json().restored).toEqual([{ path: path.join(work, 'pip.conf'), action: 'restored' }]);
    expect(readFileSync(path.join(work, 'pip.conf'), 'utf8')).toBe('[global]\ntimeout = 60\n');
  });

  it('an old journal holding a relative path (format 1) is still read: restore from where apply ran', async () => {
    const h = home();
    const work = path.join(h.dir, 'work');
    mkdirSync(work);
    const original = '[global]\ntimeout = 60\n';
    const ours = '[global]\ntimeout = 60\nindex-url = https://pypi.tuna.tsinghua.edu.cn/simple\n';
    writeFileSync(path.join(work, 'pip.conf'), ours);
    const state = path.join(h.dir, '.local/state/tuna-setup');
    mkdirSync(state, { recursive: true });
    writeFileSync(
      path.join(state, 'journal.json'),
      JSON.stringify({
        version: 1,
        entries: [
          {
            path: 'pip.conf',
            target: 'pip',
            original: Buffer.from(original).toString('base64'),
            written: createHash('sha256').update(ours).digest('hex'),
            createdDirs: [],
          },
        ],
      }),
    );
    const r = await runCliAsync(['restore', '--json'], h.env, work);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'pip.conf'), 'utf8')).toBe(original);
  });

  itRoot('a full disk while writing the journal: one line naming the journal, and no config touched', async () => {
    const h = home();
    const state = path.join(h.dir, 'state');
    mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', state]);
    try {
      writeFileSync(path.join(h.dir, 'pip.conf'), `[global]\n${'# padding\n'.repeat(6_000)}`); // 60 KB: its copy in the journal does not fit
      try {
        writeFileSync(path.join(state, 'filler'), Buffer.alloc(60 * 1024));
      } catch {
        /* full */
      }
      const r = await runCliAsync(
        ['apply', '--mirror', 'tuna', '--targets', 'pip', '--pip-config', path.join(h.dir, 'pip.conf'), '--state-dir', state, '--json'],
        h.env,
      );
      expect(r.code).toBe(1);
      expect(r.json().error).toMatchObject({
        code: 'WRITE_FAILED',
        message: expect.stringMatching(/cannot write the journal .*journal\.json: .*no space left on device/i),
      });
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(readFileSync(path.join(h.dir, 'pip.conf'), 'utf8')).not.toContain('tuna');
      expect(readdirSync(state).filter((n) => n !== 'filler')).toEqual([]);
    } finally {
      execFileSync('umount', [state]);
    }
  });
});

describe('tuna-setup', () => {
  it('exits 2 on an unknown command', () => {
    expect(runCli(['frobnicate']).code).toBe(2);
  });
  it('prints help with every command', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tuna-setup apply[\s\S]*tuna-setup restore/);
  });
});
