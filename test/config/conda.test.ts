import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { findMirror, TunaSetupError } from '@tuna-setup/sdk';
import { planApply, readCondarc, renderCondarc } from '@tuna-setup/sdk/config';
import { tempDir } from '../helpers/tmp.js';

const T = 'https://mirrors.tuna.tsinghua.edu.cn/anaconda';
const settings = {
  defaultChannels: [`${T}/pkgs/main`, `${T}/pkgs/r`, `${T}/pkgs/msys2`],
  customChannels: { 'conda-forge': `${T}/cloud`, pytorch: `${T}/cloud` },
};

const LIVED_IN = `# my conda settings
channels:
  - conda-forge   # first!
  - defaults
envs_dirs:
  - /data/envs
custom_channels:
  internal: https://conda.corp.example/channels
auto_activate_base: false
`;

describe('renderCondarc', () => {
  it('writes the TUNA layout into an empty file', () => {
    const rc = readCondarc(renderCondarc('', settings), '.condarc');
    expect(rc).toEqual({
      default_channels: settings.defaultChannels,
      custom_channels: settings.customChannels,
      show_channel_urls: true,
      channels: ['defaults'], // conda ≥ 25.9 adds no defaults of its own (conda #15196)
    });
  });

  it("keeps the user's keys, order, comments, envs_dirs and own custom channels", () => {
    const out = renderCondarc(LIVED_IN, settings);
    expect(out).toContain('# my conda settings');
    expect(out).toContain('- conda-forge   # first!');
    const rc = readCondarc(out, '.condarc') as any;
    expect(Object.keys(rc)).toEqual(['channels', 'envs_dirs', 'custom_channels', 'auto_activate_base', 'default_channels', 'show_channel_urls']);
    expect(rc.channels).toEqual(['conda-forge', 'defaults']);
    expect(rc.envs_dirs).toEqual(['/data/envs']);
    expect(rc.custom_channels).toEqual({ internal: 'https://conda.corp.example/channels', ...settings.customChannels });
    expect(rc.auto_activate_base).toBe(false);
  });

  it("what conda reads: a real YAML 1.1 loader (PyYAML, as conda's own ruamel reads 1.1) sees channels [defaults], the mirror's default_channels and custom_channels", () => {
    const load = (text: string) =>
      JSON.parse(
        execFileSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], { input: text, encoding: 'utf8' }),
      );
    expect(load(renderCondarc('', settings))).toEqual({
      channels: ['defaults'],
      show_channel_urls: true,
      default_channels: settings.defaultChannels,
      custom_channels: settings.customChannels,
    });
    // a user's own channels stay first and unchanged; defaults (now the mirror's) is where they put it
    const lived = load(renderCondarc(LIVED_IN, settings));
    expect(lived.channels).toEqual(['conda-forge', 'defaults']);
    expect(lived.custom_channels).toEqual({ internal: 'https://conda.corp.example/channels', ...settings.customChannels });
    // `channels: []` is the user's choice (conda then needs -c): not overridden
    expect(load(renderCondarc('channels: []\n', settings)).channels).toEqual([]);
  });

  it("leaves the user's show_channel_urls alone", () => {
    expect((readCondarc(renderCondarc('show_channel_urls: false\n', settings), 'f') as any).show_channel_urls).toBe(false);
  });

  it('returns the text untouched when the settings are already there (no reformatting)', () => {
    const once = renderCondarc(LIVED_IN, settings);
    const spaced = once.replace('show_channel_urls: true', 'show_channel_urls:   true');
    expect(renderCondarc(spaced, settings)).toBe(spaced);
  });

  it('refuses broken YAML naming file and line', () => {
    expect(() => renderCondarc('channels:\n  - a\n - b\n', settings, '/h/.condarc')).toThrow(/^\/h\/.condarc:3: /);
  });

  it('refuses a top level that is not a mapping', () => {
    expect(() => renderCondarc('- a\n- b\n', settings, '/h/.condarc')).toThrow(/not a mapping/);
  });
});

describe('renderCondarc keeps every byte it does not change', () => {
  const DEFAULTS = `default_channels:\n  - ${T}/pkgs/main\n  - ${T}/pkgs/r\n  - ${T}/pkgs/msys2\n`;
  const CUSTOM = `  conda-forge: ${T}/cloud\n  pytorch: ${T}/cloud\n`;
  const cases: { name: string; before: string; after: string }[] = [
    {
      name: 'writes the TUNA layout into an empty file',
      before: '',
      after: `${DEFAULTS}custom_channels:\n${CUSTOM}show_channel_urls: true\nchannels:\n  - defaults\n`,
    },
    {
      name: 'keeps inline comments with the spaces before them, blank lines and its own custom channels',
      before:
        '# my conda settings\nchannels: # mine\n  - conda-forge   # pinned\n  - defaults\n\ncustom_channels:\n  internal: https://conda.corp.example/channels\t# ours\nauto_activate_base: false\n',
      after: `# my conda settings\nchannels: # mine\n  - conda-forge   # pinned\n  - defaults\n\ncustom_channels:\n  internal: https://conda.corp.example/channels\t# ours\n${CUSTOM}auto_activate_base: false\n${DEFAULTS}show_channel_urls: true\n`,
    },
    {
      name: 'keeps CRLF line endings',
      before: 'channels:\r\n  - defaults   # d\r\n',
      after: `channels:\r\n  - defaults   # d\r\n${DEFAULTS}custom_channels:\n${CUSTOM}show_channel_urls: true\n`.replace(/(?<!\r)\n/g, '\r\n'),
    },
    {
      name: 'keeps a flow list as written, and a missing final newline missing',
      before: 'channels: [conda-forge,  defaults]',
      after: `channels: [conda-forge,  defaults]\n${DEFAULTS}custom_channels:\n${CUSTOM}show_channel_urls: true`,
    },
    {
      name: "replaces an old mirror's default_channels where they were, at their indentation",
      before:
        'default_channels:\n- https://old.example/pkgs/main   # old mirror\n- https://old.example/pkgs/r\n# the rest is mine\nchannels:\n- defaults\nshow_channel_urls: false\n',
      after: `default_channels:\n- ${T}/pkgs/main\n- ${T}/pkgs/r\n- ${T}/pkgs/msys2\n# the rest is mine\nchannels:\n- defaults\nshow_channel_urls: false\ncustom_channels:\n${CUSTOM}`,
    },
    {
      name: 'replaces a flow default_channels in flow style, keeping its comment',
      before: 'default_channels: [https://old.example/pkgs/main]  # old\nshow_channel_urls: true\n',
      after: `default_channels: [${T}/pkgs/main, ${T}/pkgs/r, ${T}/pkgs/msys2]  # old\nshow_channel_urls: true\ncustom_channels:\n${CUSTOM}channels:\n  - defaults\n`,
    },
    {
      name: 'fills empty keys below their own line, keeping their comments',
      before: 'custom_channels:   # filled in by tuna-setup\ndefault_channels:\nshow_channel_urls: true\n',
      after: `custom_channels:   # filled in by tuna-setup\n${CUSTOM}${DEFAULTS}show_channel_urls: true\nchannels:\n  - defaults\n`,
    },
    {
      name: "changes a custom channel's URL in place and adds the others at the mapping's indentation",
      before: `custom_channels:\n    conda-forge: https://old.example/cloud   # was old\n    internal: https://x.example\n${DEFAULTS}show_channel_urls: true\n`,
      after: `custom_channels:\n    conda-forge: ${T}/cloud   # was old\n    internal: https://x.example\n    pytorch: ${T}/cloud\n${DEFAULTS}show_channel_urls: true\nchannels:\n  - defaults\n`,
    },
    {
      name: 'extends a flow custom_channels in flow style',
      before: `custom_channels: {internal: https://x.example}  # mine\n${DEFAULTS}show_channel_urls: true\n`,
      after: `custom_channels: {internal: https://x.example, conda-forge: ${T}/cloud, pytorch: ${T}/cloud}  # mine\n${DEFAULTS}show_channel_urls: true\nchannels:\n  - defaults\n`,
    },
    {
      name: 'keeps an alias the user made, resolving to the same value',
      before: `mirror: &cloud ${T}/cloud\ncustom_channels:\n  conda-forge: *cloud\n  pytorch: *cloud\n${DEFAULTS}show_channel_urls: true\n`,
      after: `mirror: &cloud ${T}/cloud\ncustom_channels:\n  conda-forge: *cloud\n  pytorch: *cloud\n${DEFAULTS}show_channel_urls: true\nchannels:\n  - defaults\n`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = renderCondarc(c.before, settings);
      expect(out).toBe(c.after);
      expect(renderCondarc(out, settings)).toBe(out); // nothing left to change
    });
  }
});

describe('renderCondarc and readCondarc on broken aliases', () => {
  const oneLine = (fn: () => unknown): TunaSetupError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(TunaSetupError);
      expect((e as TunaSetupError).code).toBe('PARSE_ERROR');
      expect((e as TunaSetupError).message).not.toContain('\n');
      return e as TunaSetupError;
    }
    throw new Error('expected a TunaSetupError');
  };

  it('refuses an alias with no anchor, naming file and line', () => {
    const text = 'channels:\n  - conda-forge\n  - *nope\n';
    for (const fn of [() => renderCondarc(text, settings, '/h/.condarc'), () => readCondarc(text, '/h/.condarc')]) {
      const err = oneLine(fn);
      expect(err.message).toMatch(/^\/h\/.condarc:3: .*\*nope/);
      expect(err.hint).toMatch(/by hand/);
    }
  });

  it('refuses an alias bomb (billion laughs) in milliseconds, naming the file', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const text = `${levels.join('\n')}\n`;
    const t0 = performance.now();
    for (const fn of [() => renderCondarc(text, settings, '/h/.condarc'), () => readCondarc(text, '/h/.condarc')]) {
      const err = oneLine(fn);
      expect(err.message).toMatch(/^\/h\/.condarc: .*alias/);
      expect(err.hint).toMatch(/by hand/);
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("a mirror without this machine's platform (planApply)", () => {
  const plan = async (mirror: string, condaSubdir: string) => {
    const dir = tempDir('tuna-conda-plan-');
    return planApply({ mirror: findMirror(mirror), targets: ['conda'], stateDir: dir, paths: { conda: path.join(dir, '.condarc') }, condaSubdir });
  };
  it('SJTU on linux-aarch64: pkgs/main, conda-forge and pytorch stay upstream, with a warning; the rest from SJTU', async () => {
    const p = await plan('sjtu', 'linux-aarch64');
    const rc = readCondarc(p.changes[0]!.after, '.condarc') as { default_channels: string[]; custom_channels: Record<string, string> };
    expect(rc.default_channels).toEqual(['main', 'r', 'msys2'].map((c) => `https://repo.anaconda.com/pkgs/${c}`));
    expect(rc.custom_channels['conda-forge']).toBeUndefined(); // conda's own channel_alias (conda.anaconda.org) then serves it
    expect(rc.custom_channels.pytorch).toBeUndefined();
    expect(rc.custom_channels.bioconda).toBe('https://mirror.sjtu.edu.cn/anaconda/cloud');
    expect(p.notes).toContain(
      'warning: sjtu has no linux-aarch64 packages in the default channels (pkgs/main), conda-forge, pytorch: left on the upstream for this machine',
    );
  });
  it('the same mirror on linux-64: everything from SJTU, no warning', async () => {
    const p = await plan('sjtu', 'linux-64');
    const rc = readCondarc(p.changes[0]!.after, '.condarc') as { default_channels: string[]; custom_channels: Record<string, string> };
    expect(rc.default_channels[0]).toBe('https://mirror.sjtu.edu.cn/anaconda/pkgs/main');
    expect(rc.custom_channels['conda-forge']).toBe('https://mirror.sjtu.edu.cn/anaconda/cloud');
    expect(p.notes.filter((n) => n.startsWith('warning:'))).toEqual([]);
  });
});
