import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMirror } from '@tuna-setup/sdk';
import { parseUvToml, planApply, renderUvToml } from '@tuna-setup/sdk/config';
import { tempDir } from '../helpers/tmp.js';

const TUNA = 'https://pypi.tuna.tsinghua.edu.cn/simple';

const LIVED_IN = `# uv settings
native-tls = true   # corporate proxy

[pip]
index-url = "https://pypi.org/simple"

[[index]]
name = "pytorch"
url = "https://download.pytorch.org/whl/cu121"
explicit = true

[[index]]
url = "https://pypi.org/simple"  # the default
default = true
`;

describe('renderUvToml', () => {
  it('adds a default [[index]] to an empty file', () => {
    expect(renderUvToml('', { indexUrl: TUNA })).toBe(`[[index]]\nurl = "${TUNA}"\ndefault = true\n`);
  });

  it('replaces the default index url in place, keeping comments, other indexes and [pip]', () => {
    const out = renderUvToml(LIVED_IN, { indexUrl: TUNA });
    expect(out).toBe(
      LIVED_IN.replace('url = "https://pypi.org/simple"  # the default', `url = "${TUNA}"  # the default`).replace(
        'index-url = "https://pypi.org/simple"',
        `index-url = "${TUNA}"`,
      ),
    );
    const doc = parseUvToml(out, 'uv.toml') as any;
    expect(doc.index).toHaveLength(2);
    expect(doc.index[0]).toEqual({ name: 'pytorch', url: 'https://download.pytorch.org/whl/cu121', explicit: true });
    expect(doc['native-tls']).toBe(true);
  });

  it('appends a default index after non-default ones', () => {
    const before = '[[index]]\nname = "internal"\nurl = "https://pkgs.example/simple"\n';
    const doc = parseUvToml(renderUvToml(before, { indexUrl: TUNA }), 'uv.toml') as any;
    expect(doc.index).toEqual([
      { name: 'internal', url: 'https://pkgs.example/simple' },
      { url: TUNA, default: true },
    ]);
  });

  it('updates the legacy top-level index-url instead of adding a second default', () => {
    const out = renderUvToml('index-url = "https://pypi.org/simple"\n', { indexUrl: TUNA });
    expect(out).toBe(`index-url = "${TUNA}"\n`);
  });

  it('adds allow-insecure-host before the first table for an http mirror', () => {
    const out = renderUvToml('[pip]\nindex-url = "https://pypi.org/simple"\n', { indexUrl: 'http://m.test/simple', insecureHost: 'm.test' });
    const doc = parseUvToml(out, 'uv.toml') as any;
    expect(doc['allow-insecure-host']).toEqual(['m.test']);
    expect(doc.pip['index-url']).toBe('http://m.test/simple');
    expect(out.startsWith('allow-insecure-host = ["m.test"]\n[pip]')).toBe(true);
  });

  it('is idempotent', () => {
    const once = renderUvToml(LIVED_IN, { indexUrl: TUNA });
    expect(renderUvToml(once, { indexUrl: TUNA })).toBe(once);
  });

  it('refuses a broken file, naming file and line', () => {
    expect(() => renderUvToml('[pip]\nindex-url = "unterminated\n', { indexUrl: TUNA }, '/u/uv.toml')).toThrow(/^\/u\/uv.toml:2: /);
  });

  it('refuses a layout it cannot edit safely (inline index array) instead of guessing', () => {
    expect(() => renderUvToml('index = [{ url = "https://a.example/simple" }]\n', { indexUrl: TUNA }, 'uv.toml')).toThrow(/uv.toml/);
  });
});

describe('uv Python downloads and the project lock (issue: a catalog that tells the truth)', () => {
  const M = 'https://mirrors.ustc.edu.cn/github-release/astral-sh/python-build-standalone';
  it('python-install-mirror is a top-level key: before the first table, or replaced in place, the rest untouched', () => {
    const empty = renderUvToml('', { indexUrl: 'https://x.example/simple', pythonInstallMirror: M });
    expect(parseUvToml(empty, 'uv.toml')['python-install-mirror']).toBe(M);
    const withTables = '# mine\n[pip]\nindex-url = "https://old.example/simple"\n';
    const out = renderUvToml(withTables, { indexUrl: 'https://x.example/simple', pythonInstallMirror: M });
    expect(out.startsWith(`# mine\npython-install-mirror = "${M}"\n[pip]\n`)).toBe(true);
    const again = renderUvToml('python-install-mirror = "https://old.example/pbs"  # old\n', { indexUrl: 'https://x.example/simple', pythonInstallMirror: M });
    expect(again.split('\n')[0]).toBe(`python-install-mirror = "${M}"  # old`);
  });

  it('apply with USTC writes it and exports UV_PYTHON_INSTALL_MIRROR; TUNA carries no python-build-standalone (tuna/issues #2125): nothing', async () => {
    const dir = tempDir('tuna-uv-python-');
    const plan = (mirror: string, projectDir = dir) =>
      planApply({ mirror: findMirror(mirror), targets: ['uv'], stateDir: dir, paths: { uv: path.join(dir, 'uv.toml') }, projectDir });
    const ustc = await plan('ustc');
    expect(parseUvToml(ustc.changes[0]!.after, 'uv.toml')['python-install-mirror']).toBe(M);
    expect(ustc.env.UV_PYTHON_INSTALL_MIRROR).toBe(M);
    expect(ustc.notes.join('\n')).toMatch(/the latest release only/);
    const tuna = await plan('tuna');
    expect(parseUvToml(tuna.changes[0]!.after, 'uv.toml')['python-install-mirror']).toBeUndefined();
    // a project locked against pypi.org: told that uv will rewrite the lock's URLs, and how to keep them
    writeFileSync(
      path.join(dir, 'uv.lock'),
      'version = 1\n[[package]]\nname = "numpy"\nversion = "2.1.0"\nsource = { registry = "https://pypi.org/simple" }\n',
    );
    expect((await plan('tuna')).notes.join('\n')).toContain(
      "uv.lock records packages from https://pypi.org/simple: with https://pypi.tuna.tsinghua.edu.cn/simple as uv's default index, `uv lock` and `uv sync` rewrite those URLs (uv #6349)",
    );
  });
});
