/**
 * @tuna-setup/sdk — the public API. Everything a Node script needs is
 * exported here; deep imports are not part of the contract.
 */
export { TunaSetupError, isTunaSetupError, inWords, SETTINGS, type ErrorCode, type Fix, type Words } from './errors.js';
export { VERSION, USER_AGENT } from './version.js';
export { exec, type ExecResult } from './exec.js';

export type * from './catalog/types.js';
export { MIRRORS } from './catalog/mirrors.js';
export { findMirror, listMirrors, loadMirrorFile, mirrorFromUrl, isPublicPypiIndex, type LookupOptions } from './catalog/lookup.js';
export { checkMirrorUrl, type UrlPolicy } from './catalog/url.js';
export { miniforgeInstallerName, miniforgeSources, micromambaSources, parseSha256File, MINIFORGE_UPSTREAM, MICROMAMBA_UPSTREAM, type InstallerSource } from './catalog/installers.js';

export { renderPipConf, parsePipConf, type PipSettings } from './config/pip.js';
export { renderUvToml, parseUvToml, type UvSettings } from './config/uv.js';
export { renderCondarc, readCondarc, type CondaSettings } from './config/conda.js';
export { renderDaemonJson, parseDaemonJson, reloadDocker, checkDockerReload, type DockerSettings, type ReloadResult } from './config/docker.js';
export { condaSubdir, configPath, defaultStateDir, hostPlatform, TARGETS, type Target, type Platform } from './config/locations.js';
export { planApply, parseTargets, type Plan, type PlannedChange, type PlanOptions } from './config/plan.js';
export {
  applyPlan, restoreFiles, readJournal, journalFile, canonicalPath, DEFAULT_SESSION,
  type Applied, type RestoredFile, type RestoreOptions, type Journal, type JournalEntry, type JournalLayer,
} from './config/journal.js';
export { withStateLock, lockFile, type LockOptions } from './fs/lock.js';
export { applyMirror, restoreMirror, checkSession, type ApplyMirrorOptions, type ApplyMirrorResult } from './config/apply.js';
export { readCurrentConfigs, pypiIndexNow, pypiIndexFor, type CurrentConfig } from './config/current.js';

export { selectMirror, rank, noHealthyMirror, DEFAULT_BUDGET_MS, DEFAULT_CACHE_TTL_MS, REFERENCE_BYTES, type SelectOptions, type SelectReport, type RankedMirror } from './probe/select.js';
export { catalogCandidates, userCandidates, candidateFromPair, candidateOf, parseProbeService, type CandidateSpec } from './probe/candidates.js';
export { formatRanking } from './probe/format.js';
export { verifyCatalog, verifyTargets, ROW_VERDICTS, type RowCheck, type RowVerdict, type VerifyOptions } from './catalog/verify.js';
export { estimateRate, transferMs, type Arrival, type RateEstimate, type PathEstimate } from './probe/throughput.js';
export { PYTORCH_CI_WORKLOAD, workloadMs, workloadFromRequirements, workloadFromFiles, type Workload } from './probe/workload.js';
export { untrusted, markdownText } from './net/untrusted.js';
export { chooseMirror, type ChooseOptions, type ChosenMirror } from './probe/choose.js';
export { isOffline } from './net/offline.js';
export { PROBE_SERVICES, SERVICE_PROBES, DOCKER_HUB_REGISTRY, condaSubdirGap, serviceRow, type Candidate, type ProbeService } from './probe/services.js';
export { parseIndexPage, type IndexFile } from './probe/index-page.js';
export { staleByListing, staleByDate, type Listing, type Dated } from './probe/freshness.js';
export { readTunasync, readMirrorz, type SyncVerdict, type SyncRule } from './probe/status.js';

export { CUDA_DRIVERS, CUDA_DRIVERS_SOURCE, MINOR_COMPAT_FLOORS, compareDriver, nativeCudaForDriver, minDriverFor, type CudaDriverRow, type DriverRule,
  cudaImageAcceptsDriver, gpuBrand, CUDA_IMAGE_REQUIREMENTS, type GpuBrand, type ImageVerdict, type CudaImageRequirement } from './torch/cuda-drivers.js';
export { detectL4t, detectGpu, parseNvidiaSmiBrands, parseNvidiaSmiQuery, parseProcDriverVersion, type Gpu, type GpuReport, type DetectOptions, type DriverSource } from './torch/detect.js';
export { TORCH_RELEASES, WHEEL_ARCHES, archCovers, archesFor, hasPytorchImage, type TorchRelease, type TorchPatch, type ArchRow } from './torch/releases.js';
export { NGC_RELEASES, CUDA_FULL, IMAGE_SOURCES, pytorchImage, cudaImage, throughRegistryMirror, type ImageSource, type ImageFlavor, type NgcRelease } from './torch/images.js';
export { resolveTorch, findRelease, isCudaSpec, PYTORCH_WHEEL_INDEX, WHEEL_SOURCES, type ResolveRequest, type Resolution, type WheelSource } from './torch/resolve.js';
export { resolveEnvironment, machinePlatform, type EnvironmentRequest, type Environment } from './torch/environment.js';
export { forPlatform, platformOf, hostTorchPlatform, TORCH_PLATFORMS, AARCH64_WHEELS, type TorchPlatform } from './torch/platforms.js';
export { checkListed, type ListedRequest } from './torch/listed.js';
export { liveRelease, type LiveRelease } from './torch/live.js';
export { installTorch, installResolved, checkInstallOptions, probePython, checkInstalled, INSTALLERS, type Installer, type InstallRequest, type InstallOptions, type InstallReport, type InstalledTorch, type PythonInfo } from './torch/install.js';
export { RegistryClient, parseImageRef, parseChallenge, nearestTag, checkImageTag, type ImageRef, type RegistryClientOptions, type TagCheck } from './registry/client.js';
export { inspectDocker, inspectLocalImage, type DockerReport, type LocalImage } from './docker/info.js';
export {
  parseGpus, bashScript, dockerRunArgs, checkJob, preflight, pullImage, ensureImage, runJob, runInContainer, removeContainer, restoreWorkspaceOwner,
  type Gpus, type JobSpec, type JobExit, type PreflightInput, type PullOptions, type RunOptions, type ContainerRunOptions, type ContainerRun,
} from './docker/run.js';
export {
  parsePullPolicy, parseRunImage, parsePublish, publishArg, parseVolume, checkVolume, resolveWorkdir, renderEnvFile, PULL_POLICIES,
  type PullPolicy, type RunImage, type PortMapping, type Volume,
} from './docker/options.js';
export { doctor, type DoctorReport } from './doctor.js';
export { wheelCacheKey, entryKey, cacheContent, restoreLocalCache, saveLocalCache, WHEEL_CACHE_VERSION, type WheelCacheKeyParts, type LocalCacheOptions, type CacheContent } from './cache/wheels.js';
export { readWheelIndex, parseWheelName, normalizePlatform, summarizeTorchIndex, newestVersion, comparePep440, wheelIndexCacheFile, DEFAULT_WHEEL_INDEX_TTL_MS, type WheelFile, type WheelIndex, type WheelIndexOptions, type TorchVersionSummary, type NewestOptions } from './torch/wheel-index.js';
