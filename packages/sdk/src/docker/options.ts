/**
 * What a person may ask of a job's container, from its text form to checked
 * data, before anything runs: the image reference (a tag, or pinned by
 * digest), when to pull it, published ports, bind-mounted volumes, and the
 * job's variables as the env file docker reads. Every value ends up as one
 * argv element of `docker run` (never a shell string), so the checks are about
 * what docker itself would misread: a reference that looks like a flag, a
 * colon or comma that changes a mount, a line break that splits an env file.
 */
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { TunaSetupError } from '../errors.js';
import { parseImageRef } from '../registry/client.js';

/** When to pull a job's image: `missing` (only when it is not on this machine), `always`, or `never` (local only). */
export type PullPolicy = 'missing' | 'always' | 'never';
/** The pull policies parsePullPolicy accepts. */
export const PULL_POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];

/** `missing` (use the local image when it is there), `always`, or `never` (local only). */
export function parsePullPolicy(input: string): PullPolicy {
  const s = input.trim().toLowerCase();
  if ((PULL_POLICIES as readonly string[]).includes(s)) return s as PullPolicy;
  throw new TunaSetupError(
    'BAD_PULL',
    `{pull} '${input}' is not missing, always or never`,
    'missing uses the image on this machine when it is there (air-gapped runners), always pulls first, never only uses a local image',
  );
}

/** A checked image reference for `docker run`, with the name and tag or digest the engine lists it by. */
export interface RunImage {
  /** the reference as given (trimmed): what docker pulls and runs */
  ref: string;
  /** the repository as docker lists it in RepoTags/RepoDigests: `busybox`, `pytorch/pytorch`, `127.0.0.1:5000/library/busybox` */
  name: string;
  /** the tag (`latest` when none is written and no digest pins it); null for `name@digest` */
  tag: string | null;
  /** `sha256:<64 hex>` when the reference is pinned */
  digest: string | null;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REGISTRY_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const BAD_IMAGE_HINT = 'write it as [registry/]name[:tag] or name[:tag]@sha256:<64 hex digits>, e.g. pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime';

/**
 * An image reference as `docker run` takes it: `[registry/]name[:tag]`,
 * optionally pinned `@sha256:<64 hex>`. The name and tag are checked by the
 * registry client's parseImageRef; a reference starting with `-` (docker
 * would read it as a flag) is refused outright.
 */
export function parseRunImage(input: string): RunImage {
  const ref = input.trim();
  if (ref.startsWith('-'))
    throw new TunaSetupError('BAD_IMAGE', `{image} '${input}' is not an image reference (it starts with '-', like a flag)`, BAD_IMAGE_HINT);
  const at = ref.indexOf('@');
  const digest = at === -1 ? null : ref.slice(at + 1);
  if (digest !== null && !DIGEST.test(digest)) {
    throw new TunaSetupError(
      'BAD_IMAGE',
      `{image} '${input}': '${digest}' is not a digest`,
      'a pinned image ends in @sha256: and 64 lower-case hex digits (docker images --digests lists them)',
    );
  }
  const named = at === -1 ? ref : ref.slice(0, at);
  let parsed;
  try {
    parsed = parseImageRef(named);
  } catch {
    throw new TunaSetupError('BAD_IMAGE', `{image} '${input}' is not a valid image reference`, BAD_IMAGE_HINT);
  }
  if (named.endsWith(':') || !REGISTRY_HOST.test(parsed.registry))
    throw new TunaSetupError('BAD_IMAGE', `{image} '${input}' is not a valid image reference`, BAD_IMAGE_HINT);
  const hub = parsed.registry === 'docker.io' || parsed.registry === 'index.docker.io';
  const name = hub ? parsed.repository.replace(/^library\//, '') : `${parsed.registry}/${parsed.repository}`;
  const tagged = /:[^/]*$/.test(named);
  return { ref, name, tag: digest && !tagged ? null : parsed.tag, digest };
}

/** A published port (`docker run -p`): host address and port to container port, over tcp or udp. */
export interface PortMapping {
  /** the host address to bind (e.g. 127.0.0.1); all addresses when absent */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

const PUBLISH_HINT = 'write it as [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp], ports 1–65535, e.g. 8888:8888 or 127.0.0.1:8888:8888';

/** `[HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp]`; an IPv6 host address in brackets. */
export function parsePublish(input: string): PortMapping {
  const m = /^(?:(\[[^\]]*\]|[^:]*):)?([^:]*):([^:/]*)(?:\/(.*))?$/.exec(input.trim());
  const bad = (why: string) => new TunaSetupError('BAD_PUBLISH', `{publish} '${input}': ${why}`, PUBLISH_HINT);
  if (!m) throw bad('not [HOST_IP:]HOST_PORT:CONTAINER_PORT');
  const [, ip, host, container, protocol = 'tcp'] = m;
  if (protocol !== 'tcp' && protocol !== 'udp') throw bad(`protocol '${protocol}' is not tcp or udp`);
  const mapping: PortMapping = { hostPort: port(host!), containerPort: port(container!), protocol };
  if (ip !== undefined) mapping.hostIp = ip.startsWith('[') ? ip.slice(1, -1) : ip;
  checkPortMapping(mapping, input);
  return mapping;

  function port(s: string): number {
    return /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  }
}

function checkPortMapping(p: PortMapping, as: string): void {
  const bad = (why: string) => new TunaSetupError('BAD_PUBLISH', `{publish} '${as}': ${why}`, PUBLISH_HINT);
  for (const [what, n] of [
    ['host port', p.hostPort],
    ['container port', p.containerPort],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw bad(`the ${what} is not a number from 1 to 65535`);
  }
  if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw bad(`protocol '${p.protocol}' is not tcp or udp`);
  if (p.hostIp !== undefined && !isIP(p.hostIp)) throw bad(`'${p.hostIp}' is not an IP address`);
}

/** The `-p` value for a mapping, checked (an SDK caller may build one by hand). */
export function publishArg(p: PortMapping): string {
  checkPortMapping(p, `${p.hostIp ?? ''}:${p.hostPort}:${p.containerPort}/${p.protocol}`);
  const ip = p.hostIp === undefined ? '' : isIP(p.hostIp) === 6 ? `[${p.hostIp}]:` : `${p.hostIp}:`;
  return `${ip}${p.hostPort}:${p.containerPort}/${p.protocol}`;
}

/** A bind mount of an existing host path into the container, read-only or not. */
export interface Volume {
  /** an existing host path, absolute */
  source: string;
  /** an absolute path in the container */
  target: string;
  readOnly: boolean;
}

const VOLUME_HINT =
  'write it as SRC:DST or SRC:DST:ro — SRC an existing host path (made absolute), DST an absolute path in the container, neither with a comma or a colon';

/** `SRC:DST[:ro|:rw]` — SRC must exist on the host and is made absolute against `cwd`. */
export function parseVolume(input: string, cwd: string = process.cwd()): Volume {
  const parts = input.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new TunaSetupError('BAD_VOLUME', `{volume} '${input}' is not SRC:DST[:ro]`, VOLUME_HINT);
  }
  const [source, target, mode = 'rw'] = parts as [string, string, string?];
  if (mode !== 'ro' && mode !== 'rw') throw new TunaSetupError('BAD_VOLUME', `{volume} '${input}': the mode '${mode}' is not ro or rw`, VOLUME_HINT);
  const volume = { source: path.resolve(cwd, source), target, readOnly: mode === 'ro' };
  checkVolume(volume, input);
  return volume;
}

/** A bind mount docker reads as meant, whose source exists (so docker never creates it as root). */
export function checkVolume(v: Volume, as = `${v.source}:${v.target}`): void {
  const bad = (why: string) => new TunaSetupError('BAD_VOLUME', `{volume} '${as}': ${why}`, VOLUME_HINT);
  for (const p of [v.source, v.target]) {
    if (/[,:\0\r\n]/.test(p)) throw bad(`'${p}' has a comma, a colon or a line break, which docker would read as part of the mount's syntax`);
  }
  if (!path.isAbsolute(v.source)) throw bad(`the host path ${v.source} is not absolute`);
  if (!path.posix.isAbsolute(v.target)) throw bad(`the container path ${v.target} is not absolute`);
  if (path.posix.normalize(v.target) === '/') throw bad('the container path cannot be /');
  try {
    statSync(v.source);
  } catch {
    throw bad(`the host path ${v.source} does not exist (it is not created for you)`);
  }
}

/**
 * The job's work directory as an absolute path, which must be an existing
 * directory: docker would create a missing one on the host as root (and read
 * a relative one as a volume name).
 */
export function resolveWorkdir(dir: string, cwd: string = process.cwd()): string {
  const abs = path.resolve(cwd, dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new TunaSetupError('BAD_WORKDIR', `{workdir} ${abs} does not exist`, 'give an existing directory (it is not created for you), or create it first');
  }
  if (!isDir) throw new TunaSetupError('BAD_WORKDIR', `{workdir} ${abs} is not a directory`, 'give a directory: it is mounted at /workspace');
  return abs;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** docker reads an env file line by line with a 64 KiB buffer: a longer line is an error */
const ENV_LINE_MAX_BYTES = 65_535;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The job's variables as an `--env-file` for docker: one `NAME=VALUE` a
 * line, taken literally (no quoting, no expansion). What that format cannot
 * carry is refused rather than changed: a line break (it would end the
 * value; a trailing CR is even dropped), a NUL, text that is not valid
 * UTF-8, a line over 64 KiB. Such a value belongs in a file mounted into the
 * container.
 */
export function renderEnvFile(env: Readonly<Record<string, string>>): string {
  let text = '';
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name))
      throw new TunaSetupError('BAD_ENV', `environment variable name '${name}' is not valid`, 'names are letters, digits and _; not starting with a digit');
    const bad = (why: string) =>
      new TunaSetupError(
        'BAD_ENV',
        `{env} ${name}: the value ${why}`,
        `put the value in a file, mount it ({volume=FILE:/run/secrets/${name}:ro}) and read it there (e.g. ${name}=$(cat /run/secrets/${name}))`,
      );
    if (/[\r\n]/.test(value)) throw bad("has a line break, which docker's env file cannot carry (one variable a line)");
    if (value.includes('\0')) throw bad('has a NUL character, which no environment can carry');
    if (LONE_SURROGATE.test(value)) throw bad("is not valid Unicode text (docker's env file must be UTF-8)");
    const line = `${name}=${value}`;
    if (Buffer.byteLength(line) > ENV_LINE_MAX_BYTES) throw bad(`is over 64 KiB, more than one line of docker's env file holds`);
    text += `${line}\n`;
  }
  return text;
}
