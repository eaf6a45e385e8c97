import { describe, expect, it } from 'vitest';
import { defaultStateDir, findMirror } from '@tuna-setup/sdk';
import { isPublicPypiIndex, MIRRORS } from '@tuna-setup/sdk/catalog';
import { condaSubdir, configPath } from '@tuna-setup/sdk/config';
import { catalogCandidates, condaSubdirGap, formatRanking, readMirrorz, SERVICE_PROBES, serviceRow } from '@tuna-setup/sdk/probe';

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
    [
      'darwin',
      {},
      {
        pip: '/home/u/Library/Application Support/pip/pip.conf',
        uv: '/home/u/.config/uv/uv.toml',
        conda: '/home/u/.condarc',
        docker: '/home/u/.docker/daemon.json',
      },
    ],
    [
      'win32',
      { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' },
      {
        pip: 'C:\\Users\\u\\AppData\\Roaming\\pip\\pip.ini',
        uv: 'C:\\Users\\u\\AppData\\Roaming\\uv\\uv.toml',
        conda: 'C:\\Users\\u\\.condarc',
        docker: 'C:\\ProgramData\\docker\\config\\daemon.json',
      },
    ],
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

// Rows corrected against the mirrors' own sources (issue: a catalog that tells the truth per platform)
describe('catalog rows, each with its source', () => {
  const row = (name: string) => MIRRORS.find((m) => m.name === name)!;
  it('TUNA no longer syncs MindSpore (tuna/tunasync-scripts aa79192, 2024-12-19): not mapped, listed as lacking', () => {
    expect(row('tuna').conda!.channels).not.toContain('MindSpore');
    expect(row('tuna').conda!.lacks).toContain('MindSpore');
  });
  it("default channels are main, r, msys2 (conda dropped free): Aliyun's snippet, SJTU's synced set", () => {
    for (const m of ['aliyun', 'sjtu']) expect(row(m).conda!.defaultChannels.map((u) => u.split('/').pop())).toEqual(['main', 'r', 'msys2']);
  });
  it("per-platform gaps are data: SJTU lacks linux-aarch64/osx-arm64 in pkgs/main and pytorch, linux-aarch64 in conda-forge; TUNA's conda-forge lacks linux-ppc64le", () => {
    expect(row('sjtu').conda!.lacksSubdirs).toEqual({
      'pkgs/main': ['linux-aarch64', 'osx-arm64'],
      'conda-forge': ['linux-aarch64'],
      pytorch: ['linux-aarch64', 'osx-arm64'],
    });
    expect(row('tuna').conda!.lacksSubdirs).toEqual({ 'conda-forge': ['linux-ppc64le'] });
    const sjtu = catalogCandidates('conda').find((c) => c.name === 'sjtu')!;
    expect(condaSubdirGap(sjtu, 'linux-aarch64')).toMatch(/^no linux-aarch64 packages in pkgs\/main, conda-forge, pytorch \(the catalog: /);
    expect(condaSubdirGap(sjtu, 'linux-64')).toBeUndefined();
    expect(condaSubdir('linux', 'arm64')).toBe('linux-aarch64');
    expect(condaSubdir('darwin', 'arm64')).toBe('osx-arm64');
    expect(condaSubdir('win32', 'x64')).toBe('win-64');
  });
  it("a URL-only mirror gets conda-forge alone (what mirrorz's generic help configures), no pytorch or bioconda", () => {
    expect(findMirror('https://mirrors.example.edu.cn').conda!.channels).toEqual(['conda-forge']);
  });
  it('rows resting on third-party use only are marked unverified — and shown so in a ranking', () => {
    const unverified = MIRRORS.flatMap((m) => (['pypi', 'conda', 'pytorchWheels'] as const).filter((s) => m[s]?.unverified).map((s) => `${m.name}.${s}`));
    expect(unverified.sort()).toEqual([
      'aliyun.conda',
      'aliyun.pytorchWheels',
      'bfsu.conda',
      'huawei.pypi',
      'nju.conda',
      'nju.pypi',
      'nju.pytorchWheels',
      'tencent.pypi',
    ]);
    const tencent = catalogCandidates('pypi').find((c) => c.name === 'tencent')!;
    expect(serviceRow(tencent, 'pypi')!.unverified).toMatch(/third-party use only/);
    const lines = formatRanking({
      service: 'pypi',
      chosen: null,
      ranking: [
        {
          name: 'tencent',
          url: tencent.url,
          upstream: false,
          ok: false,
          latencyMs: null,
          throughputBps: null,
          excluded: 'x',
          bytes: 0,
          unverified: 'third-party',
        },
      ],
      elapsedMs: 1,
      budgetMs: 1,
      probedAt: '',
      cached: false,
      bytes: 0,
    });
    expect(lines.at(-1)).toMatch(/\(unverified row\)$/);
  });
  it("SJTU's PyPI sync jobs (pypi-packages) count as pypi in its mirrorz status, so its freshness is known", () => {
    const now = Date.now();
    const v = readMirrorz({ mirrors: [{ cname: 'pypi-packages', status: `S${Math.floor(now / 1000) - 600}` }] }, SERVICE_PROBES.pypi.sync, now);
    expect(v.state).toBe('ok');
  });
});
