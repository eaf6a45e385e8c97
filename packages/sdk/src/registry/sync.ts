/**
 * Copying images into an internal registry (`images sync`): every platform of
 * an image index, its manifests and blobs, byte for byte, so digests pinned
 * upstream stay valid inside. What the target already has is skipped by
 * digest (a tag already at the digest: nothing else is asked; a manifest or
 * blob present: HEAD says so), so a sync that was cut off resumes where it
 * stopped and a second sync copies nothing. A blob another repository of
 * the target already got in this run is mounted (cross-repository mount)
 * instead of sent again. Blobs stream from source to target — never held in
 * memory — through a SHA-256 check, a few at a time (`concurrency`).
 * Logins come from Docker's config.json (credential helpers included).
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { TunaSetupError } from '../errors.js';
import { createDispatcher } from '../net/http.js';
import { untrusted } from '../net/untrusted.js';
import { parseImageRef, type ImageRef } from './client.js';
import { dockerCredentials, type Credentials } from './credentials.js';
import { normalizeRegistry } from './mirrors.js';
import { dump, readText, RegistrySession } from './session.js';

/** What syncImages copies (`images`), where to (`to`), and how: concurrency, logins, timeouts, cancellation, progress. */
export interface SyncOptions {
  /** source image references (`pytorch/pytorch:2.7.1-…`, `nvcr.io/nvidia/pytorch:25.01-py3`, pinned `@sha256:…`) */
  images: readonly string[];
  /** `REGISTRY[/PREFIX]`: an image lands at `REGISTRY/PREFIX/<its repository>:<its tag>` */
  to: string;
  /** blobs copied at once (default 4) */
  concurrency?: number;
  /** plain http to a non-loopback target registry (the user said so); sources stay https */
  allowHttp?: boolean;
  /** Docker's config.json for logins (default `$DOCKER_CONFIG/config.json`, `~/.docker/config.json`) */
  dockerConfig?: string;
  /** per connect / header wait / body gap (default 60 s) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** told of each image started, each blob copied, mounted or found, each image done */
  onProgress?: (event: SyncEvent) => void;
}

/** What a sync tells as it goes (the CLI prints these on stderr). */
export type SyncEvent =
  | { type: 'image'; index: number; total: number; source: string; target: string }
  | { type: 'blob'; digest: string; size: number; how: BlobOutcome; image: string }
  | { type: 'done'; source: string; target: string; digest: string; skipped: boolean };

/** How a blob reached the target: copied, mounted from another repository of the target, or already present. */
export type BlobOutcome = 'copied' | 'mounted' | 'present';

/** One synced image: where it landed, its digest, platforms, and what became of its blobs. */
export interface SyncedImage {
  source: string;
  /** where it now is: `registry/repository:tag` (a pinned source: `registry/repository`); pin `${target}@${digest}` */
  target: string;
  /** the manifest (or index) digest, the same in source and target: pin `target@digest` */
  digest: string;
  mediaType: string;
  /** `os/arch[/variant]` of every manifest copied */
  platforms: string[];
  /** the target already had it at this digest: nothing was copied */
  skipped: boolean;
  blobs: Record<BlobOutcome, number>;
  /** blob bytes sent to the target */
  bytes: number;
}

/** What syncImages did: each image, the requests made, and the seconds it took. */
export interface SyncReport {
  images: SyncedImage[];
  /** requests to the source and target registries */
  requests: number;
  seconds: number;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: { os?: string; architecture?: string; variant?: string };
}
interface Manifest {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const MAX_MANIFEST = 4 * 1024 * 1024;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** `harbor.corp/mirror` → registry + prefix, checked; the target of `ref` under it. */
export function syncTarget(to: string, ref: ImageRef): { registry: string; repository: string } {
  return under(parseTo(to), ref);
}

const under = (dest: { registry: string; prefix: string }, ref: ImageRef) => ({
  registry: dest.registry,
  repository: dest.prefix ? `${dest.prefix}/${ref.repository}` : ref.repository,
});

function parseTo(to: string): { registry: string; prefix: string } {
  const s = to
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  const slash = s.indexOf('/');
  const registry = normalizeRegistry(slash === -1 ? s : s.slice(0, slash));
  const prefix = slash === -1 ? '' : s.slice(slash + 1);
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(registry) || !(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    throw new TunaSetupError(
      'BAD_IMAGE',
      `{to}: '${to}' does not start with a registry host`,
      'write it as REGISTRY[/PREFIX], e.g. harbor.corp/pytorch-mirror or 127.0.0.1:5000',
    );
  }
  if (prefix && !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(prefix)) {
    throw new TunaSetupError('BAD_IMAGE', `{to}: '${prefix}' is not a repository prefix`, 'lower-case [a-z0-9._-] path parts, e.g. harbor.corp/pytorch-mirror');
  }
  return { registry, prefix };
}

/** A hashing pass-through that fails the stream when the bytes are not `digest`/`size`. */
function verifying(digest: string, size: number): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const got = `sha256:${hash.digest('hex')}`;
      done(got === digest && seen === size ? null : new Error(`the source sent ${seen} bytes hashing to ${got}, not ${digest} (${size} bytes)`));
    },
  });
}

const platformOf = (d: Descriptor) => [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/');

/** A small pool: at most `n` of the tasks run at once. */
async function pool<T>(n: number, items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length && errors.length === 0) {
        try {
          await task(items[next++]!);
        } catch (e) {
          errors.push(e);
        }
      }
    }),
  );
  if (errors.length) throw errors[0];
}

/**
 * Copy each image (every platform) to `to`, skipping what is there by
 * digest, and say where each landed with its digest.
 * @example
 * const { images } = await syncImages({ images: ['pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime'], to: 'harbor.corp/pytorch' });
 * for (const i of images) console.log(`${i.target}@${i.digest}`); // harbor.corp/pytorch/pytorch/pytorch:2.7.1-…@sha256:…
 */
export async function syncImages(options: SyncOptions): Promise<SyncReport> {
  const t0 = performance.now();
  const refs = options.images.map((i) => parseImageRef(i));
  if (refs.length === 0) throw new TunaSetupError('USAGE', 'no images to sync', 'name images, or give the JSON of `images plan`');
  const dest = parseTo(options.to);
  const targets = refs.map((r) => under(dest, r));
  const seenTargets = new Map<string, string>();
  refs.forEach((r, i) => {
    const key = `${targets[i]!.repository}${r.digest ? `@${r.digest}` : `:${r.tag}`}`;
    const other = seenTargets.get(key);
    if (other && other !== `${r.registry}/${r.repository}`) {
      throw new TunaSetupError(
        'BAD_IMAGE',
        `${r.registry}/${r.repository} and ${other} would both land at ${dest.registry}/${key}`,
        'sync them to different {to} prefixes',
      );
    }
    seenTargets.set(key, `${r.registry}/${r.repository}`);
  });
  const concurrency = Math.max(1, Math.min(16, options.concurrency ?? 4));
  const signal = options.signal ?? new AbortController().signal;
  const dispatcher = await createDispatcher({ deadline: signal, timeoutMs: options.timeoutMs ?? 60_000 });
  const sessions = new Map<string, RegistrySession>();
  const session = async (registry: string) => {
    let s = sessions.get(registry);
    if (!s) {
      const credentials: Credentials | undefined = await dockerCredentials(registry, options.dockerConfig ? { configFile: options.dockerConfig } : {});
      s = new RegistrySession(registry, {
        dispatcher,
        signal,
        allowHttp: registry === dest.registry && options.allowHttp === true,
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(credentials ? { credentials } : {}),
      });
      sessions.set(registry, s);
    }
    return s;
  };
  // blob digest → a repository of the target that has it (for cross-repository mounts)
  const placed = new Map<string, string>();
  const images: SyncedImage[] = [];
  try {
    const dst = await session(dest.registry);
    for (const [i, ref] of refs.entries()) {
      const src = await session(ref.registry);
      const target = targets[i]!;
      // by tag; a pinned source by its repository alone (the digest is beside it)
      const shown = `${dest.registry}/${target.repository}${ref.digest ? '' : `:${ref.tag}`}`;
      const source = `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
      options.onProgress?.({ type: 'image', index: i + 1, total: refs.length, source, target: shown });
      const result = await copyImage({ src, dst, ref, target: target.repository, placed, concurrency, onProgress: options.onProgress, shown });
      images.push({ source, target: shown, ...result });
      options.onProgress?.({ type: 'done', source, target: shown, digest: result.digest, skipped: result.skipped });
    }
  } finally {
    await dispatcher.destroy().catch(() => {});
  }
  return { images, requests: [...sessions.values()].reduce((n, s) => n + s.requests, 0), seconds: Math.round(performance.now() - t0) / 1000 };
}

interface CopyContext {
  src: RegistrySession;
  dst: RegistrySession;
  ref: ImageRef;
  target: string;
  placed: Map<string, string>;
  concurrency: number;
  onProgress?: (e: SyncEvent) => void;
  shown: string;
}

async function getManifest(s: RegistrySession, repo: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string; doc: Manifest }> {
  const res = await s.request('GET', `/v2/${repo}/manifests/${reference}`, { repo, headers: { accept: MANIFEST_TYPES.join(', ') } });
  if (res.status === 404) {
    await dump(res.body);
    throw new TunaSetupError(
      'TAG_NOT_FOUND',
      `${untrusted(s.registry, 100)}/${repo}:${untrusted(reference, 80)} does not exist`,
      'check the image name (`tuna-setup resolve` names tags that exist)',
    );
  }
  if (res.status !== 200)
    throw s.error(
      `GET manifest ${repo}:${untrusted(reference, 80)} answered HTTP ${res.status}: ${untrusted(await readText(res.body, 64 * 1024).catch(() => ''), 160)}`,
      'try again later',
    );
  const bytes = Buffer.from(await readText(res.body, MAX_MANIFEST), 'utf8');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const said = res.headers['docker-content-digest'];
  if ((said && said !== digest) || (DIGEST.test(reference) && reference !== digest)) {
    throw s.error(
      `manifest ${repo}:${untrusted(reference, 80)} does not hash to its digest (${said ?? reference})`,
      'the registry (or a proxy) altered it; sync from another source',
    );
  }
  let doc: Manifest;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch {
    throw s.error(`manifest ${repo}:${untrusted(reference, 80)} is not JSON`, 'the registry is misbehaving');
  }
  const mediaType = doc.mediaType ?? res.headers['content-type']?.split(';')[0]?.trim() ?? '';
  if (!MANIFEST_TYPES.includes(mediaType))
    throw s.error(
      `manifest ${repo}:${untrusted(reference, 80)} is a ${untrusted(mediaType, 80)}, which is not copied`,
      'only OCI and Docker v2 manifests and indexes are',
    );
  return { bytes, digest, mediaType, doc };
}

/** The digest the target has under `reference`; null when it has none. */
async function headManifest(s: RegistrySession, repo: string, reference: string): Promise<string | null> {
  const res = await s.request('HEAD', `/v2/${repo}/manifests/${reference}`, { repo, push: true, headers: { accept: MANIFEST_TYPES.join(', ') } });
  await dump(res.body);
  if (res.status === 404) return null;
  if (res.status !== 200)
    throw s.error(`HEAD manifest ${repo}:${untrusted(reference, 80)} answered HTTP ${res.status}`, 'check the target registry and your login to it');
  return res.headers['docker-content-digest'] ?? null;
}

async function putManifest(s: RegistrySession, repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<void> {
  const res = await s.request('PUT', `/v2/${repo}/manifests/${reference}`, { repo, push: true, headers: { 'content-type': mediaType }, body: bytes });
  const text = await readText(res.body, 64 * 1024).catch(() => '');
  if (res.status !== 201 && res.status !== 200)
    throw s.error(
      `PUT manifest ${repo}:${untrusted(reference, 80)} answered HTTP ${res.status}: ${untrusted(text, 200)}`,
      'check your push rights (a proxy-cache project refuses pushes)',
    );
}

async function copyBlob(c: CopyContext, d: Descriptor): Promise<{ how: BlobOutcome; bytes: number }> {
  const { src, dst, target } = c;
  const head = await dst.request('HEAD', `/v2/${target}/blobs/${d.digest}`, { repo: target, push: true });
  await dump(head.body);
  if (head.status === 200) return { how: 'present', bytes: 0 };
  const from = c.placed.get(d.digest);
  let start = from
    ? await dst
        .request('POST', `/v2/${target}/blobs/uploads/?mount=${d.digest}&from=${encodeURIComponent(from)}`, { repo: target, push: true, alsoPull: [from] })
        .catch(() => undefined)
    : undefined;
  if (start) await dump(start.body);
  if (start?.status === 201) return { how: 'mounted', bytes: 0 };
  if (start?.status !== 202) {
    // no mount (refused, or none to try): a plain upload
    start = await dst.request('POST', `/v2/${target}/blobs/uploads/`, { repo: target, push: true });
    await dump(start.body);
  }
  if (start.status !== 202 || !start.headers.location)
    throw dst.error(`starting an upload to ${target} answered HTTP ${start.status}`, 'check your push rights (a proxy-cache project refuses pushes)');
  const location = new URL(start.headers.location, start.url);
  location.searchParams.set('digest', d.digest);

  const get = await src.request('GET', `/v2/${c.ref.repository}/blobs/${d.digest}`, { repo: c.ref.repository, follow: true });
  if (get.status !== 200) {
    await dump(get.body);
    throw src.error(`GET blob ${d.digest} of ${c.ref.repository} answered HTTP ${get.status}`, 'try again later; a sync run again skips what was copied');
  }
  const body = get.body.pipe(verifying(d.digest, d.size));
  let broken: Error | undefined;
  get.body.on('error', (e) => {
    broken = e;
    body.destroy(e);
  });
  body.on('error', (e) => {
    broken ??= e;
  });
  let put: Awaited<ReturnType<RegistrySession['request']>>;
  try {
    put = await dst.request('PUT', location.href, {
      repo: target,
      push: true,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(d.size) },
      body,
    });
  } catch (e) {
    // the upload broke because the download did: say so, naming the source
    if (broken)
      throw src.error(
        `GET blob ${d.digest} of ${c.ref.repository}: ${untrusted(broken.message, 160)}`,
        'try again later; a sync run again skips what was copied',
      );
    throw e;
  }
  const text = await readText(put.body, 64 * 1024).catch(() => '');
  if (put.status !== 201)
    throw dst.error(
      `PUT blob ${d.digest} to ${target} answered HTTP ${put.status}: ${untrusted(text, 200)}`,
      'try again; a sync run again skips what was copied',
    );
  return { how: 'copied', bytes: d.size };
}

async function copyImage(c: CopyContext): Promise<Omit<SyncedImage, 'source' | 'target'>> {
  const reference = c.ref.digest ?? c.ref.tag;
  const top = await getManifest(c.src, c.ref.repository, reference);
  const blobs: Record<BlobOutcome, number> = { copied: 0, mounted: 0, present: 0 };
  let bytes = 0;
  const isIndex = Array.isArray(top.doc.manifests);
  const children = isIndex ? top.doc.manifests! : [];
  for (const child of children) {
    if (typeof child?.digest !== 'string' || !DIGEST.test(child.digest) || !Number.isSafeInteger(child.size) || child.size < 0 || child.size > MAX_MANIFEST) {
      throw c.src.error(`${c.ref.repository}: the index lists a manifest with a bad digest or size`, 'the registry is misbehaving; sync from another source');
    }
  }
  const platforms = isIndex ? children.map(platformOf) : [];
  if ((await headManifest(c.dst, c.target, reference)) === top.digest) {
    // its blobs are there: later images may mount them from this repository
    if (!isIndex)
      for (const d of [top.doc.config, ...(top.doc.layers ?? [])])
        if (d && typeof d.digest === 'string' && DIGEST.test(d.digest)) c.placed.set(d.digest, c.target);
    return { digest: top.digest, mediaType: top.mediaType, platforms, skipped: true, blobs, bytes };
  }
  const images = isIndex ? [] : [top];
  for (const child of children) {
    if ((await headManifest(c.dst, c.target, child.digest)) === child.digest) continue;
    const m = await getManifest(c.src, c.ref.repository, child.digest); // checked against the digest it was asked by
    if (m.bytes.length !== child.size)
      throw c.src.error(
        `${c.ref.repository}@${child.digest} is ${m.bytes.length} bytes, not the ${child.size} its index says`,
        'the registry is misbehaving; sync from another source',
      );
    images.push(m);
  }
  for (const m of images) {
    if (Array.isArray(m.doc.manifests)) throw c.src.error(`${c.ref.repository}: an index inside an index is not copied`, 'sync the inner index by its digest');
    const layers = [m.doc.config, ...(m.doc.layers ?? [])].filter((d): d is Descriptor => !!d && !d.urls?.length);
    for (const d of layers)
      if (!DIGEST.test(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0)
        throw c.src.error(`${c.ref.repository}: a descriptor with a bad digest or size`, 'the registry is misbehaving');
    const unique = layers.filter((d, i) => layers.findIndex((o) => o.digest === d.digest) === i);
    await pool(c.concurrency, unique, async (d) => {
      const r = await copyBlob(c, d);
      blobs[r.how]++;
      bytes += r.bytes;
      c.placed.set(d.digest, c.target);
      c.onProgress?.({ type: 'blob', digest: d.digest, size: d.size, how: r.how, image: c.shown });
    });
    // a child is put by its digest; a single manifest by the reference
    if (isIndex) await putManifest(c.dst, c.target, m.digest, m.bytes, m.mediaType);
  }
  await putManifest(c.dst, c.target, reference, top.bytes, top.mediaType);
  return { digest: top.digest, mediaType: top.mediaType, platforms, skipped: false, blobs, bytes };
}
