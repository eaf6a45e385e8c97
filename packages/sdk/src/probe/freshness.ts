/**
 * Is a mirror behind? Decided from what the candidates themselves served in
 * this selection, so no extra request is needed. Pure.
 *
 * Index pages (PyPI, PyTorch wheels): a file is *required* when a strict
 * majority of the healthy candidates list it, or when the upstream lists it
 * and says it was uploaded more than `graceMs` ago (PEP 700 upload-time).
 * A candidate that lacks a required file is stale. The grace keeps a release
 * published minutes ago from condemning every mirror at once; the majority
 * rule works where the upstream is unreachable (behind the GFW, air-gapped).
 *
 * Conda repodata: a candidate whose repodata.json is older (Last-Modified)
 * than the reference by more than `maxLagMs` is stale; the reference is the
 * upstream's date, or the median of the candidates' without one.
 */
import { untrusted } from '../net/untrusted.js';
import type { IndexFile } from './index-page.js';

/** The files a candidate's index page listed in this selection, for `staleByListing`. */
export interface Listing {
  name: string;
  upstream: boolean;
  files: readonly IndexFile[];
}

/** name → why it is stale */
export function staleByListing(listings: readonly Listing[], now: number, graceMs: number): Map<string, string> {
  const count = new Map<string, number>();
  const uploaded = new Map<string, number>();
  for (const l of listings) {
    for (const f of new Set(l.files.map((f) => f.filename))) count.set(f, (count.get(f) ?? 0) + 1);
    for (const f of l.files) if (f.uploadTime !== undefined) uploaded.set(f.filename, Math.max(uploaded.get(f.filename) ?? 0, f.uploadTime));
  }
  const required = new Map<string, string>();
  for (const [f, n] of count) if (n * 2 > listings.length) required.set(f, `listed by ${n} of ${listings.length} candidates`);
  for (const l of listings.filter((l) => l.upstream)) {
    for (const f of l.files) {
      if (f.uploadTime !== undefined && f.uploadTime <= now - graceMs && !required.has(f.filename)) {
        required.set(f.filename, `on ${l.name} since ${new Date(f.uploadTime).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
      }
    }
  }
  const stale = new Map<string, string>();
  for (const l of listings) {
    const have = new Set(l.files.map((f) => f.filename));
    const missing = [...required.keys()].filter((f) => !have.has(f));
    if (missing.length === 0) continue;
    // name the newest missing file: by upload time where known, else the last listed
    missing.sort((a, b) => (uploaded.get(a) ?? 0) - (uploaded.get(b) ?? 0));
    const newest = missing[missing.length - 1]!;
    stale.set(l.name, `stale: lacks ${untrusted(newest, 120)} (${required.get(newest)})${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}`);
  }
  return stale;
}

/** A candidate's repodata date, for `staleByDate`. */
export interface Dated {
  name: string;
  upstream: boolean;
  /** ms since the epoch (Last-Modified) */
  date?: number;
}

/**
 * name → why it is stale: repodata older than the reference (the upstream's date, else the candidates' median)
 * by more than `maxLagMs`. Without the upstream's date fewer than three dated candidates decide nothing.
 */
export function staleByDate(items: readonly Dated[], maxLagMs: number): Map<string, string> {
  const dated = items.filter((i): i is Dated & { date: number } => i.date !== undefined);
  const upstream = dated.find((i) => i.upstream);
  const sorted = dated.map((i) => i.date).sort((a, b) => a - b);
  const reference = upstream?.date ?? sorted[Math.floor(sorted.length / 2)];
  const stale = new Map<string, string>();
  if (reference === undefined || (!upstream && dated.length < 3)) return stale;
  for (const i of dated) {
    const lag = reference - i.date;
    if (lag > maxLagMs) {
      stale.set(i.name, `stale: index ${Math.round(lag / 3_600_000)} h older than ${upstream ? upstream.name : 'the median of the candidates'}`);
    }
  }
  return stale;
}
