/**
 * Podman, Buildah, Skopeo and CRI-O (containers/image): a drop-in under
 * `registries.conf.d/` with one `[[registry]]` per upstream registry and our
 * mirrors as its `[[registry.mirror]]` entries, tried in order before the
 * registry itself. A mirror's `location` may carry a path (a Harbor proxy
 * project: `harbor.corp/dockerhub-proxy`).
 *
 * A drop-in's `[[registry]]` replaces the main file's entry with the same
 * prefix whole, so the user's entry (its location, `insecure`, `blocked`,
 * its own mirrors after ours) is carried into ours: what they set keeps
 * working. The drop-in's other content is kept as it was.
 */
import { stringify as stringifyToml } from 'smol-toml';
import { TunaSetupError } from '../errors.js';
import { mirrorLocation, type RegistryMirror } from '../registry/mirrors.js';
import { eolOf, splitLines, withTrailingEol } from './text.js';
import { cannotEdit, parseEdited, parseTomlFile, tables } from './toml-lines.js';

type RegistriesConf = { registry?: RegistryEntry[]; registries?: unknown; [k: string]: unknown };
const FIX_PODMAN = 'write the [[registry.mirror]] entries by hand, or drop podman from {targets}';
const HEADER = '# tuna-setup: registry mirrors (`tuna-setup restore` puts this file back)';

/** The mirrors per upstream registry, and the main registries.conf the drop-in layers over. */
export interface RegistriesSettings {
  mirrors: readonly RegistryMirror[];
  /** the text of the main registries.conf ('' when there is none) */
  main?: string;
  mainFile?: string;
}

interface RegistryEntry {
  prefix?: string;
  location?: string;
  mirror?: { location: string; insecure?: boolean }[];
  [key: string]: unknown;
}

const prefixOf = (e: RegistryEntry) => e.prefix ?? e.location ?? '';

/**
 * The registries.conf.d drop-in with one [[registry]] per upstream: our mirrors first, the user's entry for it (from
 * the drop-in or the main file) carried over. Throws PARSE_ERROR for a v1-format file or a result that would not read so.
 */
export function renderRegistriesConf(existing: string, settings: RegistriesSettings, file = 'registries.conf.d/50-tuna-setup.conf'): string {
  const main = parseTomlFile<RegistriesConf>(settings.main ?? '', settings.mainFile ?? 'registries.conf', 'podman');
  const doc = parseTomlFile<RegistriesConf>(existing, file, 'podman');
  // a drop-in we wrote (its journal elsewhere): its mirrors are ours, not the user's to carry over
  const oursBefore = existing.startsWith(HEADER);
  for (const [name, d] of [
    [settings.mainFile ?? 'registries.conf', main],
    [file, doc],
  ] as const) {
    if (d.registries !== undefined) {
      throw new TunaSetupError(
        'PARSE_ERROR',
        `${name} is in the old v1 format ([registries.search]…), which cannot be mixed with a v2 drop-in`,
        'convert it to the v2 format ([[registry]] tables, see containers-registries.conf(5)), or drop podman from {targets}',
      );
    }
  }
  const registries = [...new Set(settings.mirrors.map((m) => m.registry))];
  const eol = eolOf(existing);
  const lines = splitLines(existing);

  // the drop-in's own entries for our registries are replaced (their content carried over), the rest stays
  const entries: RegistryEntry[] = [];
  const ts = tables(lines);
  const drop = new Set<number>();
  let element = -1;
  for (const t of ts) {
    if (t.array && t.name === 'registry') element++;
    if (element < 0 || t.keys[0] !== 'registry') continue;
    const entry = doc.registry?.[element];
    if (entry && registries.includes(prefixOf(entry))) for (let i = t.start; i < t.end; i++) drop.add(i);
  }
  const kept = lines.filter((_, i) => !drop.has(i));

  for (const registry of registries) {
    const theirs = [...(main.registry ?? []), ...(oursBefore ? [] : (doc.registry ?? []))].filter((e) => prefixOf(e) === registry);
    const merged: RegistryEntry = Object.assign({}, ...theirs);
    const ours = settings.mirrors
      .filter((m) => m.registry === registry)
      .map((m) => ({
        location: mirrorLocation(m),
        ...(new URL(m.url).protocol === 'http:' ? { insecure: true } : {}),
      }));
    const others = theirs
      .flatMap((e) => e.mirror ?? [])
      .filter((m, i, all) => !ours.some((o) => o.location === m.location) && all.findIndex((o) => o.location === m.location) === i);
    entries.push({ ...merged, prefix: registry, location: merged.location ?? registry, mirror: [...ours, ...others] });
  }

  let out = withTrailingEol(kept.join(''), eol);
  const header = `${HEADER}${eol}`;
  const body = stringifyToml({ registry: entries }).replace(/\n/g, eol);
  out = `${out.trim() ? out + eol : header}${body}${withTrailingEol(body, eol) === body ? '' : eol}`;

  const check = parseEdited<RegistriesConf>(out, file, FIX_PODMAN);
  for (const registry of registries) {
    const e = check.registry?.filter((r) => prefixOf(r) === registry) ?? [];
    const want = settings.mirrors.filter((m) => m.registry === registry).map(mirrorLocation);
    if (e.length !== 1 || want.some((w, i) => e[0]!.mirror?.[i]?.location !== w)) {
      throw cannotEdit(file, `the edited file would not list the mirrors of ${registry} first`, FIX_PODMAN);
    }
  }
  return out;
}
