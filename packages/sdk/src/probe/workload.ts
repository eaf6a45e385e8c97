/**
 * What users download from a mirror, and how long it takes from a path of
 * a given rate and round trip: the objective selection ranks by. Index pages
 * cost round trips, wheels cost a slow-start ramp and then bytes ÷ rate, so a
 * far, wide mirror wins on a job of large wheels and a near one on a job of
 * many small ones. The default is a PyTorch CI job's; a job's own
 * requirement files size it (`workloadFromRequirements`, `workloadFromFiles`).
 */
import { readFile, stat } from 'node:fs/promises';
import { TunaSetupError } from '../errors.js';
import { transferMs, type PathEstimate } from './throughput.js';

/** What a job downloads from the mirror: index pages and files, fetched one after another. */
export interface Workload {
  /** index pages (small: one round trip each) */
  pages: number;
  /** bytes of each file; each starts its own slow start (pip fetches them one by one) */
  files: readonly number[];
}

const MiB = 1024 * 1024;

/**
 * A PyTorch CI job's `pip install` of torch and its test dependencies:
 * the torch CUDA wheel and the nvidia-* library wheels it pulls (a few
 * hundred MB each, ~2.4 GB in all for torch 2.x on Linux), a few dozen small
 * wheels (numpy, sympy, jinja2, pytest, …), and an index page per project.
 * An assumption of shape, not a measurement: the ranking it gives differs
 * from one of a single 32 MiB file only where latency and bandwidth trade off
 * closely. `workloadFromRequirements` sizes it to a job's own requirements.
 */
export const PYTORCH_CI_WORKLOAD: Workload = {
  pages: 40,
  files: [900, 600, 400, 200, 160, 140].map((m) => m * MiB).concat(new Array<number>(30).fill(MiB / 2)),
};

/** The time a workload takes from a mirror: one connection, its pages and files one after another. */
export function workloadMs(w: Workload, p: PathEstimate): number {
  const one = (bytes: number) => transferMs(bytes, p.rateBps, p.rttMs, p.latencyMs);
  return p.rttMs + w.pages * one(32 * 1024) + w.files.reduce((ms, b) => ms + one(b), 0);
}

/**
 * The workload of a job's requirement files (pip requirements, as the
 * Action's `cache-dependency-path` names them): an index page and a small
 * wheel per requirement, plus torch's large wheels when torch is among them.
 */
export function workloadFromRequirements(texts: readonly string[]): Workload {
  const names = texts
    .flatMap((t) => t.split('\n'))
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l && !l.startsWith('-'))
    .map((l) => l.split(/[\s<>=!~;[@]/)[0]!.toLowerCase());
  if (names.length === 0) return PYTORCH_CI_WORKLOAD;
  const torch = names.some((n) => n === 'torch' || n === 'torchvision' || n === 'torchaudio');
  const large = torch ? PYTORCH_CI_WORKLOAD.files.filter((b) => b > MiB) : [];
  return { pages: names.length + (torch ? 15 : 0), files: [...large, ...new Array<number>(names.length).fill(MiB / 2)] };
}

const MAX_REQUIREMENTS_FILE = 1024 * 1024;
const MAX_REQUIREMENTS_FILES = 50;

/**
 * The workload of requirement files on disk (pip's `-r` format: one
 * requirement a line; `*.txt`, `*.in`, at most 50). Files of other formats
 * (lock files, pyproject.toml) say little about download sizes and are
 * skipped; none left: the default.
 */
export async function workloadFromFiles(paths: readonly string[]): Promise<Workload> {
  const texts: string[] = [];
  for (const file of paths.filter((p) => /\.(txt|in)$/i.test(p)).slice(0, MAX_REQUIREMENTS_FILES)) {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new TunaSetupError('BAD_REQUIREMENTS', `cannot read requirements file ${file}`, 'give the path of a pip requirements file (requirements.txt)');
    }
    if (size > MAX_REQUIREMENTS_FILE)
      throw new TunaSetupError(
        'BAD_REQUIREMENTS',
        `${file} is ${Math.round(size / 1024)} KiB: not a requirements file`,
        'give the path of a pip requirements file (at most 1 MiB)',
      );
    texts.push(await readFile(file, 'utf8'));
  }
  return workloadFromRequirements(texts);
}
