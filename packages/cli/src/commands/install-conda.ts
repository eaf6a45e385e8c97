/** `tuna-setup install-conda`: Miniforge from the mirror (the upstream as fallback) or micromamba, checksum-verified, into a prefix. */
import { findMirror } from '@tuna-setup/sdk';
import { installMicromamba, installMiniforge } from '@tuna-setup/sdk/catalog';
import { parse } from '../args.js';
import { printJson, printUsage, say, UsageError } from '../output.js';

export const usage = `tuna-setup install-conda [miniforge|micromamba] --prefix DIR [options]
  Install conda the way the Action's install-conda does: Miniforge (default) from the mirror's copy of
  its releases, the upstream release as fallback; or the micromamba binary (upstream). Each file is
  checked against the .sha256 its source publishes beside it; a mismatch falls back, never installs.

  --prefix DIR            where to install (DIR/bin gets conda or micromamba); must not exist for Miniforge
  --mirror NAME|URL       whose copy of the Miniforge releases to try first (default tuna)
  --allow-http            accept an http:// --mirror URL
  --json                  {"prefix","source","bin"}`;

export async function installConda(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    args,
    { prefix: { type: 'string' }, mirror: { type: 'string' }, 'allow-http': { type: 'boolean' } },
    { allowPositionals: true },
  );
  if (v.help) return printUsage(usage, v.json);
  const [kind = 'miniforge', ...extra] = positionals;
  if (extra.length) throw new UsageError(`one kind at a time: '${extra.join(' ')}' is extra`);
  if (kind !== 'miniforge' && kind !== 'micromamba') throw new UsageError(`'${kind}' is not miniforge or micromamba`);
  if (!v.prefix) throw new UsageError('give --prefix DIR (where conda goes)');
  if (kind === 'micromamba' && v.mirror) throw new UsageError('--mirror is only used for miniforge (no mirror carries micromamba)');
  const log = (l: string) => process.stderr.write(`tuna-setup: ${l}\n`);
  const installed =
    kind === 'miniforge'
      ? await installMiniforge(findMirror(v.mirror ?? 'tuna', { allowHttp: v['allow-http'] === true }), v.prefix, {
          log,
          ...(v['allow-http'] ? { allowHttp: true } : {}),
        })
      : await installMicromamba(v.prefix, { log });
  const bin = `${installed.prefix}/bin`;
  if (v.json) return (printJson({ ...installed, bin }), 0);
  say(`${kind} installed in ${installed.prefix} (from ${installed.source}); put ${bin} on PATH`);
  return 0;
}
