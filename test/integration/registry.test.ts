// The registry client against a real distribution registry on 127.0.0.1 with
// Docker Hub-style token auth, a pull-through cache in front of it, and a
// forwarder that injects 429/5xx (test/helpers/registry.ts).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { isTunaSetupError, resolveEnvironment } from '@tuna-setup/sdk';
import { checkImageTag, parseImageRef, parseRegistryMirror, RegistryClient } from '@tuna-setup/sdk/registry';
import { checkPlan } from '@tuna-setup/sdk/torch';
import { itWith, missing } from '../helpers/env.js';
import { startPrefixForwarder } from '../helpers/mirror-lab.js';
import { startRegistryLab, type RegistryLab } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { runCliAsync } from '../helpers/cli.js';
import { linuxWheels, startPypiLike } from '../helpers/torch-index.js';

const needs = { bins: ['docker-registry', 'skopeo', 'umoci', 'openssl', 'busybox'] };
const it = itWith(needs);
const TAGS = [
  '2.15.0-cuda13.0-cudnn9-runtime',
  '2.6.0-cuda12.6-cudnn9-runtime',
  '2.7.0-cuda12.8-cudnn9-runtime',
  '2.7.1-cuda11.8-cudnn9-runtime',
  '2.7.1-cuda12.6-cudnn9-runtime',
  '2.7.1-cuda12.8-cudnn9-runtime',
];

let lab: RegistryLab | undefined;
beforeAll(async () => {
  if (missing(needs)) return; // each test then skips (or fails under TUNA_SETUP_REQUIRE_ALL=1) with the reason
  lab = await startRegistryLab(tempDir(), { 'pytorch/pytorch': TAGS, 'private/secret': ['1.0'] });
}, 180_000);
afterAll(async () => {
  await lab?.stop();
});

const client = (extra = {}) => new RegistryClient({ backoffMs: 10, ...extra });

describe('registry client', () => {
  it('checks a tag with 3 requests (HEAD → 401, token, HEAD) and reuses the token after', async () => {
    const c = client();
    const tokens = lab!.tokenRequests();
    const digest = await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`));
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(c.requests).toBe(3);
    expect(lab!.tokenRequests()).toBe(tokens + 1);
    // same repository: one request, no new token
    expect(await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:2.7.0-cuda12.8-cudnn9-runtime`))).toBe(digest); // same busybox content
    expect(c.requests).toBe(4);
    expect(lab!.tokenRequests()).toBe(tokens + 1);
    await c.close();
  });

  it('a pinned reference (name@sha256:…, name:tag@sha256:…) is asked by its digest; a digest the registry lacks is null', async () => {
    const c = client();
    const digest = (await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`)))!;
    const pinned = parseImageRef(`${lab!.registry}/pytorch/pytorch@${digest}`);
    expect(pinned).toMatchObject({ repository: 'pytorch/pytorch', digest });
    expect(await c.digest(pinned)).toBe(digest);
    expect(await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime@${digest}`))).toBe(digest);
    expect(lab!.forwarded().filter((l) => l.includes(`/manifests/${digest}`)).length).toBeGreaterThanOrEqual(2);
    expect(await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch@sha256:${'0'.repeat(64)}`))).toBeNull();
    for (const bad of ['pytorch/pytorch@sha256:abc', `pytorch/pytorch@md5:${'0'.repeat(32)}`, `a@b@sha256:${'0'.repeat(64)}`]) {
      expect(() => parseImageRef(bad), bad).toThrow(/is not an image reference/);
    }
    await c.close();
  });

  it('a missing tag is null, not an error', async () => {
    const c = client();
    expect(await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:9.9.9-cuda99.9-cudnn9-runtime`))).toBeNull();
    await c.close();
  });

  it('lists tags across pages (Link rel=next)', async () => {
    const c = client();
    const list = await c.tags(lab!.registry, 'pytorch/pytorch', 2);
    expect(list.complete).toBe(true);
    expect(list.tags.sort()).toEqual([...TAGS].sort());
    expect(lab!.forwarded().filter((l) => l.includes('/tags/list')).length).toBeGreaterThanOrEqual(3);
    await c.close();
  });

  it('offers the nearest existing tag for a missing one', async () => {
    const c = client();
    expect(await checkImageTag(`${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.9-cudnn9-runtime`, c)).toEqual({
      exists: false,
      nearest: '2.7.1-cuda12.8-cudnn9-runtime',
    });
    expect(await checkImageTag(`${lab!.registry}/pytorch/pytorch:2.6.0-cuda12.6-cudnn9-runtime`, c)).toMatchObject({
      exists: true,
      digest: expect.stringMatching(/^sha256:/),
    });
    await c.close();
  });

  it('a repository whose token is refused (401) is a clear error', async () => {
    const c = client();
    const err = await c.digest(parseImageRef(`${lab!.registry}/private/secret:1.0`)).catch((e) => e);
    expect(isTunaSetupError(err) && err.code).toBe('REGISTRY');
    expect(err.message).toMatch(/no anonymous token for private\/secret from 127\.0\.0\.1:\d+ \(HTTP 401\)/);
    await c.close();
  });

  for (const status of [429, 503]) {
    it(`retries with backoff on ${status} and succeeds`, async () => {
      const c = client();
      lab!.failNext(2, status);
      expect(await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime`))).toMatch(/^sha256:/);
      expect(c.requests).toBe(5); // 2 failures + HEAD → 401, token, HEAD
      await c.close();
    });
  }

  it('gives up after its attempts with the status in the message', async () => {
    const c = client({ attempts: 2 });
    lab!.failNext(5, 503);
    const err = await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime`)).catch((e) => e);
    lab!.failNext(0, 503);
    expect(err.message).toMatch(/HTTP 503 after 2 attempts/);
    await c.close();
  });

  it('an unreachable registry is a clear error', async () => {
    const c = client({ attempts: 2 });
    const err = await c.digest(parseImageRef(`${lab!.unreachable}/pytorch/pytorch:x`)).catch((e) => e);
    expect(err.message).toMatch(/^registry 127\.0\.0\.1:\d+: HEAD \/v2\/pytorch\/pytorch\/manifests\/x: connection refused after 2 attempts$/);
    expect(err.hint).toMatch(/proxy/);
    await c.close();
  });

  it('through the pull-through cache: same digest as the token-auth upstream', async () => {
    const c = client();
    const up = await c.digest(parseImageRef(`${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`));
    const viaCache = await c.digest(parseImageRef(`${lab!.proxy}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`));
    expect(viaCache).toBe(up);
    expect(await c.digest(parseImageRef(`${lab!.proxy}/pytorch/pytorch:0.0.0-nope`))).toBeNull();
    await c.close();
  });
});

describe('resolve checks the tag it chose', () => {
  it('returns the digest through --registry-mirror', async () => {
    const env = await resolveEnvironment({ torch: '2.7', driver: '570.172.08', gpus: ['8.6'], registryMirror: lab!.proxy, offline: false });
    expect(env.image).toBe(`${lab!.proxy}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`);
    expect(env.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(env.reasons.at(-1)).toBe(`tag exists: ${env.digest}`);
  });

  it('through a path-prefix mirror (a Harbor proxy project): the image is rewritten under the prefix and its tag checked there; an NGC image is left alone', async () => {
    const harbor = await startPrefixForwarder(lab!.proxy, 'dockerhub-proxy');
    try {
      const env = await resolveEnvironment({
        torch: '2.7',
        driver: '570.172.08',
        gpus: ['8.6'],
        registryMirrors: [`${harbor.host}/dockerhub-proxy`],
        offline: false,
      });
      expect(env.image).toBe(`${harbor.host}/dockerhub-proxy/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`);
      expect(env.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(harbor.requests()).toContainEqual('HEAD /v2/dockerhub-proxy/pytorch/pytorch/manifests/2.7.1-cuda12.8-cudnn9-runtime 200');
      const ngc = await resolveEnvironment({
        torch: '2.7',
        driver: '580.95.05',
        gpus: ['9.0'],
        source: 'ngc',
        registryMirrors: [`${harbor.host}/dockerhub-proxy`],
        offline: true,
      });
      expect(ngc.image).toMatch(/^nvcr\.io\/nvidia\/pytorch:/);
      expect(ngc.reasons.join('\n')).toMatch(/is on nvcr\.io: no registry mirror given for it/);
    } finally {
      await harbor.stop();
    }
  });

  it('latest, online, with a PyPI mirror listing torch 2.15 (newer than the tables): resolved from the live index, tag checked', async () => {
    const pypi = await startPypiLike({
      torch: linuxWheels('torch', '2.15.0', ['cp311', 'cp312']),
      torchvision: linuxWheels('torchvision', '0.30.0', ['cp311', 'cp312']),
    });
    const t0 = performance.now();
    const env = await resolveEnvironment({
      torch: 'latest',
      driver: '580.95.05',
      gpus: ['9.0'],
      pypiIndex: pypi.url,
      allowHttp: true,
      registryMirror: lab!.proxy,
      offline: false,
      stateDir: tempDir(),
    });
    const ms = performance.now() - t0;
    expect(env).toMatchObject({
      torch: '2.15.0',
      torchvision: '0.30.0',
      wheelSource: 'pypi',
      torchIndexUrl: pypi.url,
      image: `${lab!.proxy}/pytorch/pytorch:2.15.0-cuda13.0-cudnn9-runtime`,
    });
    expect(env.digest).toMatch(/^sha256:/);
    expect(env.reasons.join('\n')).toMatch(/torch 2\.15 is newer than the tables \(2\.14\): its versions and Pythons from the live index/);
    expect(pypi.requests).toEqual(['/simple/torch/', '/simple/torchvision/', '/simple/torchaudio/']);
    console.log(`resolve online (live index: ${pypi.requests.length} requests on loopback, registry check through the proxy): ${ms.toFixed(0)} ms`);
  });

  it('CLI: a tag missing from the registry exits 1 and names the nearest one', async () => {
    // torch 2.13 on driver 560 → cu126 → pytorch/pytorch:2.13.0-cuda12.6-… which this registry lacks
    const r = await runCliAsync(['resolve', '--json', '--torch', '2.6', '--driver', '560.35.05', '--gpu-cc', '8.6', '--registry-mirror', lab!.registry], {
      TUNA_SETUP_OFFLINE: '',
    });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      variant: 'cu126',
      image: `${lab!.registry}/pytorch/pytorch:2.6.0-cuda12.6-cudnn9-runtime`,
      digest: expect.stringMatching(/^sha256:/),
    });

    const miss = await runCliAsync(['resolve', '--torch', '2.7.0', '--driver', '535.230.02', '--gpu-cc', '6.1', '--registry-mirror', lab!.registry], {
      TUNA_SETUP_OFFLINE: '',
    });
    expect(miss.code).toBe(1);
    expect(miss.stderr).toMatch(
      /2\.7\.0-cuda12\.6-cudnn9-runtime does not exist in 127\.0\.0\.1:\d+\nhint: the nearest existing tag is pytorch\/pytorch:2\.7\.1-cuda12\.6-cudnn9-runtime/,
    );
  });
});

describe('images sync through Docker Hub-style token auth', () => {
  it("pushes with a Bearer token fetched with config.json's login (auths, base64); without one the push scope is refused, naming docker login", async () => {
    const docker = tempDir();
    writeFileSync(path.join(docker, 'config.json'), JSON.stringify({ auths: { [lab!.registry]: { auth: Buffer.from('pusher:secret').toString('base64') } } }));
    const source = `${lab!.registry}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`;
    const tokens = lab!.tokenRequests();
    const r = await runCliAsync(['images', 'sync', '--to', `${lab!.registry}/mirror`, source, '--json'], { DOCKER_CONFIG: docker });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().images[0]).toMatchObject({
      target: `${lab!.registry}/mirror/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`,
      skipped: false,
      blobs: { copied: 2, mounted: 0, present: 0 },
    });
    // one token per scope: pull of the source, push+pull of the target
    expect(lab!.tokenRequests() - tokens).toBe(2);
    expect(lab!.forwarded()).toContainEqual(expect.stringMatching(/^PUT \/v2\/mirror\/pytorch\/pytorch\/manifests\/2\.7\.1-cuda12\.8-cudnn9-runtime$/));

    // a second repository with the same blobs: mounted, with a token that may also pull the repository mounted from
    const again = await runCliAsync(['images', 'sync', '--to', `${lab!.registry}/mirror`, source, `${lab!.registry}/private/secret:1.0`, '--json'], {
      DOCKER_CONFIG: docker,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().images.map((i: { skipped: boolean; blobs: unknown }) => [i.skipped, i.blobs])).toEqual([
      [true, { copied: 0, mounted: 0, present: 0 }],
      [false, { copied: 0, mounted: 2, present: 0 }],
    ]);
    expect(lab!.forwarded()).toContainEqual(
      expect.stringMatching(/^POST \/v2\/mirror\/private\/secret\/blobs\/uploads\/\?mount=sha256:\w+&from=mirror%2Fpytorch%2Fpytorch$/),
    );

    // tokens about to expire (here: issued for 30 s) are renewed before each streamed upload, never in the middle of one
    lab!.setTokenTtl(30);
    try {
      const before = lab!.tokenRequests();
      const short = await runCliAsync(['images', 'sync', '--to', `${lab!.registry}/short-lived`, source, '--json', '--concurrency', '1'], {
        DOCKER_CONFIG: docker,
      });
      expect(short.code, short.stderr).toBe(0);
      // pull of the source, push of the target, and one renewal before each of the two blob uploads
      expect(lab!.tokenRequests() - before).toBe(4);
    } finally {
      lab!.setTokenTtl(300);
    }

    // an identity token (what `docker login` keeps for an OAuth2 login) is posted as a refresh token
    const idt = tempDir();
    writeFileSync(path.join(idt, 'config.json'), JSON.stringify({ auths: { [lab!.registry]: { identitytoken: 'idt-pusher' } } }));
    const viaIdentity = await runCliAsync(['images', 'sync', '--to', `${lab!.registry}/by-identity`, source, '--json'], { DOCKER_CONFIG: idt });
    expect(viaIdentity.code, viaIdentity.stderr).toBe(0);
    expect(viaIdentity.json().images[0].skipped).toBe(false);

    const anonymous = await runCliAsync(['images', 'sync', '--to', `${lab!.registry}/mirror2`, source, '--json'], { DOCKER_CONFIG: tempDir() });
    expect(anonymous.code).toBe(1);
    expect(anonymous.json().error).toMatchObject({
      code: 'REGISTRY',
      message: expect.stringMatching(/no token for repository:mirror2\/pytorch\/pytorch:pull,push/),
      hint: expect.stringMatching(/docker login 127\.0\.0\.1:\d+/),
    });
  });
});

describe('images plan --check', () => {
  it('checks each planned image through the registry mirror: existing ones get their digest, a missing one moves to unresolved with the nearest tag', async () => {
    const r = await runCliAsync(
      ['images', 'plan', '--torch', '2.7,2.8', '--machine', '570.172.08:8.6', '--check', '--registry-mirror', lab!.registry, '--json'],
      { TUNA_SETUP_OFFLINE: '' },
    );
    expect(r.code, r.stderr).toBe(0);
    const plan = r.json();
    expect(plan.images).toEqual([
      expect.objectContaining({ image: 'pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime', digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) }),
    ]);
    expect(plan.unresolved).toEqual([
      expect.objectContaining({
        torch: '2.8',
        problem: expect.stringMatching(
          new RegExp(`^${lab!.registry.replace(/\./g, '\\.')}/pytorch/pytorch:2\\.8\\.\\d+-cuda12\\.\\d-cudnn9-runtime does not exist \\(the nearest tag is `),
        ),
      }),
    ]);
    expect(plan.checked.requests).toBeGreaterThan(0);
    const ignored = await runCliAsync(['images', 'plan', '--machine', 'none', '--registry-mirror', lab!.registry]);
    expect(ignored.code).toBe(2);
    expect(ignored.stderr).toMatch(/--registry-mirror is only used with --check/);
  });

  it('checkPlan (SDK): results in plan order whatever finishes first; a concurrency below 1 still checks everything', async () => {
    const image = (tag: string) => ({
      image: `pytorch/pytorch:${tag}`,
      torch: '2.7.1',
      variant: 'cu128',
      for: [{ torch: tag, driver: '570.172.08', gpus: [], source: 'pytorch' as const, flavor: 'runtime' as const }],
    });
    const tags = ['0.0.1-nope', '2.7.1-cuda12.8-cudnn9-runtime', '0.0.2-nope', '0.0.3-nope', '2.6.0-cuda12.6-cudnn9-runtime', '0.0.4-nope'];
    const mirrors = [parseRegistryMirror(lab!.registry, 'test')];
    for (const concurrency of [0, 3]) {
      const checked = await checkPlan({ images: tags.map(image), unresolved: [] }, { mirrors, concurrency });
      expect(checked.images.map((i) => i.image)).toEqual(['pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime', 'pytorch/pytorch:2.6.0-cuda12.6-cudnn9-runtime']);
      expect(checked.unresolved.map((u) => u.torch)).toEqual(['0.0.1-nope', '0.0.2-nope', '0.0.3-nope', '0.0.4-nope']);
    }
    const offline = await runCliAsync(['images', 'plan', '--machine', 'none', '--check'], { TUNA_SETUP_OFFLINE: '1' });
    expect(offline.code).toBe(2);
    expect(offline.stderr).toMatch(/--check asks the registry, and TUNA_SETUP_OFFLINE=1 says not to use the network/);
  });
});
