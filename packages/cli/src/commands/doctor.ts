/** `tuna-setup doctor`: what this machine has (driver, GPUs, Docker, current mirrors). */
import { doctor as runDoctor } from '@tuna-setup/sdk';
import { parse } from '../args.js';
import { printJson, say, printUsage } from '../output.js';

export const usage = `tuna-setup doctor [options]
  Report the OS, NVIDIA driver and GPUs, Docker and its NVIDIA runtime, and current mirror settings.

  --sysroot DIR   read DIR/proc/driver/nvidia/version and DIR/sys/module/nvidia/version (a container with the host mounted)
  --json          one JSON object on stdout`;

export async function doctor(args: string[]): Promise<number> {
  const { values: v } = parse(args, { sysroot: { type: 'string' } });
  if (v.help) return printUsage(usage, v.json);
  const r = await runDoctor(v.sysroot ? { sysroot: v.sysroot } : {});
  if (v.json) return (printJson(r), 0);
  say(`os:      ${r.os.platform} ${r.os.arch} (${r.os.release})`);
  say(r.gpu.driver ? `driver:  ${r.gpu.driver} (from ${r.gpu.driverSource}; runs CUDA ≤ ${r.gpu.cudaMax ?? 'unknown'})` : 'driver:  none (CPU only)');
  for (const g of r.gpu.gpus) say(`gpu:     ${g.name}, compute capability ${g.computeCapability ?? 'unknown'}, ${g.memoryMiB ?? '?'} MiB`);
  for (const n of r.gpu.notes) say(`         note: ${n}`);
  say(
    r.docker.available
      ? `docker:  ${r.docker.serverVersion}; runtimes: ${r.docker.runtimes.join(', ') || 'none'}; ${
          r.docker.nvidiaHook
            ? `--gpus through ${r.docker.nvidiaHook}`
            : r.docker.nvidiaRuntime || r.docker.cdiSpecDirs.length
              ? 'GPUs through the nvidia runtime or CDI'
              : 'no GPU containers: install the NVIDIA Container Toolkit (nvidia-container-toolkit)'
        }`
      : `docker:  unavailable (${r.docker.error})`,
  );
  say('mirrors now:');
  for (const [target, c] of Object.entries(r.configs)) {
    say(`  ${target.padEnd(10)} ${c.error ? `unreadable: ${c.error}` : c.urls.length ? c.urls.join(', ') : 'default (not set)'}  [${c.path}]`);
  }
  return 0;
}
