/**
 * The main step, one `core.group` per phase: select the mirror (or take the
 * named one), write the configs (journaled for the post step), resolve
 * torch/CUDA/image, restore the wheel cache, pull the image and run the job.
 * Everything clever is in the SDK; this file decides the order, logs, and
 * sets outputs, exported variables and state.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import * as core from '@actions/core';
import {
  applyMirror,
  chooseMirror,
  defaultStateDir,
  inWords,
  TunaSetupError,
  isTunaSetupError,
  resolveEnvironment,
  runInContainer,
  type Environment,
} from '@tuna-setup/sdk';
import { bashScript, jobEnvironment, parseRunImage } from '@tuna-setup/sdk/docker';
import { formatRanking } from '@tuna-setup/sdk/probe';
import { parseRegistryMirror, pullThrough, rewriteMirrors } from '@tuna-setup/sdk/registry';
import { installResolved, machinePlatform, probePython, type PythonInfo } from '@tuna-setup/sdk/torch';
import { cacheHit, requirementsWorkload, restoreWheelCache } from './cache.js';
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
      for (const p of e.problems)
        core.error(p.message.startsWith(p.input) ? p.message : `${p.input}: ${p.message}`, { title: `tuna-setup input '${p.input}'` });
    }
    core.setFailed((e as Error).message);
    return;
  }
  try {
    await main(inputs);
    core.saveState(STATE.mainOk, 'true');
  } catch (e) {
    core.setFailed(isTunaSetupError(e) ? Object.values(e.say('action')).join('\n') : ((e as Error).stack ?? String(e)));
    // the job's own exit code, not just "failed"
    if (isTunaSetupError(e) && e.code === 'JOB_FAILED') process.exitCode = e.details?.exitCode as number;
  }
}

async function main(inputs: Inputs): Promise<void> {
  const stateDir = path.join(inputs.runner.temp, 'tuna-setup');
  // the journal is the user's, not the job's: runner processes sharing one HOME (and its pip.conf)
  // stack their sessions in it, so overlapping jobs each put back only their own layer
  const journalDir = defaultStateDir();
  const session = `actions-${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const facts: SummaryFacts = { selections: [], warnings: [] };

  const chosen = await core.group('Select the mirror', async () => {
    const workload = await requirementsWorkload(inputs.cacheDependencyPath, inputs.runner.workspace);
    const c = await chooseMirror({
      spec: inputs.mirror,
      targets: inputs.configure,
      budgetMs: inputs.probeBudgetMs,
      stateDir,
      offline: inputs.runner.offline,
      allowHttp: inputs.allowHttp,
      ...(workload ? { workload } : {}),
    });
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
    // saved first: a job cancelled mid-apply still has its post step take its layer back
    core.saveState(STATE.journal, journalDir);
    core.saveState(STATE.session, session);
    core.saveState(STATE.restoreConfig, String(inputs.restoreConfig));
    const { plan } = await applyMirror({
      mirror: chosen.mirror,
      targets: inputs.configure,
      stateDir: journalDir,
      session,
      dockerMirrors: inputs.dockerMirrors,
      registryMirrors: inputs.registryMirrors,
      reloadDocker: inputs.configure.includes('docker'),
      replaceIndex: inputs.replaceIndex,
      allowHttp: inputs.allowHttp,
    });
    for (const c of plan.changes) core.info(`${c.target.padEnd(10)} ${c.action.padEnd(10)} ${c.path}`);
    for (const n of plan.notes) core.info(`note: ${n}`);
    for (const [k, v] of Object.entries(plan.env)) core.exportVariable(k, v);
    core.info(`exported ${Object.keys(plan.env).join(', ') || 'nothing'}; the configs are put back in the post step: ${inputs.restoreConfig}`);
    if (plan.env.PIP_INDEX_URL) core.setOutput(OUTPUT.pipIndexUrl, plan.env.PIP_INDEX_URL);
    if (chosen.mirror.conda) core.setOutput(OUTPUT.condaChannelAlias, chosen.mirror.conda.cloud);
    facts.plan = plan;
  });

  const hubRoots = inputs.dockerMirrors.map((u) => parseRegistryMirror(u, '{dockerMirror}', { allowHttp: true }));
  const byName = rewriteMirrors([...inputs.registryMirrors, ...hubRoots], inputs.configure.includes('docker'));
  let env: Environment | undefined;
  let python: PythonInfo | undefined;
  if (inputs.pytorch) {
    env = await core.group('Resolve PyTorch, CUDA and the image', async () => {
      // installing: the wheels must fit the interpreter they go into
      if (inputs.installTorch) python = await probePython(inputs.python);
      const e = await resolveEnvironment({
        ...(python ? { python: python.version, platform: await machinePlatform(undefined, python.platform) } : {}),
        torch: inputs.pytorch!,
        cuda: inputs.cuda,
        source: inputs.imageSource,
        flavor: inputs.imageFlavor,
        offline: inputs.runner.offline,
        // torch through the chosen mirror when its PyPI build fits (torch-wheels: auto)
        wheels: inputs.torchWheels,
        ...(chosen.mirror.pypi ? { pypiIndex: chosen.mirror.pypi.index } : {}),
        stateDir,
        // what dockerd does not apply itself (it was not configured, another registry, a path prefix) is pulled through by name
        registryMirrors: byName,
      });
      for (const r of e.reasons) core.info(`- ${inWords(r, 'action')}`);
      for (const w of e.warnings) core.warning(w);
      return e;
    });
    facts.env = env;
    core.setOutput(OUTPUT.torchIndexUrl, env.torchIndexUrl);
    core.setOutput(OUTPUT.cuda, env.cuda ?? 'cpu');
    core.setOutput(OUTPUT.driverVersion, env.driver ?? '');
    core.exportVariable('TUNA_SETUP_TORCH_INDEX_URL', env.torchIndexUrl);
  }
  // an explicit image wins; `auto` (or none given) takes the resolved one
  const explicit = inputs.image && inputs.image !== 'auto' ? pullThrough(inputs.image, byName) : undefined;
  const image = explicit ?? env?.image ?? undefined;
  if (!explicit && env && env.image === null) {
    if (inputs.run) throw new TunaSetupError('UNRESOLVABLE', 'no image to run the job in', env.imageProblem ?? 'give one with {image}');
    // asked for (image: auto) it deserves a warning; otherwise it is one fact among the reasons
    if (inputs.image === 'auto') core.warning(`no image: ${inWords(env.imageProblem ?? '', 'action')}`);
  }
  if (image) {
    core.setOutput(OUTPUT.image, image);
    // a pinned image is its digest; a resolved one was checked in the registry (unless offline)
    core.setOutput(OUTPUT.imageDigest, explicit ? (parseRunImage(explicit).digest ?? '') : (env?.digest ?? ''));
  }

  const cache = await core.group('Restore the wheel cache', () => restoreWheelCache(inputs, env?.variant ?? 'none'));
  core.setOutput(OUTPUT.cacheHit, String(cache ? cacheHit(cache) : false));
  core.setOutput(OUTPUT.cacheKey, cache?.base ?? '');
  if (cache) core.saveState(STATE.cache, JSON.stringify(cache));
  facts.cache = cache
    ? `${cache.backend}: ${cache.restored ? `restored \`${cache.restored}\`` : 'nothing to restore yet'}; saved as \`${cache.base}-<content>\` when it changes`
    : 'off';

  if (inputs.installTorch && env && python) {
    const py = python;
    const e = env;
    await core.group(`Install torch ${e.torch} (${e.variant}) into ${py.executable}`, async () => {
      // after the cache restore: pip and uv fill and use the wheel cache
      const report = await installResolved(e, py, { onOutput: (text) => process.stdout.write(text) });
      const seen = report.verified!;
      core.info(`verified: torch ${seen.torch}, CUDA ${seen.cuda ?? 'none (CPU build)'}${seen.arches.length ? `, kernels ${seen.arches.join(' ')}` : ''}`);
      core.setOutput(OUTPUT.torchVersion, seen.torch);
      facts.installed = `torch ${seen.torch} (${e.wheelSource}: ${e.torchIndexUrl}) into ${py.executable} with ${report.installer} in ${report.seconds.install.toFixed(1)} s; checked: CUDA ${seen.cuda ?? 'none'}${seen.arches.length ? `, ${seen.arches.join(' ')}` : ''}`;
    });
  }

  if (inputs.installConda !== 'none') {
    const what = inputs.installConda === 'miniforge' ? 'Miniforge' : 'micromamba';
    await core.group(`Install ${what}`, async () => {
      const { prefix, source } =
        inputs.installConda === 'miniforge'
          ? await installMiniforge(chosen.mirror, inputs.runner.temp, inputs.githubToken)
          : await installMicromamba(inputs.runner.temp, inputs.githubToken);
      core.info(`${what} installed in ${prefix} (from ${source}); ${path.join(prefix, 'bin')} is on PATH`);
      facts.conda = `${what} from ${source}, in \`${prefix}\``;
    });
  }

  if (inputs.run && image) {
    const exitCode = await runInImage(inputs, image, env, cache?.dirs ?? {}, facts);
    if (inputs.summary) await writeSummary(facts);
    if (exitCode !== 0) {
      throw new TunaSetupError('JOB_FAILED', `the job in ${image} exited with ${exitCode}`, 'its output is above, in the "Run in …" group', {
        details: { exitCode },
      });
    }
    return;
  }
  if (inputs.summary) await writeSummary(facts);
}

async function runInImage(
  inputs: Inputs,
  image: string,
  env: Environment | undefined,
  cacheDirs: Record<string, string>,
  facts: SummaryFacts,
): Promise<number> {
  const name = `tuna-setup-${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}-${process.pid}`;
  // a cancelled job: the SDK stops the container on SIGTERM; the post step removes whatever is left
  core.saveState(STATE.container, name);
  // the mirror, the torch index and the wheel cache, as the SDK gives every front end's job
  const job = jobEnvironment({ ...(env ? { torchIndexUrl: env.torchIndexUrl } : {}), cacheDirs });
  const { exitCode, seconds, digest } = await runInContainer(
    {
      image,
      command: bashScript(inputs.run!),
      gpus: inputs.gpus,
      name,
      workspace: inputs.runner.workspace,
      mounts: job.mounts,
      env: { CI: 'true', GITHUB_ACTIONS: 'true', ...job.env },
    },
    {
      imageCuda: env?.imageCuda ?? null,
      requiresNativeCuda: inputs.imageSource !== 'pytorch',
      pull: inputs.pull,
      tempDir: inputs.runner.temp,
      phase: (title, fn) => core.group(title, fn),
      log: (l) => core.info(l),
      warn: (l) => core.warning(l),
    },
  );
  // what ran, by digest: the pinned one, or the one docker knows the pulled or local image by
  if (digest) core.setOutput(OUTPUT.imageDigest, digest);
  facts.job = { image, exitCode, seconds };
  return exitCode;
}
