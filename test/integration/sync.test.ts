/**
 * `images plan` and `images sync` against real registries on loopback: a
 * distribution registry holding a two-platform image index (the upstream),
 * and another behind HTTP Basic auth (the internal registry), whose login
 * comes from Docker's config.json through a real credential helper program.
 * skopeo reads what was copied; the registries' own logs count the blobs.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCliAsync } from '../helpers/cli.js';
import { itWith, missing } from '../helpers/env.js';
import { buildLayouts, pushLayout, startBasicGate, startCdn, startRegistry, type Gate, type LabRegistry } from '../helpers/mirror-lab.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const needs = { bins: ['docker-registry', 'skopeo', 'umoci'] };
const itLab = itWith(needs);

describe('tuna-setup images plan', () => {
  it('gathers the distinct images a matrix of torch versions × machines needs, and the combinations with none', async () => {
    const r = await runCliAsync([
      'images',
      'plan',
      '--torch',
      '2.7,2.8',
      '--machine',
      '570.172.08:8.6',
      '--machine',
      '535.247.01:8.0',
      '--machine',
      'none',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.json();
    const names = plan.images.map((i: { image: string }) => i.image);
    expect(names).toEqual([...new Set(names)].sort());
    expect(names).toContain('pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime');
    for (const i of plan.images) expect(i.for.length).toBeGreaterThan(0);
    const served = plan.images.flatMap((i: { for: unknown[] }) => i.for).length + plan.unresolved.length;
    expect(served).toBe(2 * 3);
  });

  it('--plan reads at most 16 MiB: a larger stdin is refused without reading it all', async () => {
    const child = spawn(process.execPath, [CLI, 'images', 'sync', '--to', '127.0.0.1:1/x', '--plan', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {}); // it stops reading: the pipe breaks
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const write = async () => {
      for (let i = 0; i < 64 && !child.stdin.destroyed; i++)
        if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r).once('close', r));
      child.stdin.end();
    };
    void write();
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--plan -: larger than 16 MiB/);
  });

  it.each([
    [['images', 'plan'], /give at least one --machine/],
    [['images', 'plan', '--machine', 'banana'], /--machine 'banana': .*driver/],
    [['images', 'plan', '--machine', '570.172.08:8.6:9.0'], /--machine '570\.172\.08:8\.6:9\.0' has more than one ':'/],
    [['images', 'plan', '--machine', 'none', '--source', 'quay'], /--source 'quay' is not one of/],
    [['images', 'sync', 'busybox'], /give --to REGISTRY/],
    [['images', 'sync', '--to', 'nohost'], /name the images to sync/],
    [['images', 'sync', '--to', 'nohost', 'busybox'], /--to: 'nohost' does not start with a registry host/],
    [['images', 'frobnicate'], /unknown images command 'frobnicate'/],
  ])('%j is a usage error', async (args, message) => {
    const r = await runCliAsync(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('tuna-setup images sync', () => {
  let dir: string;
  let upstream: LabRegistry;
  let internal: LabRegistry;
  let gate: Gate;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (missing(needs)) return;
    dir = tempDir();
    const layout = buildLayouts(dir);
    upstream = await startRegistry(dir, 'upstream');
    await pushLayout(layout, 'multi', `${upstream.host}/library/busybox:multi`);
    await pushLayout(layout, 'latest', `${upstream.host}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`);
    internal = await startRegistry(dir, 'internal');
    gate = await startBasicGate(internal.host, 'robot', 's3cret');
    // Docker's config.json naming a credential helper for the internal registry, and the helper itself
    const docker = path.join(dir, 'docker');
    const bin = path.join(dir, 'bin');
    mkdirSync(docker);
    mkdirSync(bin);
    writeFileSync(path.join(docker, 'config.json'), JSON.stringify({ credHelpers: { [gate.host]: 'tunalab' } }));
    writeFileSync(
      path.join(bin, 'docker-credential-tunalab'),
      `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${gate.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"'"$server"'","Username":"robot","Secret":"s3cret"}'\n`,
    );
    chmodSync(path.join(bin, 'docker-credential-tunalab'), 0o755);
    env = { DOCKER_CONFIG: docker, PATH: `${bin}:${process.env.PATH}` };
  }, 120_000);

  afterAll(async () => {
    await Promise.all([upstream, internal, gate].filter(Boolean).map((r) => r.stop()));
  });

  const blobWrites = () => internal.requests().filter((l) => /^(POST|PUT|PATCH) \/v2\/.*\/blobs\/uploads\//.test(l));
  const inspect = async (ref: string, ...flags: string[]) =>
    (await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ...flags, `docker://${ref}`])).stdout;

  itLab(
    'copies an image index with every platform byte for byte, mounts shared blobs into a second repository, then a re-sync sends nothing',
    async () => {
      const images = [`${upstream.host}/library/busybox:multi`, `${upstream.host}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`];
      const first = await runCliAsync(['images', 'sync', '--to', `${gate.host}/mirror`, ...images, '--json'], env);
      expect(first.code, first.stderr).toBe(0);
      const report = first.json();
      expect(report.images).toMatchObject([
        {
          source: images[0],
          target: `${gate.host}/mirror/library/busybox:multi`,
          platforms: ['linux/amd64', 'linux/arm64'],
          skipped: false,
          blobs: { copied: 4, mounted: 0, present: 1 },
        },
        {
          source: images[1],
          target: `${gate.host}/mirror/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`,
          skipped: false,
          blobs: { copied: 0, mounted: 2, present: 0 },
        },
      ]);
      expect(first.stderr).toMatch(/\[1\/2\] .*library\/busybox:multi → .*mirror\/library\/busybox:multi/);
      // the same bytes: the index, and each platform's manifest, as skopeo reads them from both
      expect(await inspect(`${internal.host}/mirror/library/busybox:multi`)).toBe(await inspect(images[0]!));
      for (const arch of ['amd64', 'arm64']) {
        expect(await inspect(`${internal.host}/mirror/library/busybox:multi`, '--override-arch', arch)).toBe(
          await inspect(images[0]!, '--override-arch', arch),
        );
      }
      const digest = report.images[0].digest;
      expect(
        `sha256:${(await run('sh', ['-c', `skopeo inspect --raw --tls-verify=false docker://${upstream.host}/library/busybox:multi | sha256sum`])).stdout.split(' ')[0]}`,
      ).toBe(digest);

      const writes = blobWrites().length;
      const upstreamBlobGets = upstream.requests().filter((l) => /^GET .*\/blobs\//.test(l)).length;
      const again = await runCliAsync(['images', 'sync', '--to', `${gate.host}/mirror`, ...images, '--json'], env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json().images.map((i: { skipped: boolean; digest: string }) => [i.skipped, i.digest])).toEqual(
        report.images.map((i: { digest: string }) => [true, i.digest]),
      );
      expect(blobWrites().length).toBe(writes);
      expect(upstream.requests().filter((l) => /^GET .*\/blobs\//.test(l)).length).toBe(upstreamBlobGets);
      expect(again.stdout).not.toMatch(/s3cret/);
    },
    120_000,
  );

  itLab(
    'resumes: a sync cut off by a failed upload copies, when run again, only what is missing',
    async () => {
      const image = `${upstream.host}/library/busybox:multi`;
      // one blob at a time: linux/amd64's config and layer go through (and its manifest), linux/arm64's config fails
      gate.failNext(/^PUT \/v2\/resume\/library\/busybox\/blobs\/uploads\//, 2);
      const cut = await runCliAsync(['images', 'sync', '--to', `${gate.host}/resume`, image, '--concurrency', '1'], env);
      expect(cut.code).toBe(1);
      expect(cut.stderr).toMatch(/PUT blob sha256:\w+ to resume\/library\/busybox answered HTTP 500/);
      const done = await runCliAsync(['images', 'sync', '--to', `${gate.host}/resume`, image, '--json'], env);
      expect(done.code, done.stderr).toBe(0);
      // amd64 is skipped whole (its manifest is there); arm64 sends its config and own layer, finds the shared one
      expect(done.json().images[0].blobs).toEqual({ copied: 2, mounted: 0, present: 1 });
    },
    120_000,
  );

  itLab(
    'without a login the internal registry refuses, and the error says how to log in; a tag that is not there names itself',
    async () => {
      const noLogin = await runCliAsync(['images', 'sync', '--to', `${gate.host}/mirror`, `${upstream.host}/library/busybox:multi`, '--json'], {
        DOCKER_CONFIG: path.join(dir, 'empty'),
      });
      expect(noLogin.code).toBe(1);
      expect(noLogin.json().error).toMatchObject({ code: 'REGISTRY', hint: expect.stringMatching(new RegExp(`docker login ${gate.host}`)) });
      const missingTag = await runCliAsync(['images', 'sync', '--to', `${gate.host}/mirror`, `${upstream.host}/library/busybox:0.0-nope`, '--json'], env);
      expect(missingTag.code).toBe(1);
      expect(missingTag.json().error.code).toBe('TAG_NOT_FOUND');
    },
    60_000,
  );

  itLab(
    'a pinned source lands by digest and is printed once as target@digest; the login never goes to an upload Location on another origin',
    async () => {
      const digest = `sha256:${(await run('sh', ['-c', `skopeo inspect --raw --tls-verify=false docker://${upstream.host}/library/busybox:multi | sha256sum`])).stdout.split(' ')[0]}`;
      const pinned = await runCliAsync(['images', 'sync', '--to', `${gate.host}/pinned`, `${upstream.host}/library/busybox@${digest}`], env);
      expect(pinned.code, pinned.stderr).toBe(0);
      expect(pinned.stdout).toBe(`${gate.host}/pinned/library/busybox@${digest}\n`);

      // a registry whose upload Location names another origin: the upload goes there without the login
      const seen: (string | undefined)[] = [];
      const elsewhere = http.createServer((req, res) => {
        seen.push(req.headers.authorization);
        req.resume();
        res.writeHead(500);
        res.end();
      });
      await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
      gate.sendUploadsTo(`http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`);
      try {
        const r = await runCliAsync(['images', 'sync', '--to', `${gate.host}/elsewhere`, `${upstream.host}/library/busybox:multi`, '--concurrency', '1'], env);
        expect(r.code).toBe(1);
      } finally {
        gate.sendUploadsTo(undefined);
        await new Promise<void>((r) => {
          elsewhere.closeAllConnections();
          elsewhere.close(() => r());
        });
      }
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((a) => a === undefined)).toBe(true);
    },
    60_000,
  );

  itLab(
    'Ctrl-C during a stalled upload: the process ends within a second, saying it stopped and that a re-run resumes',
    async () => {
      gate.stallNext(/^PUT \/v2\/stalled\//);
      const child = spawn(process.execPath, [CLI, 'images', 'sync', '--to', `${gate.host}/stalled`, `${upstream.host}/library/busybox:multi`], {
        env: { ...process.env, ...env },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      for (let i = 0; i < 200 && !gate.requests().some((l) => l.endsWith('stalled')); i++) await new Promise((r) => setTimeout(r, 25));
      expect(gate.requests().some((l) => l.endsWith('stalled'))).toBe(true);
      const t0 = performance.now();
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(performance.now() - t0).toBeLessThan(1_000);
      expect(code).toBe(1);
      expect(stderr).toMatch(/stopped\nhint: it was cancelled; run it again to resume/);
    },
    60_000,
  );

  itLab(
    "a source whose blobs redirect to a CDN on another origin: followed, and the source's login stays behind",
    async () => {
      const source = await startBasicGate(upstream.host, 'reader', 'pw');
      const cdn = await startCdn(upstream.host);
      source.redirectBlobsTo(`http://${cdn.host}`);
      const docker = path.join(dir, 'docker-cdn');
      mkdirSync(docker);
      writeFileSync(
        path.join(docker, 'config.json'),
        JSON.stringify({ credHelpers: { [gate.host]: 'tunalab' }, auths: { [source.host]: { auth: Buffer.from('reader:pw').toString('base64') } } }),
      );
      try {
        const r = await runCliAsync(['images', 'sync', '--to', `${gate.host}/cdn`, `${source.host}/library/busybox:multi`, '--json'], {
          ...env,
          DOCKER_CONFIG: docker,
        });
        expect(r.code, r.stderr).toBe(0);
        expect(r.json().images[0].blobs).toEqual({ copied: 4, mounted: 0, present: 1 });
        expect(source.requests().filter((l) => l.endsWith(' 307')).length).toBe(4);
        expect(cdn.authorizations()).toHaveLength(4);
        expect(cdn.authorizations().every((a) => a === undefined)).toBe(true);
      } finally {
        await Promise.all([source.stop(), cdn.stop()]);
      }
    },
    60_000,
  );

  itLab(
    "plan → sync: the plan JSON is sync's input",
    async () => {
      const planFile = path.join(dir, 'plan.json');
      writeFileSync(
        planFile,
        JSON.stringify({ images: [{ image: `${upstream.host}/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime`, for: [] }], unresolved: [] }),
      );
      const r = await runCliAsync(['images', 'sync', '--to', `${gate.host}/fromplan`, '--plan', planFile], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toMatch(
        new RegExp(`^${gate.host.replace(/\./g, '\\.')}/fromplan/pytorch/pytorch:2\\.7\\.1-cuda12\\.8-cudnn9-runtime@sha256:[a-f0-9]{64}$`),
      );
    },
    60_000,
  );
});
