/**
 * @tuna-setup/sdk — the use cases, one import each: choose a mirror
 * (selectMirror, chooseMirror), point the tools at it and put them back
 * (applyMirror, restoreMirror), resolve PyTorch/CUDA/image
 * (resolveEnvironment), install and prove it (installTorch), run a job in
 * the image (runInContainer), look at the machine (doctor), verify the
 * catalog (verifyCatalog), and the errors every one of them throws.
 * The parts are on subpaths: `@tuna-setup/sdk/catalog`, `/config`, `/probe`,
 * `/torch`, `/registry`, `/docker`, `/cache`, `/net`, `/fs`.
 *
 * @example
 * import { selectMirror, applyMirror, findMirror, defaultStateDir } from '@tuna-setup/sdk';
 * const report = await selectMirror({ service: 'pypi' });
 * if (report.chosen) await applyMirror({ mirror: findMirror(report.chosen.name), targets: ['pip', 'uv'], stateDir: defaultStateDir() });
 */
export { TunaSetupError, isTunaSetupError, inWords, SETTINGS, type ErrorCode, type Fix, type Words } from './errors.js';
export { VERSION } from './version.js';
export { exec, type ExecResult } from './exec.js';
export { findMirror } from './catalog/lookup.js';
export { defaultStateDir, type Target } from './config/locations.js';
export { applyMirror, restoreMirror, type ApplyMirrorOptions } from './config/apply.js';
export { selectMirror, type SelectReport } from './probe/select.js';
export { verifyCatalog } from './catalog/verify.js';
export { chooseMirror, type ChosenMirror } from './probe/choose.js';
export { resolveEnvironment, type EnvironmentRequest, type Environment } from './torch/environment.js';
export { installTorch, type InstallReport } from './torch/install.js';
export { runInContainer } from './docker/run.js';
export { doctor, type DoctorReport } from './doctor.js';
export type { Mirror } from './catalog/types.js';
