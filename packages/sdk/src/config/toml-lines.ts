/**
 * Editing TOML by lines, for the writers that must keep a user's comments and
 * order (uv.toml, containerd's hosts.toml, buildkitd.toml, registries.conf):
 * no TOML library keeps comments, so a writer finds the tables and keys it
 * owns by line, edits those lines only, and parses the result again to check
 * it says what was meant (a layout nobody foresaw fails loudly).
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { TunaSetupError } from '../errors.js';

/** A user's TOML file parsed; PARSE_ERROR naming the file and line when `tool` could not read it either. */
export function parseTomlFile<T = Record<string, unknown>>(text: string, file: string, tool: string): T {
  try {
    return parseToml(text) as T;
  } catch (e) {
    const line = e instanceof TomlError ? `:${e.line}` : '';
    throw new TunaSetupError(
      'PARSE_ERROR',
      `${file}${line}: ${(e as Error).message.split('\n')[0]}`,
      `${tool} cannot read this file either; fix it by hand (tuna-setup left it untouched)`,
    );
  }
}

/** The error of an edit that would not say what was meant: nothing is written. */
export function cannotEdit(file: string, why: string, fix: string): TunaSetupError {
  return new TunaSetupError('PARSE_ERROR', `${file}: cannot edit safely: ${why}`, `${fix} (tuna-setup left the file untouched)`);
}

/** Our edited text parsed again, to check it; a parse failure is our edit's fault, not the user's file's. */
export function parseEdited<T = Record<string, unknown>>(text: string, file: string, fix: string): T {
  try {
    return parseToml(text) as T;
  } catch (e) {
    throw cannotEdit(file, `the edited file would not parse (${(e as Error).message.split('\n')[0]})`, fix);
  }
}

/** A table of the file: its header's keys (`[host."https://x"]` → ['host', 'https://x']), and its lines [start, end). */
export interface Table {
  keys: string[];
  /** the keys joined with '.' ('' for the top level before any header) */
  name: string;
  /** `[[…]]`: an element of an array of tables */
  array: boolean;
  start: number;
  end: number;
}

const HEADER = /^\s*(\[\[?)\s*(.+?)\s*(\]\]?)\s*(#.*)?$/;
const KEY_PART = /^\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*/;

/** The key parts of a header's inside, or undefined when it is not a dotted key (then the line is not a header). */
function headerKeys(inside: string): string[] | undefined {
  const keys: string[] = [];
  let rest = inside;
  for (;;) {
    const m = KEY_PART.exec(rest);
    if (!m) return undefined;
    keys.push(m[1] ?? (m[2] !== undefined ? (JSON.parse(`"${m[2]}"`) as string) : m[3]!));
    rest = rest.slice(m[0].length);
    if (rest === '') return keys;
    if (!rest.startsWith('.')) return undefined;
    rest = rest.slice(1);
  }
}

/** The tables of a file split by `splitLines`, the top level first. */
export function tables(lines: readonly string[]): Table[] {
  const out: Table[] = [{ keys: [], name: '', array: false, start: 0, end: lines.length }];
  lines.forEach((l, i) => {
    const m = HEADER.exec(l.replace(/\r?\n$/, ''));
    if (!m || (m[1] === '[[') !== (m[3] === ']]')) return;
    let keys: string[] | undefined;
    try {
      keys = headerKeys(m[2]!);
    } catch {
      keys = undefined;
    }
    if (!keys) return;
    out[out.length - 1]!.end = i;
    out.push({ keys, name: keys.join('.'), array: m[1] === '[[', start: i, end: lines.length });
  });
  return out;
}

/** The line of `key = …` in table `t`, if it has one. */
export function keyLine(lines: readonly string[], t: Table, key: string): number | undefined {
  const re = new RegExp(`^\\s*["']?${key.replace(/[-.]/g, '\\$&')}["']?\\s*=`);
  for (let i = t.start; i < t.end; i++) if (re.test(lines[i]!)) return i;
  return undefined;
}

/** How many lines the value starting at line `at` spans (a multi-line array runs until its brackets close). */
export function valueLines(lines: readonly string[], at: number): number {
  let depth = 0;
  for (let i = at; i < lines.length; i++) {
    const code = lines[i]!.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""').replace(/#.*$/, '');
    const afterEq = i === at ? code.slice(code.indexOf('=') + 1) : code;
    for (const c of afterEq) {
      if (c === '[' || c === '{') depth++;
      if (c === ']' || c === '}') depth--;
    }
    if (depth <= 0) return i - at + 1;
  }
  return lines.length - at;
}

/** Replaces the key on line `at` (one line) with `key = value`, keeping its indent and trailing comment. */
export function setKey(lines: string[], at: number, key: string, value: string, eol: string): void {
  const indent = /^\s*/.exec(lines[at]!)![0];
  const comment = /\s+#[^"']*$/.exec(lines[at]!.replace(/\r?\n$/, ''))?.[0] ?? '';
  const lineEol = /\r?\n$/.exec(lines[at]!)?.[0] ?? (at + 1 < lines.length ? eol : '');
  lines[at] = `${indent}${key} = ${value}${comment}${lineEol}`;
}

/** A TOML basic string (JSON's escapes are TOML's). */
export const tomlString = (s: string) => JSON.stringify(s);

/** A TOML key: bare when it can be, else quoted. */
export const tomlKey = (s: string) => (/^[A-Za-z0-9_-]+$/.test(s) ? s : tomlString(s));
