/** @tuna-setup/sdk/catalog — The mirror catalog as data, its lookup and checks, and the live verification of its rows. */
export type * from './types.js';
export { MIRRORS } from './mirrors.js';
export { findMirror, listMirrors, loadMirrorFile, mirrorFromUrl, isPublicPypiIndex, type LookupOptions } from './lookup.js';
export { checkMirrorUrl, type UrlPolicy } from './url.js';
export {
  miniforgeInstallerName,
  miniforgeSources,
  micromambaSources,
  parseSha256File,
  MINIFORGE_UPSTREAM,
  MICROMAMBA_UPSTREAM,
  type InstallerSource,
} from './installers.js';
export { verifyCatalog, verifyTargets, ROW_VERDICTS, type RowCheck, type RowVerdict, type VerifyOptions, type VerifyProbe } from './verify.js';
export { fetchVerified, installMiniforge, installMicromamba, type VerifiedCache, type FetchOptions, type CondaInstall } from './install-conda.js';
