import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TunaSetupError } from '@tuna-setup/sdk';
import { parsePipConf, renderPipConf, type PipSettings } from '@tuna-setup/sdk/config';
import { itWith } from '../helpers/env.js';
import { isolatedPipEnv } from '../helpers/pypi.js';

const run = promisify(execFile);

const TUNA = 'https://pypi.tuna.tsinghua.edu.cn/simple';

const LIVED_IN = `# pip config for the lab box
; managed by hand

[global]
timeout = 60
index-url = https://pypi.org/simple
extra-index-url =
    https://download.pytorch.org/whl/cu121
    https://example.org/simple

[install]
# never use the user site
no-user = true

[freeze]
exclude = pip
`;

describe('renderPipConf', () => {
  const cases: { name: string; before: string; settings?: object; after: string }[] = [
    { name: 'creates [global] in an empty file', before: '', after: `[global]\nindex-url = ${TUNA}\n` },
    {
      name: 'replaces index-url in place and keeps every comment, key and section',
      before: LIVED_IN,
      after: LIVED_IN.replace('index-url = https://pypi.org/simple', `index-url = ${TUNA}`),
    },
    {
      name: 'adds index-url at the end of [global], before the next section',
      before: '[global]\ntimeout = 60\n\n[install]\nno-user = true\n',
      after: `[global]\ntimeout = 60\nindex-url = ${TUNA}\n\n[install]\nno-user = true\n`,
    },
    {
      name: 'appends [global] after other sections, keeping them',
      before: '[install]\nno-user = true',
      after: `[install]\nno-user = true\n\n[global]\nindex-url = ${TUNA}\n`,
    },
    {
      name: 'overrides index-url in a command section, which beats [global]',
      before: '[global]\nindex-url = https://pypi.org/simple\n[install]\nindex_url = https://pypi.org/simple\n',
      after: `[global]\nindex-url = ${TUNA}\n[install]\nindex_url = ${TUNA}\n`,
    },
    {
      name: 'keeps CRLF line endings',
      before: '[global]\r\ntimeout = 60\r\n',
      after: `[global]\r\ntimeout = 60\r\nindex-url = ${TUNA}\r\n`,
    },
    {
      name: 'replaces a multi-line value with its continuation lines',
      before: '[global]\nindex-url =\n    https://a.example/simple\nretries = 3\n',
      after: `[global]\nindex-url = ${TUNA}\nretries = 3\n`,
    },
    {
      name: 'sets trusted-host only when asked (http mirror with opt-in)',
      before: '[global]\n',
      settings: { indexUrl: 'http://mirror.test/simple', trustedHost: 'mirror.test' },
      after: '[global]\nindex-url = http://mirror.test/simple\ntrusted-host = mirror.test\n',
    },
    {
      name: 'sets timeout and retries if asked',
      before: '',
      settings: { indexUrl: TUNA, timeout: 30, retries: 5 },
      after: `[global]\nindex-url = ${TUNA}\ntimeout = 30\nretries = 5\n`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = renderPipConf(c.before, (c.settings as never) ?? { indexUrl: TUNA });
      expect(out).toBe(c.after);
      expect(renderPipConf(out, (c.settings as never) ?? { indexUrl: TUNA })).toBe(out); // idempotent
    });
  }

  const broken: { name: string; text: string; line: number }[] = [
    { name: 'a key before any section', text: 'index-url = x\n', line: 1 },
    { name: 'a duplicate section', text: '[global]\na = 1\n\n[global]\n', line: 4 },
    { name: 'a duplicate key', text: '[global]\ntimeout = 1\nTimeout = 2\n', line: 3 },
    { name: 'a line that is not key = value', text: '[global]\njust words\n', line: 2 },
  ];
  for (const b of broken) {
    it(`refuses ${b.name}, naming file and line`, () => {
      expect(() => renderPipConf(b.text, { indexUrl: TUNA }, '/home/u/.config/pip/pip.conf')).toThrow(new RegExp(`^/home/u/.config/pip/pip.conf:${b.line}: `));
      try {
        parsePipConf(b.text, 'f');
      } catch (e) {
        expect((e as TunaSetupError).code).toBe('PARSE_ERROR');
      }
    });
  }
});

/** What real pip reads when `text` is its only config file: `section.key` → value as `pip config list` prints it. */
async function pipReads(text: string): Promise<Map<string, string>> {
  const home = mkdtempSync(path.join(tmpdir(), 'tuna-test-pipconf-'));
  const conf = path.join(home, 'pip.conf');
  writeFileSync(conf, text);
  const { stdout } = await run('python3', ['-m', 'pip', 'config', 'list'], {
    env: { ...isolatedPipEnv(home), PIP_CONFIG_FILE: conf },
    timeout: 60_000,
  }).finally(() => rmSync(home, { recursive: true, force: true }));
  return new Map(
    stdout
      .split('\n')
      .filter((l) => l && !l.startsWith(':env:.'))
      .map((l) => {
        const eq = l.indexOf('=');
        return [l.slice(0, eq), l.slice(eq + 1)] as [string, string];
      }),
  );
}

describe('pip reads what renderPipConf wrote, the way we meant', () => {
  const needsPip = itWith({ bins: ['python3'] });

  needsPip("refuses '[ global ]', which pip reads as a section named ' global ' and never uses", async () => {
    const text = '[ global ]\nindex-url = https://pypi.org/simple\n';
    expect((await pipReads(text)).get(' global .index-url')).toBe("'https://pypi.org/simple'");
    const err = caught(() => renderPipConf(text, { indexUrl: TUNA }, '/h/pip.conf'));
    expect(err.code).toBe('PARSE_ERROR');
    expect(err.message).toMatch(/^\/h\/pip.conf:1: .*' global '/);
    expect(err.hint).toContain('[global]');
  });

  needsPip('refuses a UTF-8 byte order mark, which pip reads as part of line 1 (and rejects the file)', async () => {
    const text = '\ufeff[global]\ntimeout = 60\n';
    await expect(pipReads(text)).rejects.toThrow(/no section headers/);
    const err = caught(() => renderPipConf(text, { indexUrl: TUNA }, '/h/pip.conf'));
    expect(err.code).toBe('PARSE_ERROR');
    expect(err.message).toMatch(/^\/h\/pip.conf:1: .*byte order mark/);
    expect(err.hint).toMatch(/without.*BOM/i);
  });

  // Each file is read by pip before and after: what changes is index-url (to ours, wherever pip would use one)
  // and the keys we add to [global]; every other key pip saw keeps the value pip saw.
  const layouts: { name: string; text: string; settings?: PipSettings }[] = [
    { name: 'the lived-in file', text: LIVED_IN },
    { name: 'a comment after a section header, which pip ignores', text: '[global] ; main settings\ntimeout = 60\n' },
    { name: 'keys indented alike (not continuations)', text: '[global]\n  index-url = https://pypi.org/simple\n  timeout = 5\n' },
    {
      name: 'an indented line after a blank line, which continues the value',
      text: '[global]\nindex-url = https://pypi.org/simple\n\n    timeout = 5\nretries = 2\n',
    },
    {
      name: 'a comment inside a multi-line value',
      text: '[global]\nextra-index-url =\n    https://a.example/simple\n# b is off for now\n    https://c.example/simple\n',
    },
    {
      name: 'index_url and index-url in one section (pip takes the last)',
      text: '[global]\nindex_url = https://pypi.org/simple\nindex-url = https://other.example/simple\n',
    },
    { name: 'a lone CR, which Python reads as a line break', text: '[global]\ntimeout = 60\rretries = 2\n' },
    { name: 'an indented header right after [global]', text: '[global]\n  [install]\n  no-user = true\n', settings: { indexUrl: TUNA, timeout: 30 } },
    {
      name: 'a last key with no newline, and keys to add',
      text: '[global]\nindex-url = https://pypi.org/simple',
      settings: { indexUrl: TUNA, timeout: 30, retries: 4 },
    },
    {
      name: 'a line of Python whitespace (\\x1c) inside a value',
      text: '[global]\nextra-index-url = https://a.example/simple\n\x1c\n  https://b.example/simple\n',
    },
    {
      name: 'CRLF endings',
      text: '[global]\r\ntimeout = 60\r\n\r\n[download]\r\nindex-url = https://pypi.org/simple\r\n',
      settings: { indexUrl: TUNA, retries: 4 },
    },
    { name: 'an empty [DEFAULT] section', text: '[DEFAULT]\n\n[global]\ntimeout = 60\n' },
  ];
  for (const l of layouts) {
    needsPip(`reads ours, and keeps every other key, in ${l.name}`, async () => {
      const settings = l.settings ?? { indexUrl: TUNA };
      const out = renderPipConf(l.text, settings);
      const [before, after] = await Promise.all([pipReads(l.text), pipReads(out)]);
      const expected = new Map(before);
      for (const k of before.keys()) if (k.endsWith('.index-url')) expected.set(k, `'${TUNA}'`);
      expected.set('global.index-url', `'${settings.indexUrl}'`);
      if (settings.timeout !== undefined) expected.set('global.timeout', `'${settings.timeout}'`);
      if (settings.retries !== undefined) expected.set('global.retries', `'${settings.retries}'`);
      expect(Object.fromEntries(after)).toEqual(Object.fromEntries(expected));
      expect(renderPipConf(out, settings)).toBe(out); // idempotent
    });
  }

  it('refuses a [DEFAULT] section with keys: configparser copies them into every section', () => {
    const err = caught(() => renderPipConf('[DEFAULT]\nindex-url = https://pypi.org/simple\n[install]\nno-user = true\n', { indexUrl: TUNA }, 'p.conf'));
    expect(err.code).toBe('PARSE_ERROR');
    expect(err.message).toMatch(/^p.conf:2: .*\[DEFAULT\]/);
  });

  it("refuses '[]', which pip does not read as a header", () => {
    expect(() => renderPipConf('[]\nindex-url = a\n', { indexUrl: TUNA }, 'p.conf')).toThrow(/^p.conf:1: /);
  });
});

/** A pip.conf of about `bytes`: one section per team, each like a lived-in [global]. */
function bigPipConf(bytes: number): string {
  const parts = ['[global]\ntimeout = 60\nindex-url = https://pypi.org/simple\n\n'];
  let size = parts[0]!.length;
  for (let i = 0; size < bytes; i++) {
    const block =
      `# team ${i}\n[team-${i}]\nindex-url = https://pypi.team-${i}.example.org/simple\n` +
      `extra-index-url =\n    https://download.pytorch.org/whl/cu121\n    https://wheels.team-${i}.example.org/simple\n` +
      `trusted-host = pypi.team-${i}.example.org\ntimeout = 60\nno_cache_dir = false\n; keep the site clean\nno-user = true\n\n`;
    parts.push(block);
    size += block.length;
  }
  return parts.join('');
}

describe('renderPipConf on a large file', () => {
  const fastest = (text: string) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      renderPipConf(text, { indexUrl: TUNA });
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };

  it('renders a 5 MB pip.conf in well under a few seconds', () => {
    const text = bigPipConf(5 * 1024 * 1024);
    const t0 = performance.now();
    const out = renderPipConf(text, { indexUrl: TUNA });
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(out.split(`index-url = ${TUNA}`).length - 1).toBe(text.split('index-url = ').length - 1);
  });

  it('takes time that grows linearly with the file (4x the bytes, well under 10x the time)', () => {
    renderPipConf(bigPipConf(256 * 1024), { indexUrl: TUNA }); // warm up the JIT
    const small = fastest(bigPipConf(1024 * 1024));
    const large = fastest(bigPipConf(4 * 1024 * 1024));
    expect(large / small).toBeLessThan(10);
  });

  it('still finds a duplicate key or section at the end of a large file, naming its line', () => {
    const text = bigPipConf(1024 * 1024);
    const lines = text.split('\n').length;
    expect(() => renderPipConf(`${text}[team-7]\n`, { indexUrl: TUNA }, 'p.conf')).toThrow(new RegExp(`^p.conf:${lines}: section \\[team-7\\] appears twice`));
    expect(() => renderPipConf(`${text}[last]\nno_user = 1\nNo_User = 2\n`, { indexUrl: TUNA }, 'p.conf')).toThrow(
      new RegExp(`^p.conf:${lines + 2}: key 'no-user' appears twice`),
    );
  });
});

function caught(fn: () => unknown): TunaSetupError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TunaSetupError);
    return e as TunaSetupError;
  }
  throw new Error('expected a TunaSetupError');
}
