/**
 * Checking a URL a user hands us for a mirror. https only unless the user
 * opts in; no credentials (a token written into pip.conf or daemon.json ends
 * up in logs and backups — use netrc or a keyring instead); no query or
 * fragment. Returns the URL without a trailing slash.
 */
import { TunaSetupError } from '../errors.js';

/** What `checkMirrorUrl` lets through beyond https. */
export interface UrlPolicy {
  /** accept http:// (the user said so explicitly) */
  allowHttp?: boolean;
}

/**
 * `input` as a mirror URL without a trailing slash: http(s) only (plain http only with `allowHttp`),
 * no credentials, no query or fragment; BAD_URL / INSECURE_URL otherwise, naming `what`.
 */
export function checkMirrorUrl(input: string, what: string, policy: UrlPolicy = {}): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new TunaSetupError('BAD_URL', `${what}: '${input}' is not a URL`, 'give a full URL such as https://mirrors.example.edu.cn');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TunaSetupError('BAD_URL', `${what}: '${input}' uses ${url.protocol.replace(':', '')}, not http(s)`, 'give an https:// URL');
  }
  if (url.protocol === 'http:' && !policy.allowHttp) {
    throw new TunaSetupError(
      'INSECURE_URL',
      `${what}: '${input}' is plain http`,
      'use https://, or pass {allowHttp=true} if this mirror really has no TLS (traffic can then be read and altered)',
    );
  }
  if (url.username || url.password) {
    throw new TunaSetupError(
      'BAD_URL',
      `${what}: '${url.host}' URL carries credentials`,
      'keep tokens out of config files: put them in ~/.netrc or a keyring and give the URL without user:password@',
    );
  }
  if (url.search || url.hash) {
    throw new TunaSetupError('BAD_URL', `${what}: '${input}' has a query or fragment`, 'give the URL without ?… or #…');
  }
  return url.href.replace(/\/+$/, '');
}
