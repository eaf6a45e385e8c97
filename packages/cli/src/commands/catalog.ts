/** `tuna-setup catalog verify`: every URL of the catalog's rows asked once, each with a verdict. */
import { findMirror, verifyCatalog, type Mirror } from '@tuna-setup/sdk';
import { loadMirrorFile, listMirrors } from '@tuna-setup/sdk/catalog';
import { parse, positiveInt } from '../args.js';
import { printJson, printUsage, say, UsageError } from '../output.js';

export const usage = `tuna-setup catalog verify [options]
  Check the catalog against the live mirrors — the maintainer's check before a release. Every URL a
  row configures is asked for once (a HEAD of one small resource under it: a PyPI project page, a
  channel's noarch repodata, the CPU torch page, the status JSON), a few at a time; each gets a
  verdict: ok, moved (it redirects), missing (404/403/410), stale (repodata unchanged for
  --stale-days), unreachable. Exits 1 when any row is not ok.

  --mirror NAME           only this catalog or mirror-file mirror (repeatable; default: all of the catalog)
  --mirror-file FILE      JSON/YAML file of your own mirrors (checked when named with --mirror, or
                          all of them when no --mirror is given)
  --concurrency N         requests at once (default 4)
  --stale-days N          repodata older than this is stale (default 7)
  --allow-http            accept http:// rows
  --json                  {"rows":[{"mirror","row","url","verdict","status"?,"movedTo"?,"detail"}],"counts":{...}}`;

export async function catalog(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === '--json') {
    const { values: v } = parse(args, {});
    return printUsage(usage, v.json);
  }
  if (sub !== 'verify') throw new UsageError(`unknown catalog command '${sub}' (commands: verify)`);
  const { values: v } = parse(rest, {
    mirror: { type: 'string', multiple: true },
    'mirror-file': { type: 'string' },
    concurrency: { type: 'string' },
    'stale-days': { type: 'string' },
    'allow-http': { type: 'boolean' },
  });
  if (v.help) return printUsage(usage, v.json);
  const allowHttp = v['allow-http'] === true;
  const extra = v['mirror-file'] ? loadMirrorFile(v['mirror-file'], { allowHttp }) : [];
  const mirrors: Mirror[] = v.mirror?.length ? v.mirror.map((name) => findMirror(name, { allowHttp, extra })) : extra.length ? extra : [...listMirrors()];
  const rows = await verifyCatalog({
    mirrors,
    allowHttp,
    ...(v.concurrency ? { concurrency: positiveInt(v.concurrency, '--concurrency') } : {}),
    ...(v['stale-days'] ? { staleDays: positiveInt(v['stale-days'], '--stale-days') } : {}),
  });
  const counts = Object.fromEntries(['ok', 'moved', 'missing', 'stale', 'unreachable'].map((k) => [k, rows.filter((r) => r.verdict === k).length]));
  if (v.json) printJson({ rows, counts });
  else {
    for (const r of rows) say(`${r.verdict.padEnd(11)} ${r.mirror.padEnd(8)} ${r.row.padEnd(28)} ${r.url}${r.verdict === 'ok' ? '' : `  — ${r.detail}`}`);
    say(
      Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', '),
    );
  }
  return rows.every((r) => r.verdict === 'ok') ? 0 : 1;
}
