/** `tuna-setup restore`: every file back to its exact original bytes. */
import { defaultStateDir, restoreMirror, TunaSetupError } from '@tuna-setup/sdk';
import { parse, refuseIgnored } from '../args.js';
import { printJson, say, printUsage } from '../output.js';

export const usage = `tuna-setup restore [options]
  Put back every file 'apply' changed, byte for byte; remove the files it created.
  Applies stack: when another session applied on top of this one (parallel jobs on one HOME),
  its files stay as that session wrote them ('kept') until it restores too.

  --state-dir DIR   journal location (default: $XDG_STATE_HOME/tuna-setup)
  --session NAME    take back this session's apply (default cli; see 'apply --session')
  --all             take back every session's apply: every file to its original
  --force           also overwrite files changed by hand since apply
  --json            one JSON object on stdout: {"restored":[{"path","action"}]}`;

export async function restore(args: string[]): Promise<number> {
  const { values: v } = parse(args, { 'state-dir': { type: 'string' }, force: { type: 'boolean' }, session: { type: 'string' }, all: { type: 'boolean' } });
  if (v.help) return printUsage(usage, v.json);
  if (v.all) refuseIgnored(v, ['session'], 'without --all (--all takes back every session)');
  const restored = await restoreMirror(v['state-dir'] ?? defaultStateDir(), {
    force: v.force ?? false,
    all: v.all ?? false,
    ...(v.session !== undefined ? { session: v.session } : {}),
  });
  const conflicts = restored.filter((r) => r.action === 'conflict');
  if (!v.json) for (const r of restored) say(`  ${r.action.padEnd(9)} ${r.path}`);
  if (conflicts.length) {
    throw new TunaSetupError(
      'RESTORE_CONFLICT',
      `${conflicts.map((c) => c.path).join(', ')} changed by hand since apply; left as is`,
      'keep your edits, or restore with {force=true} to put the originals back anyway',
      { details: { restored } },
    );
  }
  if (v.json) printJson({ restored });
  return 0;
}
