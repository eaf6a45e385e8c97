/**
 * A recent ranking, reused instead of probing the mirrors again: one JSON
 * file per (service, candidate set, probe project, workload, proxy settings) in the
 * state directory, trusted for a TTL. Only a ranking that chose a mirror is
 * kept. The cache is an optimisation: a file that is missing, unreadable or
 * from another version is ignored, and a failed write only costs a re-probe.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Candidate, ProbeService } from './services.js';
import type { SelectReport } from './select.js';
import type { Workload } from './workload.js';

/** 2: rankings by a workload's predicted time (0.3.0) */
const FORMAT = 2;

export function rankingCacheFile(
  stateDir: string,
  service: ProbeService,
  candidates: readonly Candidate[],
  project: string,
  workload: Workload,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const proxy = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'].map((k) => env[k] ?? '');
  const key = JSON.stringify([service, project, candidates.map((c) => [c.name, c.url]).sort(), proxy, workload]);
  return path.join(stateDir, 'rankings', `${service}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`);
}

export async function readCachedRanking(file: string, ttlMs: number, now: number): Promise<SelectReport | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8'));
    if (data?.format !== FORMAT || typeof data.savedAt !== 'number' || !data.report?.chosen) return undefined;
    if (now - data.savedAt > ttlMs || data.savedAt > now + 60_000) return undefined;
    return data.report as SelectReport;
  } catch {
    return undefined;
  }
}

export async function writeCachedRanking(file: string, report: SelectReport, now: number): Promise<void> {
  if (!report.chosen) return;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify({ format: FORMAT, savedAt: now, report }, null, 2)}\n`, 0o644);
  } catch {
    // a read-only state dir means the next run probes again; nothing else is lost
  }
}
