/** `tuna-setup run`: pull the image (resolved, or given) and run a command in it with the GPUs; the exit code is the command's. */
import {
  detectGpu, inspectDocker, TunaSetupError, parseGpus, preflight, pullImage, removeContainer, resolveEnvironment, restoreWorkspaceOwner, runJob,
} from '@tuna-setup/sdk';
import { parse } from '../args.js';
import { say, UsageError } from '../output.js';
import { resolveFlags, resolveRequest } from './resolve.js';

export const usage = `tuna-setup run [options] -- CMD [ARG...]
  Run CMD inside an image with the GPUs attached, the work directory mounted at /workspace;
  exits with CMD's exit code.

  --image REF|auto        the image (default auto: resolved like 'resolve', with its flags:
                          --torch --cuda --driver --gpu-cc --python --source --flavor
                          --registry-mirror --offline --sysroot)
  --gpus all|none|N       GPUs for the container (default all)
  --env K=V               a variable for CMD (repeatable; the value never appears in docker's argv)
  --workdir DIR           mounted at /workspace (default: the current directory)`;

export async function run(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const { values: v } = parse(dash === -1 ? args : args.slice(0, dash), {
    ...resolveFlags,
    image: { type: 'string', default: 'auto' },
    gpus: { type: 'string', default: 'all' },
    env: { type: 'string', multiple: true },
    workdir: { type: 'string' },
  });
  if (v.help) return say(usage), 0;
  const command = dash === -1 ? [] : args.slice(dash + 1);
  if (command.length === 0) throw new UsageError('give the command after --, e.g. tuna-setup run -- python -c "import torch"');
  const gpus = parseGpus(v.gpus);
  const env: Record<string, string> = {};
  for (const kv of v.env ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`--env '${kv}' is not NAME=VALUE`);
    env[m[1]!] = m[2]!;
  }
  const resolved = v.image === 'auto' ? await resolveEnvironment(resolveRequest(v)) : undefined;
  const image = resolved?.image ?? v.image;
  if (resolved) process.stderr.write(`tuna-setup: ${image} (${resolved.variant}${resolved.digest ? `, ${resolved.digest}` : ''})\n`);

  const [docker, gpu] = await Promise.all([inspectDocker(), gpus === 'none' ? undefined : detectGpu(v.sysroot ? { sysroot: v.sysroot } : {})]);
  const problems = preflight({ docker, gpus, driverCuda: gpu?.cudaMax ?? null, imageCuda: resolved?.imageCuda ?? null, requiresNativeCuda: (v.source ?? 'pytorch') !== 'pytorch' });
  if (problems.length) throw new TunaSetupError('RUN_FAILED', `cannot run in ${image}: ${problems.join('; ')}`, 'fix the above, or pass --gpus none for a CPU-only run');
  await pullImage(image, { log: (l) => process.stderr.write(`tuna-setup: ${l}\n`) });
  const name = `tuna-setup-run-${process.pid}`;
  const stop = () => { void removeContainer(name); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const workspace = v.workdir ?? process.cwd();
  const code = await runJob({ image, command, gpus, name, workspace, env });
  await restoreWorkspaceOwner(image, workspace).catch((e: Error) => process.stderr.write(`tuna-setup: warning: ${e.message}\n`));
  return code;
}
