/**
 * The one seam through which the SDK starts processes: an argv array, never a
 * shell string, so nothing a user typed can be read as shell syntax. A
 * command that is not installed resolves with code 127; one that runs past
 * its timeout is killed and resolves with code 124.
 */
import { spawn } from 'node:child_process';

/** A finished command: its exit code (127: not installed, 124: timed out) and the tail of its output. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  /** default 30 s */
  timeoutMs?: number;
  /** each chunk of stdout and stderr as it comes (progress of a long install) */
  onOutput?: (text: string, stream: 'stdout' | 'stderr') => void;
  /** keep at most this many characters of each stream: the tail (default 4 MiB) */
  maxChars?: number;
  /** written to the command's stdin, which is then closed (default: no stdin) */
  input?: string;
}

/**
 * Run a command from an argv array (never a shell string); resolves, never
 * rejects, with its exit code and bounded output.
 * @example const { code, stdout } = await exec(['nvidia-smi', '--query-gpu=name', '--format=csv,noheader']);
 */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {}); // a command that exits without reading: its code tells
      child.stdin!.end(options.input);
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    // our own timer, cleared whatever happens, so a finished command never keeps the process alive
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    const max = options.maxChars ?? 4 * 1024 * 1024;
    // the tail is what explains a failure; a chatty command cannot fill memory
    const keep = (all: string) => (all.length > max ? all.slice(all.length - max) : all);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      stdout = keep(stdout + d);
      options.onOutput?.(d, 'stdout');
    });
    child.stderr!.on('data', (d: string) => {
      stderr = keep(stderr + d);
      options.onOutput?.(d, 'stderr');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: e.code === 'ENOENT' ? 127 : 126, stdout, stderr: stderr + e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 128), stdout, stderr });
    });
  });
}
