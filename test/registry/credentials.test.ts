/**
 * Logins as Docker keeps them: config.json's auths (base64 user:password, an
 * identity token), a credential helper per registry and the default store —
 * run as real programs on PATH that read the server URL on stdin.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerCredentials } from '@tuna-setup/sdk/registry';
import { tempDir } from '../helpers/tmp.js';

function setup(config: unknown, helpers: Record<string, string> = {}) {
  const dir = tempDir();
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  for (const [name, script] of Object.entries(helpers)) {
    writeFileSync(path.join(bin, `docker-credential-${name}`), `#!/bin/sh\n${script}\n`);
    chmodSync(path.join(bin, `docker-credential-${name}`), 0o755);
  }
  return { configFile: path.join(dir, 'config.json'), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('dockerCredentials', () => {
  it('reads auths: base64 user:password (a colon in the password kept), by host with or without scheme', async () => {
    const o = setup({ auths: { 'https://harbor.corp': { auth: b64('robot$ci:pa:ss') }, 'ghcr.io': { auth: b64('me:tok') } } });
    expect(await dockerCredentials('harbor.corp', o)).toEqual({ username: 'robot$ci', password: 'pa:ss' });
    expect(await dockerCredentials('ghcr.io', o)).toEqual({ username: 'me', password: 'tok' });
    expect(await dockerCredentials('quay.io', o)).toBeUndefined();
  });

  it("Docker Hub's key is https://index.docker.io/v1/, whatever alias the image uses; an identity token is one", async () => {
    const o = setup({ auths: { 'https://index.docker.io/v1/': { identitytoken: 'refresh-me' } } });
    for (const name of ['docker.io', 'index.docker.io', 'registry-1.docker.io'])
      expect(await dockerCredentials(name, o)).toEqual({ identityToken: 'refresh-me' });
  });

  it('a credential helper for the registry wins over auths; it gets the server URL on stdin; <token> means an identity token', async () => {
    const o = setup(
      { credHelpers: { 'harbor.corp': 'corp', 'docker.io': 'hub' }, auths: { 'harbor.corp': { auth: b64('stale:old') } } },
      {
        corp: 'read s; [ "$1" = get ] && [ "$s" = harbor.corp ] && echo \'{"ServerURL":"harbor.corp","Username":"robot","Secret":"fresh"}\'',
        hub: 'read s; [ "$s" = "https://index.docker.io/v1/" ] && echo \'{"ServerURL":"x","Username":"<token>","Secret":"idt"}\'',
      },
    );
    expect(await dockerCredentials('harbor.corp', o)).toEqual({ username: 'robot', password: 'fresh' });
    expect(await dockerCredentials('docker.io', o)).toEqual({ identityToken: 'idt' });
  });

  it("the default store (credsStore) is asked, and its 'not found' falls back to auths", async () => {
    const o = setup(
      { credsStore: 'desktop', auths: { 'ghcr.io': { auth: b64('me:tok') } } },
      {
        desktop: 'read s; if [ "$s" = quay.io ]; then echo \'{"Username":"q","Secret":"w"}\'; else echo "credentials not found in native keychain"; exit 1; fi',
      },
    );
    expect(await dockerCredentials('quay.io', o)).toEqual({ username: 'q', password: 'w' });
    expect(await dockerCredentials('ghcr.io', o)).toEqual({ username: 'me', password: 'tok' });
  });

  it('errors name the file or the helper: a broken config.json, a missing helper, a failing one, a helper name that is not a name', async () => {
    await expect(dockerCredentials('x.io', setup('{ not json'))).rejects.toMatchObject({ code: 'PARSE_ERROR', message: expect.stringMatching(/config\.json/) });
    await expect(dockerCredentials('x.io', setup({ credHelpers: { 'x.io': 'absent' } }))).rejects.toThrow(/docker-credential-absent is not installed/);
    await expect(dockerCredentials('x.io', setup({ credHelpers: { 'x.io': 'broken' } }, { broken: 'echo "keychain locked" >&2; exit 3' }))).rejects.toThrow(
      /docker-credential-broken get failed for x\.io \(exit 3\): keychain locked/,
    );
    await expect(dockerCredentials('x.io', setup({ credHelpers: { 'x.io': '../../bin/sh' } }))).rejects.toThrow(/is not a plain name/);
    expect(await dockerCredentials('x.io', { configFile: path.join(tempDir(), 'none.json') })).toBeUndefined();
  });
});
