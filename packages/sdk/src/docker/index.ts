/** @tuna-setup/sdk/docker — Docker: the engine, image references, the job container. */
export { inspectDocker, inspectLocalImage, type DockerReport, type LocalImage } from './info.js';
export { jobEnvironment, CACHE_IN_CONTAINER, parseGpus, bashScript, dockerRunArgs, checkJob, preflight, pullImage, ensureImage, runJob, runInContainer, removeContainer, restoreWorkspaceOwner, type Gpus, type JobSpec, type JobExit, type PreflightInput, type PullOptions, type RunOptions, type ContainerRunOptions, type ContainerRun } from './run.js';
export { parsePullPolicy, parseRunImage, parsePublish, publishArg, parseVolume, checkVolume, resolveWorkdir, renderEnvFile, PULL_POLICIES, type PullPolicy, type RunImage, type PortMapping, type Volume } from './options.js';
