/**
 * The job summary: the probe ranking, what was configured, the resolved
 * CUDA/torch/image with its reasons, the cache and the job — a table a
 * person would rather look at than the log.
 */
import * as core from '@actions/core';
import { inWords, type Environment, type SelectReport } from '@tuna-setup/sdk';
import type { Plan } from '@tuna-setup/sdk/config';
import { markdownText as esc, untrusted } from '@tuna-setup/sdk/net';

export interface SummaryFacts {
  selections: SelectReport[];
  warnings: string[];
  plan?: Plan;
  env?: Environment;
  cache?: string;
  conda?: string;
  job?: { image: string; exitCode: number; seconds: number };
  /** install-torch: what was installed, where, and what the check saw */
  installed?: string;
}

/** a code span: no escapes work inside one, so no backtick or control character may be in it; in a table cell `|` is escaped */
const code = (s: string, cell = true) =>
  `\`${untrusted(s)
    .replace(/`/g, "'")
    .replace(/\|/g, cell ? '\\|' : '|')}\``;
const rate = (bps: number | null) => (bps === null ? '–' : `${(bps / 1e6).toFixed(1)} MB/s`);

export function renderSummary(f: SummaryFacts): string {
  const out: string[] = ['## tuna-setup', ''];
  for (const r of f.selections) {
    out.push(
      `### ${r.service}: ${r.chosen ? `**${r.chosen.name}**` : 'no healthy mirror'} (${r.cached ? `cached ranking from ${r.probedAt}` : `${r.elapsedMs} ms, ${(r.bytes / 1e6).toFixed(1)} MB read`})`,
      '',
      '| # | mirror | latency | throughput | status |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [i, m] of r.ranking.entries())
      out.push(
        `| ${m.ok ? i + 1 : '–'} | ${esc(m.name)}${m.redirectedTo ? ` → ${esc(new URL(m.redirectedTo).host)} (redirect)` : ''} | ${m.latencyMs === null ? '–' : `${m.latencyMs} ms`} | ${rate(m.throughputBps)} | ${m.ok ? 'ok' : `excluded: ${esc(m.excluded ?? '')}`} |`,
      );
    out.push('');
  }
  for (const w of f.warnings) out.push(`> [!WARNING]\n> ${esc(w)}`, '');
  if (f.plan) {
    out.push(`### configured: ${esc(f.plan.mirror.name)}`, '', '| tool | file | change |', '| --- | --- | --- |');
    for (const c of f.plan.changes) out.push(`| ${c.target} | ${code(c.path)} | ${c.action} |`);
    out.push(
      '',
      Object.entries(f.plan.env)
        .map(([k, v]) => code(`${k}=${v}`, false))
        .join(' · '),
      '',
    );
  }
  if (f.env) {
    out.push(
      '### PyTorch',
      '',
      '| | |',
      '| --- | --- |',
      `| torch | ${f.env.torch} (torchvision ${f.env.torchvision}${f.env.torchaudio ? `, torchaudio ${f.env.torchaudio}` : ''}) |`,
      `| variant | ${code(f.env.variant)}${f.env.cuda ? ` (CUDA ${f.env.cuda})` : ''} |`,
      `| driver | ${f.env.driver ?? 'none'}${f.env.gpus.length ? ` · GPUs ${f.env.gpus.join(', ')}` : ''} |`,
      `| index | ${code(f.env.torchIndexUrl)} |`,
      `| image | ${f.env.image ? `${code(f.env.image)}${f.env.digest ? `<br>${code(f.env.digest)}` : ' (tag not checked: offline)'}` : `none: ${esc(inWords(f.env.imageProblem ?? '', 'action'))}`} |`,
      '',
      '<details><summary>why</summary>',
      '',
      ...f.env.reasons.map((r) => `- ${esc(inWords(r, 'action'))}`),
      '',
      '</details>',
      '',
    );
  }
  if (f.installed) out.push('### installed', '', esc(f.installed), '');
  if (f.cache) out.push(`### wheel cache`, '', esc(f.cache), '');
  if (f.conda) out.push('### conda', '', f.conda, '');
  if (f.job) out.push('### job', '', `${code(f.job.image, false)} exited **${f.job.exitCode}** after ${f.job.seconds.toFixed(1)} s`, '');
  return out.join('\n');
}

export async function writeSummary(f: SummaryFacts): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(renderSummary(f)).write();
}
