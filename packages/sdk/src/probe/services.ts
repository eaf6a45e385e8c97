/**
 * What "this mirror really serves the service" means, per service: which
 * real resource on the service's own path is fetched, what a valid answer
 * looks like, which artifact a throughput sample may take a Range of, how
 * freshness is judged, and which sync-status job names cover it. A login
 * page, a 404, a 5xx or a body of the wrong kind is a failure with a reason —
 * only the right content counts.
 */
import type { Mirror, Provenance, StatusService } from '../catalog/types.js';
import type { HttpResult } from '../net/http.js';
import { MalformedLinkError, parseIndexPage, PYPI_JSON, type IndexFile } from './index-page.js';
import type { SyncRule } from './status.js';
import { untrusted } from '../net/untrusted.js';

/** A service a selection can probe: the PyPI index, conda channels, PyTorch wheels, a Docker Hub registry mirror. */
export type ProbeService = 'pypi' | 'conda' | 'pytorch' | 'docker';
/** Every `ProbeService`, as a list. */
export const PROBE_SERVICES: readonly ProbeService[] = ['pypi', 'conda', 'pytorch', 'docker'];

/** A mirror (or the upstream) competing in a selection for one service, at the URL a tool would use. */
export interface Candidate {
  name: string;
  /** what a tool is pointed at: PyPI index, conda cloud base, wheel index, registry root */
  url: string;
  /** the upstream itself (pypi.org, conda.anaconda.org, download.pytorch.org, Docker Hub) */
  upstream: boolean;
  /** the catalog/user mirror this came from, to configure tools with */
  mirror?: Mirror;
  /** where the mirror publishes its sync status */
  status?: StatusService;
  /** PyTorch wheels: a PEP 503 index or a flat -f listing */
  layout?: 'pep503' | 'find-links';
}

/** What a probe fetches from a candidate: the URL, headers, and how many bytes it may read. */
export interface ProbeRequest {
  url: string;
  headers: Record<string, string>;
  maxBytes: number;
  /** a page that must arrive whole: more than maxBytes excludes the mirror ("response too large") */
  whole?: boolean;
}

/** A probe's judgement of an answer: usable (with what it listed, the artifact to time, a sync date), or why not. */
export type ProbeVerdict = { ok: true; files?: IndexFile[]; artifact?: string; date?: number } | { ok: false; reason: string };

/** How one service is probed: the request to send a candidate, the check of its answer, and how freshness is judged. */
export interface ServiceProbe {
  /** the sync-status jobs that carry this service, and how old is too old */
  sync: SyncRule;
  freshness: 'listing' | 'date' | 'none';
  /** the request that asks `c` for `project` (a package or channel listing) */
  request(c: Candidate, project: string): ProbeRequest;
  /** whether the answer is the real thing (not a login page, not stale, not empty) */
  check(res: HttpResult, c: Candidate, project: string): ProbeVerdict;
}

/** The catalog row a candidate's service comes from (its provenance). */
export function serviceRow(c: Candidate, service: ProbeService): Provenance | undefined {
  const m = c.mirror;
  return m && { pypi: m.pypi, conda: m.conda, pytorch: m.pytorchWheels, docker: m.dockerHub }[service];
}

/** Why a conda mirror has nothing for this platform, per the catalog; undefined when it says nothing against it. */
export function condaSubdirGap(c: Candidate, subdir: string): string | undefined {
  const lacking = Object.entries(c.mirror?.conda?.lacksSubdirs ?? {})
    .filter(([, subdirs]) => subdirs.includes(subdir))
    .map(([channel]) => channel);
  return lacking.length ? `no ${subdir} packages in ${lacking.join(', ')} (the catalog: ${c.mirror!.conda!.source})` : undefined;
}

/** Docker Hub's registry endpoint (what dockerd pulls from without a mirror). */
export const DOCKER_HUB_REGISTRY = 'https://registry-1.docker.io';

const HOUR = 3_600_000;
const MiB = 1024 * 1024;

function httpFailure(res: HttpResult, what: string): ProbeVerdict | undefined {
  if (res.status >= 200 && res.status < 300) return undefined;
  return { ok: false, reason: `HTTP ${res.status} for ${what}` };
}

/** An index page must be a 200 of HTML or PEP 691 JSON that lists files of the project. */
function checkIndexPage(res: HttpResult, project: string, what: string): ProbeVerdict {
  const failed = httpFailure(res, what);
  if (failed) return failed;
  const type = res.headers['content-type'] ?? '';
  let files: IndexFile[];
  try {
    files = parseIndexPage(res.body.toString('utf8'), type, res.url, project);
  } catch (e) {
    if (e instanceof MalformedLinkError) return { ok: false, reason: e.message };
    throw e;
  }
  if (files.length === 0) {
    return {
      ok: false,
      reason: `200 ${untrusted(type.split(';')[0] || 'without content-type', 60)} for ${what} lists no ${project} files (a login or error page?)`,
    };
  }
  // the newest wheel makes the best sample: by upload time where the index says, else the last listed
  const timed = files.some((f) => f.uploadTime !== undefined);
  const pool = files.filter((f) => f.filename.endsWith('.whl'));
  const sorted = [...(pool.length ? pool : files)].sort((a, b) => (timed ? (a.uploadTime ?? 0) - (b.uploadTime ?? 0) : 0));
  return { ok: true, files, artifact: sorted[sorted.length - 1]!.url };
}

/** Per service: the request that proves a mirror serves it, how the answer is checked, how freshness is judged, and its sync-status jobs. */
export const SERVICE_PROBES: Record<ProbeService, ServiceProbe> = {
  pypi: {
    // SJTU names its PyPI jobs pypi-packages and pypi/web/simple in its mirrorz status
    sync: { jobs: ['pypi', 'pypi-packages', 'pypi/web/simple'], maxAgeMs: 24 * HOUR },
    freshness: 'listing',
    request: (c, project) => ({
      url: `${c.url}/${project}/`,
      headers: { accept: `${PYPI_JSON}, text/html;q=0.1`, 'accept-encoding': 'gzip' },
      maxBytes: 4 * MiB,
      whole: true,
    }),
    check: (res, _c, project) => checkIndexPage(res, project, `/${project}/`),
  },
  pytorch: {
    sync: { jobs: ['pytorch-wheels', 'pytorch'], maxAgeMs: 7 * 24 * HOUR },
    freshness: 'listing',
    request: (c) => ({
      url: c.layout === 'find-links' ? `${c.url}/cpu/` : `${c.url}/cpu/torch/`,
      headers: { accept: `${PYPI_JSON}, text/html;q=0.1`, 'accept-encoding': 'gzip' },
      maxBytes: 8 * MiB,
      whole: true,
    }),
    check: (res, c) => checkIndexPage(res, 'torch', c.layout === 'find-links' ? '/cpu/' : '/cpu/torch/'),
  },
  conda: {
    sync: { jobs: ['anaconda'], maxAgeMs: 72 * HOUR },
    freshness: 'date',
    request: (c) => ({
      url: `${c.url}/conda-forge/noarch/repodata.json`,
      headers: { range: 'bytes=0-65535', 'accept-encoding': 'identity' },
      maxBytes: 65_536,
    }),
    check: (res) => {
      const what = 'conda-forge/noarch/repodata.json';
      const failed = httpFailure(res, what);
      if (failed) return failed;
      const type = res.headers['content-type'] ?? '';
      const head = res.body.subarray(0, 4096).toString('utf8');
      if (/html/i.test(type) || !/^\s*\{\s*"(info|packages|packages\.conda|repodata_version|signatures|removed)"/.test(head)) {
        return { ok: false, reason: `200 ${untrusted(type.split(';')[0] || 'without content-type', 60)} for ${what} is not repodata (a login or error page?)` };
      }
      const date = Date.parse(res.headers['last-modified'] ?? '');
      return { ok: true, artifact: res.url, ...(Number.isFinite(date) ? { date } : {}) };
    },
  },
  docker: {
    sync: { jobs: [], maxAgeMs: Infinity },
    freshness: 'none',
    request: (c) => ({ url: `${c.url}/v2/`, headers: { accept: 'application/json' }, maxBytes: 65_536 }),
    check: (res) => {
      const api = res.headers['docker-distribution-api-version'] ?? '';
      if ((res.status === 200 || res.status === 401) && api.startsWith('registry/2')) return { ok: true };
      if (res.status === 200 || res.status === 401)
        return { ok: false, reason: `/v2/ answered ${res.status} without Docker-Distribution-Api-Version (not a registry)` };
      return { ok: false, reason: `HTTP ${res.status} for /v2/` };
    },
  },
};
