/**
 * The whole `apply` use case in one call, for every front end: plan, then
 * (unless a dry run) write through the journal, then reload dockerd when
 * asked and daemon.json really changed.
 */
import type { Mirror } from '../catalog/types.js';
import { reloadDocker, type ReloadResult } from './docker.js';
import { applyPlan } from './journal.js';
import { planApply, type Plan, type PlanOptions } from './plan.js';

export interface ApplyMirrorOptions extends PlanOptions {
  dryRun?: boolean;
  /** SIGHUP dockerd (or systemctl reload docker) when daemon.json changed */
  reloadDocker?: boolean;
  dockerPidFile?: string;
}

export interface ApplyMirrorResult {
  mirror: Mirror;
  plan: Plan;
  dryRun: boolean;
  reload?: ReloadResult;
}

export async function applyMirror(options: ApplyMirrorOptions): Promise<ApplyMirrorResult> {
  const plan = await planApply(options);
  if (options.dryRun) return { mirror: options.mirror, plan, dryRun: true };
  await applyPlan(plan, options.stateDir);
  const dockerChanged = plan.changes.some((c) => c.target === 'docker' && c.action !== 'unchanged');
  const reload = options.reloadDocker && dockerChanged ? await reloadDocker(options.dockerPidFile) : undefined;
  return { mirror: options.mirror, plan, dryRun: false, ...(reload ? { reload } : {}) };
}
