/**
 * uv.toml: `(existing text, settings) → new text`.
 *
 * uv takes its default index from a `[[index]]` table with `default = true`
 * (or the older top-level `index-url`); `[pip] index-url` drives `uv pip`.
 * No TOML library keeps comments, so we edit lines: replace the url of the
 * existing default index (or legacy key) in place, else append our own
 * `[[index]]` table at the end. The result is parsed again and checked to
 * say what we meant, so a layout we did not foresee fails loudly instead of
 * writing a file uv would read differently.
 */
import { eolOf, splitLines, withTrailingEol } from './text.js';
import { cannotEdit, keyLine, parseEdited, parseTomlFile, setKey, tables, tomlString } from './toml-lines.js';

/** What renderUvToml writes: the default index, and optionally an insecure host and the Python download mirror. */
export interface UvSettings {
  indexUrl: string;
  /** host to add to `allow-insecure-host`, for an http:// mirror the user opted into */
  insecureHost?: string;
  /** `python-install-mirror`: where `uv python install` downloads python-build-standalone releases */
  pythonInstallMirror?: string;
}

/** uv.toml as data; a TOML syntax error throws PARSE_ERROR naming the file and line. */
export function parseUvToml(text: string, file: string): Record<string, unknown> {
  return parseTomlFile(text, file, 'uv');
}

/** Every default index the file names, where uv would use it instead of ours. */
export function uvIndexUrls(text: string, file: string): string[] {
  const doc = parseUvToml(text, file);
  const urls: string[] = [];
  for (const index of (doc.index as Record<string, unknown>[] | undefined) ?? []) {
    if (index.default === true && typeof index.url === 'string') urls.push(index.url);
  }
  if (typeof doc['index-url'] === 'string') urls.push(doc['index-url']);
  const pip = doc.pip as Record<string, unknown> | undefined;
  if (typeof pip?.['index-url'] === 'string') urls.push(pip['index-url']);
  return urls;
}

/**
 * uv.toml with `indexUrl` as the default index: the default [[index]] or top-level index-url rewritten in place (else a
 * new [[index]] appended), and [pip] index-url too where set. Throws PARSE_ERROR when the result would not read so.
 */
export function renderUvToml(existing: string, settings: UvSettings, file = 'uv.toml'): string {
  const before = parseUvToml(existing, file);
  const eol = eolOf(existing);
  const lines = splitLines(existing);
  const ts = tables(lines);
  const url = tomlString(settings.indexUrl);
  let haveDefault = false;

  for (const t of ts) {
    if (t.array && t.name === 'index') {
      const d = keyLine(lines, t, 'default');
      if (d !== undefined && /=\s*true\b/.test(lines[d]!)) {
        const u = keyLine(lines, t, 'url');
        if (u === undefined) throw unsafe(file, 'the default [[index]] has no url line');
        setKey(lines, u, 'url', url, eol);
        haveDefault = true;
      }
    }
    if (!t.array && t.name === '') {
      const legacy = keyLine(lines, t, 'index-url');
      if (legacy !== undefined) {
        setKey(lines, legacy, 'index-url', url, eol);
        haveDefault = true;
      }
    }
    if (!t.array && t.name === 'pip') {
      const u = keyLine(lines, t, 'index-url');
      if (u !== undefined) setKey(lines, u, 'index-url', url, eol);
    }
  }

  /** A top-level key: in place when the file has it, else before the first table (where top-level keys must be). */
  const setTopKey = (key: string, value: string, oneLine: RegExp) => {
    const at = keyLine(lines, ts[0]!, key);
    if (at !== undefined) {
      if (!oneLine.test(lines[at]!.replace(/\r?\n$/, ''))) throw unsafe(file, `${key} spans several lines`);
      setKey(lines, at, key, value, eol);
      return;
    }
    const insertAt = ts.length > 1 ? ts[1]!.start : lines.length;
    if (insertAt > 0 && !lines[insertAt - 1]!.endsWith('\n')) lines[insertAt - 1] += eol;
    lines.splice(insertAt, 0, `${key} = ${value}${eol}`);
    for (const t of ts.slice(1)) {
      t.start++;
      t.end++;
    }
  };
  if (settings.insecureHost) {
    const hosts = new Set((before['allow-insecure-host'] as string[] | undefined) ?? []);
    hosts.add(settings.insecureHost);
    setTopKey('allow-insecure-host', `[${[...hosts].map(tomlString).join(', ')}]`, /\]\s*(#.*)?$/);
  }
  if (settings.pythonInstallMirror) setTopKey('python-install-mirror', tomlString(settings.pythonInstallMirror), /["']\s*(#.*)?$/);

  let out = lines.join('');
  if (!haveDefault) {
    out = withTrailingEol(out, eol);
    out += `${out.trim() ? eol : ''}[[index]]${eol}url = ${url}${eol}default = true${eol}`;
  }
  const after = parseEdited(out, file, FIX_UV);
  const defaults = uvIndexUrls(out, file);
  if (!defaults.length || defaults.some((u) => u !== settings.indexUrl)) throw unsafe(file, 'the edited file would not name our index as the default');
  if (settings.insecureHost && !(after['allow-insecure-host'] as string[]).includes(settings.insecureHost))
    throw unsafe(file, 'allow-insecure-host was not set');
  if (settings.pythonInstallMirror && after['python-install-mirror'] !== settings.pythonInstallMirror) throw unsafe(file, 'python-install-mirror was not set');
  return out;
}

const FIX_UV = 'set the index by hand, or drop uv from {targets} and export UV_DEFAULT_INDEX instead';

function unsafe(file: string, why: string) {
  return cannotEdit(file, why, FIX_UV);
}
