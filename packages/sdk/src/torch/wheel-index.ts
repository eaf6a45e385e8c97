/**
 * Which PyTorch wheels exist now, read from the index the wheels will come
 * from — a PyPI-like mirror (`…/simple` + `/torch/`) or a wheel index like
 * download.pytorch.org (`…/whl/cu130` + `/torch/`) — so a release newer than
 * the tables in releases.ts is known without a table change.
 *
 * One GET of `<index>/<project>/`, asking for PEP 691 JSON and taking PEP 503
 * HTML when that is what comes (probe/index-page.ts reads both), through the
 * SDK's HTTP client: one deadline for the whole read (default 3 s), the body
 * bounded (default 16 MiB, on the wire and inflated), redirects checked.
 * Every wheel name is split as PEP 427 says (`name-version(-build)?-py-abi-
 * platform.whl`, compressed tag sets, local versions such as `+cu130`).
 *
 * A listing is cached per (index, project) as JSON in the state dir for a TTL
 * (default 1 h); `fresh` reads the network anyway. Offline
 * (`TUNA_SETUP_OFFLINE=1`, `offline: true`) the network is never touched: the
 * cached listing, whatever its age, or an OFFLINE error. A cache file this
 * process already read or wrote is not parsed again while it is unchanged on
 * disk (one stat). Listings are frozen: every caller may share them.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { TunaSetupError } from '../errors.js';
import { createDispatcher, describeHttpError, httpRequest } from '../net/http.js';
import { safeDecode, untrusted } from '../net/untrusted.js';
import { isOffline } from '../net/offline.js';
import { MalformedLinkError, normalizeProject, parseIndexPage, PYPI_JSON, type IndexFile } from '../probe/index-page.js';

/** One wheel an index page lists, its name split into PEP 427 tags. */
export interface WheelFile {
  filename: string;
  /** the public version: `2.14.0` of `torch-2.14.0+cu130-…` */
  version: string;
  /** the local version label (`cu130`, `cpu`, `rocm6.4`); null: none (PyPI's own builds) */
  local: string | null;
  /** the CPython builds it installs on: `cp311`, `cp313t` (free-threaded: PEP 703 writes it `cp313-cp313t`) */
  python: readonly string[];
  /** the ABI tag as written: `cp311`, `cp313t`, `abi3`, `none` */
  abi: string;
  /** platform tags as written: `manylinux_2_28_x86_64`, `linux_aarch64`, `win_amd64`, `macosx_11_0_arm64` */
  platforms: readonly string[];
  /** absolute URL, without the #sha256 fragment */
  url: string;
  /** PEP 503 data-requires-python / PEP 691 requires-python */
  requiresPython?: string;
  /** the index withdrew it (PEP 592): pip skips it unless pinned exactly */
  yanked?: boolean;
  yankedReason?: string;
}

/** A project's listing on one index, as `readWheelIndex` read it (from the network or the cache); its files are frozen. */
export interface WheelIndex {
  /** as given, without trailing slashes */
  indexUrl: string;
  /** PEP 503-normalised */
  project: string;
  /** the page that answered, after redirects */
  url: string;
  /** PEP 691 JSON or PEP 503 HTML */
  format: 'json' | 'html';
  /** every wheel of the project the page lists, in its order (sdists and unparsable names left out) */
  files: readonly WheelFile[];
  /** when the page was read from the network (ms since the epoch) */
  fetchedAt: number;
  source: 'network' | 'cache';
  /** HTTP requests this call sent (redirect hops included); 0 from the cache */
  requests: number;
}

/** Options of `readWheelIndex`: the cache, offline mode and the read's limits. */
export interface WheelIndexOptions {
  /** cache listings here; without it nothing is cached (and offline finds nothing) */
  stateDir?: string;
  /** how long a cached listing is trusted online (default 1 h) */
  ttlMs?: number;
  /** read the network even when a cached listing is recent (the result is still cached) */
  fresh?: boolean;
  /** never touch the network: the cache, whatever its age, or an OFFLINE error (default: TUNA_SETUP_OFFLINE=1) */
  offline?: boolean;
  /** for the whole read: connect, redirects, headers and body (default 3 s) */
  deadlineMs?: number;
  /** a page larger than this, on the wire or inflated, is refused (default 16 MiB) */
  maxBytes?: number;
  allowHttp?: boolean;
  /** the wall clock, for the cache (tests) */
  now?: () => number;
}

/** How long a cached listing is trusted online when `ttlMs` is not given: one hour, in ms. */
export const DEFAULT_WHEEL_INDEX_TTL_MS = 3_600_000;
const DEADLINE_MS = 3_000;
const MiB = 1024 * 1024;
const MAX_BYTES = 16 * MiB;
/** 1: the first format */
const FORMAT = 1;
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * The wheels of `project` on the index at `indexUrl` (`https://pypi.tuna.tsinghua.edu.cn/simple`,
 * `https://download.pytorch.org/whl/cu130`): from the cache when it is recent, else one GET of
 * `<indexUrl>/<project>/`. Throws REGISTRY naming the URL when the page cannot be read, is not an
 * index page of the project, or is too large; OFFLINE when offline with nothing cached.
 */
export async function readWheelIndex(indexUrl: string, project: string, options: WheelIndexOptions = {}): Promise<WheelIndex> {
  const base = indexUrl.trim().replace(/\/+$/, '');
  let page: string;
  try {
    const u = new URL(`${base}/${normalizeProject(project)}/`);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(u.protocol);
    page = u.href;
  } catch {
    throw new TunaSetupError(
      'BAD_URL',
      `'${untrusted(indexUrl, 120)}' is not an index URL`,
      'give an http(s) index base, e.g. https://download.pytorch.org/whl/cu130',
    );
  }
  const name = normalizeProject(project);
  const now = options.now ?? Date.now;
  const file = options.stateDir ? wheelIndexCacheFile(options.stateDir, base, name) : undefined;
  const offline = options.offline ?? isOffline();

  if (file && (offline || !options.fresh)) {
    const cached = await readCached(file, base, name);
    const age = cached ? now() - cached.fetchedAt : NaN;
    if (cached && (offline || (age <= (options.ttlMs ?? DEFAULT_WHEEL_INDEX_TTL_MS) && age > -60_000))) return cached;
  }
  if (offline) {
    throw new TunaSetupError(
      'OFFLINE',
      `offline${options.offline === undefined ? ' (TUNA_SETUP_OFFLINE=1)' : ''}: no cached listing of ${name} from ${untrusted(page, 160)}`,
      `read it once online${options.stateDir ? '' : ' with a state dir ({stateDir})'} to cache it`,
    );
  }
  const index = await fetchWheelIndex(base, name, page, options, now());
  if (file) await writeCached(file, index);
  return index;
}

async function fetchWheelIndex(base: string, name: string, page: string, options: WheelIndexOptions, fetchedAt: number): Promise<WheelIndex> {
  const deadlineMs = options.deadlineMs ?? DEADLINE_MS;
  const maxBytes = options.maxBytes ?? MAX_BYTES;
  const fail = (what: string, hint: string) => new TunaSetupError('REGISTRY', `wheel index ${untrusted(page, 160)}: ${what}`, hint);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deadlineMs);
  timer.unref();
  const dispatcher = await createDispatcher({ deadline: deadline.signal, timeoutMs: deadlineMs });
  let res;
  try {
    res = await httpRequest(page, {
      dispatcher,
      signal: deadline.signal,
      maxBytes,
      whole: true,
      maxInflated: maxBytes,
      headers: { accept: `${PYPI_JSON}, text/html;q=0.1`, 'accept-encoding': 'gzip' },
      ...(options.allowHttp ? { allowHttp: true } : {}),
    });
  } catch (e) {
    const why = deadline.signal.aborted ? `no answer within ${seconds(deadlineMs)}` : describeHttpError(e, page);
    throw fail(
      why,
      /too large/.test(why)
        ? `the index lists more than ${Math.round(maxBytes / MiB)} MiB for ${name}: use a per-variant index (…/whl/cu130) or raise the limit (maxBytes)`
        : 'check the network, the proxy (HTTPS_PROXY) and the index URL; or use what is cached: offline ({offline=true}, TUNA_SETUP_OFFLINE=1)',
    );
  } finally {
    clearTimeout(timer);
    deadline.abort();
    await dispatcher.destroy().catch(() => {});
  }
  const where = res.chain.length > 1 ? ` (redirected to ${untrusted(res.url, 160)})` : '';
  if (res.status < 200 || res.status >= 300) {
    throw fail(
      `HTTP ${res.status}${where}`,
      res.status === 404
        ? `the index has no ${name} project: check the index URL (a variant that does not exist, a typo?)`
        : 'the index is failing; try again later or use another mirror',
    );
  }
  const type = res.headers['content-type'] ?? '';
  const body = res.body.toString('utf8');
  let listed: IndexFile[];
  try {
    listed = parseIndexPage(body, type, res.url, name);
  } catch (e) {
    if (e instanceof MalformedLinkError) throw fail(e.message, 'the index is misbehaving; use another mirror');
    throw e;
  }
  if (listed.length === 0) {
    throw fail(
      `200 ${untrusted(type.split(';')[0] || 'without content-type', 60)}${where} lists no ${name} files (a login or error page?)`,
      'a captive portal or a proxy login may be in the way; open the URL in a browser, or use another mirror',
    );
  }
  const format = /json/i.test(type) ? 'json' : 'html';
  const files: WheelFile[] = [];
  for (const f of listed) {
    const w = parseWheelName(f.filename);
    if (!w) continue;
    files.push({
      ...w,
      url: f.url,
      ...(f.requiresPython ? { requiresPython: f.requiresPython } : {}),
      ...(f.yanked ? { yanked: true, ...(f.yankedReason ? { yankedReason: f.yankedReason } : {}) } : {}),
    });
  }
  return { indexUrl: base, project: name, url: res.url, format, files: freeze(files), fetchedAt, source: 'network', requests: res.chain.length };
}

const freeze = (files: WheelFile[]): readonly WheelFile[] => {
  for (const f of files) Object.freeze(Object.assign(f, { python: Object.freeze(f.python), platforms: Object.freeze(f.platforms) }));
  return Object.freeze(files);
};

/**
 * A wheel file name split as PEP 427 says: `name-version(-build)?-python-abi-platform.whl`,
 * each tag possibly a `.`-joined set. `%2B` (an encoded `+`) is decoded. undefined: not a wheel name.
 */
export function parseWheelName(filename: string): Omit<WheelFile, 'url'> | undefined {
  const name = filename.includes('%') ? safeDecode(filename) : filename;
  if (!/\.whl$/i.test(name)) return undefined;
  const parts = name.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  if (parts.length === 6 && !/^\d/.test(parts[2]!)) return undefined;
  const full = parts[1]!;
  const [pyTag, abi, platTag] = parts.slice(-3) as [string, string, string];
  if (!/^\d/.test(full) || !pyTag || !abi || !platTag) return undefined;
  const plus = full.indexOf('+');
  const version = plus === -1 ? full : full.slice(0, plus);
  const local = plus === -1 ? null : full.slice(plus + 1);
  if (!version || local === '') return undefined;
  // free-threaded CPython is `cp313-cp313t`: the `t` lives in the ABI tag
  const python = pyTag.split('.').map((p) => (abi === `${p}t` ? abi : p));
  return { filename: name, version, local, python, abi, platforms: platTag.split('.') };
}

/**
 * A platform tag as a platform name: `linux-x86_64`, `linux-aarch64`, `macos-arm64`, `macos-x86_64`,
 * `windows-x86_64`, `windows-arm64`, `any` (a universal2 macOS wheel is both macOS names); any other
 * tag is returned as written.
 */
export function normalizePlatform(tag: string): string[] {
  if (tag === 'any') return ['any'];
  const linux = /^(?:linux|manylinux1|manylinux2010|manylinux2014|manylinux_\d+_\d+|musllinux_\d+_\d+)_(.+)$/.exec(tag);
  if (linux) return [`linux-${linux[1] === 'arm64' ? 'aarch64' : linux[1]}`];
  const mac = /^macosx_\d+_\d+_(.+)$/.exec(tag);
  if (mac) return mac[1] === 'universal2' ? ['macos-arm64', 'macos-x86_64'] : mac[1] === 'intel' ? ['macos-x86_64'] : [`macos-${mac[1]}`];
  if (tag === 'win_amd64') return ['windows-x86_64'];
  if (tag === 'win_arm64') return ['windows-arm64'];
  if (tag === 'win32') return ['windows-x86'];
  return [tag];
}

/** One version in `summarizeTorchIndex`'s view of a listing: its variants, CPython builds and platforms. */
export interface TorchVersionSummary {
  /** the public version, `2.14.0` */
  version: string;
  /** local version labels seen (`cpu`, `cu126`, `cu130`), and `pypi` for files without one */
  variants: string[];
  /** CPython builds (`cp310` … `cp313t`) over every variant */
  python: string[];
  /** platform names (normalizePlatform) over every variant */
  platforms: string[];
  /** the same, per variant */
  byVariant: Record<string, { python: string[]; platforms: string[] }>;
  /** every file of this version is yanked */
  yanked: boolean;
  files: number;
}

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** Per version, newest first: which variants, CPython builds and platforms the listing has. */
export function summarizeTorchIndex(files: readonly WheelFile[]): TorchVersionSummary[] {
  const versions = new Map<string, { variants: Map<string, { python: Set<string>; platforms: Set<string> }>; yanked: boolean; files: number }>();
  for (const f of files) {
    let v = versions.get(f.version);
    if (!v) versions.set(f.version, (v = { variants: new Map(), yanked: true, files: 0 }));
    v.files++;
    v.yanked &&= f.yanked === true;
    const label = f.local ?? 'pypi';
    let s = v.variants.get(label);
    if (!s) v.variants.set(label, (s = { python: new Set(), platforms: new Set() }));
    for (const p of f.python) s.python.add(p);
    for (const p of f.platforms) for (const n of normalizePlatform(p)) s.platforms.add(n);
  }
  const sorted = (s: Iterable<string>) => [...s].sort(byName);
  return [...versions]
    .sort(([a], [b]) => comparePep440(b, a))
    .map(([version, v]) => {
      const byVariant: TorchVersionSummary['byVariant'] = {};
      for (const [label, s] of [...v.variants].sort(([a], [b]) => byName(a, b)))
        byVariant[label] = { python: sorted(s.python), platforms: sorted(s.platforms) };
      const all = Object.values(byVariant);
      return {
        version,
        variants: Object.keys(byVariant),
        python: sorted(new Set(all.flatMap((s) => s.python))),
        platforms: sorted(new Set(all.flatMap((s) => s.platforms))),
        byVariant,
        yanked: v.yanked,
        files: v.files,
      };
    });
}

/** Filters of `newestVersion`. */
export interface NewestOptions {
  /** only this minor release (`2.14`) */
  minor?: string;
  /** only files with this local label (`cu130`), or `pypi` for none */
  variant?: string;
  /** count pre-releases and dev builds (`2.15.0rc1`, `2.15.0.dev20260901`); default: only final releases */
  prerelease?: boolean;
}

/** The newest version the listing has that is not yanked (pip skips those), or undefined. */
export function newestVersion(files: readonly WheelFile[], options: NewestOptions = {}): string | undefined {
  let best: string | undefined;
  for (const f of files) {
    if (f.yanked) continue;
    if (options.variant !== undefined && (f.local ?? 'pypi') !== options.variant) continue;
    if (options.minor !== undefined && f.version !== options.minor && !f.version.startsWith(`${options.minor}.`)) continue;
    const key = versionKey(f.version);
    if (!key || (!options.prerelease && key.pre)) continue;
    if (best === undefined || comparePep440(f.version, best) > 0) best = f.version;
  }
  return best;
}

const PEP440 =
  /^(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?(?:(?:-(\d+))|(?:[-_.]?(?:post|rev|r)[-_.]?(\d*)))?(?:[-_.]?dev[-_.]?(\d*))?$/i;

interface VersionKey {
  epoch: number;
  release: number[];
  phase: number;
  pre: boolean;
  n: number;
  post: number;
  dev: number;
}

/** A PEP 440 public version as a sort key; undefined when it is not one. */
function versionKey(v: string): VersionKey | undefined {
  const m = PEP440.exec(v.trim().replace(/^v/i, ''));
  if (!m) return undefined;
  const letter = m[3]?.toLowerCase();
  // a < b < rc < (final), with a dev release of each before it
  const phase = letter === undefined ? 3 : letter === 'a' || letter === 'alpha' ? 0 : letter === 'b' || letter === 'beta' ? 1 : 2;
  const post = m[5] ?? m[6];
  const dev = m[7];
  return {
    epoch: Number(m[1] ?? 0),
    release: m[2]!.split('.').map(Number),
    phase,
    n: Number(m[4] || 0),
    post: post === undefined ? -1 : Number(post || 0),
    dev: dev === undefined ? Infinity : Number(dev || 0),
    pre: letter !== undefined || dev !== undefined,
  };
}

/** PEP 440 order of two public versions (negative: a is older); unparsable ones sort first, by text. */
export function comparePep440(a: string, b: string): number {
  const x = versionKey(a);
  const y = versionKey(b);
  if (!x || !y) return x ? 1 : y ? -1 : byName(a, b);
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  for (let i = 0; i < Math.max(x.release.length, y.release.length); i++) {
    const d = (x.release[i] ?? 0) - (y.release[i] ?? 0);
    if (d) return d;
  }
  // X.Y.devN (no pre, no post) is before every pre-release of X.Y
  const phase = (k: VersionKey) => (k.phase === 3 && k.post === -1 && k.dev !== Infinity ? -1 : k.phase);
  return phase(x) - phase(y) || x.n - y.n || x.post - y.post || (x.dev === y.dev ? 0 : x.dev < y.dev ? -1 : 1);
}

/** Where the listing of (index, project) is cached. */
export function wheelIndexCacheFile(stateDir: string, indexUrl: string, project: string): string {
  const key = JSON.stringify([indexUrl.trim().replace(/\/+$/, ''), normalizeProject(project)]);
  return path.join(stateDir, 'wheel-index', `${normalizeProject(project)}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`);
}

/** cache files this process read or wrote, with the identity the file had then */
const memo = new Map<string, { stamp: string; index: WheelIndex }>();
const MEMO_ENTRIES = 32;

async function stampOf(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
}

function remember(file: string, stamp: string, index: WheelIndex): void {
  memo.delete(file);
  memo.set(file, { stamp, index });
  if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
}

async function readCached(file: string, indexUrl: string, project: string): Promise<WheelIndex | undefined> {
  try {
    const stamp = await stampOf(file);
    const known = memo.get(file);
    if (known?.stamp === stamp) return { ...known.index, source: 'cache', requests: 0 };
    const data = JSON.parse(await readFile(file, 'utf8'));
    if (data?.format !== FORMAT || data.indexUrl !== indexUrl || data.project !== project || typeof data.fetchedAt !== 'number' || !Array.isArray(data.files))
      return undefined;
    if (
      !data.files.every(
        (f: WheelFile) =>
          typeof f?.filename === 'string' &&
          typeof f.url === 'string' &&
          typeof f.version === 'string' &&
          Array.isArray(f.python) &&
          Array.isArray(f.platforms),
      )
    )
      return undefined;
    const index: WheelIndex = {
      indexUrl,
      project,
      url: data.url,
      format: data.pageFormat,
      files: freeze(data.files),
      fetchedAt: data.fetchedAt,
      source: 'cache',
      requests: 0,
    };
    remember(file, stamp, index);
    return index;
  } catch {
    return undefined;
  }
}

async function writeCached(file: string, index: WheelIndex): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const { indexUrl, project, url, format, files, fetchedAt } = index;
    await writeFileAtomic(file, `${JSON.stringify({ format: FORMAT, indexUrl, project, url, pageFormat: format, fetchedAt, files })}\n`, 0o644);
    remember(file, await stampOf(file), index);
  } catch {
    // a read-only state dir means the next call reads the network again; nothing else is lost
  }
}
