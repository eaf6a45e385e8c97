/**
 * The post step: remove a container a cancelled job left, save the wheel
 * cache (on a miss, after a main step that succeeded), put the configs back
 * when restore-config says so. Each part is independent: one failing warns
 * and the others still run.
 */
import * as core from '@actions/core';
import { isTunaSetupError, restoreMirror } from '@tuna-setup/sdk';
import { removeContainer } from '@tuna-setup/sdk/docker';
import { saveWheelCache, type CacheState } from './cache.js';
import { STATE } from './state.js';

export async function run(): Promise<void> {
  const part = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      core.warning(`${what}: ${isTunaSetupError(e) ? Object.values(e.say('action')).join(' — ') : (e as Error).message}`);
    }
  };
  const container = core.getState(STATE.container);
  if (container) {
    await part('removing the job container', async () => {
      if (await removeContainer(container)) core.info(`removed the container ${container} (the job was cancelled or interrupted)`);
    });
  }
  const cache = core.getState(STATE.cache);
  if (cache) {
    await part('saving the wheel cache', async () => {
      if (core.getState(STATE.mainOk) !== 'true') return core.info('wheel cache: not saved, the main step failed');
      core.info(`wheel cache: ${await saveWheelCache(JSON.parse(cache) as CacheState)}`);
    });
  }
  const journal = core.getState(STATE.journal);
  if (journal && core.getState(STATE.restoreConfig) === 'true') {
    await part('restoring the configs', async () => {
      const session = core.getState(STATE.session) || undefined;
      try {
        for (const r of await restoreMirror(journal, session ? { session } : {})) core.info(`${r.action.padEnd(9)} ${r.path}`);
      } catch (e) {
        // nothing was journaled for this job (every file already said what we would write)
        if (isTunaSetupError(e) && e.code === 'JOURNAL_MISSING') return core.info('configs: nothing to put back');
        throw e;
      }
    });
  }
}
