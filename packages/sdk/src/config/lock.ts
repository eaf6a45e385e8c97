/**
 * One writer at a time in a state dir. Every read-modify-write of the
 * journal (apply, restore) runs inside `withStateLock`, so parallel runs on
 * one HOME — several runner processes as one user, overlapping jobs —
 * serialize instead of losing each other's originals.
 *
 * The lock is a file created atomically with its content (written beside it,
 * then hard-linked into place: it never exists half-written) naming the
 * holder: pid, host, a random token and when it took the lock. The holder
 * touches it every few seconds. A waiter breaks it when the holder is gone:
 * the pid is dead on this host, or the file has not been touched for
 * STALE_MS (another host on a shared home, a pid reused in a container).
 * Breaking renames the file away first and checks it took the stale one, so
 * two waiters never both break and both hold.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';

const HEARTBEAT_MS = 2_000;
const STALE_MS = 15_000;
const DEFAULT_WAIT_MS = 60_000;

interface Holder {
  pid: number;
  host: string;
  token: string;
  since: string;
}

export const lockFile = (stateDir: string) => path.join(stateDir, 'lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

async function readHolder(file: string): Promise<{ holder: Holder | null; ageMs: number } | null> {
  const [text, st] = await Promise.all([readFile(file, 'utf8').catch(() => null), stat(file).catch(() => null)]);
  if (text === null || !st) return null; // gone meanwhile
  let holder: Holder | null = null;
  try {
    const h = JSON.parse(text);
    if (Number.isInteger(h?.pid) && typeof h.host === 'string' && typeof h.token === 'string') holder = h;
  } catch { /* not ours or damaged: judged by age alone */ }
  return { holder, ageMs: Date.now() - st.mtimeMs };
}

const isStale = (h: Holder | null, ageMs: number) => ageMs > STALE_MS || (h !== null && h.host === hostname() && !alive(h.pid));

/** Takes the stale lock away, unless another waiter already replaced it by a live one. */
async function breakStale(file: string, stale: Holder | null): Promise<void> {
  const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else broke it
  }
  const taken = await readFile(aside, 'utf8').catch(() => '');
  let token: string | undefined;
  try { token = JSON.parse(taken)?.token; } catch { /* damaged */ }
  if (token !== stale?.token) {
    // another waiter broke the stale lock and took a fresh one that we just moved: put it back
    await link(aside, file).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}

async function tryTake(file: string, me: Holder): Promise<boolean> {
  const tmp = `${file}.${me.token}.tmp`;
  const h = await open(tmp, 'wx', 0o600);
  try {
    await h.writeFile(JSON.stringify(me) + '\n');
  } finally {
    await h.close();
  }
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** What a holder or breaker killed mid-step left (`lock.<token>.tmp`, `lock.stale-<hex>`); we hold the lock, so old ones are nobody's. */
async function removeStaleLockFiles(stateDir: string): Promise<void> {
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    if (!/^lock\.(?:[0-9a-f]{16}\.tmp|stale-[0-9a-f]{12})$/.test(name)) continue;
    const p = path.join(stateDir, name);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > STALE_MS) await unlink(p).catch(() => {});
  }
}

export interface LockOptions {
  /** the longest to wait for another run to finish (default 60 s) */
  waitMs?: number;
}

/** Runs `fn` holding the state dir's lock; waits for a live holder, breaks a dead one. */
export async function withStateLock<T>(stateDir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const file = lockFile(stateDir);
  let made: string | undefined;
  try {
    made = await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new TunaSetupError('NOT_WRITABLE', `cannot create the state dir ${stateDir}: ${(e as Error).message}`,
      'point {stateDir} somewhere writable; nothing was written');
  }
  const me: Holder = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex'), since: new Date().toISOString() };
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
  let delay = 5;
  for (;;) {
    let taken: boolean;
    try {
      taken = await tryTake(file, me);
    } catch (e) {
      throw new TunaSetupError('NOT_WRITABLE', `cannot take the lock ${file}: ${(e as Error).message}`,
        'the state dir must be writable by this user (or point {stateDir} elsewhere); nothing was written');
    }
    if (taken) break;
    const seen = await readHolder(file);
    if (seen && isStale(seen.holder, seen.ageMs)) {
      await breakStale(file, seen.holder);
      continue;
    }
    if (Date.now() > deadline) {
      const who = seen?.holder ? `pid ${seen.holder.pid} on ${seen.holder.host}, since ${seen.holder.since}` : 'another process';
      throw new TunaSetupError('STATE_LOCKED', `another tuna-setup (${who}) has held ${file} for too long`,
        `wait for it to finish; if no tuna-setup is running, remove ${file}; nothing was written`);
    }
    await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, 100);
  }
  await removeStaleLockFiles(stateDir);
  const beat = setInterval(() => { void utimes(file, new Date(), new Date()).catch(() => {}); }, HEARTBEAT_MS);
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    const now = await readHolder(file);
    if (now?.holder?.token === me.token) await unlink(file).catch(() => {});
    // a state dir made only for the lock of a run that wrote nothing is not left behind
    if (made) for (let dir = stateDir; dir.length >= made.length; dir = path.dirname(dir)) if (!(await rmdir(dir).then(() => true, () => false))) break;
  }
}
