/**
 * .condarc: `(existing text, settings) → new text`, in the layout TUNA
 * documents: `default_channels` (main, r, msys2 on the mirror),
 * `custom_channels` (each cloud channel the mirror carries → its cloud base)
 * and `show_channel_urls: true`.
 *
 * The file is edited as a YAML document (the `yaml` library keeps comments,
 * key order and the user's other keys); the user's other custom_channels
 * entries stay. If the settings are already in place the text is returned
 * as it was, so re-applying never reformats a file.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import { TunaSetupError } from '../errors.js';

export interface CondaSettings {
  defaultChannels: string[];
  /** channel name → base URL (conda appends `/<channel>`) */
  customChannels: Record<string, string>;
}

function parseCondarc(text: string, file: string) {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    throw new TunaSetupError('PARSE_ERROR', `${file}${line ? `:${line}` : ''}: ${err.message.split('\n')[0]}`,
      'conda cannot read this file either; fix it by hand (tuna-setup left it untouched)');
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new TunaSetupError('PARSE_ERROR', `${file}: the top level is not a mapping of settings`,
      'a .condarc is a YAML mapping (key: value); fix it by hand');
  }
  return doc;
}

export function renderCondarc(existing: string, settings: CondaSettings, file = '.condarc'): string {
  const doc = parseCondarc(existing, file);
  const before = doc.toJS() ?? {};
  if (doc.contents === null) (doc as { contents: unknown }).contents = doc.createNode({});
  const custom = doc.get('custom_channels', true);
  if (custom !== undefined && custom !== null && !isMap(custom)) {
    throw new TunaSetupError('PARSE_ERROR', `${file}: custom_channels is not a mapping`,
      'custom_channels maps a channel name to a base URL; fix it by hand');
  }
  const defaults = doc.get('default_channels', true);
  if (defaults !== undefined && defaults !== null && !isSeq(defaults)) {
    throw new TunaSetupError('PARSE_ERROR', `${file}: default_channels is not a list`, 'fix it by hand');
  }
  doc.set('default_channels', doc.createNode(settings.defaultChannels));
  if (custom === undefined || custom === null) doc.set('custom_channels', doc.createNode({}));
  const channels = doc.get('custom_channels', true) as YAMLMap;
  for (const [name, base] of Object.entries(settings.customChannels)) channels.set(name, base);
  if (!doc.has('show_channel_urls')) doc.set('show_channel_urls', true);
  if (isDeepStrictEqual(doc.toJS(), before)) return existing;
  return doc.toString({ lineWidth: 0 });
}

/** The settings as conda would read them (for reports and checks). */
export function readCondarc(text: string, file: string): Record<string, unknown> {
  return (parseCondarc(text, file).toJS() as Record<string, unknown> | null) ?? {};
}
