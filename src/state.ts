/**
 * Every name the Action shares with the runner in one place: the outputs of
 * action.yml, and the state the main step hands to the post step.
 */
export const OUTPUT = {
  mirror: 'mirror',
  pipIndexUrl: 'pip-index-url',
  condaChannelAlias: 'conda-channel-alias',
  torchIndexUrl: 'torch-index-url',
  cuda: 'cuda',
  torchVersion: 'torch-version',
  driverVersion: 'driver-version',
  image: 'image',
  imageDigest: 'image-digest',
  cacheHit: 'cache-hit',
  cacheKey: 'cache-key',
  probeReport: 'probe-report',
} as const;

export const STATE = {
  /** the journal directory, when configs were written */
  journal: 'journal-dir',
  /** this job's session in the journal (its layer; see the SDK's journal.ts) */
  session: 'journal-session',
  /** 'true' when the post step puts the configs back */
  restoreConfig: 'restore-config',
  /** JSON of the wheel cache to save: { backend, key, hit, dir, local? } */
  cache: 'wheel-cache',
  /** the container name while a job may be running */
  container: 'container',
  /** 'true' once the main step finished without failing */
  mainOk: 'main-ok',
} as const;
