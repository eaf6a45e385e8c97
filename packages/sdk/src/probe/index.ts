/** @tuna-setup/sdk/probe — Mirror selection: candidates, probes, freshness, throughput samples, ranking. */
export {
  selectMirror,
  rank,
  noHealthyMirror,
  DEFAULT_BUDGET_MS,
  DEFAULT_CACHE_TTL_MS,
  REFERENCE_BYTES,
  type SelectOptions,
  type SelectReport,
  type RankedMirror,
} from './select.js';
export { catalogCandidates, userCandidates, candidateFromPair, candidateOf, parseProbeService, type CandidateSpec } from './candidates.js';
export { formatRanking } from './format.js';
export { estimateRate, transferMs, type Arrival, type RateEstimate, type PathEstimate } from './throughput.js';
export { PYTORCH_CI_WORKLOAD, workloadMs, workloadFromRequirements, workloadFromFiles, type Workload } from './workload.js';
export { chooseMirror, type ChooseOptions, type ChosenMirror } from './choose.js';
export {
  PROBE_SERVICES,
  SERVICE_PROBES,
  DOCKER_HUB_REGISTRY,
  condaSubdirGap,
  serviceRow,
  type Candidate,
  type ProbeService,
  type ServiceProbe,
  type ProbeRequest,
  type ProbeVerdict,
} from './services.js';
export { parseIndexPage, type IndexFile } from './index-page.js';
export { staleByListing, staleByDate, type Listing, type Dated } from './freshness.js';
export { readTunasync, readMirrorz, type SyncVerdict, type SyncRule } from './status.js';
