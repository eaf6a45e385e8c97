/** @tuna-setup/sdk/registry — The container registry client: tags, digests, tokens. */
export { RegistryClient, parseImageRef, parseChallenge, nearestTag, checkImageTag, type ImageRef, type RegistryClientOptions, type TagCheck } from './client.js';
