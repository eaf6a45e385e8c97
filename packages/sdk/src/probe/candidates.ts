/**
 * Who competes in a selection: by default every catalog mirror (plus the
 * user's mirror file) that serves the service, and always the upstream — on
 * an overseas runner the upstream is often the fastest. Or exactly the
 * user's list: names (`--mirrors tuna,ustc`) and `NAME=URL` pairs
 * (`--candidate lab=https://…`). A candidate named `official` is the upstream.
 */
import { findMirror, listMirrors } from '../catalog/lookup.js';
import type { Mirror } from '../catalog/types.js';
import { checkMirrorUrl, type UrlPolicy } from '../catalog/url.js';
import { TunaSetupError } from '../errors.js';
import { DOCKER_HUB_REGISTRY, PROBE_SERVICES, type Candidate, type ProbeService } from './services.js';

/** A service name as the user typed it (any case), checked against `PROBE_SERVICES`; BAD_SERVICE otherwise. */
export function parseProbeService(input: string): ProbeService {
  const s = input.trim().toLowerCase();
  if (!(PROBE_SERVICES as readonly string[]).includes(s)) {
    throw new TunaSetupError('BAD_SERVICE', `unknown service '${input}'`, `use one of: ${PROBE_SERVICES.join(', ')}`);
  }
  return s as ProbeService;
}

const UPSTREAM = 'official';

/** The candidate a mirror makes for a service; undefined when it does not serve it. */
export function candidateOf(mirror: Mirror, service: ProbeService): Candidate | undefined {
  const base = { name: mirror.name, upstream: mirror.name === UPSTREAM, mirror, ...(mirror.status ? { status: mirror.status } : {}) };
  switch (service) {
    case 'pypi':
      return mirror.pypi && { ...base, url: mirror.pypi.index };
    case 'conda':
      return mirror.conda && { ...base, url: mirror.conda.cloud };
    case 'pytorch':
      return mirror.pytorchWheels && { ...base, url: mirror.pytorchWheels.index, layout: mirror.pytorchWheels.layout };
    case 'docker':
      return mirror.dockerHub && { ...base, url: mirror.dockerHub.url };
  }
}

const upstreamDocker = (): Candidate => ({ name: UPSTREAM, url: DOCKER_HUB_REGISTRY, upstream: true });

/**
 * Every mirror of the catalog (plus `extra`, the user's mirror file) that serves the service, the upstream
 * among them; for docker, Docker Hub's own registry stands in as the upstream.
 */
export function catalogCandidates(service: ProbeService, extra: readonly Mirror[] = []): Candidate[] {
  const list = listMirrors(extra).flatMap((m) => candidateOf(m, service) ?? []);
  if (service === 'docker' && !list.some((c) => c.upstream)) list.push(upstreamDocker());
  return list;
}

/** The user's own candidate list for `userCandidates`: names, `NAME=URL` pairs, and the URL policy. */
export interface CandidateSpec extends UrlPolicy {
  /** catalog or mirror-file names */
  names?: readonly string[];
  /** NAME=URL pairs */
  pairs?: readonly string[];
  extra?: readonly Mirror[];
}

/** Exactly the user's list; every name must serve the service. */
export function userCandidates(service: ProbeService, spec: CandidateSpec): Candidate[] {
  const out: Candidate[] = [];
  for (const name of spec.names ?? []) {
    if (service === 'docker' && name.trim().toLowerCase() === UPSTREAM) {
      out.push(upstreamDocker());
      continue;
    }
    const mirror = findMirror(name, { ...spec, ...(spec.extra ? { extra: spec.extra } : {}) });
    const c = candidateOf(mirror, service);
    if (!c) {
      throw new TunaSetupError(
        'UNSUPPORTED_SERVICE',
        `mirror '${mirror.name}' does not serve ${service}`,
        `drop it from the list, or pick from: ${catalogCandidates(service, spec.extra)
          .map((c) => c.name)
          .join(', ')}`,
      );
    }
    out.push(c);
  }
  for (const pair of spec.pairs ?? []) out.push(candidateFromPair(service, pair, spec));
  const seen = new Set<string>();
  for (const c of out) {
    if (seen.has(c.name)) throw new TunaSetupError('BAD_CANDIDATE', `candidate '${c.name}' is given twice`, 'give each candidate once, with distinct names');
    seen.add(c.name);
  }
  return out;
}

/**
 * `NAME=URL`: for pypi a PyPI index (`…/simple`) or a TUNA-style site root;
 * for conda a TUNA-style site root; for pytorch the wheel index itself
 * (`<url>/<variant>/` is PEP 503); for docker the registry root.
 */
export function candidateFromPair(service: ProbeService, pair: string, policy: UrlPolicy = {}): Candidate {
  const m = /^([a-z][a-z0-9-]*)=(.+)$/.exec(pair.trim());
  if (!m) {
    throw new TunaSetupError(
      'BAD_CANDIDATE',
      `candidate '${pair}' is not NAME=URL`,
      'write it as name=https://mirror.example.org (name: lower-case letters, digits, dashes)',
    );
  }
  const name = m[1]!;
  const url = checkMirrorUrl(m[2]!, `candidate ${name}`, policy);
  const upstream = name === UPSTREAM;
  const provenance = { source: 'given on the command line', checked: new Date().toISOString().slice(0, 10) };
  switch (service) {
    case 'pypi':
    case 'conda': {
      const site = findMirror(url, policy);
      const c = candidateOf({ ...site, name, title: name }, service);
      if (!c) {
        throw new TunaSetupError(
          'BAD_CANDIDATE',
          `candidate ${name}: ${url} is a PyPI index, not a site with conda channels`,
          'for conda give the site root laid out like TUNA (…/anaconda/cloud/conda-forge)',
        );
      }
      return c;
    }
    case 'pytorch':
      return { name, url, upstream, layout: 'pep503', mirror: { name, title: name, url, pytorchWheels: { index: url, layout: 'pep503', ...provenance } } };
    case 'docker':
      return { name, url, upstream, mirror: { name, title: name, url, dockerHub: { url, ...provenance } } };
  }
}
