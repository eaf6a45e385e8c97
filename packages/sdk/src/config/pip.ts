/**
 * pip.conf / pip.ini: `(existing text, settings) → new text`.
 *
 * pip reads its files with Python's configparser (strict: no duplicate
 * sections or keys; keys before the first section are an error) and
 * normalises option names (case, `_` → `-`). We edit lines in place rather
 * than re-serialising, so every other key, section, comment and blank line
 * survives byte for byte. index-url is set wherever pip would read one — in
 * [global] and in any command section ([install], [download]…) that already
 * sets it, since a command section beats [global].
 */
import { TunaSetupError } from '../errors.js';
import { eolOf, splitLines, withTrailingEol } from './text.js';

export interface PipSettings {
  indexUrl: string;
  /** host:port to trust; only set for an http:// mirror the user opted into */
  trustedHost?: string;
  timeout?: number;
  retries?: number;
}

interface KeyLine {
  section: string;
  key: string; // normalised
  line: number; // index of the key line
  end: number; // index after the last continuation line
  value: string;
}

interface ParsedIni {
  lines: string[];
  sections: Map<string, { header: number; end: number }>; // end: index after the last line of the section body
  keys: KeyLine[];
}

const normaliseKey = (k: string) => k.trim().toLowerCase().replace(/_/g, '-');

/** Parses like configparser would, failing where it would, with the file's line number. */
export function parsePipConf(text: string, file: string): ParsedIni {
  const lines = splitLines(text);
  const sections = new Map<string, { header: number; end: number }>();
  const keys: KeyLine[] = [];
  let section: string | undefined;
  let current: KeyLine | undefined;
  const fail = (i: number, what: string): never => {
    throw new TunaSetupError('PARSE_ERROR', `${file}:${i + 1}: ${what}`,
      `pip cannot read this file either; fix line ${i + 1} by hand (tuna-setup left it untouched)`);
  };
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r?\n$/, '');
    if (/^\s*$/.test(line)) {
      current = undefined;
      return;
    }
    if (/^\s*[#;]/.test(line)) return;
    if (current && /^\s/.test(line)) {
      current.end = i + 1;
      if (section) sections.get(section)!.end = i + 1;
      return;
    }
    const header = /^\s*\[([^\]]*)\]\s*$/.exec(line);
    if (header) {
      section = header[1]!.trim();
      if (sections.has(section)) fail(i, `section [${section}] appears twice`);
      sections.set(section, { header: i, end: i + 1 });
      current = undefined;
      return;
    }
    const kv = /^\s*([^=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv) fail(i, `'${line.trim()}' is neither a section, a key = value, nor a comment`);
    if (!section) fail(i, `'${line.trim()}' comes before any [section] header`);
    const key = normaliseKey(kv![1]!);
    if (keys.some((k) => k.section === section && k.key === key)) fail(i, `key '${key}' appears twice in [${section}]`);
    current = { section: section!, key, line: i, end: i + 1, value: kv![2]! };
    keys.push(current);
    sections.get(section!)!.end = i + 1;
  });
  return { lines, sections, keys };
}

/** The value pip would use for `key` in `section` (command sections before [global]). */
export function pipValue(parsed: ParsedIni, key: string, section = 'global'): string | undefined {
  const k = parsed.keys.find((x) => x.section === section && x.key === key)
    ?? parsed.keys.find((x) => x.section === 'global' && x.key === key);
  return k?.value.trim();
}

/** Every index-url the file sets, with its section: what applying would replace. */
export function pipIndexUrls(text: string, file: string): { section: string; value: string }[] {
  return parsePipConf(text, file).keys.filter((k) => k.key === 'index-url').map((k) => ({ section: k.section, value: k.value.trim() }));
}

export function renderPipConf(existing: string, settings: PipSettings, file = 'pip.conf'): string {
  const wanted = new Map<string, string>([['index-url', settings.indexUrl]]);
  if (settings.trustedHost) wanted.set('trusted-host', settings.trustedHost);
  if (settings.timeout !== undefined) wanted.set('timeout', String(settings.timeout));
  if (settings.retries !== undefined) wanted.set('retries', String(settings.retries));

  const parsed = parsePipConf(existing, file);
  const eol = eolOf(existing);
  const lines = [...parsed.lines];
  const replaceAt: { at: number; end: number; text: string }[] = [];
  const present = new Set<string>();
  for (const k of parsed.keys) {
    const value = wanted.get(k.key);
    if (value === undefined) continue;
    // In command sections only index-url is overridden (it would shadow ours); other keys there are the user's choice.
    if (k.section !== 'global' && k.key !== 'index-url') continue;
    if (k.section === 'global') present.add(k.key);
    const original = lines[k.line]!;
    const prefix = /^[ \t]*[^=:]*?[ \t]*[=:][ \t]*/.exec(original)![0].replace(/([=:])$/, "$1 ");
    const lineEol = /\r?\n$/.exec(original)?.[0] ?? (k.end < lines.length ? eol : '');
    replaceAt.push({ at: k.line, end: k.end, text: `${prefix}${value}${lineEol}` });
  }
  const missing = [...wanted].filter(([k]) => !present.has(k)).map(([k, v]) => `${k} = ${v}${eol}`);
  const global = parsed.sections.get('global');
  // apply from the bottom up so indexes stay valid
  const edits = [...replaceAt];
  if (missing.length && global) edits.push({ at: global.end, end: global.end, text: missing.join('') });
  edits.sort((a, b) => b.at - a.at);
  for (const e of edits) {
    if (e.at === e.end && e.at > 0 && !lines[e.at - 1]!.endsWith('\n')) lines[e.at - 1] += eol;
    lines.splice(e.at, e.end - e.at, e.text);
  }
  let out = lines.join('');
  if (missing.length && !global) {
    out = withTrailingEol(out, eol);
    out += `${out.trim() ? eol : ''}[global]${eol}${missing.join('')}`;
  }
  return out;
}
