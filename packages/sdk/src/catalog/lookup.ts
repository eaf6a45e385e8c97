/**
 * Turning what the user typed (`--mirror tuna`, `--mirror https://…`, a
 * mirror file of their own) into a Mirror. Names resolve against the
 * catalog plus the user's file; a URL is a site root laid out like TUNA
 * (`/pypi/web/simple`, `/anaconda/pkgs/…`, `/anaconda/cloud`) — the layout of
 * every tunasync/mirrorz site — or, when it ends in `/simple`, a PyPI index
 * alone.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { TunaSetupError } from '../errors.js';
import { MIRRORS } from './mirrors.js';
import type { Mirror } from './types.js';
import { checkMirrorUrl, type UrlPolicy } from './url.js';

/** Options of `findMirror`: the user's own mirrors, and the policy for a mirror given as a URL. */
export interface LookupOptions extends UrlPolicy {
  /** mirrors from the user's own file; they shadow catalog rows of the same name */
  extra?: readonly Mirror[];
}

/** The catalog as seen with the user's own mirrors added. */
export function listMirrors(extra: readonly Mirror[] = []): Mirror[] {
  const names = new Set(extra.map((m) => m.name));
  return [...extra, ...MIRRORS.filter((m) => !names.has(m.name))];
}

/**
 * A catalog mirror by name (`tuna`, `ustc`, `official`…; `options.extra`
 * adds the user's mirror file), or a mirror made from a URL: a TUNA-style
 * site root, or a PyPI index ending in `/simple`. UNKNOWN_MIRROR naming the
 * known ones; BAD_URL / INSECURE_URL for a URL that is not https (unless
 * `allowHttp`).
 * @example findMirror('tuna').pypi?.index // 'https://pypi.tuna.tsinghua.edu.cn/simple'
 */
export function findMirror(spec: string, options: LookupOptions = {}): Mirror {
  const trimmed = spec.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return mirrorFromUrl(trimmed, options);
  const mirror = listMirrors(options.extra).find((m) => m.name === trimmed.toLowerCase());
  if (!mirror) {
    throw new TunaSetupError(
      'UNKNOWN_MIRROR',
      `unknown mirror '${spec}'`,
      `use one of: ${listMirrors(options.extra)
        .map((m) => m.name)
        .join(', ')}; or a https:// URL`,
    );
  }
  return mirror;
}

/**
 * A mirror made from a URL: a PyPI index alone when it ends in `/simple`, else a site root assumed to
 * be laid out like TUNA (pypi, conda and miniforge rows). The URL is checked with `checkMirrorUrl`.
 */
export function mirrorFromUrl(input: string, policy: UrlPolicy = {}): Mirror {
  const url = checkMirrorUrl(input, '{mirror}', policy);
  const host = new URL(url).host;
  const provenance = { source: 'given on the command line', checked: new Date().toISOString().slice(0, 10) };
  if (/\/simple$/.test(url)) {
    return { name: host, title: host, url, pypi: { index: url, ...provenance } };
  }
  return {
    name: host,
    title: host,
    url,
    pypi: {
      index: `${url}/pypi/web/simple`,
      ...provenance,
      note: 'TUNA-style layout assumed (USTC-style sites serve /pypi/simple: give that index URL itself)',
    },
    conda: {
      defaultChannels: ['main', 'r', 'msys2'].map((c) => `${url}/anaconda/pkgs/${c}`),
      cloud: `${url}/anaconda/cloud`,
      // what mirrorz's generic help configures: pytorch and bioconda are not on every mirror
      channels: ['conda-forge'],
      ...provenance,
      note: 'TUNA-style layout assumed',
    },
    miniforge: { url: `${url}/github-release/conda-forge/miniforge`, ...provenance, note: 'TUNA-style layout assumed' },
  };
}

/**
 * Reads a JSON or YAML file holding one mirror or a list of them, in the
 * catalog's shape. Every problem is reported with the file and the entry.
 */
export function loadMirrorFile(path: string, policy: UrlPolicy = {}): Mirror[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TunaSetupError('BAD_MIRROR_FILE', `cannot read mirror file ${path}: ${(e as Error).message}`, 'check the path given to {mirrorFile}');
  }
  let data: unknown;
  try {
    data = parseYaml(text); // YAML is a superset of JSON
  } catch (e) {
    throw new TunaSetupError('BAD_MIRROR_FILE', `${path}: ${(e as Error).message.split('\n')[0]}`, 'fix the JSON/YAML syntax at that line');
  }
  const list = Array.isArray(data) ? data : [data];
  return list.map((entry, i) => checkMirrorEntry(entry, `${path} entry ${i + 1}`, policy));
}

function checkMirrorEntry(entry: unknown, where: string, policy: UrlPolicy): Mirror {
  const fail = (what: string): never => {
    throw new TunaSetupError(
      'BAD_MIRROR_FILE',
      `${where}: ${what}`,
      'a mirror needs name (lower-case) and url, plus any of pypi.index, conda.{defaultChannels,cloud,channels}, pytorchWheels.index, dockerHub.url, status.{url,format}',
    );
  };
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) fail('not a mapping');
  const m = entry as Record<string, any>;
  if (typeof m.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(m.name)) fail(`name '${String(m.name)}' must be lower-case letters, digits and dashes`);
  if (typeof m.url !== 'string') fail('url is missing');
  const provenance = { source: m.source ?? where, checked: m.checked ?? '' };
  const url = (u: unknown, key: string) => (typeof u === 'string' ? checkMirrorUrl(u, `${where} ${key}`, policy) : fail(`${key} must be a URL`));
  const mirror: Mirror = { name: m.name, title: typeof m.title === 'string' ? m.title : m.name, url: url(m.url, 'url') };
  if (m.pypi !== undefined) mirror.pypi = { index: url(m.pypi?.index, 'pypi.index'), ...provenance };
  if (m.conda !== undefined) {
    const c = m.conda ?? {};
    const strings = (v: unknown, key: string) =>
      Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : fail(`${key} must be a list of strings`);
    mirror.conda = {
      defaultChannels: strings(c.defaultChannels, 'conda.defaultChannels').map((u, i) => url(u, `conda.defaultChannels[${i}]`)),
      cloud: url(c.cloud, 'conda.cloud'),
      channels: strings(c.channels ?? [], 'conda.channels'),
      ...provenance,
    };
  }
  if (m.pytorchWheels !== undefined) {
    const layout = m.pytorchWheels?.layout ?? 'pep503';
    if (layout !== 'pep503' && layout !== 'find-links') fail("pytorchWheels.layout must be 'pep503' or 'find-links'");
    mirror.pytorchWheels = { index: url(m.pytorchWheels?.index, 'pytorchWheels.index'), layout, ...provenance };
  }
  if (m.dockerHub !== undefined) mirror.dockerHub = { url: url(m.dockerHub?.url, 'dockerHub.url'), ...provenance };
  if (m.status !== undefined) {
    const format = m.status?.format;
    if (format !== 'tunasync' && format !== 'mirrorz') fail("status.format must be 'tunasync' or 'mirrorz'");
    mirror.status = { url: url(m.status?.url, 'status.url'), format, ...provenance };
  }
  return mirror;
}

/** Every PyPI index the catalog knows: an index-url outside this set is the user's own (maybe private). */
export function isPublicPypiIndex(index: string, extra: readonly Mirror[] = []): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '').toLowerCase();
  const known = new Set(listMirrors(extra).flatMap((m) => (m.pypi ? [norm(m.pypi.index)] : [])));
  // equivalent spellings of the same public indexes
  for (const alias of ['https://pypi.python.org/simple', 'https://mirrors.tuna.tsinghua.edu.cn/pypi/web/simple']) known.add(alias);
  return known.has(norm(index));
}
