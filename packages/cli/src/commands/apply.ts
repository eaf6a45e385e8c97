/** `tuna-setup apply`: point pip, uv, conda and the container engines at a mirror. */
import { applyMirror, chooseMirror, defaultStateDir, type Target } from '@tuna-setup/sdk';
import { loadMirrorFile } from '@tuna-setup/sdk/catalog';
import { ENGINE_TARGETS, parseTargets } from '@tuna-setup/sdk/config';
import { formatRanking, workloadFromFiles } from '@tuna-setup/sdk/probe';
import { parse, positiveInt, refuseIgnored } from '../args.js';
import { printJson, say, printUsage } from '../output.js';

export const usage = `tuna-setup apply [options]
  Point pip, uv, conda (and Docker, containerd, Podman, BuildKit) at mirrors; originals are
  journaled for 'restore'.

  --mirror auto|NAME|URL  auto (default): probe the catalog's mirrors and the upstream, take the
                          fastest healthy, fresh one per service (see 'select'); a catalog name
                          (tuna, bfsu, ustc, sjtu, nju, aliyun, tencent, huawei, official); a
                          comma list of names to choose among; or a mirror's https:// URL
  --budget-ms N           the most time auto selection may take (default 3000)
  --fresh                 probe even if a ranking from the last hour is cached
  --requirements FILE     pip requirements file(s) the job installs (repeatable): rank mirrors by the
                          time those downloads will take (default: a PyTorch CI job's wheels)
  --mirror-file FILE      JSON/YAML file of your own mirrors; name them with --mirror
  --targets LIST          pip,uv,conda,docker,containerd,podman,buildkit (default: pip,uv,conda)
  --registry-mirror [REGISTRY=]URL
                          a registry mirror for the engines (repeatable): REGISTRY is the one it serves
                          (default docker.io; nvcr.io, ghcr.io…), URL a registry root or the path prefix
                          images are pulled under (a Harbor proxy project: https://harbor.corp/hub-proxy);
                          Docker takes Docker Hub roots only
  --docker-mirror URL     Docker Hub registry mirror root (repeatable; = --registry-mirror docker.io=URL)
  --docker-config PATH    daemon.json to edit (default: /etc/docker/daemon.json)
  --containerd-dir DIR    where the hosts.toml files go (default: config.toml's config_path, else
                          /etc/containerd/certs.d)
  --podman-config PATH    the registries.conf.d drop-in to write (default:
                          /etc/containers/registries.conf.d/50-tuna-setup.conf; rootless: under ~/.config)
  --buildkit-config PATH  buildkitd.toml to edit (default: /etc/buildkit/buildkitd.toml; rootless: ~/.config)
  --pip-config PATH, --uv-config PATH, --conda-config PATH
                          write these files instead of the per-user ones
  --reload-docker         make a running dockerd re-read daemon.json (SIGHUP / systemctl reload)
  --docker-pidfile PATH   dockerd's pid file for --reload-docker (default: /var/run/docker.pid)
  --allow-http            accept http:// mirrors (adds pip trusted-host / uv allow-insecure-host)
  --replace-index         replace an index-url that is not a known public index
  --state-dir DIR         journal location (default: $XDG_STATE_HOME/tuna-setup)
  --session NAME          whose apply this is (default cli): parallel jobs on one HOME each use their own,
                          and 'restore --session NAME' takes back only theirs (see 'restore')
  --dry-run               print the diffs, write nothing
  --json                  one JSON object on stdout`;

export async function apply(args: string[]): Promise<number> {
  const { values: v } = parse(args, {
    mirror: { type: 'string', default: 'auto' },
    'mirror-file': { type: 'string' },
    targets: { type: 'string', default: 'pip,uv,conda' },
    'docker-mirror': { type: 'string', multiple: true },
    'registry-mirror': { type: 'string', multiple: true },
    'docker-config': { type: 'string' },
    'containerd-dir': { type: 'string' },
    'podman-config': { type: 'string' },
    'buildkit-config': { type: 'string' },
    'pip-config': { type: 'string' },
    'uv-config': { type: 'string' },
    'conda-config': { type: 'string' },
    'reload-docker': { type: 'boolean' },
    'docker-pidfile': { type: 'string' },
    'allow-http': { type: 'boolean' },
    'replace-index': { type: 'boolean' },
    'state-dir': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'budget-ms': { type: 'string' },
    fresh: { type: 'boolean' },
    requirements: { type: 'string', multiple: true },
    session: { type: 'string' },
  });
  if (v.help) return printUsage(usage, v.json);
  const targets = parseTargets(v.targets);
  const per = {
    pip: 'pip-config',
    uv: 'uv-config',
    conda: 'conda-config',
    containerd: 'containerd-dir',
    podman: 'podman-config',
    buildkit: 'buildkit-config',
  } as const;
  for (const [t, flag] of Object.entries(per)) if (!targets.includes(t as Target)) refuseIgnored(v, [flag], `with ${t} in --targets`);
  if (!targets.includes('docker')) refuseIgnored(v, ['docker-config', 'reload-docker', 'docker-pidfile'], 'with docker in --targets');
  if (!targets.some((t) => ENGINE_TARGETS.includes(t)))
    refuseIgnored(v, ['docker-mirror', 'registry-mirror'], 'with docker, containerd, podman or buildkit in --targets');
  if (!v['reload-docker']) refuseIgnored(v, ['docker-pidfile'], 'with --reload-docker');
  if (v.mirror !== 'auto' && !v.mirror.includes(','))
    refuseIgnored(v, ['budget-ms', 'fresh', 'requirements'], 'when --mirror is auto or a list to choose among');
  if (v['dry-run']) refuseIgnored(v, ['reload-docker'], 'when files are written (not with --dry-run)');
  const allowHttp = v['allow-http'] ?? false;
  const extra = v['mirror-file'] ? loadMirrorFile(v['mirror-file'], { allowHttp }) : [];
  const paths: Partial<Record<Target, string>> = {};
  if (v['pip-config']) paths.pip = v['pip-config'];
  if (v['uv-config']) paths.uv = v['uv-config'];
  if (v['conda-config']) paths.conda = v['conda-config'];
  if (v['docker-config']) paths.docker = v['docker-config'];
  if (v['containerd-dir']) paths.containerd = v['containerd-dir'];
  if (v['podman-config']) paths.podman = v['podman-config'];
  if (v['buildkit-config']) paths.buildkit = v['buildkit-config'];

  const stateDir = v['state-dir'] ?? defaultStateDir();
  const budgetMs = v['budget-ms'] === undefined ? undefined : positiveInt(v['budget-ms'], '--budget-ms');
  const workload = v.requirements?.length ? await workloadFromFiles(v.requirements) : undefined;
  const { mirror, selections, warnings } = await chooseMirror({
    spec: v.mirror,
    targets,
    extra,
    allowHttp,
    stateDir,
    ...(budgetMs ? { budgetMs } : {}),
    ...(v.fresh ? { fresh: true } : {}),
    ...(workload ? { workload } : {}),
  });
  for (const w of warnings) process.stderr.write(`tuna-setup: warning: ${w}\n`);
  const result = await applyMirror({
    mirror,
    targets,
    stateDir,
    dockerMirrors: v['docker-mirror'] ?? [],
    registryMirrors: v['registry-mirror'] ?? [],
    paths,
    allowHttp,
    replaceIndex: v['replace-index'] ?? false,
    extraMirrors: extra,
    dryRun: v['dry-run'] ?? false,
    reloadDocker: v['reload-docker'] ?? false,
    ...(v['docker-pidfile'] ? { dockerPidFile: v['docker-pidfile'] } : {}),
    ...(v.session !== undefined ? { session: v.session } : {}),
  });
  const { plan } = result;
  if (v.json) {
    printJson({
      mirror: plan.mirror,
      dryRun: result.dryRun,
      ...(selections.length ? { selection: selections } : {}),
      warnings,
      changes: plan.changes.map((c) => ({ target: c.target, path: c.path, action: c.action, ...(c.diff ? { diff: c.diff } : {}) })),
      env: plan.env,
      notes: plan.notes,
      ...(result.reload ? { reload: result.reload } : {}),
    });
    return 0;
  }
  for (const r of selections) for (const line of formatRanking(r)) say(line);
  say(`mirror: ${plan.mirror.name} (${plan.mirror.url})${result.dryRun ? ' — dry run, nothing written' : ''}`);
  for (const c of plan.changes) say(`  ${c.target.padEnd(10)} ${c.action.padEnd(10)} ${c.path}`);
  if (result.dryRun) for (const c of plan.changes) if (c.diff) say(`\n${c.diff.trimEnd()}`);
  for (const n of plan.notes) say(`note: ${n}`);
  if (result.reload) say(`docker: reloaded (${result.reload.detail})`);
  else if (plan.changes.some((c) => c.target === 'docker' && c.action !== 'unchanged') && !result.dryRun) {
    say('docker: daemon.json changed; a running dockerd reads it on reload (--reload-docker, or systemctl reload docker)');
  }
  say('instead of files, a CI step can export:');
  for (const [k, val] of Object.entries(plan.env)) say(`  ${k}=${val}`);
  return 0;
}
