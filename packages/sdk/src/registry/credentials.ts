/**
 * Registry credentials as Docker keeps them, in `$DOCKER_CONFIG/config.json`
 * (default `~/.docker/config.json`): a credential helper for the registry
 * (`credHelpers`), else the default store (`credsStore`), else `auths`
 * (`auth` = base64 of user:password, or an `identitytoken`). A helper is run
 * as `docker-credential-<name> get` with the server URL on stdin (argv, no
 * shell) and answers `{"ServerURL","Username","Secret"}`; `<token>` as the
 * user means Secret is an identity token (an OAuth2 refresh token). Docker
 * Hub's key is `https://index.docker.io/v1/`.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';
import { exec } from '../exec.js';
import { untrusted } from '../net/untrusted.js';
import { normalizeRegistry } from './mirrors.js';

/** A login: user and password (or personal access token), or an identity token. */
export type Credentials = { username: string; password: string } | { identityToken: string };

const HUB_KEY = 'https://index.docker.io/v1/';

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The config.json Docker reads: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export const dockerConfigFile = (env: NodeJS.ProcessEnv = process.env) => path.join(env.DOCKER_CONFIG || path.join(homedir(), '.docker'), 'config.json');

/** The key Docker stores a registry's login under (and hands a helper). */
const serverKey = (registry: string) => (normalizeRegistry(registry) === 'docker.io' ? HUB_KEY : registry);

function hostOfKey(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0]!;
  return normalizeRegistry(host);
}

/**
 * The login Docker would use for `registry`; undefined for anonymous. A
 * config.json that does not parse, or a helper that fails for another reason
 * than "not found", is an error naming the file or the helper.
 */
export async function dockerCredentials(registry: string, options: { configFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Credentials | undefined> {
  const file = options.configFile ?? dockerConfigFile(options.env);
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new TunaSetupError('REGISTRY', `cannot read ${file}: ${e.message}`, 'check its permissions, or point DOCKER_CONFIG at another directory');
  });
  if (text === null) return undefined;
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (e) {
    throw new TunaSetupError('PARSE_ERROR', `${file}: ${(e as Error).message}`, 'docker cannot read it either; fix it (docker login rewrites it)');
  }
  const host = normalizeRegistry(registry);
  const helperKey = Object.keys(config.credHelpers ?? {}).find((k) => hostOfKey(k) === host);
  const helper = helperKey ? config.credHelpers![helperKey] : config.credsStore;
  if (helper) {
    const found = await fromHelper(helper, serverKey(registry), options.env);
    if (found || helperKey) return found;
  }
  const authKey = Object.keys(config.auths ?? {}).find((k) => hostOfKey(k) === host);
  const entry = authKey ? config.auths![authKey]! : undefined;
  if (!entry) return undefined;
  if (entry.identitytoken) return { identityToken: entry.identitytoken };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon <= 0)
      throw new TunaSetupError(
        'PARSE_ERROR',
        `${file}: the auth for ${untrusted(authKey!, 80)} is not base64 of user:password`,
        `log in again: docker login ${host}`,
      );
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

async function fromHelper(name: string, server: string, env?: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new TunaSetupError(
      'PARSE_ERROR',
      `credential helper name '${untrusted(name, 64)}' is not a plain name`,
      'credHelpers/credsStore name a docker-credential-<name> program',
    );
  }
  const bin = `docker-credential-${name}`;
  const r = await exec([bin, 'get'], { input: server, timeoutMs: 30_000, maxChars: 64 * 1024, ...(env ? { env } : {}) });
  if (r.code === 127)
    throw new TunaSetupError(
      'REGISTRY',
      `${bin} is not installed (config.json names it for ${server})`,
      `install it, or remove it from config.json and log in with docker login`,
    );
  if (r.code !== 0) {
    if (/credentials not found/i.test(r.stdout + r.stderr)) return undefined;
    throw new TunaSetupError(
      'REGISTRY',
      `${bin} get failed for ${server} (exit ${r.code}): ${untrusted((r.stderr || r.stdout).trim(), 200)}`,
      'check the helper (is its keychain unlocked?), or log in again',
    );
  }
  let out: { Username?: unknown; Secret?: unknown };
  try {
    out = JSON.parse(r.stdout) as typeof out;
  } catch {
    throw new TunaSetupError('REGISTRY', `${bin} get answered something that is not JSON`, 'check the helper');
  }
  if (typeof out.Secret !== 'string' || out.Secret === '') return undefined;
  if (out.Username === '<token>') return { identityToken: out.Secret };
  return { username: typeof out.Username === 'string' ? out.Username : '', password: out.Secret };
}
