/** @tuna-setup/sdk/net — Strings from the network made safe to show; offline mode; the User-Agent; the HTTP client's result type. */
export { USER_AGENT } from '../version.js';
export { untrusted, markdownText } from './untrusted.js';
export { isOffline } from './offline.js';
export type { HttpResult } from './http.js';
