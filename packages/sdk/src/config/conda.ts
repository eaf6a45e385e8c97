/**
 * .condarc: `(existing text, settings) → new text`, in the layout TUNA
 * documents: `default_channels` (main, r, msys2 on the mirror),
 * `custom_channels` (each cloud channel the mirror carries → its cloud base),
 * `show_channel_urls: true`, and `channels: [defaults]` when the file names
 * no channels — as TUNA's snippet does: conda 25.9 stopped adding `defaults`
 * on its own (conda #15196, #15234), and a bare conda would resolve nothing.
 * A user's own `channels` stay as they are.
 *
 * The file is parsed as a YAML document (the `yaml` library) only to find
 * where things are: the edits are spliced into the user's text at the
 * nodes' source ranges, so every byte we do not change — comments and the
 * spaces before them, indentation, blank lines, quoting, flow style, CRLF —
 * stays as it was (re-serialising the document would normalise all of
 * that). The user's other custom_channels entries stay. The result is
 * parsed again and must read as exactly what we meant, or nothing is
 * written. If the settings are already in place the text is returned as it
 * was, so re-applying never touches a file.
 */
import { isDeepStrictEqual } from 'node:util';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, visit, type Alias, type Document, type Node } from 'yaml';
import { TunaSetupError } from '../errors.js';
import { eolOf } from './text.js';

/** What renderCondarc writes: default_channels, and custom_channels added to the user's own. */
export interface CondaSettings {
  defaultChannels: string[];
  /** channel name → base URL (conda appends `/<channel>`) */
  customChannels: Record<string, string>;
}

// Aliases are expanded when the file is read: a billion-laughs .condarc (nested anchors whose
// aliases multiply) must fail in milliseconds with a message, not hang or exhaust memory.
const MAX_ALIAS_COUNT = 100;

const broken = (file: string, what: string, hint = 'conda cannot read this file either; fix it by hand (tuna-setup left it untouched)') =>
  new TunaSetupError('PARSE_ERROR', `${file}: ${what}`, hint);

interface Parsed {
  doc: Document.Parsed;
  /** the settings as conda reads them: aliases expanded, `<<` merged (conda's ruamel.yaml honours merge keys) */
  data: Record<string, unknown>;
}

function parseCondarc(text: string, file: string): Parsed {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { keepSourceTokens: false, merge: true, lineCounter });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    throw new TunaSetupError(
      'PARSE_ERROR',
      `${file}${line ? `:${line}` : ''}: ${err.message.split('\n')[0]}`,
      'conda cannot read this file either; fix it by hand (tuna-setup left it untouched)',
    );
  }
  const top = doc.contents;
  if (top !== null && !isMap(top) && !(isScalar(top) && top.value === null)) {
    throw broken(file, 'the top level is not a mapping of settings', 'a .condarc is a YAML mapping (key: value); fix it by hand');
  }
  // An alias with no anchor before it: yaml reports it only when expanding, without a line.
  const anchors = new Set<string>();
  let dangling: Alias | undefined;
  visit(doc, {
    Node(_, node) {
      if (isAlias(node)) {
        if (!anchors.has(node.source)) dangling ??= node;
      } else if (node.anchor) {
        anchors.add(node.anchor);
      }
    },
  });
  if (dangling) {
    const line = lineCounter.linePos(dangling.range?.[0] ?? 0).line;
    throw new TunaSetupError(
      'PARSE_ERROR',
      `${file}:${line}: alias *${dangling.source} has no anchor &${dangling.source} before it`,
      `conda cannot read this file either; define &${dangling.source} before its use or write the value out, by hand (tuna-setup left the file untouched)`,
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (/excessive alias count/i.test((e as Error).message)) {
      throw broken(
        file,
        `its aliases expand to too many values (over ${MAX_ALIAS_COUNT} nested alias uses: an alias bomb?)`,
        'replace the aliases (*name) with the values they stand for, by hand (tuna-setup left the file untouched)',
      );
    }
    throw broken(file, (e as Error).message.split('\n')[0]!);
  }
  return { doc, data: (data as Record<string, unknown> | null) ?? {} };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One value as YAML text on one line (flow style, quoted where YAML needs it). */
const inline = (value: unknown) => stringify(value, { lineWidth: 0, collectionStyle: 'flow', flowCollectionPadding: false }).replace(/\n$/, '');
/** One value as block-style YAML lines, each starting with `indent`. */
const block = (value: unknown, indent: string) =>
  stringify(value, { lineWidth: 0, collectionStyle: 'block' })
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => indent + l);

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * .condarc with the settings spliced into the user's text, its comments, layout and other keys kept; the text as it
 * was when they are already in place. Throws PARSE_ERROR rather than write a file conda would read otherwise.
 */
export function renderCondarc(existing: string, settings: CondaSettings, file = '.condarc'): string {
  const { doc, data: before } = parseCondarc(existing, file);
  if (before.custom_channels != null && !isRecord(before.custom_channels)) {
    throw broken(file, 'custom_channels is not a mapping', 'custom_channels maps a channel name to a base URL; fix it by hand');
  }
  if (before.default_channels != null && !Array.isArray(before.default_channels)) {
    throw broken(file, 'default_channels is not a list', 'fix it by hand');
  }
  const oldCustom = (before.custom_channels ?? {}) as Record<string, unknown>;
  const custom = { ...oldCustom, ...settings.customChannels };
  const expected: Record<string, unknown> = { ...before, default_channels: settings.defaultChannels, custom_channels: custom };
  if (!('show_channel_urls' in before)) expected.show_channel_urls = true;
  if (!('channels' in before)) expected.channels = ['defaults'];
  if (isDeepStrictEqual(expected, before)) return existing;

  const eol = eolOf(existing);
  const edits: Edit[] = [];
  const lineStart = (pos: number) => (pos === 0 ? 0 : existing.lastIndexOf('\n', pos - 1) + 1);
  /** Where the line holding `pos` ends, before its line break. */
  const lineEnd = (pos: number) => {
    const nl = existing.indexOf('\n', pos);
    if (nl < 0) return existing.length;
    return existing[nl - 1] === '\r' ? nl - 1 : nl;
  };
  /** Replace a node's text with a one-line value, keeping the line break a block node owns and a space on either side. */
  const replace = (node: Node, text: string) => {
    const [start, end] = node.range!;
    const before = start > 0 && !/[ \t\n]/.test(existing[start - 1]!) ? ' ' : '';
    const after = existing[end] === '#' ? ' ' : '';
    edits.push({ start, end, text: `${before}${text}${after}${/\r?\n$/.exec(existing.slice(start, end))?.[0] ?? ''}` });
  };
  /** The spaces before `node` on its line ('' when something else comes first there). */
  const indentOf = (node: Node | null | undefined) => {
    const at = node?.range?.[0] ?? 0;
    const indent = existing.slice(lineStart(at), at);
    return /^[ \t]*$/.test(indent) ? indent : '';
  };
  /** `pos` if a line starts there, else where the next line starts (an empty document's value may sit after `---`). */
  const startOfLineAfter = (pos: number) => {
    if (lineStart(pos) === pos) return pos;
    const nl = existing.indexOf('\n', pos);
    return nl < 0 ? existing.length : nl + 1;
  };
  const isEmpty = (node: Node) => isScalar(node) && node.value === null && node.range![0] === node.range![1];

  const top = doc.contents;
  if (isMap(top) && top.flow) {
    // {channels: […], …} on its own: written out again whole, still one flow mapping
    replace(top, inline(expected));
  } else {
    const pairs = new Map(isMap(top) ? top.items.filter((p) => isScalar(p.key)).map((p) => [(p.key as { value: unknown }).value, p]) : []);
    const topIndent = isMap(top) ? indentOf(top.items[0]?.key as Node | null) : '';
    const appended: string[] = [];
    /** A key whose value is ours alone: in place if the file has it, else at the end of the top level. */
    const setValue = (key: string, value: unknown) => {
      const pair = pairs.get(key);
      const node = pair?.value as Node | null | undefined;
      if (pair === undefined || node === undefined) {
        appended.push(...(typeof value === 'object' ? [`${topIndent}${key}:`, ...block(value, `${topIndent}  `)] : [`${topIndent}${key}: ${inline(value)}`]));
      } else if (node === null || isEmpty(node)) {
        // `key:` (perhaps with a comment): the value goes on the lines below
        const at = lineEnd(node ? node.range![0] : (pair.key as Node).range![1]);
        edits.push({ start: at, end: at, text: eol + block(value, `${topIndent}  `).join(eol) });
      } else if (isSeq(node) && !node.flow && lineStart(node.range![0]) + indentOf(node).length === node.range![0]) {
        // a block list on lines of its own: new items where the old ones were, at their indentation
        const [start, end] = node.range!;
        edits.push({ start, end, text: block(value, '').join(eol + indentOf(node)) + (/\r?\n$/.exec(existing.slice(start, end))?.[0] ?? '') });
      } else {
        replace(node, inline(value));
      }
    };

    if (!isDeepStrictEqual(before.default_channels, settings.defaultChannels)) setValue('default_channels', settings.defaultChannels);
    const changed = Object.entries(settings.customChannels).filter(([name, base]) => oldCustom[name] !== base);
    const customNode = pairs.get('custom_channels')?.value as Node | null | undefined;
    if (changed.length && isMap(customNode) && !customNode.flow && customNode.items.length) {
      // the user's own mapping: change our entries in place, add the missing ones after its last entry
      const entries = new Map(customNode.items.filter((p) => isScalar(p.key)).map((p) => [String((p.key as { value: unknown }).value), p]));
      const indent = indentOf(customNode.items[0]!.key as Node);
      const added: string[] = [];
      for (const [name, base] of changed) {
        const value = entries.get(name)?.value as Node | null | undefined;
        if (value) replace(value, inline(base));
        else added.push(...block({ [name]: base }, indent));
      }
      if (added.length) {
        const at = customNode.range![1];
        const lead = at > 0 && existing[at - 1] !== '\n' ? eol : '';
        edits.push({ start: at, end: at, text: lead + added.join(eol) + (lead ? '' : eol) });
      }
    } else if (changed.length) {
      setValue('custom_channels', custom);
    }
    if (!('show_channel_urls' in before)) setValue('show_channel_urls', true);
    if (!('channels' in before)) setValue('channels', ['defaults']);

    if (appended.length) {
      const at = isMap(top) ? top.range![1] : startOfLineAfter(top?.range?.[0] ?? existing.length);
      const lead = at > 0 && existing[at - 1] !== '\n' ? eol : '';
      edits.push({ start: at, end: at, text: lead + appended.join(eol) + (lead && at === existing.length ? '' : eol) });
    }
  }

  // splice, in one pass (edits never overlap: each is one node, or a point between nodes)
  edits.sort((a, b) => a.start - b.start);
  const out: string[] = [];
  let next = 0;
  for (const e of edits) {
    out.push(existing.slice(next, e.start), e.text);
    next = e.end;
  }
  out.push(existing.slice(next));
  const text = out.join('');

  let after: unknown;
  try {
    after = parseCondarc(text, file).data;
  } catch {
    after = undefined;
  }
  if (!isDeepStrictEqual(after, expected)) {
    throw new TunaSetupError(
      'PARSE_ERROR',
      `${file}: cannot edit safely: the edited file would not read as the settings tuna-setup meant`,
      'set default_channels, custom_channels and show_channel_urls by hand as the mirror documents, or drop conda from {targets}',
    );
  }
  return text;
}

/** The settings as conda would read them (for reports and checks). */
export function readCondarc(text: string, file: string): Record<string, unknown> {
  return parseCondarc(text, file).data;
}
