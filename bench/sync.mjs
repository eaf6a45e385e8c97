// Benchmark: `images sync` (syncImages) against `skopeo copy --all` of the same
// image between the same two loopback registries (real distribution 2.8), one
// after the other, each round into a fresh registry of its own (skopeo keeps a
// blob-location cache across runs and would mount from an earlier copy) — target: the ratio
// sync/skopeo ≤ 1.5. Then a re-sync of what is there: blobs transferred
// (counted in the target registry's access log) must be 0.
// The image: an index of linux/amd64 and linux/arm64, each with its own
// random 24 MiB layer and config (so 4 blobs, 48 MiB, per copy).
// Usage: node bench/sync.mjs [rounds] [MiB-per-layer]   (needs `npm run build`, docker-registry, skopeo)
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { syncImages } from '../packages/sdk/dist/registry/index.js';

const rounds = Number(process.argv[2] ?? 3);
const layerMiB = Number(process.argv[3] ?? 24);
const work = mkdtempSync(path.join(tmpdir(), 'tuna-bench-sync-'));

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
async function registry(name) {
  const port = await freePort();
  const config = path.join(work, `${name}.yml`);
  writeFileSync(
    config,
    `version: 0.1\nlog: { level: warn, accesslog: { disabled: false } }\nstorage: { filesystem: { rootdirectory: ${path.join(work, name)} } }\nhttp: { addr: 127.0.0.1:${port} }\n`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return { host: `127.0.0.1:${port}`, log: () => log, stop: () => child.kill('SIGTERM') };
}

// an OCI layout with a two-platform index
const layout = path.join(work, 'oci');
const blobs = path.join(layout, 'blobs', 'sha256');
mkdirSync(blobs, { recursive: true });
const put = (bytes) => {
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(path.join(blobs, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
};
const manifests = ['amd64', 'arm64'].map((arch) => {
  const dir = path.join(work, `layer-${arch}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'data.bin'), randomBytes(layerMiB * 1024 * 1024));
  const tar = execFileSync('tar', ['-C', dir, '-cf', '-', 'data.bin'], { maxBuffer: 1 << 30 });
  const layer = put(tar);
  const config = put(Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} })));
  const m = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: { architecture: arch, os: 'linux' } };
});
const index = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })));
writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
writeFileSync(
  path.join(layout, 'index.json'),
  JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }),
);

const src = await registry('src');
const started = [src];
try {
  execFileSync('skopeo', ['copy', '--quiet', '--all', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${src.host}/bench/image:v1`]);
  const image = `${src.host}/bench/image:v1`;
  const ms = async (fn) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const skopeo = [];
  const ours = [];
  let dst;
  for (let r = 0; r < rounds; r++) {
    const forSkopeo = await registry(`skopeo-${r}`);
    dst = await registry(`ours-${r}`);
    started.push(forSkopeo, dst);
    skopeo.push(
      await ms(async () =>
        execFileSync('skopeo', [
          'copy',
          '--quiet',
          '--all',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          `docker://${image}`,
          `docker://${forSkopeo.host}/mirror/bench/image:v1`,
        ]),
      ),
    );
    ours.push(await ms(() => syncImages({ images: [image], to: `${dst.host}/mirror` })));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mib = 2 * layerMiB;
  const puts = () => (dst.log().match(/"(PUT|PATCH|POST) \/v2\/[^ ]*\/blobs\/uploads\//g) ?? []).length;
  const before = puts();
  const again = await ms(async () => {
    const report = await syncImages({ images: [image], to: `${dst.host}/mirror` });
    if (!report.images[0].skipped) throw new Error('re-sync did not skip');
  });
  const transferred = puts() - before;
  console.log(`images sync vs skopeo copy --all, ${rounds} rounds, one index of 2 platforms (${mib} MiB of layers), loopback distribution 2.8:`);
  console.log(`  skopeo copy: median ${median(skopeo).toFixed(0)} ms (${(mib / (median(skopeo) / 1000)).toFixed(0)} MiB/s)`);
  console.log(`  images sync: median ${median(ours).toFixed(0)} ms (${(mib / (median(ours) / 1000)).toFixed(0)} MiB/s)`);
  console.log(`  ratio sync/skopeo: ${(median(ours) / median(skopeo)).toFixed(2)}× (target ≤ 1.5×)`);
  console.log(`  re-sync of the same image: ${again.toFixed(0)} ms, blob uploads: ${transferred} (target 0)`);
} finally {
  for (const r of started) r.stop();
  setTimeout(() => rmSync(work, { recursive: true, force: true }), 500);
}
