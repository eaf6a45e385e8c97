/**
 * The only place tuna-setup changes files. `applyPlan` writes a Plan's files
 * atomically (temp file in the same directory + rename; mode and owner kept;
 * symlinks written through, so a dotfiles link stays a link) after recording
 * each file's original bytes in a journal under the state dir. `restoreFiles`
 * replays the journal: every file back to its exact original bytes, files we
 * created removed (and the directories we made for them, when empty).
 *
 * Order matters for crash safety: the journal is written before any file,
 * so an interrupted apply can always be restored. A file the user changed
 * after we wrote it is never overwritten by restore (unless forced): it is
 * reported as a conflict and stays in the journal.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chown, lstat, mkdir, open, readFile, realpath, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';
import type { Plan } from './plan.js';

export interface JournalEntry {
  path: string;
  target: string;
  /** base64 of the bytes before our first write; null: the file did not exist */
  original: string | null;
  /** sha256 of the bytes we last wrote */
  written: string;
  /** directories we created for the file, deepest first */
  createdDirs: string[];
}

export interface Journal {
  version: 1;
  entries: JournalEntry[];
}

export const journalFile = (stateDir: string) => path.join(stateDir, 'journal.json');
export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function readBytes(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TunaSetupError('NOT_WRITABLE', `cannot read ${file}: ${(e as Error).message}`, 'check the path and its permissions');
  }
}

export async function readJournal(stateDir: string): Promise<Journal | null> {
  const file = journalFile(stateDir);
  const bytes = await readBytes(file);
  if (bytes === null) return null;
  let data: any;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw corrupt(file, (e as Error).message);
  }
  if (data?.version !== 1 || !Array.isArray(data.entries)) throw corrupt(file, 'not a tuna-setup journal (version 1)');
  for (const [i, e] of data.entries.entries()) {
    const ok = typeof e?.path === 'string' && path.isAbsolute(e.path) && (e.original === null || typeof e.original === 'string')
      && typeof e.written === 'string' && Array.isArray(e.createdDirs);
    if (!ok) throw corrupt(file, `entry ${i + 1} is malformed`);
  }
  return data as Journal;
}

function corrupt(file: string, why: string) {
  return new TunaSetupError('JOURNAL_CORRUPT', `journal ${file} is unreadable: ${why}`,
    'nothing was changed; the originals may still be inside it — inspect it, or remove it to start over');
}

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

/** Fails early, naming the path, when a file could not be written. */
async function checkWritable(file: string): Promise<void> {
  const fail = (why: string): never => {
    throw new TunaSetupError('NOT_WRITABLE', `cannot write ${file}: ${why}`,
      'run with permission to write it (sudo for /etc), or point the option for this file elsewhere; nothing was written');
  };
  const st = await lstat(file).catch(() => null);
  if (st) {
    const real = await stat(file).catch(() => null);
    if (!real?.isFile()) fail('it is not a regular file');
    await access(file, constants.W_OK).catch(() => fail('permission denied'));
    await access(path.dirname(await realpath(file)), constants.W_OK).catch(() => fail('its directory is not writable'));
    return;
  }
  let dir = path.dirname(file);
  for (;;) {
    const d = await stat(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : fail(e.message)));
    if (d) {
      if (!d.isDirectory()) fail(`${dir} is not a directory`);
      await access(dir, constants.W_OK).catch(() => fail(`${dir} is not writable`));
      return;
    }
    const up = path.dirname(dir);
    if (up === dir) fail('no existing parent directory');
    dir = up;
  }
}

async function makeParents(file: string): Promise<string[]> {
  const missing: string[] = [];
  for (let dir = path.dirname(file); !(await stat(dir).catch(() => null)); dir = path.dirname(dir)) missing.push(dir);
  await mkdir(path.dirname(file), { recursive: true });
  return missing; // deepest first
}

export async function applyPlan(plan: Plan, stateDir: string): Promise<void> {
  const toWrite = plan.changes.filter((c) => c.action !== 'unchanged');
  if (toWrite.length === 0) return;

  for (const c of toWrite) await checkWritable(c.path);
  await checkWritable(journalFile(stateDir));

  const previous = await readJournal(stateDir);
  const journal: Journal = previous ? structuredClone(previous) : { version: 1, entries: [] };
  const current = new Map<string, Buffer | null>();
  for (const c of toWrite) {
    const bytes = await readBytes(c.path);
    if ((bytes === null ? null : bytes.toString('utf8')) !== c.before) {
      throw new TunaSetupError('WRITE_FAILED', `${c.path} changed since the plan was made`, 'run the command again; nothing was written');
    }
    current.set(c.path, bytes);
    const entry = journal.entries.find((e) => e.path === c.path);
    if (entry) entry.written = sha256(c.after);
    else journal.entries.push({ path: c.path, target: c.target, original: bytes?.toString('base64') ?? null, written: sha256(c.after), createdDirs: [] });
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(journalFile(stateDir), JSON.stringify(journal, null, 2) + '\n', 0o600);

  const done: string[] = [];
  try {
    for (const c of toWrite) {
      const created = await makeParents(c.path);
      if (created.length) {
        journal.entries.find((e) => e.path === c.path)!.createdDirs.push(...created);
        await writeFileAtomic(journalFile(stateDir), JSON.stringify(journal, null, 2) + '\n', 0o600);
      }
      await writeFileAtomic(c.path, c.after);
      done.push(c.path);
    }
  } catch (e) {
    // put back what this apply already wrote, then the journal as it was
    for (const p of done.reverse()) {
      const bytes = current.get(p)!;
      if (bytes === null) await unlink(p).catch(() => {});
      else await writeFileAtomic(p, bytes).catch(() => {});
    }
    if (previous) await writeFileAtomic(journalFile(stateDir), JSON.stringify(previous, null, 2) + '\n', 0o600).catch(() => {});
    else await unlink(journalFile(stateDir)).catch(() => {});
    throw new TunaSetupError('WRITE_FAILED', `writing ${toWrite[done.length]?.path} failed: ${(e as Error).message}`,
      'every file this run touched was put back; fix the cause and run again');
  }
}

export interface RestoredFile {
  path: string;
  action: 'restored' | 'removed' | 'unchanged' | 'conflict';
}

export async function restoreFiles(stateDir: string, options: { force?: boolean } = {}): Promise<RestoredFile[]> {
  const journal = await readJournal(stateDir);
  if (!journal) {
    throw new TunaSetupError('JOURNAL_MISSING', `no journal in ${stateDir}: nothing was applied with this state dir`,
      'pass the --state-dir used for apply; without a journal tuna-setup cannot know the original bytes');
  }
  const results: RestoredFile[] = [];
  const kept: JournalEntry[] = [];
  // last written first, so directories made for an earlier file are empty by the time it is removed
  for (const entry of [...journal.entries].reverse()) {
    const now = await readBytes(entry.path);
    const original = entry.original === null ? null : Buffer.from(entry.original, 'base64');
    const ours = now !== null && sha256(now) === entry.written;
    if (!ours && (now === null ? original === null : original !== null && now.equals(original))) {
      results.push({ path: entry.path, action: 'unchanged' });
      continue;
    }
    if (!ours && !options.force) {
      results.push({ path: entry.path, action: 'conflict' });
      kept.unshift(entry);
      continue;
    }
    if (original === null) {
      await unlink(entry.path).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
      for (const dir of entry.createdDirs) await rmdir(dir).catch(() => {}); // only if empty
      results.push({ path: entry.path, action: 'removed' });
    } else {
      await writeFileAtomic(entry.path, original);
      results.push({ path: entry.path, action: 'restored' });
    }
  }
  if (kept.length) await writeFileAtomic(journalFile(stateDir), JSON.stringify({ ...journal, entries: kept }, null, 2) + '\n', 0o600);
  else await unlink(journalFile(stateDir));
  return results;
}
