/** `tuna-setup restore`: every file back to its exact original bytes. */
import { defaultStateDir, restoreFiles } from '@tuna-setup/sdk';
import { parse } from '../args.js';
import { printJson, say } from '../output.js';

export const usage = `tuna-setup restore [options]
  Put back every file 'apply' changed, byte for byte; remove the files it created.

  --state-dir DIR   journal location (default: $XDG_STATE_HOME/tuna-setup)
  --force           also overwrite files changed by hand since apply
  --json            one JSON object on stdout`;

export async function restore(args: string[]): Promise<number> {
  const { values: v } = parse(args, { 'state-dir': { type: 'string' }, force: { type: 'boolean' } });
  if (v.help) return say(usage), 0;
  const restored = await restoreFiles(v['state-dir'] ?? defaultStateDir(), { force: v.force ?? false });
  const conflicts = restored.filter((r) => r.action === 'conflict');
  if (v.json) printJson({ restored });
  else for (const r of restored) say(`  ${r.action.padEnd(9)} ${r.path}`);
  if (conflicts.length) {
    process.stderr.write(`tuna-setup: ${conflicts.map((c) => c.path).join(', ')} changed by hand since apply; left as is\n`
      + `hint: keep your edits, or run 'tuna-setup restore --force' to put the originals back anyway\n`);
    return 1;
  }
  return 0;
}
