/**
 * Files written whole or not at all: a temp file beside the target, fsync,
 * rename (mode and owner kept); and the sweep of temp files a killed run
 * left. Used by the journal, the config writers' callers, the caches.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/** A temp file of ours older than this was left by a killed run. */
const STALE_TEMP_MS = 60_000;

/** Writes `bytes` to `file` atomically: temp file beside it, fsync, rename; keeps mode and owner. */
export async function writeFileAtomic(file: string, bytes: Buffer | string, mode?: number): Promise<void> {
  const target = await realpath(file).catch(() => file);
  const old = await stat(target).catch(() => null);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tuna-setup-${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode ?? old?.mode ?? 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.chmod((mode ?? old?.mode ?? 0o644) & 0o7777);
    if (old && process.getuid?.() === 0) await handle.chown(old.uid, old.gid);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await handle.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  const dir = await open(path.dirname(target), 'r').catch(() => null);
  await dir?.sync().catch(() => {});
  await dir?.close();
}

/** Removes temp files a killed run of ours left beside `file` (writeFileAtomic's names, old enough to be nobody's). */
export async function removeStaleTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.tuna-setup-`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length))) continue;
    const p = path.join(dir, name);
    const st = await lstat(p).catch(() => null);
    if (st?.isFile() && Date.now() - st.mtimeMs > STALE_TEMP_MS) await unlink(p).catch(() => {});
  }
}
