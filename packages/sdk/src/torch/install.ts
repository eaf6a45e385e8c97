/**
 * Install the resolved PyTorch into a Python, then prove it: the `install`
 * use case for every front end.
 *
 * 1. Ask the interpreter what it is (CPython X.Y, free-threaded or not, OS
 *    and machine): the resolution checks the release has wheels for it.
 * 2. Resolve (resolveEnvironment): the variant and where the wheels come from.
 * 3. Install torch, torchvision (and torchaudio where it has a release) from
 *    that index alone, with pip — or uv when it is on PATH. The user's other
 *    packages come from the index the user already configured, with the
 *    trio pinned by a constraints file, so no index is ever mixed into
 *    another (when the trio comes from the PyPI mirror, it is one command).
 * 4. Import torch in that interpreter and check what was installed:
 *    version and variant, `torch.version.cuda`, kernels for every GPU
 *    (`torch.cuda.get_arch_list()`), and that torch sees the GPUs this
 *    machine has. light-the-torch and uv's `--torch-backend` pick a variant
 *    but never check the kernels (uv #14742: a GTX 1080 Ti gets cu128, which
 *    has no sm_61); this does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';
import { exec, type ExecResult } from '../exec.js';
import { machinePlatform, resolveEnvironment, type Environment, type EnvironmentRequest } from './environment.js';
import { platformOf, type TorchPlatform } from './platforms.js';
import { archCovers } from './releases.js';

/** Which tool installs the wheels: `auto` takes uv when it is on PATH, else pip. */
export type Installer = 'auto' | 'pip' | 'uv';
/** Every `Installer`, as a list. */
export const INSTALLERS: readonly Installer[] = ['auto', 'pip', 'uv'];

/** What `installTorch` installs and into which interpreter: the resolution's inputs, plus installer settings. */
export interface InstallRequest extends Omit<EnvironmentRequest, 'python'> {
  /** the interpreter to install into: a path or a command on PATH (default python3) */
  interpreter?: string;
  /** more requirements to install beside the trio, from the user's own index ("numpy<2", "-r"-style lines are not taken) */
  packages?: readonly string[];
  /** more arguments for the installer (`--no-cache-dir`, `--pre`); an index option is refused: the index is chosen */
  installerArgs?: readonly string[];
  /** auto (default): uv when it is on PATH, else pip */
  installer?: Installer;
  /** import torch afterwards and check it (default true) */
  verify?: boolean;
  /** the environment of the installer and interpreter (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** the installer's output as it comes (pip's progress) */
  onOutput?: (text: string) => void;
  /** per installer command (default 60 min) */
  timeoutMs?: number;
}

/** What `probePython` found the interpreter to be. */
export interface PythonInfo {
  /** the interpreter as given */
  interpreter: string;
  executable: string;
  /** "3.12", "3.13t" (free-threaded) */
  version: string;
  /** sys.platform: linux, darwin, win32 */
  system: string;
  /** platform.machine(): x86_64, aarch64, arm64, AMD64 */
  machine: string;
  /** the wheels it takes; undefined: one PyTorch publishes none for */
  platform: TorchPlatform | undefined;
}

/** What importing torch in the interpreter showed after the install; torchvision/torchaudio null when they do not import. */
export interface InstalledTorch {
  torch: string;
  /** torch.version.cuda; null: a CPU build */
  cuda: string | null;
  /** torch.cuda.get_arch_list() (sm_XY, compute_XY) */
  arches: string[];
  cudaAvailable: boolean;
  /** what torch sees: name and compute capability of each device */
  devices: { name: string; capability: string }[];
  torchvision: string | null;
  torchaudio: string | null;
}

/** What `installTorch` did: the resolution, the interpreter, the commands it ran and what importing torch showed. */
export interface InstallReport {
  environment: Environment;
  python: PythonInfo;
  installer: 'pip' | 'uv';
  /** every command run, as argv */
  commands: string[][];
  /** null when verification was turned off */
  verified: InstalledTorch | null;
  /** wall time of the installs and of the check */
  seconds: { install: number; verify: number };
}

const PROBE = `import json, platform, sys, sysconfig
ft = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
print(json.dumps({"executable": sys.executable, "version": "%d.%d%s" % (sys.version_info[0], sys.version_info[1], ft),
  "implementation": sys.implementation.name, "system": sys.platform, "machine": platform.machine()}))`;

/** What the interpreter is. NO_PYTHON when it does not run or is not CPython. */
export async function probePython(interpreter = 'python3', env: NodeJS.ProcessEnv = process.env): Promise<PythonInfo> {
  const r = await exec([interpreter, '-c', PROBE], { env, timeoutMs: 30_000 });
  if (r.code === 127)
    throw new TunaSetupError(
      'NO_PYTHON',
      `Python '${interpreter}' was not found`,
      "give the interpreter to install into with {interpreter=PATH} (a virtual environment's bin/python)",
    );
  const info = r.code === 0 ? lastJson(r.stdout) : undefined;
  if (!info || typeof info.version !== 'string') {
    throw new TunaSetupError(
      'NO_PYTHON',
      `Python '${interpreter}' did not run (exit ${r.code}): ${firstLine(r.stderr || r.stdout)}`,
      'give a working CPython 3 with {interpreter=PATH}',
    );
  }
  if (info.implementation !== 'cpython') {
    throw new TunaSetupError(
      'NO_PYTHON',
      `'${interpreter}' is ${String(info.implementation)}: PyTorch publishes wheels for CPython only`,
      'give a CPython interpreter with {interpreter=PATH}',
    );
  }
  const [system, machine] = [String(info.system), String(info.machine)];
  return { interpreter, executable: String(info.executable), version: info.version, system, machine, platform: platformOf(system, machine) };
}

const VERIFY = `import json, sys
out = {}
try:
    import torch
except Exception as e:
    print(json.dumps({"error": "import torch failed: %s: %s" % (type(e).__name__, e)}))
    sys.exit(0)
out["torch"] = torch.__version__
out["cuda"] = getattr(torch.version, "cuda", None)
try:
    out["cudaAvailable"] = bool(torch.cuda.is_available())
except Exception:
    out["cudaAvailable"] = False
arches = []
try:
    arches = list(torch.cuda.get_arch_list())
except Exception:
    pass
if not arches:
    # get_arch_list() is empty while CUDA is unavailable; the build's own list is still there
    try:
        arches = (torch._C._cuda_getArchFlags() or "").split()
    except Exception:
        pass
out["arches"] = arches
out["devices"] = []
if out["cudaAvailable"]:
    for i in range(torch.cuda.device_count()):
        out["devices"].append({"name": torch.cuda.get_device_name(i), "capability": "%d.%d" % torch.cuda.get_device_capability(i)})
for name in ("torchvision", "torchaudio"):
    try:
        out[name] = __import__(name).__version__
    except Exception:
        out[name] = None
print(json.dumps(out))`;

function lastJson(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const v: unknown = JSON.parse(line);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const firstLine = (s: string) => s.trim().split('\n').find(Boolean)?.slice(0, 300) ?? '';
const lastLines = (s: string, n = 12) => s.trim().split('\n').slice(-n).join('\n');

/** The base version without a local label: 2.14.0+cu130 → 2.14.0 */
const publicVersion = (v: string) => v.split('+')[0]!;
const localLabel = (v: string) => (v.includes('+') ? v.slice(v.indexOf('+') + 1) : '');

/**
 * What is wrong with an installed torch for this resolution and machine;
 * empty when it is right. `gpusHere`: nvidia-smi saw GPUs on this machine
 * (so torch must see them too).
 */
export function checkInstalled(
  env: Pick<Environment, 'torch' | 'torchvision' | 'variant' | 'cuda' | 'gpus' | 'wheelSource'>,
  seen: InstalledTorch,
  gpusHere: number,
): string[] {
  const problems: string[] = [];
  if (publicVersion(seen.torch) !== env.torch) problems.push(`torch ${seen.torch} is installed, not ${env.torch}`);
  const local = localLabel(seen.torch);
  // download.pytorch.org marks its builds (+cu130, +cpu); PyPI's builds carry no label
  if (env.wheelSource !== 'pypi' && local && local !== env.variant) problems.push(`torch ${seen.torch} is the ${local} build, not ${env.variant}`);
  const cuda = seen.cuda ? seen.cuda.split('.').slice(0, 2).join('.') : null;
  if (env.cuda === null && cuda !== null) problems.push(`torch is a CUDA ${cuda} build where a CPU build was resolved`);
  if (env.cuda !== null && cuda !== env.cuda)
    problems.push(
      cuda === null ? `torch is a CPU build (torch.version.cuda is None), not CUDA ${env.cuda}` : `torch is built for CUDA ${cuda}, not ${env.cuda}`,
    );
  if (seen.torchvision !== null && publicVersion(seen.torchvision) !== env.torchvision)
    problems.push(`torchvision ${seen.torchvision} is installed, not ${env.torchvision}`);
  if (seen.torchvision === null) problems.push(`torchvision does not import (torchvision ${env.torchvision} was to be installed)`);
  if (cuda !== null) {
    const sm = seen.arches.flatMap((a) => {
      const m = /^sm_(\d+)a?$/.exec(a);
      return m ? [Number(m[1])] : [];
    });
    const wanted = [...new Set([...env.gpus, ...seen.devices.map((d) => d.capability)])];
    const uncovered = wanted.filter((cc) => !archCovers(sm, cc));
    if (uncovered.length) {
      problems.push(
        `no kernels for compute capability ${uncovered.join(', ')}: this torch has ${seen.arches.length ? seen.arches.join(' ') : 'no arch list'} (torch.cuda.get_arch_list())`,
      );
    }
    if (gpusHere > 0 && !seen.cudaAvailable)
      problems.push(`torch.cuda.is_available() is False, though nvidia-smi sees ${gpusHere} GPU${gpusHere > 1 ? 's' : ''}`);
  }
  return problems;
}

/** The index options the installer may not be given: the index is what was resolved. */
const INDEX_ARGS = /^(-i|--index-url|--extra-index-url|--index|--default-index|-f|--find-links|--no-index)(=|$)/;

async function pickInstaller(want: Installer, py: PythonInfo, env: NodeJS.ProcessEnv): Promise<'pip' | 'uv'> {
  const hasUv = want !== 'pip' && (await exec(['uv', '--version'], { env, timeoutMs: 15_000 })).code === 0;
  if (want === 'uv' && !hasUv) throw new TunaSetupError('INSTALL_FAILED', 'uv is not on PATH', 'install uv, or use {installer=pip}');
  if (hasUv) return 'uv';
  const pip = await exec([py.interpreter, '-m', 'pip', '--version'], { env, timeoutMs: 30_000 });
  if (pip.code !== 0) {
    throw new TunaSetupError(
      'INSTALL_FAILED',
      `${py.interpreter} has no pip (${firstLine(pip.stderr || pip.stdout)})`,
      `run '${py.interpreter} -m ensurepip', or put uv on PATH`,
    );
  }
  return 'pip';
}

/** How to install and check, apart from what to install. */
export interface InstallOptions extends Pick<InstallRequest, 'packages' | 'installerArgs' | 'installer' | 'verify' | 'env' | 'onOutput' | 'timeoutMs'> {}

/** Resolve for the interpreter, install, check: the whole `install`. */
export async function installTorch(req: InstallRequest = {}): Promise<InstallReport> {
  const { interpreter, packages, installerArgs, installer, verify, env, onOutput, timeoutMs, ...resolveReq } = req;
  const options = { packages, installerArgs, installer, verify, env, onOutput, timeoutMs };
  checkInstallOptions(options);
  const py = await probePython(interpreter ?? 'python3', env ?? process.env);
  // the wheels are for the interpreter's platform (an x86_64 Python under emulation on arm64 gets x86_64 wheels)
  const platform = resolveReq.platform ?? (await machinePlatform(resolveReq.sysroot, py.platform));
  const environment = await resolveEnvironment({ ...resolveReq, python: py.version, platform });
  return installResolved(environment, py, options);
}

/** The installer arguments and packages the user gave: USAGE before anything runs. */
export function checkInstallOptions(options: InstallOptions): void {
  for (const a of options.installerArgs ?? []) {
    if (INDEX_ARGS.test(a))
      throw new TunaSetupError(
        'USAGE',
        `the installer argument '${a}' would change the index`,
        "the index is resolved: choose it with {wheels} and {mirror}, or use resolve's pipArgs with your own",
      );
  }
  for (const p of options.packages ?? []) {
    if (p.startsWith('-'))
      throw new TunaSetupError('USAGE', `'${p}' is an option, not a package`, 'give installer options after the packages, as installer arguments');
  }
}

/** Install an environment already resolved for this interpreter (resolved with `python: py.version`), then check it. */
export async function installResolved(environment: Environment, py: PythonInfo, options: InstallOptions = {}): Promise<InstallReport> {
  checkInstallOptions(options);
  const env = options.env ?? process.env;
  environment.reasons.push(`python ${py.version} (${py.executable}, ${py.system} ${py.machine})`);
  const installer = await pickInstaller(options.installer ?? 'auto', py, env);

  const trio = environment.pipArgs.slice(1); // after 'install'
  const extra = [...(options.installerArgs ?? [])];
  const packages = [...(options.packages ?? [])];
  const base =
    installer === 'uv' ? ['uv', 'pip', 'install', '--python', py.interpreter] : [py.interpreter, '-m', 'pip', 'install', '--disable-pip-version-check'];
  const commands: string[][] = [];
  const dir = await mkdtemp(path.join(tmpdir(), 'tuna-setup-install-'));
  try {
    if (environment.wheelSource === 'pypi' || !packages.length) {
      // the PyPI mirror is the user's index too: one command
      commands.push([...base, ...trio, ...packages, ...extra]);
    } else {
      // the trio from the PyTorch index alone; the rest from the user's index, the trio held where it is
      const constraints = path.join(dir, 'torch-constraints.txt');
      await writeFile(constraints, `${trio.filter((a) => a.includes('==')).join('\n')}\n`);
      commands.push([...base, ...trio, ...extra], [...base, ...packages, '--constraint', constraints, ...extra]);
    }
    const started = performance.now();
    for (const argv of commands) {
      const r: ExecResult = await exec(argv, {
        env,
        timeoutMs: options.timeoutMs ?? 3_600_000,
        ...(options.onOutput ? { onOutput: options.onOutput } : {}),
        maxChars: 256 * 1024,
      });
      if (r.code !== 0) throw installFailure(argv, r, environment);
    }
    const install = (performance.now() - started) / 1000;
    if (options.verify === false) return { environment, python: py, installer, commands, verified: null, seconds: { install, verify: 0 } };
    const t = performance.now();
    const verified = await importTorch(py, env);
    const problems = checkInstalled(environment, verified, environment.detected?.gpus.length ?? 0);
    if (problems.length) {
      throw new TunaSetupError(
        'VERIFY_FAILED',
        `the installed torch is wrong for this machine: ${problems.join('; ')}`,
        problems.some((p) => p.startsWith('no kernels'))
          ? 'the index served a build without kernels for this GPU: check the mirror, or take the wheels from {wheels=upstream}'
          : 'check the index it came from ({wheels}), or reinstall into a clean virtual environment',
        { details: { problems, installed: verified, reasons: environment.reasons } },
      );
    }
    environment.reasons.push(
      `verified: torch ${verified.torch}${verified.cuda ? ` (CUDA ${verified.cuda}, ${verified.arches.join(' ')})` : ' (CPU)'}${verified.devices.length ? `; sees ${verified.devices.map((d) => `${d.name} (${d.capability})`).join(', ')}` : ''}`,
    );
    return { environment, python: py, installer, commands, verified, seconds: { install, verify: (performance.now() - t) / 1000 } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function importTorch(py: PythonInfo, env: NodeJS.ProcessEnv): Promise<InstalledTorch> {
  // not from the work directory: a ./torch folder there would shadow the installed one
  const r = await exec([py.interpreter, '-I', '-c', VERIFY], { env, timeoutMs: 300_000 });
  const out = r.code === 0 ? lastJson(r.stdout) : undefined;
  if (!out || typeof out.error === 'string' || typeof out.torch !== 'string') {
    const why = typeof out?.error === 'string' ? out.error : `exit ${r.code}: ${lastLines(r.stderr || r.stdout, 3)}`;
    throw new TunaSetupError(
      'VERIFY_FAILED',
      `torch was installed but does not import in ${py.interpreter}: ${why}`,
      'reinstall into a clean virtual environment; a half-installed torch (an interrupted download) fails like this',
    );
  }
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    torch: out.torch,
    cuda: typeof out.cuda === 'string' ? out.cuda : null,
    arches: strings(out.arches),
    cudaAvailable: out.cudaAvailable === true,
    devices: Array.isArray(out.devices)
      ? out.devices.filter((d): d is { name: string; capability: string } => typeof d?.name === 'string' && typeof d?.capability === 'string')
      : [],
    torchvision: typeof out.torchvision === 'string' ? out.torchvision : null,
    torchaudio: typeof out.torchaudio === 'string' ? out.torchaudio : null,
  };
}

function installFailure(argv: string[], r: ExecResult, environment: Environment): TunaSetupError {
  const output = `${r.stderr}\n${r.stdout}`;
  const tail = lastLines(r.stderr.trim() ? r.stderr : r.stdout);
  let hint = `the index was ${environment.torchIndexUrl} (${environment.wheelSource}); its last lines are in the details`;
  if (/externally-managed-environment/.test(output))
    hint = 'this Python is managed by the OS (PEP 668): install into a virtual environment ({interpreter=.venv/bin/python}) or one actions/setup-python made';
  else if (/No matching distribution|no version of torch|not found in the package registry/i.test(output))
    hint = `${environment.torchIndexUrl} has no matching wheel for this Python and platform — try {wheels=upstream}, or another {mirror}`;
  else if (r.code === 124) hint = 'the install ran past its time limit: the index is slow or hangs — try another {mirror} or {wheels=upstream}';
  return new TunaSetupError(
    'INSTALL_FAILED',
    `${argv.slice(0, argv.indexOf('install') + 1).join(' ')} exited ${r.code}: ${firstLine(
      tail
        .split('\n')
        .filter((l) => /error/i.test(l))
        .at(-1) ??
        tail.split('\n').at(-1) ??
        '',
    )}`,
    hint,
    { details: { command: argv, exitCode: r.code, output: tail } },
  );
}
