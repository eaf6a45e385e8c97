/** @tuna-setup/sdk/config — The config writers (pip.conf, uv.toml, .condarc, daemon.json, containerd hosts.toml, registries.conf.d, buildkitd.toml), the plan, the journal, apply and restore. */
export { renderPipConf, parsePipConf, type PipSettings } from './pip.js';
export { renderUvToml, parseUvToml, type UvSettings } from './uv.js';
export { renderCondarc, readCondarc, type CondaSettings } from './conda.js';
export { renderDaemonJson, parseDaemonJson, reloadDocker, checkDockerReload, type DockerSettings, type ReloadResult } from './docker.js';
export { condaSubdir, configPath, defaultStateDir, hostPlatform, TARGETS, ENGINE_TARGETS, type Target, type Platform } from './locations.js';
export { renderHostsToml, readContainerdConfig, configPathSnippet, hostKey, upstreamServer, type HostsSettings, type ContainerdConfig } from './containerd.js';
export { renderRegistriesConf, type RegistriesSettings } from './podman.js';
export { renderBuildkitdToml, type BuildkitSettings } from './buildkit.js';
export { planApply, parseTargets, type Plan, type PlannedChange, type PlanOptions, type TextEncoding } from './plan.js';
export {
  applyPlan,
  restoreFiles,
  readJournal,
  journalFile,
  canonicalPath,
  DEFAULT_SESSION,
  type Applied,
  type RestoredFile,
  type RestoreOptions,
  type Journal,
  type JournalEntry,
  type JournalLayer,
} from './journal.js';
export { applyMirror, restoreMirror, checkSession, type ApplyMirrorOptions, type ApplyMirrorResult } from './apply.js';
export { readCurrentConfigs, pypiIndexNow, pypiIndexFor, type CurrentConfig } from './current.js';
