/** `tuna-setup run`: find or pull the image (resolved, or given) and run a command in it with the GPUs; the exit code is the command's. */
import { TunaSetupError, resolveEnvironment, runInContainer } from '@tuna-setup/sdk';
import { jobEnvironment, parseGpus, parsePublish, parsePullPolicy, parseRunImage, parseVolume, renderEnvFile, resolveWorkdir } from '@tuna-setup/sdk/docker';
import { parseRegistryMirror, pullThrough } from '@tuna-setup/sdk/registry';
import { parse, refuseIgnored } from '../args.js';
import { printJson, UsageError, printUsage } from '../output.js';
import { resolveFlags, resolveRequest } from './resolve.js';

export const usage = `tuna-setup run [options] -- CMD [ARG...]
  Run CMD inside an image with the GPUs attached, the work directory mounted at /workspace;
  exits with CMD's exit code (128 + the signal's number when a signal stops it: 130 for Ctrl-C).

  --image REF|auto        the image: [registry/]name[:tag], optionally pinned @sha256:<64 hex>
                          (default auto: resolved like 'resolve', with its flags:
                          --torch --cuda --driver --gpu-cc --python --source --flavor
                          --offline --sysroot)
  --registry-mirror [REGISTRY=]URL
                          pull the image (resolved or given) through this mirror of its registry
                          (repeatable; REGISTRY defaults to docker.io; a registry root or a path
                          prefix such as a Harbor proxy project: harbor.corp/dockerhub-proxy)
  --allow-http            accept an http:// --registry-mirror (dockerd must list it in insecure-registries)
  --pull missing|always|never
                          missing (default): use the image on this machine when it has the tag
                          (or, pinned, the digest), pull it otherwise; always: pull first;
                          never: only a local image (air-gapped machines), else exit 1 naming it
  --gpus all|none|N       GPUs for the container (default all)
  --env K=V               a variable for CMD (repeatable); it reaches only the container, through
                          a private env file: never docker's argv nor docker's own environment.
                          One line each: a value with a line break is refused (mount a file
                          with --volume instead)
  --workdir DIR           an existing directory, mounted at /workspace (default: the current directory)
  --volume SRC:DST[:ro]   also mount SRC (an existing host path) at DST (absolute) in the container;
                          repeatable; SRC is never created, nor handed to another owner
  --publish [IP:]HOST:CONTAINER[/tcp|/udp]
                          publish a container port on the host, e.g. 8888:8888 or
                          127.0.0.1:8888:8888 (repeatable)
  --interactive           keep stdin open for CMD, with a TTY when stdin is a terminal
                          (for a shell or a notebook at a desk)
  --json                  CMD's stdout goes to stderr; stdout carries one object at the end:
                          {"image","digest"?,"exitCode","seconds","signal"?,"pulled"} — digest: the
                          image's registry digest (sha256:…) when it has one; seconds: how long CMD
                          ran; signal: the one that stopped it (e.g. "SIGINT"); pulled: false when
                          the image was already on this machine`;

export async function run(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const { values: v } = parse(dash === -1 ? args : args.slice(0, dash), {
    ...resolveFlags,
    image: { type: 'string', default: 'auto' },
    pull: { type: 'string', default: 'missing' },
    gpus: { type: 'string', default: 'all' },
    env: { type: 'string', multiple: true },
    workdir: { type: 'string' },
    volume: { type: 'string', multiple: true },
    publish: { type: 'string', multiple: true },
    interactive: { type: 'boolean' },
    'allow-http': { type: 'boolean' },
  });
  if (v.help) return printUsage(usage, v.json);
  const command = dash === -1 ? [] : args.slice(dash + 1);
  if (command.length === 0) throw new UsageError('give the command after --, e.g. tuna-setup run -- python -c "import torch"');
  // every value is checked before anything is resolved, pulled or run (a bad one: exit 2)
  if (!v['registry-mirror']?.length) refuseIgnored(v, ['allow-http'], 'with an http:// --registry-mirror');
  const pull = parsePullPolicy(v.pull);
  const gpus = parseGpus(v.gpus);
  if (v.image !== 'auto') {
    parseRunImage(v.image);
    // the resolve flags choose an image; with one given they would be ignored (--sysroot still serves the preflight)
    refuseIgnored(
      v,
      Object.keys(resolveFlags).filter((f) => f !== 'sysroot' && f !== 'registry-mirror'),
      'with --image auto (they choose the image)',
    );
  }
  const env: Record<string, string> = {};
  for (const kv of v.env ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`--env '${kv.split('=')[0]}…' is not NAME=VALUE`, 'names are letters, digits and _, not starting with a digit');
    env[m[1]!] = m[2]!;
  }
  renderEnvFile(env);
  const workspace = resolveWorkdir(v.workdir ?? process.cwd());
  const volumes = (v.volume ?? []).map((spec) => parseVolume(spec));
  const publish = (v.publish ?? []).map((spec) => parsePublish(spec));

  const resolved = v.image === 'auto' ? await resolveEnvironment(resolveRequest(v)) : undefined;
  if (resolved && resolved.image === null) throw new TunaSetupError('UNRESOLVABLE', 'no image to run in', resolved.imageProblem ?? 'give one with {image}');
  const given = v['registry-mirror']?.length
    ? pullThrough(
        v.image,
        v['registry-mirror'].map((m) => parseRegistryMirror(m, '--registry-mirror', { allowHttp: v['allow-http'] === true })),
      )
    : v.image;
  const image = resolved?.image ?? given;
  if (resolved) process.stderr.write(`tuna-setup: ${image} (${resolved.variant}${resolved.digest ? `, ${resolved.digest}` : ''})\n`);

  const log = (l: string) => process.stderr.write(`tuna-setup: ${l}\n`);
  // what the Action's job gets too: the mirror pip and uv were pointed at, the resolved torch index; --env wins
  const job = jobEnvironment(resolved ? { torchIndexUrl: resolved.torchIndexUrl } : {});
  const result = await runInContainer(
    {
      image,
      command,
      gpus,
      name: `tuna-setup-run-${process.pid}`,
      workspace,
      env: { ...job.env, ...env },
      volumes,
      publish,
      interactive: v.interactive ?? false,
    },
    {
      pull,
      imageCuda: resolved?.imageCuda ?? null,
      requiresNativeCuda: (v.source ?? 'pytorch') !== 'pytorch',
      ...(v.sysroot ? { sysroot: v.sysroot } : {}),
      ...(v.json ? { stdout: 'stderr' as const } : {}),
      log,
      warn: (l) => log(`warning: ${l}`),
    },
  );
  if (v.json) {
    const digest = result.digest ?? resolved?.digest ?? undefined;
    printJson({
      image,
      ...(digest ? { digest } : {}),
      exitCode: result.exitCode,
      seconds: Math.round(result.seconds * 1000) / 1000,
      ...(result.signal ? { signal: result.signal } : {}),
      pulled: result.pulled,
    });
  }
  return result.exitCode;
}
