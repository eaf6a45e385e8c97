/** The SDK's version and the User-Agent every request carries. */
export const VERSION = '0.6.0';
export const REPO_URL = 'https://github.com/org/tuna-setup';
/** The User-Agent the SDK's HTTP requests send (unless a caller sets its own): `tuna-setup/<VERSION> (+<repo URL>)`. */
export const USER_AGENT = `tuna-setup/${VERSION} (+${REPO_URL})`;
