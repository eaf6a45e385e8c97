/** @tuna-setup/sdk/net — Strings from the network made safe to show; offline mode; the version and User-Agent. */
export { USER_AGENT } from '../version.js';
export { untrusted, markdownText } from './untrusted.js';
export { isOffline } from './offline.js';
