/** `tuna-setup select`: probe the candidates for a service and rank them; writes nothing. */
import { defaultStateDir, selectMirror, TunaSetupError } from '@tuna-setup/sdk';
import { loadMirrorFile } from '@tuna-setup/sdk/catalog';
import { isOffline } from '@tuna-setup/sdk/net';
import { catalogCandidates, formatRanking, noHealthyMirror, parseProbeService, userCandidates, workloadFromFiles } from '@tuna-setup/sdk/probe';
import { parse, positiveInt, refuseIgnored } from '../args.js';
import { printJson, say, printUsage } from '../output.js';

export const usage = `tuna-setup select [options]
  Probe mirrors for one service, all at once, and rank them by how fast they will really serve
  this machine (validated answer, freshness, a bounded Range sample). Writes nothing but a cached ranking.

  --service NAME          pypi (default), conda, pytorch, docker
  --mirrors A,B,...       choose among exactly these catalog/mirror-file names (default: every
                          catalog mirror serving the service, plus the upstream 'official')
  --candidate NAME=URL    a candidate of your own (repeatable): a PyPI index or TUNA-style site root,
                          a PyTorch wheel index, or a registry root, per --service
  --mirror-file FILE      JSON/YAML file of your own mirrors, usable in --mirrors
  --budget-ms N           the most time the selection may take (default 3000)
  --project NAME          the PyPI project whose index page is probed (default pip)
  --fresh                 probe even if a ranking from the last hour is cached
  --requirements FILE     pip requirements file(s) the job installs (repeatable): rank mirrors by the
                          time those downloads will take (default: a PyTorch CI job's wheels)
  --state-dir DIR         where rankings are cached (default: $XDG_STATE_HOME/tuna-setup)
  --allow-http            accept http:// candidates
  --json                  one JSON object on stdout`;

export async function select(args: string[]): Promise<number> {
  const { values: v } = parse(args, {
    service: { type: 'string', default: 'pypi' },
    mirrors: { type: 'string' },
    candidate: { type: 'string', multiple: true },
    'mirror-file': { type: 'string' },
    'budget-ms': { type: 'string' },
    project: { type: 'string' },
    fresh: { type: 'boolean' },
    requirements: { type: 'string', multiple: true },
    'state-dir': { type: 'string' },
    'allow-http': { type: 'boolean' },
  });
  if (v.help) return printUsage(usage, v.json);
  const service = parseProbeService(v.service);
  if (service !== 'pypi') refuseIgnored(v, ['project'], 'with --service pypi');
  const budgetMs = v['budget-ms'] === undefined ? undefined : positiveInt(v['budget-ms'], '--budget-ms');
  const allowHttp = v['allow-http'] ?? false;
  const extra = v['mirror-file'] ? loadMirrorFile(v['mirror-file'], { allowHttp }) : [];
  const names =
    v.mirrors
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  const candidates =
    names.length || v.candidate?.length ? userCandidates(service, { names, pairs: v.candidate ?? [], extra, allowHttp }) : catalogCandidates(service, extra);
  if (isOffline()) {
    throw new TunaSetupError(
      'OFFLINE',
      'TUNA_SETUP_OFFLINE=1: select probes the network and was told not to',
      'unset TUNA_SETUP_OFFLINE, or name a mirror with apply {mirror=NAME}',
    );
  }
  const workload = v.requirements?.length ? await workloadFromFiles(v.requirements) : undefined;
  const report = await selectMirror({
    service,
    candidates,
    allowHttp,
    ...(workload ? { workload } : {}),
    stateDir: v['state-dir'] ?? defaultStateDir(),
    ...(budgetMs ? { budgetMs } : {}),
    ...(v.project ? { project: v.project } : {}),
    ...(v.fresh ? { fresh: true } : {}),
  });
  if (!v.json) for (const line of formatRanking(report)) say(line);
  if (!report.chosen) throw noHealthyMirror(report); // under --json: the error with the ranking beside it
  if (v.json) printJson(report);
  return 0;
}
