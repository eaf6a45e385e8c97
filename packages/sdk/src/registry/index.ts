/** @tuna-setup/sdk/registry — The container registry client (tags, digests, tokens) and registry mirrors (parsing, pull-through rewrites). */
export {
  RegistryClient,
  parseImageRef,
  parseChallenge,
  nearestTag,
  checkImageTag,
  type ImageRef,
  type RegistryClientOptions,
  type TagCheck,
  type TagList,
  type Challenge,
} from './client.js';
export {
  parseRegistryMirror,
  pullThrough,
  rewriteMirrors,
  normalizeRegistry,
  registryOf,
  mirrorLocation,
  mirrorPrefix,
  type RegistryMirror,
} from './mirrors.js';
export { syncImages, syncTarget, type SyncOptions, type SyncReport, type SyncedImage, type SyncEvent, type BlobOutcome } from './sync.js';
export { dockerCredentials, dockerConfigFile, type Credentials } from './credentials.js';
