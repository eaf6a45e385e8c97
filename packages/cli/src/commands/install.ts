/** `tuna-setup install`: install the resolved torch (and the user's packages) into a Python, then prove it imports with kernels for every GPU. */
import { inWords, installTorch } from '@tuna-setup/sdk';
import { INSTALLERS, type Installer } from '@tuna-setup/sdk/torch';
import { parse } from '../args.js';
import { printJson, printUsage, say, UsageError } from '../output.js';
import { resolveFlags, wheelFlags, wheelsRequest } from './resolve.js';

export const usage = `tuna-setup install [PKG...] [options] [-- INSTALLER_ARGS...]
  Install torch, torchvision (and torchaudio where it has a release) as 'resolve' picks them, with
  pip — or uv when it is on PATH — into a Python; PKG... come from the index you already use, with
  the trio held. Then import torch there and check its version, CUDA, kernels for every GPU
  (torch.cuda.get_arch_list()) and that it sees this machine's GPUs: a mismatch exits 1 saying why.

  --python PATH           the interpreter to install into (default python3: a virtual environment's
                          bin/python is best); its version and platform choose the wheels
  --installer auto|pip|uv auto (default): uv when it is on PATH, else PATH's pip for that Python
  --no-verify             install only; do not import torch afterwards
  the resolve flags:      --torch --cuda --driver --gpu-cc --wheels --mirror --wheel-mirror --fresh
                          --allow-http --state-dir --offline --sysroot (see resolve)
  -- INSTALLER_ARGS       passed to pip/uv (e.g. --no-cache-dir, --pre); an index option is refused
  --json                  the installer's output goes to stderr; stdout carries one object:
                          {"torch","torchvision","torchaudio","variant","cuda","wheelSource","torchIndexUrl",
                           "python":{"executable","version","system","machine"},"installer","commands",
                           "verified":{"torch","cuda","arches","cudaAvailable","devices",...}|null,
                           "seconds":{"install","verify"},"reasons","warnings"}`;

export async function install(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  // the interpreter decides the Python version and platform; no image is involved
  const { python: _version, platform: _platform, source: _s, flavor: _f, 'registry-mirror': _r, ...flags } = resolveFlags;
  const { values: v, positionals } = parse(
    dash === -1 ? args : args.slice(0, dash),
    {
      ...flags,
      ...wheelFlags,
      python: { type: 'string' },
      installer: { type: 'string' },
      'no-verify': { type: 'boolean' },
    },
    { allowPositionals: true },
  );
  if (v.help) return printUsage(usage, v.json);
  const installer = v.installer ?? 'auto';
  if (!(INSTALLERS as readonly string[]).includes(installer)) throw new UsageError(`--installer '${installer}' is not one of ${INSTALLERS.join(', ')}`);
  const { python, ...resolveValues } = v;
  const { request, reason } = await wheelsRequest(resolveValues);
  const report = await installTorch({
    ...request,
    checkImage: false,
    ...(python ? { interpreter: python } : {}),
    packages: positionals,
    installerArgs: dash === -1 ? [] : args.slice(dash + 1),
    installer: installer as Installer,
    ...(v['no-verify'] ? { verify: false } : {}),
    onOutput: (text) => process.stderr.write(text),
  });
  const env = report.environment;
  if (reason) env.reasons.push(reason);
  for (const w of env.warnings) process.stderr.write(`tuna-setup: warning: ${w}\n`);
  const reasons = env.reasons.map((r) => inWords(r, 'cli'));
  if (v.json) {
    const { executable, version, system, machine } = report.python;
    printJson({
      torch: env.torch,
      torchvision: env.torchvision,
      torchaudio: env.torchaudio,
      variant: env.variant,
      cuda: env.cuda,
      wheelSource: env.wheelSource,
      torchIndexUrl: env.torchIndexUrl,
      python: { executable, version, system, machine },
      installer: report.installer,
      commands: report.commands,
      verified: report.verified,
      seconds: report.seconds,
      reasons,
      warnings: env.warnings,
    });
    return 0;
  }
  say(
    `installed: torch ${env.torch}, torchvision ${env.torchvision}${env.torchaudio ? `, torchaudio ${env.torchaudio}` : ''} (${env.variant}) into ${report.python.executable}`,
  );
  say(`from:      ${env.torchIndexUrl} (${env.wheelSource}), with ${report.installer}, in ${report.seconds.install.toFixed(1)} s`);
  const seen = report.verified;
  say(
    seen
      ? `verified:  torch ${seen.torch}, CUDA ${seen.cuda ?? 'none (CPU build)'}${seen.arches.length ? `, kernels ${seen.arches.join(' ')}` : ''}${seen.devices.length ? `; sees ${seen.devices.map((d) => `${d.name} (${d.capability})`).join(', ')}` : ''}`
      : 'verified:  no (--no-verify)',
  );
  say('why:');
  for (const r of reasons) say(`  - ${r}`);
  return 0;
}
