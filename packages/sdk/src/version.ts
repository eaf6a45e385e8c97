/** The SDK's version and the User-Agent every request carries. */
export const VERSION = '0.6.0';
export const REPO_URL = 'https://github.com/org/tuna-setup';
export const USER_AGENT = `tuna-setup/${VERSION} (+${REPO_URL})`;
