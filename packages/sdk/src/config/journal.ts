/**
 * The only place tuna-setup changes config files. `applyPlan` writes a
 * Plan's files atomically (temp file in the same directory + rename; mode and
 * owner kept; symlinks written through, so a dotfiles link stays a link)
 * after recording each file's original bytes in a journal under the state
 * dir. `restoreFiles` replays it. Callers hold the state dir's lock
 * (lock.ts): every read-modify-write of the journal is serialized.
 *
 * Sessions stack. Each apply belongs to a session (the CLI's is `cli`; each
 * Action job has its own) and adds a layer to every file it touches, on top
 * of the layers of sessions still applied. Restoring a session removes its
 * layer: when it is the top one, the file goes back to the layer below (or
 * to the original bytes when none is left); when it is not, the file stays
 * as the session above wrote it. So overlapping jobs on one HOME — main A,
 * main B, post A, post B, in either order — end with the user's original
 * bytes. Every layer is rendered from the original, so removing a middle
 * layer never leaves its settings behind.
 *
 * Order matters for crash safety: the journal is written before any file,
 * so an interrupted apply can always be restored. A file the user changed
 * after we wrote it is never overwritten by restore (unless forced): it is
 * reported as a conflict and stays in the journal.
 *
 * Paths are canonical (absolute, symlinks resolved as the writer follows
 * them), so `--pip-config pip.conf`, `./pip.conf` and a link to it are one
 * file. Journals of format 1 (one layer, possibly relative paths from an old
 * bug) are read and upgraded.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, mkdir, readFile, readlink, realpath, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';
import { removeStaleTemps, writeFileAtomic } from '../fs/atomic.js';
import type { Plan } from './plan.js';

/** The session of an apply made without one (the CLI's default). */
export const DEFAULT_SESSION = 'cli';
/** Layers kept per file; the oldest go first (a session whose job never restored). */
const MAX_LAYERS = 16;

/** One session's write of a file: the sha256 and the bytes it wrote. */
export interface JournalLayer {
  session: string;
  /** sha256 of the bytes this session wrote */
  written: string;
  /** base64 of those bytes (absent only in a layer read from a format-1 journal) */
  bytes?: string;
}

/** A file tuna-setup wrote: its original bytes, the directories made for it, and a layer per session applied. */
export interface JournalEntry {
  path: string;
  target: string;
  /** base64 of the bytes before our first write; null: the file did not exist */
  original: string | null;
  /** directories we created for the file, deepest first */
  createdDirs: string[];
  /** bottom to top; the top one is what should be on disk */
  layers: JournalLayer[];
}

/** The journal (journal.json in the state dir), format 2: one entry per file written. */
export interface Journal {
  version: 2;
  entries: JournalEntry[];
}

/** The journal's path in a state dir: `<stateDir>/journal.json`. */
export const journalFile = (stateDir: string) => path.join(stateDir, 'journal.json');
export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const top = (e: JournalEntry) => e.layers.at(-1)!;

/**
 * The file a path names, as the writer will write it: absolute, with every
 * symlink resolved (a dangling link to where it points), so one file has one
 * name in the plan and the journal.
 */
export async function canonicalPath(file: string, hops = 0): Promise<string> {
  const abs = path.resolve(file);
  const real = await realpath(abs).catch(() => null);
  if (real) return real;
  const st = await lstat(abs).catch(() => null);
  if (st?.isSymbolicLink() && hops < 40) return canonicalPath(path.resolve(path.dirname(abs), await readlink(abs)), hops + 1);
  const parent = path.dirname(abs);
  return parent === abs ? abs : path.join(await canonicalPath(parent, hops), path.basename(abs));
}

async function readBytes(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TunaSetupError('NOT_WRITABLE', `cannot read ${file}: ${(e as Error).message}`, 'check the path and its permissions');
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** The state dir's journal, a format-1 one upgraded, paths made canonical; null when there is none. Throws JOURNAL_CORRUPT when it does not parse. */
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
  if ((data?.version !== 1 && data?.version !== 2) || !Array.isArray(data.entries)) throw corrupt(file, 'not a tuna-setup journal (version 1 or 2)');
  const entries: JournalEntry[] = [];
  for (const [i, e] of (data.entries as any[]).entries()) {
    const layers = data.version === 1 ? [{ session: DEFAULT_SESSION, written: e?.written }] : e?.layers;
    const ok =
      isString(e?.path) &&
      e.path !== '' &&
      (e.original === null || isString(e.original)) &&
      Array.isArray(e.createdDirs) &&
      e.createdDirs.every(isString) &&
      Array.isArray(layers) &&
      layers.length > 0 &&
      layers.every((l: any) => isString(l?.session) && isString(l.written) && (l.bytes === undefined || isString(l.bytes)));
    if (!ok) throw corrupt(file, `entry ${i + 1} is malformed`);
    // a format-1 journal may hold a path as typed (relative): the directory restore runs in is the best guess
    entries.push({ path: await canonicalPath(e.path), target: isString(e.target) ? e.target : '', original: e.original, createdDirs: e.createdDirs, layers });
  }
  return { version: 2, entries };
}

function corrupt(file: string, why: string) {
  return new TunaSetupError(
    'JOURNAL_CORRUPT',
    `journal ${file} is unreadable: ${why}`,
    'nothing was changed; the original bytes are inside it (base64 in "original") — keep a copy before you remove it',
  );
}

async function writeJournal(stateDir: string, journal: Journal): Promise<void> {
  const file = journalFile(stateDir);
  try {
    if (journal.entries.length === 0)
      await unlink(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    else await writeFileAtomic(file, `${JSON.stringify(journal, null, 2)}\n`, 0o600);
  } catch (e) {
    throw new TunaSetupError(
      'WRITE_FAILED',
      `cannot write the journal ${file}: ${(e as Error).message}`,
      'free some space or fix the permissions there (or point {stateDir} elsewhere); no config file was changed by this step',
    );
  }
}

/**
 * Fails early, naming the path, when a file could not be written. Runs before
 * the lock too, while other runs may replace or remove the file: one that
 * vanishes under the check is judged by its directory, as a new file.
 */
async function checkWritable(file: string): Promise<void> {
  const fail = (why: string): never => {
    throw new TunaSetupError(
      'NOT_WRITABLE',
      `cannot write ${file}: ${why}`,
      'run with permission to write it (sudo for /etc), or point the option for this file elsewhere; nothing was written',
    );
  };
  const gone = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';
  const real = await stat(file).catch((e) => (gone(e) ? null : fail((e as Error).message)));
  if (real) {
    if (!real.isFile()) fail('it is not a regular file');
    const ok = await access(file, constants.W_OK).then(
      () => true,
      (e) => (gone(e) ? false : fail('permission denied')),
    );
    const dir = ok ? await realpath(file).then(path.dirname, (e) => (gone(e) ? null : fail((e as Error).message))) : null;
    if (dir !== null) {
      await access(dir, constants.W_OK).catch(() => fail('its directory is not writable'));
      return;
    }
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

/** Puts a file back to `bytes` (null: removes it). */
async function putBack(file: string, bytes: Buffer | null): Promise<void> {
  if (bytes === null)
    await unlink(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  else await writeFileAtomic(file, bytes);
}

/** What applyPlan returns: a rollback that undoes that apply. */
export interface Applied {
  /** puts back every file this apply wrote and the journal as it was (for a later step that failed) */
  rollback(): Promise<void>;
}

/** Fails early, naming the path, when a file of the plan (or the journal) could not be written. */
export async function checkPlanWritable(plan: Plan, stateDir: string): Promise<void> {
  for (const c of plan.changes) if (c.action !== 'unchanged') await checkWritable(c.path);
  await checkWritable(journalFile(stateDir));
}

/** Carries out a plan for a session: journal first, then the files. Hold the state dir's lock. */
export async function applyPlan(plan: Plan, stateDir: string, session = DEFAULT_SESSION): Promise<Applied> {
  await checkPlanWritable(plan, stateDir);
  const previous = await readJournal(stateDir);
  const journal: Journal = previous ? structuredClone(previous) : { version: 2, entries: [] };
  const current = new Map<string, Buffer | null>();
  const toWrite: { path: string; bytes: Buffer }[] = [];
  for (const c of plan.changes) {
    const bytes = await readBytes(c.path);
    if ((bytes === null ? null : bytes.toString(c.encoding)) !== c.before) {
      throw new TunaSetupError('WRITE_FAILED', `${c.path} changed since the plan was made`, 'run the command again; nothing was written');
    }
    const after = Buffer.from(c.after, c.encoding);
    const layer: JournalLayer = { session, written: sha256(after), bytes: after.toString('base64') };
    let entry = journal.entries.find((e) => e.path === c.path);
    const ours = entry !== undefined && bytes !== null && sha256(bytes) === top(entry).written;
    // a file we do not hold that already says what we would write: nothing to record
    if (c.action === 'unchanged' && !ours) continue;
    if (entry && !ours) {
      // edited by hand since we wrote it (the plan rendered from the edit): the edit is the new original,
      // and the layers below, made from the old one, would bring the old text back
      Object.assign(entry, { original: bytes?.toString('base64') ?? null, createdDirs: [], layers: [] });
    }
    if (!entry) {
      entry = { path: c.path, target: c.target, original: bytes?.toString('base64') ?? null, createdDirs: [], layers: [] };
      journal.entries.push(entry);
    }
    // a format-1 layer kept no bytes; they are the ones on disk (their hash matched)
    if (ours && bytes !== null && top(entry).bytes === undefined) top(entry).bytes = bytes.toString('base64');
    entry.layers = [...entry.layers.filter((l) => l.session !== session), layer].slice(-MAX_LAYERS);
    if (c.action !== 'unchanged') {
      current.set(c.path, bytes);
      toWrite.push({ path: c.path, bytes: after });
    }
  }
  if (!previous && journal.entries.length === 0) return { rollback: async () => {} };
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await removeStaleTemps(journalFile(stateDir));
  await writeJournal(stateDir, journal);

  const done: string[] = [];
  const made: string[] = [];
  /** Puts back what this apply wrote; a file that cannot be put back keeps its layer in the journal (and says so). */
  const rollback = async () => {
    const stuck: string[] = [];
    for (const p of [...done].reverse()) await putBack(p, current.get(p)!).catch(() => stuck.push(p));
    for (const dir of made) await rmdir(dir).catch(() => {}); // only if empty
    if (stuck.length) {
      throw new TunaSetupError(
        'WRITE_FAILED',
        `could not put back ${stuck.join(', ')} after a failure`,
        `the journal keeps ${stuck.length > 1 ? 'their' : 'its'} original bytes: fix the cause and run restore {session=${session}}`,
      );
    }
    if (previous) await writeJournal(stateDir, previous);
    else await unlink(journalFile(stateDir)).catch(() => {});
  };
  try {
    for (const w of toWrite) {
      await removeStaleTemps(w.path);
      const created = await makeParents(w.path);
      if (created.length) {
        made.push(...created);
        journal.entries.find((e) => e.path === w.path)!.createdDirs.push(...created);
        await writeJournal(stateDir, journal);
      }
      await writeFileAtomic(w.path, w.bytes);
      done.push(w.path);
    }
  } catch (e) {
    await rollback();
    throw new TunaSetupError(
      'WRITE_FAILED',
      `writing ${toWrite[done.length]?.path} failed: ${(e as Error).message}`,
      'every file this run touched was put back; fix the cause and run again',
    );
  }
  return { rollback };
}

export const noJournal = (stateDir: string) =>
  new TunaSetupError(
    'JOURNAL_MISSING',
    `no journal in ${stateDir}: nothing was applied with this state dir`,
    'pass the {stateDir} used for apply; without a journal tuna-setup cannot know the original bytes',
  );

/**
 * What restore did with one file. A conflict (changed by hand since tuna-setup wrote it, and no force) is left as it
 * is and stays in the journal.
 */
export interface RestoredFile {
  path: string;
  /** kept: another session applied on top, so the file stays as that session wrote it */
  action: 'restored' | 'removed' | 'unchanged' | 'conflict' | 'kept';
}

/** Which session's layers to remove (or all), and whether to overwrite files changed by hand. */
export interface RestoreOptions {
  /** also overwrite files changed by hand since apply */
  force?: boolean;
  /** the session whose layers to remove (default: the CLI's) */
  session?: string;
  /** remove every session's layers: every file back to its original */
  all?: boolean;
}

/** Removes a session's layers (or all); files go back to the layer below or the original. Hold the state dir's lock. */
export async function restoreFiles(stateDir: string, options: RestoreOptions = {}): Promise<RestoredFile[]> {
  const session = options.session ?? DEFAULT_SESSION;
  const journal = await readJournal(stateDir);
  if (!journal) throw noJournal(stateDir);
  const mine = (e: JournalEntry) => options.all || e.layers.some((l) => l.session === session);
  if (!journal.entries.some(mine)) {
    const sessions = [...new Set(journal.entries.flatMap((e) => e.layers.map((l) => l.session)))];
    throw new TunaSetupError(
      'JOURNAL_MISSING',
      `nothing in ${journalFile(stateDir)} was applied by session '${session}' (it holds: ${sessions.join(', ')})`,
      'restore that {session}, or {all=true} to put every file back to its original',
    );
  }
  const results: RestoredFile[] = [];
  // last journaled first, so directories made for an earlier file are empty by the time it is removed
  for (const entry of [...journal.entries].reverse().filter(mine)) {
    const remaining = options.all ? [] : entry.layers.filter((l) => l.session !== session);
    if (top(entry).session !== session && !options.all) {
      entry.layers = remaining;
      results.push({ path: entry.path, action: 'kept' });
      continue;
    }
    const below = remaining.at(-1);
    if (below && below.bytes === undefined) {
      results.push({ path: entry.path, action: 'conflict' }); // cannot happen: format-1 layers are alone
      continue;
    }
    const want = below ? Buffer.from(below.bytes!, 'base64') : entry.original === null ? null : Buffer.from(entry.original, 'base64');
    await removeStaleTemps(entry.path);
    const now = await readBytes(entry.path);
    const ours = now !== null && sha256(now) === top(entry).written;
    if (!ours && (now === null ? want === null : want !== null && now.equals(want))) {
      results.push({ path: entry.path, action: 'unchanged' });
    } else if (!ours && !options.force) {
      results.push({ path: entry.path, action: 'conflict' });
      continue;
    } else {
      try {
        await putBack(entry.path, want);
      } catch (e) {
        await writeJournal(stateDir, { ...journal, entries: journal.entries.filter((x) => x.layers.length) });
        throw new TunaSetupError(
          'WRITE_FAILED',
          `putting back ${entry.path} failed: ${(e as Error).message}`,
          'the files restored so far are recorded; fix the cause and run restore again',
        );
      }
      if (want === null) for (const dir of entry.createdDirs) await rmdir(dir).catch(() => {}); // only if empty
      results.push({ path: entry.path, action: want === null ? 'removed' : 'restored' });
    }
    entry.layers = remaining;
  }
  await writeJournal(stateDir, { ...journal, entries: journal.entries.filter((e) => e.layers.length) });
  return results.reverse();
}
