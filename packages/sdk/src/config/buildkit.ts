/**
 * BuildKit's buildkitd.toml: `[registry."docker.io"] mirrors = [...]` per
 * upstream registry, our mirrors first and the user's after them; a mirror
 * is written as images name it (`harbor.corp/dockerhub-proxy`, a path
 * prefix included), and a plain-http one gets `[registry."host"] http = true`.
 * Every other table, key and comment stays as it was.
 */
import { mirrorLocation, type RegistryMirror } from '../registry/mirrors.js';
import { eolOf, splitLines, withTrailingEol } from './text.js';
import { cannotEdit, keyLine, parseEdited, parseTomlFile, setKey, tables, tomlString, valueLines, type Table } from './toml-lines.js';

const FIX_BUILDKIT = 'write the [registry."…"] mirrors by hand, or drop buildkit from {targets}';

/** The registry mirrors to write, each under its upstream registry. */
export interface BuildkitSettings {
  mirrors: readonly RegistryMirror[];
}

type RegistryTables = Record<string, { mirrors?: unknown; http?: unknown }>;

/**
 * buildkitd.toml with our mirrors first in each upstream's [registry."…"] mirrors (and http = true for a plain-http
 * mirror), everything else kept. Throws PARSE_ERROR when the result would not list them first.
 */
export function renderBuildkitdToml(existing: string, settings: BuildkitSettings, file = 'buildkitd.toml'): string {
  const doc = parseTomlFile<{ registry?: RegistryTables }>(existing, file, 'buildkitd');
  const eol = eolOf(existing);
  let lines = splitLines(existing);
  const want = new Map<string, { mirrors: string[]; http?: boolean }>();
  for (const m of settings.mirrors) {
    const entry = want.get(m.registry) ?? { mirrors: [] };
    entry.mirrors.push(mirrorLocation(m));
    want.set(m.registry, entry);
    if (new URL(m.url).protocol === 'http:') want.set(new URL(m.url).host, { ...(want.get(new URL(m.url).host) ?? { mirrors: [] }), http: true });
  }

  const find = (name: string): Table | undefined =>
    tables(lines).find((t) => !t.array && t.keys.length === 2 && t.keys[0] === 'registry' && t.keys[1] === name);
  const append = (name: string, body: string[]) => {
    let text = withTrailingEol(lines.join(''), eol);
    text += `${text.trim() ? eol : ''}[registry.${tomlString(name)}]${eol}${body.map((b) => `  ${b}${eol}`).join('')}`;
    lines = splitLines(text);
  };

  for (const [name, w] of want) {
    const current = doc.registry?.[name];
    const theirs = Array.isArray(current?.mirrors) ? current.mirrors.filter((x): x is string => typeof x === 'string') : [];
    const mirrors = [...w.mirrors, ...theirs.filter((x) => !w.mirrors.includes(x))];
    const mirrorsLine = `mirrors = [${mirrors.map(tomlString).join(', ')}]`;
    const table = find(name);
    if (!table) {
      append(name, [...(mirrors.length ? [mirrorsLine] : []), ...(w.http ? ['http = true'] : [])]);
      continue;
    }
    if (mirrors.length && mirrors.join('\n') !== theirs.join('\n')) {
      const at = keyLine(lines, table, 'mirrors');
      if (at !== undefined) lines.splice(at, valueLines(lines, at));
      lines.splice(table.start + 1, 0, `  ${mirrorsLine}${eol}`);
      if (!lines[table.start]!.endsWith('\n')) lines[table.start] += eol;
    }
    if (w.http && current?.http !== true) {
      const t = find(name)!;
      const at = keyLine(lines, t, 'http');
      if (at !== undefined) setKey(lines, at, 'http', 'true', eol);
      else lines.splice(t.start + 1, 0, `  http = true${eol}`);
    }
  }
  const out = lines.join('');

  const after = parseEdited<{ registry?: RegistryTables }>(out, file, FIX_BUILDKIT);
  for (const [name, w] of want) {
    const got = after.registry?.[name];
    const mirrors = Array.isArray(got?.mirrors) ? got.mirrors : [];
    if (w.mirrors.some((m, i) => mirrors[i] !== m) || (w.http && got?.http !== true)) {
      throw cannotEdit(file, `the edited file would not list the mirrors of ${name} first`, FIX_BUILDKIT);
    }
  }
  return out;
}
