/**
 * Reading a package index page — PEP 503 HTML or PEP 691 JSON (the
 * `application/vnd.pypi.simple.v1+json` form, with PEP 700 `upload-time` and
 * `size` when the server gives them) — and the flat `-f` listings some PyTorch
 * wheel mirrors serve. Pure: text in, file list out. A page that lists no file
 * of the project (a login page, an error page styled as 200) yields [].
 */

export interface IndexFile {
  filename: string;
  /** absolute URL, fragment (#sha256=…) removed */
  url: string;
  /** ms since the epoch, when the index says (PEP 700) */
  uploadTime?: number;
  size?: number;
  /** PEP 503 data-requires-python / PEP 691 requires-python */
  requiresPython?: string;
  /** PEP 592: the index withdrew it (data-yanked / "yanked": true or a reason) */
  yanked?: boolean;
  yankedReason?: string;
}

import { untrusted } from '../net/untrusted.js';

export const PYPI_JSON = 'application/vnd.pypi.simple.v1+json';

const DIST_FILE = /\.(whl|tar\.gz|zip|tar\.bz2|egg)$/i;

/** PEP 503 name normalisation. */
export const normalizeProject = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** Whether a distribution filename belongs to `project` (wheel and sdist spellings). */
export function fileOfProject(filename: string, project: string): boolean {
  const want = normalizeProject(project);
  const m = /^(.+?)-\d/.exec(filename);
  return DIST_FILE.test(filename) && m !== null && normalizeProject(m[1]!) === want;
}

/**
 * The files of `project` that an index page lists, with absolute URLs: PEP 691 JSON when `contentType` says
 * JSON, else PEP 503 HTML or a flat `-f` listing. [] for a page that lists none; MalformedLinkError for an undecodable link.
 */
export function parseIndexPage(body: string, contentType: string, pageUrl: string, project: string): IndexFile[] {
  const files = /json/i.test(contentType) ? parseJson(body, pageUrl) : parseHtml(body, pageUrl);
  return files.filter((f) => fileOfProject(f.filename, project));
}

function absolute(href: string, base: string): string | undefined {
  try {
    const u = new URL(href, base);
    u.hash = '';
    return u.href;
  } catch {
    return undefined;
  }
}

function parseJson(body: string, pageUrl: string): IndexFile[] {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return [];
  }
  const files = (data as { files?: unknown })?.files;
  if (!Array.isArray(files)) return [];
  const out: IndexFile[] = [];
  for (const f of files) {
    if (!f || typeof f.filename !== 'string' || typeof f.url !== 'string') continue;
    const url = absolute(f.url, pageUrl);
    if (!url) continue;
    const time = typeof f['upload-time'] === 'string' ? Date.parse(f['upload-time']) : NaN;
    out.push({
      filename: f.filename,
      url,
      ...(Number.isFinite(time) ? { uploadTime: time } : {}),
      ...(typeof f.size === 'number' ? { size: f.size } : {}),
      ...meta(
        typeof f['requires-python'] === 'string' ? f['requires-python'] : undefined,
        f.yanked === true ? '' : typeof f.yanked === 'string' ? f.yanked : undefined,
      ),
    });
  }
  return out;
}

function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e] ?? _);
}

/** `href` of one tag's attribute text (`<a` … `>`), or undefined */
function hrefOf(attrs: string): string | undefined {
  const m = /(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i.exec(attrs);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

const REQUIRES_PYTHON = /(?:^|\s)data-requires-python\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i;
/** `data-yanked` with or without a value (the reason) */
const YANKED = /(?:^|\s)data-yanked(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?(?=[\s/]|$)/i;

/** PEP 700-era file metadata: requires-python, and yanked with its reason ('' for none; undefined: not yanked) */
function meta(requiresPython: string | undefined, yanked: string | undefined): Pick<IndexFile, 'requiresPython' | 'yanked' | 'yankedReason'> {
  return {
    ...(requiresPython ? { requiresPython } : {}),
    ...(yanked !== undefined ? { yanked: true, ...(yanked ? { yankedReason: yanked } : {}) } : {}),
  };
}

function metaOf(attrs: string): Pick<IndexFile, 'requiresPython' | 'yanked' | 'yankedReason'> {
  if (!/data-/i.test(attrs)) return {};
  const rp = REQUIRES_PYTHON.exec(attrs);
  const y = YANKED.exec(attrs);
  return meta(rp ? unescapeHtml(rp[1] ?? rp[2] ?? rp[3] ?? '') : undefined, y ? unescapeHtml(y[1] ?? y[2] ?? y[3] ?? '') : undefined);
}

/**
 * Anchors in one forward pass: each `<a …>` tag up to its `>`, its text up to
 * the next `</a` or `<a` (so unclosed anchors cost nothing extra). Every
 * search starts where the last one ended, so a hostile page (100k unclosed
 * tags) is scanned in linear time — no backtracking regex over the body.
 */
function* anchors(body: string): Generator<{ href: string; text: string; attrs: string }> {
  const lower = body.toLowerCase();
  let at = 0;
  let close = 0; // the next '</a' at or after the current text (body.length: none left), found once per region
  for (;;) {
    const open = lower.indexOf('<a', at);
    if (open === -1) return;
    const after = lower.charCodeAt(open + 2);
    // `<a` then whitespace: an anchor (not <abbr>, <area>)
    if (!(after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0d || after === 0x0c)) {
      at = open + 2;
      continue;
    }
    const end = lower.indexOf('>', open);
    if (end === -1) return;
    const attrs = body.slice(open + 2, end);
    const textStart = end + 1;
    if (close < textStart) {
      const c = lower.indexOf('</a', textStart);
      close = c === -1 ? body.length : c;
    }
    const nextOpen = lower.indexOf('<a', textStart);
    const textEnd = Math.min(close, nextOpen === -1 ? body.length : nextOpen);
    at = textStart;
    const href = hrefOf(attrs);
    if (href !== undefined) yield { href, text: body.slice(textStart, Math.min(textEnd, textStart + 1024)), attrs };
  }
}

export class MalformedLinkError extends Error {}

function parseHtml(body: string, pageUrl: string): IndexFile[] {
  const out: IndexFile[] = [];
  for (const a of anchors(body)) {
    const href = unescapeHtml(a.href);
    const url = absolute(href, pageUrl);
    if (!url) continue;
    // PEP 503: the text is the filename; flat listings sometimes put markup in it, so fall back to the path
    const text = unescapeHtml(a.text.replace(/<[^>]*>/g, '')).trim();
    if (DIST_FILE.test(text)) {
      out.push({ filename: text, url, ...metaOf(a.attrs) });
      continue;
    }
    const last = new URL(url).pathname.split('/').pop() ?? '';
    let filename: string;
    try {
      filename = decodeURIComponent(last);
    } catch {
      throw new MalformedLinkError(`index page links a malformed URL: ${untrusted(last, 120)}`);
    }
    out.push({ filename, url, ...metaOf(a.attrs) });
  }
  return out;
}
