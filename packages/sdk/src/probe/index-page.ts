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
}

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
      filename: f.filename, url,
      ...(Number.isFinite(time) ? { uploadTime: time } : {}),
      ...(typeof f.size === 'number' ? { size: f.size } : {}),
    });
  }
  return out;
}

const ANCHOR = /<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]*?)<\/a\s*>/gi;

function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) =>
    ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e] ?? _);
}

function parseHtml(body: string, pageUrl: string): IndexFile[] {
  const out: IndexFile[] = [];
  for (const m of body.matchAll(ANCHOR)) {
    const href = unescapeHtml(m[1] ?? m[2] ?? m[3] ?? '');
    const url = absolute(href, pageUrl);
    if (!url) continue;
    // PEP 503: the text is the filename; flat listings sometimes put markup in it, so fall back to the path
    const text = unescapeHtml(m[4]!.replace(/<[^>]*>/g, '')).trim();
    const filename = DIST_FILE.test(text) ? text : decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    out.push({ filename, url });
  }
  return out;
}
