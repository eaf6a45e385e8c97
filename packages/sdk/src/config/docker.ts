/**
 * daemon.json: `(existing text, settings) → new text`, plus the optional
 * reload of a running dockerd.
 *
 * `registry-mirrors` gets our mirrors first, then the user's own, without
 * duplicates (trailing slashes ignored); every other key keeps its value and
 * order, and the file keeps its indentation. dockerd only re-reads
 * registry-mirrors on SIGHUP (or `systemctl reload docker`), and restarting
 * a shared daemon on a CI host would kill other jobs' containers, so
 * reloading is a separate step the user asks for.
 */
import { isDeepStrictEqual } from 'node:util';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { TunaSetupError } from '../errors.js';
import { exec } from '../exec.js';

/** The registry mirrors to put first in daemon.json's registry-mirrors. */
export interface DockerSettings {
  registryMirrors: string[];
}

/**
 * daemon.json as an object (empty text: {}); throws PARSE_ERROR for invalid JSON, a top level that is not an object,
 * or a registry-mirrors that is not a list of strings.
 */
export function parseDaemonJson(text: string, file: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw new TunaSetupError(
      'PARSE_ERROR',
      `${file}${line ? `:${line}` : ''}: ${msg}`,
      'dockerd refuses to start with a broken daemon.json; fix it by hand (tuna-setup left it untouched)',
    );
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new TunaSetupError('PARSE_ERROR', `${file}: the top level is not a JSON object`, 'daemon.json holds one object { … }');
  }
  const mirrors = (data as Record<string, unknown>)['registry-mirrors'];
  if (mirrors !== undefined && !(Array.isArray(mirrors) && mirrors.every((m) => typeof m === 'string'))) {
    throw new TunaSetupError('PARSE_ERROR', `${file}: registry-mirrors is not a list of URLs`, 'fix it by hand');
  }
  return data as Record<string, unknown>;
}

function indentOf(text: string): string | number {
  const m = /\n([ \t]+)"/.exec(text);
  return m ? (m[1]!.startsWith('\t') ? '\t' : m[1]!.length) : 2;
}

/** daemon.json with our mirrors first in registry-mirrors, then the user's, without duplicates; the text as it was when nothing changes. */
export function renderDaemonJson(existing: string, settings: DockerSettings, file = 'daemon.json'): string {
  const data = parseDaemonJson(existing, file);
  const norm = (u: string) => u.replace(/\/+$/, '');
  const seen = new Set<string>();
  const mirrors = [...settings.registryMirrors, ...((data['registry-mirrors'] as string[] | undefined) ?? [])].filter(
    (u) => !seen.has(norm(u)) && seen.add(norm(u)),
  );
  const next = { ...data, 'registry-mirrors': mirrors };
  if (isDeepStrictEqual(next, data)) return existing;
  return JSON.stringify(next, null, indentOf(existing)) + (existing.endsWith('\r\n') ? '\r\n' : '\n');
}

/** How reloadDocker reached dockerd (systemctl reload, or SIGHUP to its pid), and a line saying so. */
export interface ReloadResult {
  method: 'sighup' | 'systemctl';
  detail: string;
}

const viaSystemd = (pidFile: string) => existsSync('/run/systemd/system') && pidFile === DEFAULT_PIDFILE;
const DEFAULT_PIDFILE = '/var/run/docker.pid';

async function dockerdPid(pidFile: string): Promise<number> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch (e) {
    throw new TunaSetupError(
      'RELOAD_FAILED',
      `cannot read dockerd's pid file ${pidFile}: ${(e as Error).message}`,
      'is dockerd running? pass {dockerPidFile}, or reload it yourself (systemctl reload docker); nothing was written',
    );
  }
  if (!Number.isInteger(pid) || pid <= 1) {
    throw new TunaSetupError(
      'RELOAD_FAILED',
      `${pidFile} does not hold a pid`,
      'pass {dockerPidFile}, or reload dockerd yourself (systemctl reload docker); nothing was written',
    );
  }
  return pid;
}

function signal(pid: number, sig: NodeJS.Signals | 0): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TunaSetupError(
      'RELOAD_FAILED',
      code === 'ESRCH' ? `dockerd (pid ${pid}) is not running` : `cannot signal dockerd (pid ${pid}): ${(e as Error).message}`,
      code === 'ESRCH' ? 'start dockerd, or pass {dockerPidFile} of the running one' : 'run as root, or reload dockerd yourself (systemctl reload docker)',
    );
  }
}

/** Everything `reloadDocker` needs, checked before a byte is written: the unit is active, or the pid is alive and ours to signal. */
export async function checkDockerReload(pidFile = DEFAULT_PIDFILE): Promise<void> {
  if (viaSystemd(pidFile) && (await exec(['systemctl', 'is-active', '--quiet', 'docker'])).code === 0) return;
  signal(await dockerdPid(pidFile), 0);
}

/**
 * Makes a running dockerd re-read registry-mirrors: `systemctl reload docker`
 * where systemd runs, else SIGHUP to the pid in `pidFile`.
 */
export async function reloadDocker(pidFile = DEFAULT_PIDFILE): Promise<ReloadResult> {
  if (viaSystemd(pidFile)) {
    const r = await exec(['systemctl', 'reload', 'docker']);
    if (r.code === 0) return { method: 'systemctl', detail: 'systemctl reload docker' };
  }
  const pid = await dockerdPid(pidFile);
  signal(pid, 'SIGHUP');
  return { method: 'sighup', detail: `SIGHUP to dockerd pid ${pid}` };
}
