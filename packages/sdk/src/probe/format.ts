import type { SelectReport } from './select.js';

const rate = (bps: number | null) => (bps === null ? '-' : bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} MB/s` : `${(bps / 1e3).toFixed(0)} kB/s`);

/** A selection as plain text lines, for the CLI and the Action's log alike. */
export function formatRanking(r: SelectReport): string[] {
  const how = r.cached ? `cached ranking from ${r.probedAt}` : `${r.elapsedMs} ms, ${(r.bytes / 1e6).toFixed(1)} MB read`;
  const lines = [r.chosen ? `${r.service}: ${r.chosen.name} (${r.chosen.url}) — ${how}` : `${r.service}: no healthy mirror — ${how}`];
  const names = r.ranking.map((m) => (m.redirectedTo ? `${m.name} → ${new URL(m.redirectedTo).host} (redirect)` : m.name));
  const width = Math.max(6, ...names.map((n) => n.length));
  lines.push(`  ${'#'.padEnd(3)}${'mirror'.padEnd(width + 2)}${'latency'.padStart(8)}${'throughput'.padStart(13)}  status`);
  r.ranking.forEach((m, i) => {
    const status = m.ok ? 'ok' : `excluded: ${m.excluded}`;
    lines.push(
      `  ${(m.ok ? String(i + 1) : '-').padEnd(3)}${names[i]!.padEnd(width + 2)}${(m.latencyMs === null ? '-' : `${m.latencyMs} ms`).padStart(8)}${rate(m.throughputBps).padStart(13)}  ${status}${m.sync ? ` [${m.sync}]` : ''}${m.unverified ? ' (unverified row)' : ''}`,
    );
  });
  return lines;
}
