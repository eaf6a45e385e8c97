/**
 * pip.conf / pip.ini: `(existing text, settings) → new text`.
 *
 * pip reads its files with Python's configparser (RawConfigParser, strict:
 * no duplicate sections or keys; keys before the first section are an
 * error) and then normalises option names (case, `_` → `-`). The parser here
 * follows configparser line by line — universal newlines, Python's idea of
 * whitespace, continuation by indentation (blank lines and comments do not
 * end a value), `[name]` taken up to the last `]` — so we edit the lines pip
 * reads, and refuse what pip would read other than a user expects. We edit
 * lines in place rather than re-serialising, so every other key, section,
 * comment and blank line survives byte for byte. index-url is set wherever
 * pip would read one — in [global] and in any command section ([install],
 * [download]…) that already sets it, since a command section beats [global].
 * Every check is a Map/Set lookup and the output is built in one pass, so a
 * file of megabytes takes milliseconds, not minutes.
 */
import { TunaSetupError } from '../errors.js';
import { eolOf, pythonLines, withTrailingEol } from './text.js';

/** What renderPipConf writes: index-url, and optionally trusted-host, timeout (seconds) and retries. */
export interface PipSettings {
  indexUrl: string;
  /** host:port to trust; only set for an http:// mirror the user opted into */
  trustedHost?: string;
  timeout?: number;
  retries?: number;
}

interface KeyLine {
  section: string;
  key: string; // as pip names it: lower case, `_` → `-`
  line: number; // index of the key line
  end: number; // index after the last continuation line
  delimiter: number; // column of the `=` or `:` in the key line
  value: string; // as configparser reads it: continuation lines joined by \n, stripped
}

interface Section {
  header: number;
  end: number; // index after the last line of the section body
  keys: Set<string>; // lower-cased as configparser compares them (no `_` → `-`)
}

interface ParsedIni {
  lines: string[];
  sections: Map<string, Section>;
  keys: KeyLine[];
}

// Python's str.isspace(), which configparser's strip() and `\S` use: not JS's \s,
// which also counts U+FEFF and misses \x1c-\x1f and \x85.
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
  0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
const isSpace = (s: string, i: number) => PY_SPACE.has(s.charCodeAt(i));

function indentOf(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s, i)) i++;
  return i;
}

function rstripEnd(s: string, end = s.length): number {
  while (end > 0 && isSpace(s, end - 1)) end--;
  return end;
}

function pyStrip(s: string): string {
  const start = indentOf(s);
  return start === s.length ? '' : s.slice(start, rstripEnd(s));
}

const lineEnding = (line: string) => /(?:\r\n|\r|\n)$/.exec(line)?.[0] ?? '';

/** Parses like configparser would, failing where it would (or where pip would read the file other than it looks), with the file's line number. */
export function parsePipConf(text: string, file: string): ParsedIni {
  const fail = (i: number, what: string, hint = `pip cannot read this file either; fix line ${i + 1} by hand (tuna-setup left it untouched)`): never => {
    throw new TunaSetupError('PARSE_ERROR', `${file}:${i + 1}: ${what}`, hint);
  };
  if (text.startsWith('\ufeff')) {
    // pip decodes with the locale's encoding, not utf-8-sig: the BOM is a character of line 1, and no header matches
    fail(
      0,
      'the file starts with a UTF-8 byte order mark, which pip reads as part of line 1 and then rejects the whole file',
      'save the file as UTF-8 without a BOM (tuna-setup left it untouched)',
    );
  }
  const lines = pythonLines(text);
  const sections = new Map<string, Section>();
  const keys: KeyLine[] = [];
  let section: Section | undefined;
  let sectionName = '';
  let current: KeyLine | undefined; // the option a more indented line continues
  let values: string[] = []; // current's value lines, joined once it ends
  let indentLevel = 0;
  const endValue = () => {
    if (current) current.value = pyStrip(values.join('\n'));
    current = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.slice(0, raw.length - lineEnding(raw).length);
    const value = pyStrip(line);
    // blank lines and comment lines neither end a value nor start one
    if (value === '' || value[0] === '#' || value[0] === ';') {
      if (value === '' && current) values.push('');
      continue;
    }
    const indent = indentOf(line);
    if (current && indent > indentLevel) {
      values.push(value);
      current.end = i + 1;
      section!.end = i + 1;
      continue;
    }
    endValue();
    indentLevel = indent;

    const close = value[0] === '[' ? value.lastIndexOf(']') : -1;
    if (close > 1) {
      // configparser's `\[(?P<header>.+)\]`: up to the last `]`, nothing trimmed, anything after it ignored
      const name = value.slice(1, close);
      if (indentOf(name) > 0 || rstripEnd(name) < name.length) {
        fail(
          i,
          `pip reads '${value.slice(0, close + 1)}' as a section named '${name}', spaces included, not [${pyStrip(name)}], and ignores its keys`,
          `write it as [${pyStrip(name)}], without spaces inside the brackets (tuna-setup left the file untouched)`,
        );
      }
      sectionName = name;
      if (name === 'DEFAULT') {
        // configparser's default section: not a section of its own, and may repeat
        section = { header: i, end: i + 1, keys: new Set() };
        continue;
      }
      if (sections.has(name)) fail(i, `section [${name}] appears twice`);
      section = { header: i, end: i + 1, keys: new Set() };
      sections.set(name, section);
      continue;
    }
    if (!section) fail(i, `'${value}' comes before any [section] header`);
    // configparser's `(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$` on the stripped line
    const eq = value.indexOf('=');
    const colon = value.indexOf(':');
    const at = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
    const name = at < 0 ? '' : value.slice(0, rstripEnd(value, at)).toLowerCase();
    if (!name) fail(i, `'${value}' is neither a section, a key = value, nor a comment`);
    if (sectionName === 'DEFAULT') {
      fail(
        i,
        `'${name}' is in [DEFAULT], whose keys configparser copies into every section, so pip reads it under [global] and every command section`,
        'move it into [global] (or the sections that need it), then run tuna-setup again (it left the file untouched)',
      );
    }
    if (section!.keys.has(name)) fail(i, `key '${name.replace(/_/g, '-')}' appears twice in [${sectionName}]`);
    section!.keys.add(name);
    current = { section: sectionName, key: name.replace(/_/g, '-'), line: i, end: i + 1, delimiter: indent + at, value: '' };
    values = [value.slice(at + 1)];
    keys.push(current);
    section!.end = i + 1;
  }
  endValue();
  return { lines, sections, keys };
}

/** The value pip would use for `key` in `section` (command sections before [global]; within one, the last spelling wins). */
export function pipValue(parsed: ParsedIni, key: string, section = 'global'): string | undefined {
  let own: string | undefined;
  let global: string | undefined;
  for (const k of parsed.keys) {
    if (k.key !== key) continue;
    if (k.section === section) own = k.value;
    if (k.section === 'global') global = k.value;
  }
  return own ?? global;
}

/** Every index-url the file sets, with its section: what applying would replace. */
export function pipIndexUrls(text: string, file: string): { section: string; value: string }[] {
  return parsePipConf(text, file)
    .keys.filter((k) => k.key === 'index-url')
    .map((k) => ({ section: k.section, value: k.value }));
}

/**
 * pip.conf with the settings written: index-url in [global] and in every command section that sets one, the rest in
 * [global]; every other line kept byte for byte. Throws PARSE_ERROR rather than write a file pip would read otherwise.
 */
export function renderPipConf(existing: string, settings: PipSettings, file = 'pip.conf'): string {
  const wanted = new Map<string, string>([['index-url', settings.indexUrl]]);
  if (settings.trustedHost) wanted.set('trusted-host', settings.trustedHost);
  if (settings.timeout !== undefined) wanted.set('timeout', String(settings.timeout));
  if (settings.retries !== undefined) wanted.set('retries', String(settings.retries));

  const parsed = parsePipConf(existing, file);
  const { lines } = parsed;
  const eol = eolOf(existing);
  // edits in file order: replace lines [at, end) with text (keys come in line order; the insertion is placed among them)
  const edits: { at: number; end: number; text: string }[] = [];
  const present = new Set<string>();
  for (const k of parsed.keys) {
    const value = wanted.get(k.key);
    if (value === undefined) continue;
    // In command sections only index-url is overridden (it would shadow ours); other keys there are the user's choice.
    if (k.section !== 'global' && k.key !== 'index-url') continue;
    if (k.section === 'global') present.add(k.key);
    const original = lines[k.line]!;
    let prefix = original.slice(0, k.delimiter + 1);
    prefix += /^[ \t]*/.exec(original.slice(k.delimiter + 1))![0] || ' ';
    edits.push({ at: k.line, end: k.end, text: `${prefix}${value}${lineEnding(lines[k.end - 1]!)}` });
  }
  const global = parsed.sections.get('global');
  let missing = [...wanted].filter(([k]) => !present.has(k)).map(([k, v]) => `${k} = ${v}${eol}`);
  if (missing.length && global) {
    // At the end of [global]. The next line that counts (a header) must not be more indented than our keys,
    // or configparser would read it as a continuation of the last one.
    let next = global.end;
    while (next < lines.length && /^[#;]|^$/.test(pyStrip(lines[next]!))) next++;
    const indent = next < lines.length ? lines[next]!.slice(0, indentOf(lines[next]!)) : '';
    const text = missing.map((m) => indent + m).join('');
    const after = edits.findIndex((e) => e.at >= global.end);
    edits.splice(after < 0 ? edits.length : after, 0, { at: global.end, end: global.end, text });
    missing = [];
  }

  const out: string[] = [];
  let next = 0;
  for (const e of edits) {
    if (e.at > next) out.push(lines.slice(next, e.at).join(''));
    if (e.at === e.end && out.length && !/[\r\n]$/.test(out[out.length - 1]!)) out.push(eol);
    out.push(e.text);
    next = e.end;
  }
  out.push(lines.slice(next).join(''));
  let text = out.join('');
  if (missing.length) {
    text = withTrailingEol(text, eol);
    text += `${text.trim() ? eol : ''}[global]${eol}${missing.join('')}`;
  }
  check(parsed, text, wanted, file);
  return text;
}

/** Reads the result as pip would and fails, rather than write it, if pip would not read what we meant. */
function check(before: ParsedIni, text: string, wanted: Map<string, string>, file: string): void {
  const after = parsePipConf(text, file);
  const unsafe = (why: string) =>
    new TunaSetupError(
      'PARSE_ERROR',
      `${file}: cannot edit safely: ${why}`,
      'set index-url in [global] by hand, or drop pip from {targets} and export PIP_INDEX_URL instead',
    );
  for (const [key, value] of wanted) if (pipValue(after, key) !== value) throw unsafe(`pip would not read ${key} = ${value} in [global]`);
  for (const k of after.keys)
    if (k.key === 'index-url' && k.value !== wanted.get('index-url')) throw unsafe(`[${k.section}] would keep index-url = ${k.value}`);
  const added = after.keys.length - before.keys.length;
  if (added < 0 || added > wanted.size || after.sections.size - before.sections.size > 1) throw unsafe('the edit would change keys other than ours');
}
