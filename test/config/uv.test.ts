import { describe, expect, it } from 'vitest';
import { parseUvToml, renderUvToml } from '@tuna-setup/sdk';

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
    expect(out).toBe(LIVED_IN
      .replace('url = "https://pypi.org/simple"  # the default', `url = "${TUNA}"  # the default`)
      .replace('index-url = "https://pypi.org/simple"', `index-url = "${TUNA}"`));
    const doc = parseUvToml(out, 'uv.toml') as any;
    expect(doc.index).toHaveLength(2);
    expect(doc.index[0]).toEqual({ name: 'pytorch', url: 'https://download.pytorch.org/whl/cu121', explicit: true });
    expect(doc['native-tls']).toBe(true);
  });

  it('appends a default index after non-default ones', () => {
    const before = '[[index]]\nname = "internal"\nurl = "https://pkgs.example/simple"\n';
    const doc = parseUvToml(renderUvToml(before, { indexUrl: TUNA }), 'uv.toml') as any;
    expect(doc.index).toEqual([{ name: 'internal', url: 'https://pkgs.example/simple' }, { url: TUNA, default: true }]);
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
