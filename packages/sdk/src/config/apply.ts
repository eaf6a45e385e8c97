/**
 * The `apply` and `restore` use cases, for every front end. Apply: plan and
 * check everything that can be checked (inputs, files, permissions, a dockerd
 * to reload) before touching anything; then under the state dir's lock plan
 * again, write through the journal, reload dockerd when asked and daemon.json
 * really changed — and if that reload fails, put every file and the journal
 * back, so a failed apply leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import type { Mirror } from '../catalog/types.js';
import { TunaSetupError } from '../errors.js';
import { checkDockerReload, reloadDocker, type ReloadResult } from './docker.js';
import { applyPlan, checkPlanWritable, DEFAULT_SESSION, journalFile, noJournal, restoreFiles, type RestoredFile, type RestoreOptions } from './journal.js';
import { withStateLock } from '../fs/lock.js';
import { planApply, type Plan, type PlanOptions } from './plan.js';

/** What to write (mirror, targets), where the journal lives (stateDir), and the guards (dryRun, session, replaceIndex, allowHttp). */
export interface ApplyMirrorOptions extends PlanOptions {
  dryRun?: boolean;
  /** SIGHUP dockerd (or systemctl reload docker) when daemon.json changed */
  reloadDocker?: boolean;
  dockerPidFile?: string;
  /** whose layer this apply is (see journal.ts); default: the CLI's */
  session?: string;
}

/** The mirror, the plan carried out (or only made, on a dry run), and how dockerd was reloaded when it was. */
export interface ApplyMirrorResult {
  mirror: Mirror;
  plan: Plan;
  dryRun: boolean;
  reload?: ReloadResult;
}

/** A session name is written in the journal and repeated on restore: plain and bounded. */
export function checkSession(session: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(session)) {
    throw new TunaSetupError('USAGE', `{session} '${session}' is not a name`, 'letters, digits and . _ : - (up to 128), starting with a letter or digit');
  }
  return session;
}

const changesDocker = (plan: Plan) => plan.changes.some((c) => c.target === 'docker' && c.action !== 'unchanged');

/**
 * Point the targets' tools at the mirror: plan (a diff per file), check
 * everything that can be checked, then under the state lock journal the
 * original bytes and write each file whole; `restoreMirror` puts them back.
 * @example
 * const { plan } = await applyMirror({ mirror: findMirror('tuna'), targets: ['pip', 'uv'], stateDir: defaultStateDir(), dryRun: true });
 * for (const c of plan.changes) console.log(c.target, c.action, c.path);
 */
export async function applyMirror(options: ApplyMirrorOptions): Promise<ApplyMirrorResult> {
  // everything that can be checked is checked before the state dir is touched: inputs and files (the plan),
  // permissions, a dockerd to reload
  if (options.session !== undefined) checkSession(options.session);
  const draft = await planApply(options);
  if (options.dryRun) return { mirror: options.mirror, plan: draft, dryRun: true };
  await checkPlanWritable(draft, options.stateDir);
  if (options.reloadDocker && changesDocker(draft)) await checkDockerReload(options.dockerPidFile);
  return withStateLock(options.stateDir, async () => {
    const plan = await planApply(options); // again, under the lock: the journal and the files as they are now
    const applied = await applyPlan(plan, options.stateDir, options.session ?? DEFAULT_SESSION);
    let reload: ReloadResult | undefined;
    if (options.reloadDocker && changesDocker(plan)) {
      try {
        reload = await reloadDocker(options.dockerPidFile);
      } catch (e) {
        await applied.rollback();
        throw e;
      }
    }
    return { mirror: options.mirror, plan, dryRun: false, ...(reload ? { reload } : {}) };
  });
}

/** Puts back a session's files (or all), under the state dir's lock. */
export async function restoreMirror(stateDir: string, options: RestoreOptions = {}): Promise<RestoredFile[]> {
  if (options.session !== undefined) checkSession(options.session);
  if (!existsSync(journalFile(stateDir))) throw noJournal(stateDir); // nothing to lock for
  return withStateLock(stateDir, () => restoreFiles(stateDir, options));
}
