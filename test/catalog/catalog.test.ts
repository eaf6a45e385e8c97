import { describe, expect, it } from 'vitest';
import { configPath, defaultStateDir, findMirror, isPublicPypiIndex, MIRRORS } from '@tuna-setup/sdk';

describe('the mirror catalog', () => {
  it('has the mirrors the README promises, each named once', () => {
    expect(MIRRORS.map((m) => m.name)).toEqual(['tuna', 'bfsu', 'ustc', 'sjtu', 'nju', 'aliyun', 'tencent', 'huawei', 'official']);
  });

  for (const m of MIRRORS) {
    it(`${m.name}: every service row is https and names its source and check date`, () => {
      for (const [service, row] of Object.entries(m).filter(([, v]) => typeof v === 'object')) {
        expect(row.source, `${m.name}.${service}.source`).toBeTruthy();
        expect(row.checked, `${m.name}.${service}.checked`).toMatch(/^\d{4}-\d{2}(-\d{2})?$/);
        const urls = [row.index, row.url, row.cloud, ...(row.defaultChannels ?? [])].filter(Boolean);
        for (const u of urls) expect(u, `${m.name}.${service}`).toMatch(/^https:\/\/[^\s]+[^/]$/);
      }
    });
  }

  it('records the channels TUNA lacks (nvidia) instead of pretending', () => {
    const tuna = findMirror('tuna');
    expect(tuna.conda?.channels).not.toContain('nvidia');
    expect(tuna.conda?.lacks).toContain('nvidia');
  });

  it('reads a URL as a TUNA-style site root, or a bare PyPI index when it ends in /simple', () => {
    const site = findMirror('https://mirrors.example.edu.cn/');
    expect(site.pypi?.index).toBe('https://mirrors.example.edu.cn/pypi/web/simple');
    expect(site.conda?.cloud).toBe('https://mirrors.example.edu.cn/anaconda/cloud');
    const index = findMirror('https://pkgs.example.com/pypi/simple');
    expect(index.pypi?.index).toBe('https://pkgs.example.com/pypi/simple');
    expect(index.conda).toBeUndefined();
  });

  it('knows the public indexes, and nothing else', () => {
    expect(isPublicPypiIndex('https://pypi.org/simple/')).toBe(true);
    expect(isPublicPypiIndex('https://mirrors.tuna.tsinghua.edu.cn/pypi/web/simple')).toBe(true);
    expect(isPublicPypiIndex('https://pkgs.corp.example/simple')).toBe(false);
  });
});

describe('where each tool reads its user config', () => {
  const home = '/home/u';
  const cases: [NodeJS.Platform, NodeJS.ProcessEnv, Record<string, string>][] = [
    ['linux', {}, { pip: '/home/u/.config/pip/pip.conf', uv: '/home/u/.config/uv/uv.toml', conda: '/home/u/.condarc', docker: '/etc/docker/daemon.json' }],
    ['linux', { XDG_CONFIG_HOME: '/x' }, { pip: '/x/pip/pip.conf', uv: '/x/uv/uv.toml', conda: '/home/u/.condarc', docker: '/etc/docker/daemon.json' }],
    ['darwin', {}, { pip: '/home/u/Library/Application Support/pip/pip.conf', uv: '/home/u/.config/uv/uv.toml', conda: '/home/u/.condarc', docker: '/home/u/.docker/daemon.json' }],
    ['win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, {
      pip: 'C:\\Users\\u\\AppData\\Roaming\\pip\\pip.ini', uv: 'C:\\Users\\u\\AppData\\Roaming\\uv\\uv.toml',
      conda: 'C:\\Users\\u\\.condarc', docker: 'C:\\ProgramData\\docker\\config\\daemon.json' }],
  ];
  for (const [os, env, want] of cases) {
    it(`${os} ${JSON.stringify(env)}`, () => {
      const h = os === 'win32' ? 'C:\\Users\\u' : home;
      for (const [target, p] of Object.entries(want)) expect(configPath(target as never, { os, env, home: h })).toBe(p);
    });
  }
  it('keeps the journal under XDG_STATE_HOME', () => {
    expect(defaultStateDir({ os: 'linux', env: {}, home })).toBe('/home/u/.local/state/tuna-setup');
    expect(defaultStateDir({ os: 'linux', env: { XDG_STATE_HOME: '/s' }, home })).toBe('/s/tuna-setup');
  });
});
