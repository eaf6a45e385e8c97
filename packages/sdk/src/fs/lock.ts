/**
 * One writer at a time in a state dir. Every read-modify-write of the
 * journal (apply, restore) runs inside `withStateLock`, so parallel runs on
 * one HOME — several runner processes as one user, overlapping jobs —
 * serialize instead of losing each other's originals.
 *
 * Where util-linux `flock` is on PATH (Linux: every CI runner), the lock is
 * the kernel's: `flock` holds an exclusive lock on the state dir itself and
 * runs `cat` on our stdin; the lock is held until we close that pipe — or
 * until this process dies, however it dies, since the pipe closes with it.
 * Nothing can go stale, no lock file is left, and it works across
 * containers sharing the directory.
 *
 * Elsewhere (macOS, Windows) the fallback is a lock file created with its
 * content (pid, host, a token), touched every 2 s by its holder. A waiter
 * breaks it when the pid is dead on this host, or when the waiter itself has
 * seen it untouched for 15 s (its own clock: no skew between hosts). Known
 * limit of the fallback: when three or more processes race to break the lock
 * of a holder that died, two can rarely both proceed; flock has no such case.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';

const HEARTBEAT_MS = 2_000;
const STALE_MS = 15_000;
const DEFAULT_WAIT_MS = 60_000;

interface Holder {
  pid: number;
  host: string;
  since: string;
}

/** The fallback's lock file; with flock, the state dir itself is locked and this file never exists. */
export const lockFile = (stateDir: string) => path.join(stateDir, 'lock');
/** Who holds the lock (written by the holder, for a waiter's message); never trusted for exclusion. */
const holderFile = (stateDir: string) => path.join(stateDir, 'lock.holder');

/** Options of `withStateLock`: how long to wait for the lock, and which kind of lock to take. */
export interface LockOptions {
  /** the longest to wait for another run to finish (default 60 s) */
  waitMs?: number;
  /** flock (default where `flock` is on PATH) or the lock-file fallback; also TUNA_SETUP_LOCK=file (a filesystem where flock fails) */
  method?: 'flock' | 'file';
  /** the fallback's: how long a lock file must stay untouched to be broken (default 15 s) */
  staleMs?: number;
}

type Release = () => Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lockedError(stateDir: string, who: string): TunaSetupError {
  return new TunaSetupError(
    'STATE_LOCKED',
    `another tuna-setup (${who}) has held the state dir ${stateDir} for too long`,
    'wait for it to finish, or use another {stateDir}; nothing was written',
  );
}

async function describeHolder(stateDir: string): Promise<string> {
  for (const file of [holderFile(stateDir), lockFile(stateDir)]) {
    const h = parseHolder(await readFile(file, 'utf8').catch(() => ''));
    if (h) return `pid ${h.pid} on ${h.host}, since ${h.since}`;
  }
  return 'another process';
}

/** Runs `fn` holding the state dir's lock. */
export async function withStateLock<T>(stateDir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new TunaSetupError(
      'NOT_WRITABLE',
      `cannot create the state dir ${stateDir}: ${(e as Error).message}`,
      'point {stateDir} somewhere writable; nothing was written',
    );
  }
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const method = options.method ?? (process.env.TUNA_SETUP_LOCK === 'file' ? 'file' : 'flock');
  const release = (method === 'flock' ? await flockDir(stateDir, waitMs) : null) ?? (await fileLock(stateDir, waitMs, options.staleMs ?? STALE_MS));
  const me: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  await writeFile(holderFile(stateDir), `${JSON.stringify(me)}\n`, { mode: 0o600 }).catch(() => {});
  try {
    return await fn();
  } finally {
    await unlink(holderFile(stateDir)).catch(() => {});
    await release();
  }
}

/**
 * The kernel's lock on the directory, through `flock DIR cat`: acquired when
 * cat echoes the byte we wrote, released when we close its stdin. null when
 * there is no flock here. A directory replaced while we waited (removed and
 * made again) is locked afresh.
 */
async function flockDir(dir: string, waitMs: number): Promise<Release | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const before = await stat(dir);
    const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const release = await new Promise<Release | null>((resolve, reject) => {
      const child = spawn('flock', ['--exclusive', '--wait', String(seconds), '--conflict-exit-code', '75', dir, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let held = false;
      let stderr = '';
      const done = new Promise<void>((r) => child.once('close', () => r()));
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') resolve(null);
        else reject(new TunaSetupError('NOT_WRITABLE', `cannot lock ${dir} with flock: ${e.message}`, 'check that flock (util-linux) runs here'));
      });
      child.stdin.on('error', () => {}); // flock gone before our byte: its exit says why
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.stdout.once('data', () => {
        held = true;
        resolve(async () => {
          child.stdin.end();
          await done;
        });
      });
      child.once('close', (code) => {
        if (held) return;
        if (code === 75) void describeHolder(dir).then((who) => reject(lockedError(dir, who)));
        else
          reject(
            new TunaSetupError(
              'NOT_WRITABLE',
              `cannot lock ${dir}: ${stderr.trim() || `flock exited ${code}`}`,
              'the state dir must be readable by this user; nothing was written',
            ),
          );
      });
      child.stdin.write('\n');
    });
    if (!release) return null;
    const after = await stat(dir).catch(() => null);
    if (after && after.ino === before.ino && after.dev === before.dev) return release;
    await release(); // we hold a directory that is no longer the state dir
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
}

// ---- the fallback: a lock file ----

async function readLock(file: string): Promise<{ text: string; mtimeMs: number } | null> {
  const [text, st] = await Promise.all([readFile(file, 'utf8').catch(() => null), stat(file).catch(() => null)]);
  return text === null || !st ? null : { text, mtimeMs: st.mtimeMs };
}

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text);
    return Number.isInteger(h?.pid) && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Creates the lock file with its content in one step (hard link of a full temp file; open O_EXCL where links are not supported). */
async function tryTake(file: string, content: string, token: string): Promise<boolean> {
  const tmp = `${file}.${token}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    try {
      const h = await open(file, 'wx', 0o600);
      await h.writeFile(content);
      await h.close();
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Moves the stale lock away, unless what is there now is not what we judged stale (then it goes back). */
async function breakStale(file: string, staleText: string): Promise<void> {
  const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else broke it
  }
  if ((await readFile(aside, 'utf8').catch(() => null)) !== staleText) await link(aside, file).catch(() => {});
  await unlink(aside).catch(() => {});
}

async function fileLock(stateDir: string, waitMs: number, staleMs: number): Promise<Release> {
  const file = lockFile(stateDir);
  const token = randomBytes(8).toString('hex');
  const content = `${JSON.stringify({ pid: process.pid, host: hostname(), token, since: new Date().toISOString() })}\n`;
  const deadline = Date.now() + waitMs;
  let seen: { text: string; mtimeMs: number; at: number } | undefined;
  let delay = 5;
  for (;;) {
    let taken: boolean;
    try {
      taken = await tryTake(file, content, token);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        // the state dir went away: make it again
        await mkdir(stateDir, { recursive: true, mode: 0o700 });
        continue;
      }
      throw new TunaSetupError(
        'NOT_WRITABLE',
        `cannot take the lock ${file}: ${(e as Error).message}`,
        'the state dir must be writable by this user (or point {stateDir} elsewhere); nothing was written',
      );
    }
    if (taken) break;
    const now = await readLock(file);
    if (now) {
      // untouched for STALE_MS by our own clock, or a holder whose pid is gone on this host
      if (!seen || seen.text !== now.text || seen.mtimeMs !== now.mtimeMs) seen = { ...now, at: Date.now() };
      const h = parseHolder(now.text);
      if (Date.now() - seen.at > staleMs || (h !== null && h.host === hostname() && !alive(h.pid))) {
        await breakStale(file, now.text);
        seen = undefined;
      }
    }
    if (Date.now() > deadline) throw lockedError(stateDir, await describeHolder(stateDir));
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 100);
  }
  await removeLeftovers(stateDir);
  const beat = setInterval(() => {
    void utimes(file, new Date(), new Date()).catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  return async () => {
    clearInterval(beat);
    if ((await readFile(file, 'utf8').catch(() => null)) === content) await unlink(file).catch(() => {});
  };
}

/** What a holder or breaker killed mid-step left (`lock.<token>.tmp`, `lock.stale-<hex>`); we hold the lock, so old ones are nobody's. */
async function removeLeftovers(stateDir: string): Promise<void> {
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    if (!/^lock\.(?:[0-9a-f]{16}\.tmp|stale-[0-9a-f]{12})$/.test(name)) continue;
    const p = path.join(stateDir, name);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > STALE_MS) await unlink(p).catch(() => {});
  }
}
