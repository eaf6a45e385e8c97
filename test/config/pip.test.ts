import { describe, expect, it } from 'vitest';
import { parsePipConf, renderPipConf, TunaSetupError } from '@tuna-setup/sdk';

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
      expect(() => renderPipConf(b.text, { indexUrl: TUNA }, '/home/u/.config/pip/pip.conf'))
        .toThrow(new RegExp(`^/home/u/.config/pip/pip.conf:${b.line}: `));
      try { parsePipConf(b.text, 'f'); } catch (e) { expect((e as TunaSetupError).code).toBe('PARSE_ERROR'); }
    });
  }
});
