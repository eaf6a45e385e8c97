import { describe, expect, it } from 'vitest';
import { readCondarc, renderCondarc } from '@tuna-setup/sdk';

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
    });
  });

  it("keeps the user's keys, order, comments, envs_dirs and own custom channels", () => {
    const out = renderCondarc(LIVED_IN, settings);
    expect(out).toContain('# my conda settings');
    expect(out).toContain('- conda-forge # first!');
    const rc = readCondarc(out, '.condarc') as any;
    expect(Object.keys(rc)).toEqual(['channels', 'envs_dirs', 'custom_channels', 'auto_activate_base', 'default_channels', 'show_channel_urls']);
    expect(rc.channels).toEqual(['conda-forge', 'defaults']);
    expect(rc.envs_dirs).toEqual(['/data/envs']);
    expect(rc.custom_channels).toEqual({ internal: 'https://conda.corp.example/channels', ...settings.customChannels });
    expect(rc.auto_activate_base).toBe(false);
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
