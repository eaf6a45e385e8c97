/**
 * The main step, one `core.group` per phase: select the mirror (or take the
 * named one), write the configs (journaled for the post step), resolve
 * torch/CUDA/image, restore the wheel cache, pull the image and run the job.
 * Everything clever is in the SDK; this file decides the order, logs, and
 * sets outputs, exported variables and state.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import {
  applyMirror, bashScript, chooseMirror, detectGpu, formatRanking, inspectDocker, isTunaSetupError, preflight, pullImage, removeContainer,
  resolveEnvironment, restoreWorkspaceOwner, runJob, type Environment,
} from '@tuna-setup/sdk';
import { restoreWheelCache } from './cache.js';
import { installMicromamba, installMiniforge } from './toolcache.js';
import { InputErrors, loadInputs, type Inputs } from './inputs.js';
import { OUTPUT, STATE } from './state.js';
import { writeSummary, type SummaryFacts } from './summary.js';

export async function run(): Promise<void> {
  let inputs: Inputs;
  try {
    inputs = loadInputs();
  } catch (e) {
    if (e instanceof InputErrors) {
      for (const p of e.problems) core.error(p.message.startsWith(p.input) ? p.message : `${p.input}: ${p.message}`, { title: `tuna-setup input '${p.input}'` });
    }
    core.setFailed((e as Error).message);
    return;
  }
  try {
    await main(inputs);
    core.saveState(STATE.mainOk, 'true');
  } catch (e) {
    core.setFailed(isTunaSetupError(e) ? `${e.message}\n${e.hint}` : (e as { exitCode?: number }).exitCode ? (e as Error).message : ((e as Error).stack ?? String(e)));
    // the job's own exit code, not just "failed"
    const code = (e as { exitCode?: number }).exitCode;
    if (code) process.exitCode = code;
  }
}

async function main(inputs: Inputs): Promise<void> {
  const stateDir = path.join(inputs.runner.temp, 'tuna-setup');
  const facts: SummaryFacts = { selections: [], warnings: [] };

  const chosen = await core.group('Select the mirror', async () => {
    const c = await chooseMirror({ spec: inputs.mirror, targets: inputs.configure, budgetMs: inputs.probeBudgetMs, stateDir, offline: inputs.runner.offline });
    for (const r of c.selections) for (const line of formatRanking(r)) core.info(line);
    for (const w of c.warnings) core.warning(w);
    core.info(`mirror: ${c.mirror.name} (${c.mirror.url})`);
    return c;
  });
  facts.selections = chosen.selections;
  facts.warnings = chosen.warnings;
  core.setOutput(OUTPUT.mirror, chosen.mirror.name);
  core.setOutput(OUTPUT.probeReport, JSON.stringify(chosen.selections));

  await core.group(`Configure ${inputs.configure.join(', ')}`, async () => {
    const { plan } = await applyMirror({
      mirror: chosen.mirror, targets: inputs.configure, stateDir, dockerMirrors: inputs.dockerMirrors, reloadDocker: inputs.configure.includes('docker'),
    });
    core.saveState(STATE.journal, stateDir);
    core.saveState(STATE.restoreConfig, String(inputs.restoreConfig));
    for (const c of plan.changes) core.info(`${c.target.padEnd(7)} ${c.action.padEnd(10)} ${c.path}`);
    for (const n of plan.notes) core.info(`note: ${n}`);
    for (const [k, v] of Object.entries(plan.env)) core.exportVariable(k, v);
    core.info(`exported ${Object.keys(plan.env).join(', ') || 'nothing'}; the configs are put back in the post step: ${inputs.restoreConfig}`);
    if (plan.env.PIP_INDEX_URL) core.setOutput(OUTPUT.pipIndexUrl, plan.env.PIP_INDEX_URL);
    if (chosen.mirror.conda) core.setOutput(OUTPUT.condaChannelAlias, chosen.mirror.conda.cloud);
    facts.plan = plan;
  });

  let env: Environment | undefined;
  if (inputs.pytorch) {
    env = await core.group('Resolve PyTorch, CUDA and the image', async () => {
      const e = await resolveEnvironment({
        torch: inputs.pytorch!, cuda: inputs.cuda, source: inputs.imageSource, flavor: inputs.imageFlavor, offline: inputs.runner.offline,
        // with docker configured, dockerd itself goes through the mirror; otherwise pull through it by name
        ...(inputs.dockerMirrors[0] && !inputs.configure.includes('docker') ? { registryMirror: new URL(inputs.dockerMirrors[0]).host } : {}),
      });
      for (const r of e.reasons) core.info(`- ${r}`);
      return e;
    });
    facts.env = env;
    core.setOutput(OUTPUT.torchIndexUrl, env.torchIndexUrl);
    core.setOutput(OUTPUT.cuda, env.cuda ?? 'cpu');
    core.setOutput(OUTPUT.driverVersion, env.driver ?? '');
    core.exportVariable('TUNA_SETUP_TORCH_INDEX_URL', env.torchIndexUrl);
  }
  // an explicit image wins; `auto` (or none given) takes the resolved one
  const explicit = inputs.image && inputs.image !== 'auto' ? inputs.image : undefined;
  const image = explicit ?? env?.image;
  if (image) {
    core.setOutput(OUTPUT.image, image);
    core.setOutput(OUTPUT.imageDigest, explicit ? '' : env?.digest ?? '');
  }

  const cache = await core.group('Restore the wheel cache', () => restoreWheelCache(inputs, env?.variant ?? 'none'));
  core.setOutput(OUTPUT.cacheHit, String(cache?.hit ?? false));
  core.setOutput(OUTPUT.cacheKey, cache?.key ?? '');
  if (cache) core.saveState(STATE.cache, JSON.stringify(cache));
  facts.cache = cache ? `${cache.backend}: ${cache.hit ? 'hit' : 'miss'} on \`${cache.key}\`` : 'off';

  if (inputs.installConda !== 'none') {
    const what = inputs.installConda === 'miniforge' ? 'Miniforge' : 'micromamba';
    await core.group(`Install ${what}`, async () => {
      const { prefix, source } = inputs.installConda === 'miniforge'
        ? await installMiniforge(chosen.mirror, inputs.runner.temp) : await installMicromamba(inputs.runner.temp);
      core.info(`${what} installed in ${prefix} (from ${source}); ${path.join(prefix, 'bin')} is on PATH`);
      facts.conda = `${what} from ${source}, in \`${prefix}\``;
    });
  }

  if (inputs.run && image) {
    const exitCode = await runInImage(inputs, image, env, cache?.dir, facts);
    await writeSummary(facts);
    if (exitCode !== 0) throw Object.assign(new Error(`the job in ${image} exited with ${exitCode}`), { exitCode });
    return;
  }
  await writeSummary(facts);
}

/** Where the wheel cache is mounted in the job's container, so pip and uv there fill (and use) it too. */
const CACHE_IN_CONTAINER = '/tuna-setup-wheels';

async function runInImage(inputs: Inputs, image: string, env: Environment | undefined, cacheDir: string | undefined, facts: SummaryFacts): Promise<number> {
  await core.group('Preflight', async () => {
    const [docker, gpu] = await Promise.all([inspectDocker(), inputs.gpus === 'none' ? undefined : detectGpu()]);
    const problems = preflight({
      docker, gpus: inputs.gpus, driverCuda: gpu?.cudaMax ?? null, imageCuda: env?.imageCuda ?? null,
      requiresNativeCuda: inputs.imageSource !== 'pytorch',
    });
    core.info(`docker ${docker.serverVersion ?? 'unavailable'}; runtimes: ${docker.runtimes.join(', ') || 'none'}; gpus: ${inputs.gpus}`);
    if (problems.length) throw new Error(`cannot run the job:\n- ${problems.join('\n- ')}`);
  });
  await core.group(`Pull ${image}`, () => pullImage(image, { log: (l) => core.info(l) }));
  const name = `tuna-setup-${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}-${process.pid}`;
  core.saveState(STATE.container, name);
  // a cancelled job: stop the container now; the post step removes whatever is left
  const stop = () => { void removeContainer(name); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const t0 = performance.now();
  core.startGroup(`Run in ${image}`);
  if (cacheDir) await mkdir(cacheDir, { recursive: true }); // ours, so its owner gets back what the job writes
  const exitCode = await runJob({
    image, command: bashScript(inputs.run!), gpus: inputs.gpus, name, workspace: inputs.runner.workspace,
    ...(cacheDir ? { mounts: { [cacheDir]: CACHE_IN_CONTAINER } } : {}),
    env: {
      CI: 'true', GITHUB_ACTIONS: 'true', ...(env ? { TUNA_SETUP_TORCH_INDEX_URL: env.torchIndexUrl } : {}),
      ...(process.env.PIP_INDEX_URL ? { PIP_INDEX_URL: process.env.PIP_INDEX_URL } : {}),
      ...(process.env.UV_DEFAULT_INDEX ? { UV_DEFAULT_INDEX: process.env.UV_DEFAULT_INDEX } : {}),
      ...(cacheDir ? { PIP_CACHE_DIR: `${CACHE_IN_CONTAINER}/pip`, UV_CACHE_DIR: `${CACHE_IN_CONTAINER}/uv` } : {}),
    },
  });
  core.endGroup();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const seconds = (performance.now() - t0) / 1000;
  core.info(`the job exited with ${exitCode} after ${seconds.toFixed(1)} s`);
  for (const dir of [inputs.runner.workspace, ...(cacheDir ? [cacheDir] : [])]) {
    try {
      const owner = await restoreWorkspaceOwner(image, dir);
      core.info(`${dir === cacheDir ? 'wheel cache' : 'workspace'} files handed back to ${owner.uid}:${owner.gid}`);
    } catch (e) {
      core.warning((e as Error).message);
    }
  }
  facts.job = { image, exitCode, seconds };
  return exitCode;
}
