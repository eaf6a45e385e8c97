/**
 * The mirror catalog: data only. Each service row names its public source
 * (the mirror's help page, sync scripts or server configs) and the date it
 * was checked; `tuna-setup catalog verify` checks every row against the live
 * mirrors. Changing a URL here touches no logic.
 *
 * Docker Hub: every institutional Chinese Docker Hub mirror closed in 2024
 * (USTC 2024-06-06, SJTU 2024-06, NJU 2024-06-07 — ustclug/mirrorhelp
 * docs/dockerhub.md, sjtug #369), and TUNA never had one, so no catalog row
 * has `dockerHub`: a registry mirror is always the user's `--docker-mirror`.
 */
import type { Mirror } from './types.js';

// MindSpore left CONDA_CLOUD_REPOS in tuna/tunasync-scripts commit aa79192 (2024-12-19): no longer synced
const TUNA_CLOUD_CHANNELS = ['conda-forge', 'pytorch', 'pytorch-lts', 'pytorch-test', 'pytorch3d', 'bioconda', 'rapidsai', 'dglteam', 'Paddle'];
const THIRD_PARTY = 'third-party use only: no page of the mirror documents it';
const TUNASYNC_SCRIPTS = 'tuna/tunasync-scripts anaconda.py CONDA_REPOS, CONDA_CLOUD_REPOS';

function tunaLayoutConda(root: string, source: string, checked: string, note?: string) {
  return {
    defaultChannels: ['main', 'r', 'msys2'].map((c) => `${root}/anaconda/pkgs/${c}`),
    cloud: `${root}/anaconda/cloud`,
    source,
    checked,
    ...(note ? { note } : {}),
  };
}

/** The catalog: every known mirror with its service rows, each naming its source and check date. */
export const MIRRORS: readonly Mirror[] = [
  {
    name: 'tuna',
    title: 'Tsinghua University TUNA',
    url: 'https://mirrors.tuna.tsinghua.edu.cn',
    pypi: {
      index: 'https://pypi.tuna.tsinghua.edu.cn/simple',
      source: 'tuna/mirror-web _helpz/local/pypi/tuna.zh.md; tuna/oh-my-tuna',
      checked: '2026-08-20',
    },
    conda: {
      ...tunaLayoutConda(
        'https://mirrors.tuna.tsinghua.edu.cn',
        TUNASYNC_SCRIPTS,
        '2026-08-20',
        'off-campus IPv4 requests may be redirected to BFSU (tuna/issues #1633)',
      ),
      channels: TUNA_CLOUD_CHANNELS,
      lacks: ['nvidia', 'pytorch-nightly', 'MindSpore'],
      // the catalog review of tunasync-scripts anaconda.py (2026-11): conda-forge is synced without linux-ppc64le
      lacksSubdirs: { 'conda-forge': ['linux-ppc64le'] },
    },
    miniforge: {
      url: 'https://mirrors.tuna.tsinghua.edu.cn/github-release/conda-forge/miniforge',
      source: 'tuna/tunasync-scripts github-release.json; tuna/mirror-web _data/options.yml',
      checked: '2026-08-20',
    },
    status: {
      url: 'https://mirrors.tuna.tsinghua.edu.cn/static/tunasync.json',
      format: 'tunasync',
      source: 'mirrorz-org/mirrorz-config parser/tuna.js',
      checked: '2026-07-22',
    },
  },
  {
    name: 'bfsu',
    title: 'Beijing Foreign Studies University',
    url: 'https://mirrors.bfsu.edu.cn',
    pypi: {
      index: 'https://mirrors.bfsu.edu.cn/pypi/web/simple',
      source: 'tuna/mirror-web pypi help; RubyMetric/chsrc',
      checked: '2026-08-20',
    },
    conda: {
      ...tunaLayoutConda(
        'https://mirrors.bfsu.edu.cn',
        'RubyMetric/chsrc issue #21 (.condarc output)',
        '2026-07-23',
        'cloud channel list assumed equal to TUNA (same tunasync-scripts); not verified per channel',
      ),
      channels: ['conda-forge', 'pytorch', 'bioconda'],
      lacks: ['nvidia'],
      unverified: "the channel list: BFSU publishes none (assumed as TUNA's, whose scripts it runs)",
    },
    status: {
      url: 'https://mirrors.bfsu.edu.cn/static/tunasync.json',
      format: 'tunasync',
      source: 'mirrorz-org/mirrorz-config parser/bfsu.js',
      checked: '2026-07-22',
    },
  },
  {
    name: 'ustc',
    title: 'University of Science and Technology of China',
    url: 'https://mirrors.ustc.edu.cn',
    pypi: {
      index: 'https://mirrors.ustc.edu.cn/pypi/simple',
      source: 'ustclug/mirrorhelp docs/pypi.md',
      checked: '2026-06-28',
      note: 'metadata synced from TUNA; files cached on demand, misses redirect to TUNA',
    },
    conda: {
      ...tunaLayoutConda(
        'https://mirrors.ustc.edu.cn',
        'ustclug/mirrorhelp docs/anaconda.md',
        '2026-06-28',
        'main/r/msys2 redirect to TUNA (licence); cloud channels are a dynamic cache, misses go to TUNA',
      ),
      channels: ['conda-forge', 'bioconda'],
      lacks: ['nvidia'],
    },
    miniforge: {
      url: 'https://mirrors.ustc.edu.cn/github-release/conda-forge/miniforge',
      source: 'ustclug/mirrorhelp docs/anaconda.md',
      checked: '2026-06-28',
    },
    pythonBuilds: {
      url: 'https://mirrors.ustc.edu.cn/github-release/astral-sh/python-build-standalone',
      source: 'ustclug/mirrorhelp docs/github-release.md',
      checked: '2026-11-27',
      note: 'the latest release only (without i686/ppc64le/s390x/debug builds); files it lacks redirect to GitHub',
    },
    status: {
      url: 'https://mirrors.ustc.edu.cn/static/json/mirrorz.json',
      format: 'mirrorz',
      source: 'mirrorz-org/mirrorz-config config/mirrorz.org.json',
      checked: '2026-07-22',
    },
  },
  {
    name: 'sjtu',
    title: 'Shanghai Jiao Tong University SJTUG',
    url: 'https://mirror.sjtu.edu.cn',
    pypi: {
      index: 'https://mirror.sjtu.edu.cn/pypi/web/simple',
      source: 'sjtug/mirror-docker-unified Caddyfile (mirror-intel proxying TUNA simple)',
      checked: '2026-04',
    },
    conda: {
      defaultChannels: ['main', 'r', 'msys2'].map((c) => `https://mirror.sjtu.edu.cn/anaconda/pkgs/${c}`),
      cloud: 'https://mirror.sjtu.edu.cn/anaconda/cloud',
      channels: ['conda-forge', 'pytorch', 'pytorch-lts', 'pytorch-test', 'bioconda', 'dglteam', 'atztogo', 'matsci', 'menpo', 'soumith', 'viscid-hub'],
      lacks: ['nvidia'],
      source:
        'sjtug/mirror-test-scripts .condarc; mirrorz-org/mirrorz-docs customs.zh.md; sjtug/mirror-docker-unified worker configs (pkgs main/r/msys2; subdirs synced)',
      checked: '2026-11-27',
      note: 'answers 403 instead of 404 for missing files (sjtug #360)',
      lacksSubdirs: { 'pkgs/main': ['linux-aarch64', 'osx-arm64'], 'conda-forge': ['linux-aarch64'], pytorch: ['linux-aarch64', 'osx-arm64'] },
    },
    pytorchWheels: {
      index: 'https://mirror.sjtu.edu.cn/pytorch-wheels',
      layout: 'pep503',
      source: 'sjtug/mirror-intel repos.rs; sjtug issues #385, #421',
      checked: '2026-08',
      note: 'index pages cached since 2026-08; was stale for months before',
    },
    status: {
      url: 'https://mirror.sjtu.edu.cn/mirrorz/siyuan.json',
      format: 'mirrorz',
      source: 'mirrorz-org/mirrorz-config config/mirrorz.org.json',
      checked: '2026-07-22',
    },
  },
  {
    name: 'nju',
    title: 'Nanjing University',
    url: 'https://mirror.nju.edu.cn',
    pypi: {
      index: 'https://mirror.nju.edu.cn/pypi/web/simple',
      source: 'RubyMetric/chsrc',
      checked: '2026-07-23',
      unverified: THIRD_PARTY,
    },
    conda: {
      ...tunaLayoutConda('https://mirror.nju.edu.cn', 'RubyMetric/chsrc; nju-lug/Mira #30', '2026-07-23', 'cloud base seen only in third-party use'),
      channels: ['conda-forge', 'pytorch', 'bioconda'],
      lacks: ['nvidia'],
      unverified: THIRD_PARTY,
    },
    pythonBuilds: {
      url: 'https://mirror.nju.edu.cn/github-release/astral-sh/python-build-standalone',
      source: 'RubyMetric/chsrc PR #359 (uv python mirror)',
      checked: '2026-11-27',
      note: 'the latest release only: an older uv pins a release it no longer has',
      unverified: THIRD_PARTY,
    },
    pytorchWheels: {
      index: 'https://mirror.nju.edu.cn/pytorch/whl',
      layout: 'pep503',
      source: 'third-party usage only',
      checked: '2026-07',
      unverified: THIRD_PARTY,
    },
    status: {
      url: 'https://mirrors.nju.edu.cn/.mirrorz/tunasync.json',
      format: 'tunasync',
      source: 'mirrorz-org/mirrorz-config parser/nju.js',
      checked: '2026-07-22',
    },
  },
  {
    name: 'aliyun',
    title: 'Alibaba Cloud',
    url: 'https://mirrors.aliyun.com',
    pypi: {
      index: 'https://mirrors.aliyun.com/pypi/simple',
      source: 'RubyMetric/chsrc',
      checked: '2026-07-23',
    },
    conda: {
      // conda dropped `free` from its defaults (conda 4.7); Aliyun's widely used snippet is main/r/msys2
      defaultChannels: ['main', 'r', 'msys2'].map((c) => `https://mirrors.aliyun.com/anaconda/pkgs/${c}`),
      cloud: 'https://mirrors.aliyun.com/anaconda/cloud',
      channels: ['conda-forge', 'bioconda'],
      source: 'third-party usage only (the .condarc snippet in wide use)',
      checked: '2026-11-27',
      unverified: THIRD_PARTY,
    },
    pytorchWheels: {
      index: 'https://mirrors.aliyun.com/pytorch-wheels',
      layout: 'find-links',
      source: 'third-party usage only',
      checked: '2026-07',
      unverified: THIRD_PARTY,
    },
  },
  {
    name: 'tencent',
    title: 'Tencent Cloud',
    url: 'https://mirrors.cloud.tencent.com',
    pypi: {
      index: 'https://mirrors.cloud.tencent.com/pypi/simple',
      source: 'RubyMetric/chsrc',
      checked: '2026-07-23',
      unverified: THIRD_PARTY,
    },
  },
  {
    name: 'huawei',
    title: 'Huawei Cloud',
    url: 'https://mirrors.huaweicloud.com',
    pypi: {
      index: 'https://mirrors.huaweicloud.com/repository/pypi/simple',
      source: 'RubyMetric/chsrc',
      checked: '2026-07-23',
      unverified: THIRD_PARTY,
    },
  },
  {
    name: 'official',
    title: 'Upstream (no mirror)',
    url: 'https://pypi.org',
    pypi: { index: 'https://pypi.org/simple', source: 'RubyMetric/chsrc upstream', checked: '2026-07-23' },
    conda: {
      defaultChannels: ['main', 'r', 'msys2'].map((c) => `https://repo.anaconda.com/pkgs/${c}`),
      cloud: 'https://conda.anaconda.org',
      channels: ['conda-forge', 'pytorch', 'nvidia', 'bioconda'],
      source: 'tuna/tunasync-scripts anaconda.py (upstream URLs); conda docs default_channels',
      checked: '2026-08-20',
    },
    pytorchWheels: {
      index: 'https://download.pytorch.org/whl',
      layout: 'pep503',
      source: 'sjtug/mirror-intel config pytorch_wheels',
      checked: '2026-04',
    },
    miniforge: {
      url: 'https://github.com/conda-forge/miniforge/releases',
      source: 'conda-forge/miniforge README',
      checked: '2026-08',
    },
  },
];
