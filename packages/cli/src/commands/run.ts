/** `tuna-setup run`: pull the image (resolved, or given) and run a command in it with the GPUs; the exit code is the command's. */
import { parseGpus, resolveEnvironment, runInContainer } from '@tuna-setup/sdk';
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

  const log = (l: string) => process.stderr.write(`tuna-setup: ${l}\n`);
  const { exitCode } = await runInContainer(
    { image, command, gpus, name: `tuna-setup-run-${process.pid}`, workspace: v.workdir ?? process.cwd(), env },
    { imageCuda: resolved?.imageCuda ?? null, requiresNativeCuda: (v.source ?? 'pytorch') !== 'pytorch', ...(v.sysroot ? { sysroot: v.sysroot } : {}), log, warn: (l) => log(`warning: ${l}`) },
  );
  return exitCode;
}
