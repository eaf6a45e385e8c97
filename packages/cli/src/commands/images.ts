/** `tuna-setup images plan|sync`: the images a fleet needs, and copying them into an internal registry. */
import { readFileBounded } from '@tuna-setup/sdk/fs';
import { parseRegistryMirror, syncImages, type SyncEvent } from '@tuna-setup/sdk/registry';
import { checkPlan, parseMachine, planImages, type ImageFlavor, type ImagePlan, type ImageSource } from '@tuna-setup/sdk/torch';
import { parse, positiveInt, refuseIgnored } from '../args.js';
import { printJson, printUsage, say, UsageError } from '../output.js';

export const usage = `tuna-setup images plan [options]
  The images a fleet needs: every torch version × machine × source × flavor, resolved as
  'resolve' would on that machine (offline, from the tables); distinct images, what each serves,
  and the combinations that have none.

  --torch LIST            torch versions, comma list (latest, X.Y or X.Y.Z; default latest)
  --machine DRIVER[:CC,…] a kind of machine: its driver and its GPUs' compute capabilities, e.g.
                          570.172.08:8.6,9.0; none: no GPU (repeatable, at least one)
  --source LIST           pytorch (default), ngc, cuda — comma list
  --flavor LIST           runtime (default), devel — comma list
  --check                 check every image's tag in its registry (or through --registry-mirror):
                          existing ones get their digest, missing ones move to "unresolved" with
                          the nearest tag — so a sync of the plan meets no missing tag
  --registry-mirror [REGISTRY=]URL
                          with --check: check through this mirror of its registry (repeatable)
  --allow-http            with --check: accept an http:// --registry-mirror
  --json                  {"images":[{"image","torch","variant","digest"?,"for":[…]}],"unresolved":[…]}

tuna-setup images sync --to REGISTRY[/PREFIX] [IMAGE…] [--plan FILE|-]
  Copy images — every platform, byte for byte, so their digests stay the same — into a
  registry you run (Harbor, Nexus, distribution): an image lands at REGISTRY/PREFIX/<its
  repository>:<its tag>. What is already there is skipped by digest (a second sync copies no
  blob; an interrupted one resumes); blobs another repository there has are mounted, not sent.
  Logins come from Docker's config.json (docker login; credential helpers too). Progress on
  stderr; the digests on stdout, to pin.

  --to REGISTRY[/PREFIX]  where to copy, e.g. harbor.corp/pytorch
  --plan FILE|-           take the images from the JSON of 'images plan --json' (- : stdin)
  --concurrency N         blobs copied at once (default 4)
  --allow-http            talk plain http to a non-loopback registry (traffic can be altered)
  --json                  {"images":[{"source","target","digest","platforms","skipped","blobs",
                          "bytes"}],"requests","seconds"}`;

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export async function images(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'plan') return plan(rest);
  if (sub === 'sync') return sync(rest);
  if (sub === undefined || sub === '--help' || sub === '-h') return printUsage(usage, rest.includes('--json'));
  if (sub === '--json') return printUsage(usage, true);
  throw new UsageError(`unknown images command '${sub}' (plan, sync)`);
}

async function plan(args: string[]): Promise<number> {
  const { values: v } = parse(args, {
    torch: { type: 'string' },
    machine: { type: 'string', multiple: true },
    source: { type: 'string' },
    flavor: { type: 'string' },
    check: { type: 'boolean' },
    'registry-mirror': { type: 'string', multiple: true },
    'allow-http': { type: 'boolean' },
  });
  if (v.help) return printUsage(usage, v.json);
  if (!v.check) refuseIgnored(v, ['registry-mirror', 'allow-http'], 'with --check');
  const mirrors = (v['registry-mirror'] ?? []).map((m) => parseRegistryMirror(m, '--registry-mirror', { allowHttp: v['allow-http'] === true }));
  if (!v.machine?.length) throw new UsageError('give at least one --machine (DRIVER[:CC,…] or none)');
  const planned = planImages({
    torch: list(v.torch ?? 'latest'),
    machines: v.machine.map((m) => parseMachine(m, '--machine')),
    // the SDK checks them (a usage error naming --source / --flavor)
    sources: list(v.source) as ImageSource[],
    flavors: list(v.flavor) as ImageFlavor[],
  });
  const result = v.check ? await checkPlan(planned, { mirrors }) : planned;
  if (v.json) return (printJson(result), 0);
  for (const i of result.images)
    say(`${i.image}${i.digest ? `@${i.digest}` : ''}   (torch ${i.torch} ${i.variant}; ${i.for.length} combination${i.for.length > 1 ? 's' : ''})`);
  for (const u of result.unresolved)
    say(`none: torch ${u.torch}, driver ${u.driver ?? 'none'}${u.gpus.length ? ` (${u.gpus.join(',')})` : ''}, ${u.source} ${u.flavor} — ${u.problem}`);
  return 0;
}

const MAX_PLAN_BYTES = 16 * 1024 * 1024;

function imagesFromPlan(file: string): string[] {
  let data: Partial<ImagePlan>;
  try {
    data = JSON.parse(readFileBounded(file, MAX_PLAN_BYTES).toString('utf8')) as Partial<ImagePlan>;
  } catch (e) {
    throw new UsageError(`--plan ${file}: ${(e as Error).message}`, "give the JSON that 'tuna-setup images plan --json' prints");
  }
  if (!Array.isArray(data.images) || data.images.some((i) => typeof i?.image !== 'string'))
    throw new UsageError(`--plan ${file}: no "images":[{"image":…}] in it`, "give the JSON that 'tuna-setup images plan --json' prints");
  return data.images.map((i) => i.image);
}

async function sync(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    args,
    {
      to: { type: 'string' },
      plan: { type: 'string' },
      concurrency: { type: 'string' },
      'allow-http': { type: 'boolean' },
    },
    { allowPositionals: true },
  );
  if (v.help) return printUsage(usage, v.json);
  if (!v.to) throw new UsageError('give --to REGISTRY[/PREFIX], e.g. --to harbor.corp/pytorch');
  const refs = [...positionals, ...(v.plan ? imagesFromPlan(v.plan) : [])];
  if (refs.length === 0) throw new UsageError('name the images to sync, or give --plan FILE (the JSON of images plan)');
  const progress = (e: SyncEvent) => {
    if (e.type === 'image') process.stderr.write(`tuna-setup: [${e.index}/${e.total}] ${e.source} → ${e.target}\n`);
    if (e.type === 'blob' && e.how !== 'present') process.stderr.write(`tuna-setup:   ${e.digest.slice(0, 19)}… ${mib(e.size)} ${e.how}\n`);
    if (e.type === 'done') process.stderr.write(`tuna-setup:   ${e.skipped ? 'already there' : 'done'}: ${e.digest}\n`);
  };
  // Ctrl-C stops the copy cleanly (every socket closed); a sync run again resumes
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report = await syncImages({
    images: refs,
    to: v.to,
    ...(v.concurrency ? { concurrency: positiveInt(v.concurrency, '--concurrency') } : {}),
    ...(v['allow-http'] ? { allowHttp: true } : {}),
    onProgress: progress,
    signal: stop.signal,
  }).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  if (v.json) return (printJson(report), 0);
  for (const i of report.images) say(`${i.target}@${i.digest}`);
  const copied = report.images.reduce((n, i) => n + i.blobs.copied, 0);
  process.stderr.write(
    `tuna-setup: ${report.images.length} image${report.images.length > 1 ? 's' : ''}, ${copied} blob${copied === 1 ? '' : 's'} copied (${mib(report.images.reduce((n, i) => n + i.bytes, 0))}) in ${report.seconds} s\n`,
  );
  return 0;
}
