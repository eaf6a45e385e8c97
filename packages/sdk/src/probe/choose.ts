/**
 * From what the user typed for `--mirror` (the Action's `mirror` input) to the
 * Mirror that `apply` configures: a catalog name or URL is taken as is;
 * `auto`, or a comma list of candidates, runs a selection per service the
 * targets need (pip/uv → pypi, conda → conda), all at once, and composes the
 * winners — PyPI from one mirror and conda from another is fine. A service
 * with no healthy candidate falls back to the upstream with a warning, so a
 * CI job still runs; offline (`TUNA_SETUP_OFFLINE=1`) nothing is probed and
 * `auto` means the upstream.
 */
import { isOffline } from '../net/offline.js';
import { findMirror, listMirrors } from '../catalog/lookup.js';
import type { Mirror } from '../catalog/types.js';
import type { UrlPolicy } from '../catalog/url.js';
import type { Target } from '../config/locations.js';
import { TunaSetupError } from '../errors.js';
import type { Dispatcher } from 'undici';
import { candidateOf, catalogCandidates } from './candidates.js';
import { selectMirror, type SelectReport } from './select.js';
import type { ProbeService } from './services.js';
import type { Workload } from './workload.js';

/** Options of `chooseMirror`: what the user asked for, the targets to serve, and the selection's settings. */
export interface ChooseOptions extends UrlPolicy {
  /** `auto`, a catalog/mirror-file name, a URL, or a comma list of names to choose from */
  spec: string;
  targets: readonly Target[];
  extra?: readonly Mirror[];
  budgetMs?: number;
  stateDir?: string;
  fresh?: boolean;
  /** default: TUNA_SETUP_OFFLINE=1 */
  offline?: boolean;
  dispatcher?: Dispatcher;
  /** what the job will download, to rank by (default: a PyTorch CI job) */
  workload?: Workload;
}

/** What `chooseMirror` settled on for the targets, with the selections behind it and what to warn about. */
export interface ChosenMirror {
  mirror: Mirror;
  /** one report per service that was selected for */
  selections: SelectReport[];
  warnings: string[];
}

const SERVICE_OF: Partial<Record<Target, ProbeService & keyof Mirror>> = { pip: 'pypi', uv: 'pypi', conda: 'conda' };

/** Mirrors given by URL are named by host: two on one host get distinct names (host, host-2, …). */
function distinctNames(mirrors: Mirror[]): Mirror[] {
  const seen = new Map<string, number>();
  return mirrors.map((m) => {
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    return n === 1 ? m : { ...m, name: `${m.name}-${n}`, title: `${m.title} (${n})` };
  });
}

/**
 * The mirror to configure for some targets, as `apply` decides it: a name or
 * URL as given, `auto` (selection per service: pip/uv by PyPI, conda by its
 * channels), or a comma list to choose among.
 * @example const { mirror } = await chooseMirror({ spec: 'auto', targets: ['pip', 'conda'] });
 */
export async function chooseMirror(options: ChooseOptions): Promise<ChosenMirror> {
  const spec = options.spec.trim();
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (spec !== 'auto' && names.length === 1) return { mirror: findMirror(spec, options), selections: [], warnings: [] };
  if (names.length === 0) throw new TunaSetupError('UNKNOWN_MIRROR', 'mirror is empty', "give 'auto', a mirror name, a comma list of names, or a URL");

  const upstream = listMirrors(options.extra).find((m) => m.name === 'official')!;
  const services = [...new Set(options.targets.flatMap((t) => SERVICE_OF[t] ?? []))];
  if (options.offline ?? isOffline()) {
    return { mirror: upstream, selections: [], warnings: ['offline (TUNA_SETUP_OFFLINE=1): nothing probed, using the upstream'] };
  }
  // a named list: every name must exist, and each service chooses among the names that serve it
  const pool = spec === 'auto' ? undefined : distinctNames(names.map((n) => findMirror(n, options)));
  const runs = await Promise.all(
    services.map(async (service) => {
      const candidates = pool ? pool.flatMap((m) => candidateOf(m, service) ?? []) : catalogCandidates(service, options.extra);
      if (candidates.length === 0) {
        throw new TunaSetupError(
          'UNSUPPORTED_SERVICE',
          `none of ${names.join(', ')} serves ${service}`,
          `add a mirror that does (${catalogCandidates(service, options.extra)
            .map((c) => c.name)
            .join(', ')}), or drop the targets that need ${service}`,
        );
      }
      const report = await selectMirror({
        service,
        candidates,
        ...(options.budgetMs !== undefined ? { budgetMs: options.budgetMs } : {}),
        ...(options.stateDir ? { stateDir: options.stateDir } : {}),
        ...(options.fresh ? { fresh: true } : {}),
        ...(options.allowHttp ? { allowHttp: true } : {}),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        ...(options.workload ? { workload: options.workload } : {}),
      });
      // the winner is the candidate with that name and URL: what is configured is exactly what won
      const winner = report.chosen && candidates.find((c) => c.name === report.chosen!.name && c.url === report.chosen!.url);
      return { report, winner: winner?.mirror };
    }),
  );
  const selections = runs.map((r) => r.report);

  const warnings: string[] = [];
  const winners = runs.map(({ report, winner }) => {
    if (winner) return { service: report.service, mirror: winner };
    const reasons = report.ranking.map((r) => `${r.name}: ${r.excluded}`).join('; ');
    warnings.push(`no healthy ${report.service} mirror (${reasons}); using the upstream`);
    return { service: report.service, mirror: upstream };
  });
  if (winners.length === 0) return { mirror: upstream, selections, warnings };
  const first = winners[0]!.mirror;
  const mirror: Mirror = {
    name: [...new Set(winners.map((w) => w.mirror.name))].join('+'),
    title: [...new Set(winners.map((w) => w.mirror.title))].join(' + '),
    url: first.url,
  };
  for (const w of winners) Object.assign(mirror, { [w.service]: w.mirror[w.service as 'pypi' | 'conda'] });
  // the Miniforge installer comes from the conda winner when it has one, else any winner's
  const miniforge = [...winners].reverse().find((w) => w.mirror.miniforge)?.mirror.miniforge;
  if (miniforge) mirror.miniforge = miniforge;
  return { mirror, selections, warnings };
}
