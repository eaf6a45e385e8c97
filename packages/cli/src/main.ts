/**
 * The `tuna-setup` command: picks the subcommand, runs it, turns errors into
 * a message, a JSON error object under --json, and an exit code. Each command
 * lives in commands/ and only parses, calls the SDK and prints.
 */
import { VERSION } from '@tuna-setup/sdk';
import { apply, usage as applyUsage } from './commands/apply.js';
import { catalog, usage as catalogUsage } from './commands/catalog.js';
import { doctor, usage as doctorUsage } from './commands/doctor.js';
import { images, usage as imagesUsage } from './commands/images.js';
import { install, usage as installUsage } from './commands/install.js';
import { installConda, usage as installCondaUsage } from './commands/install-conda.js';
import { restore, usage as restoreUsage } from './commands/restore.js';
import { resolve, usage as resolveUsage } from './commands/resolve.js';
import { run, usage as runUsage } from './commands/run.js';
import { select, usage as selectUsage } from './commands/select.js';
import { printJson, printUsage, reportError, say, UsageError } from './output.js';

const commands: Record<string, { run: (args: string[]) => Promise<number>; usage: string }> = {
  apply: { run: apply, usage: applyUsage },
  restore: { run: restore, usage: restoreUsage },
  select: { run: select, usage: selectUsage },
  resolve: { run: resolve, usage: resolveUsage },
  install: { run: install, usage: installUsage },
  'install-conda': { run: installConda, usage: installCondaUsage },
  run: { run, usage: runUsage },
  doctor: { run: doctor, usage: doctorUsage },
  catalog: { run: catalog, usage: catalogUsage },
  images: { run: images, usage: imagesUsage },
};

const help = `tuna-setup ${VERSION} — the fastest healthy mirror and the right PyTorch/CUDA for CI

usage: tuna-setup <command> [options]   (every command takes --json)

exit codes: 0 ok, 1 failure, 2 usage error; run: the job's own code.
with --json, stdout carries exactly one JSON object: the result, or {"error":{"code","message","hint"}}.

${Object.values(commands)
  .map((c) => c.usage)
  .join('\n\n')}`;

async function main(argv: string[], json: boolean): Promise<number> {
  const command = argv[0] === undefined ? undefined : commands[argv[0]];
  if (command) return command.run(argv.slice(1));
  const [flag] = argv.filter((a) => a !== '--json');
  if (flag === undefined || flag === '--help' || flag === '-h' || flag === 'help') return printUsage(help, json);
  if (flag === '--version' || flag === '-V') return json ? (printJson({ version: VERSION }), 0) : (say(VERSION), 0);
  throw new UsageError(`unknown command '${flag}' (commands: ${Object.keys(commands).join(', ')})`);
}

// `tuna-setup … | head`: a reader that went away is not an error worth a stack trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const argv = process.argv.slice(2);
const json = (argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv).includes('--json');
main(argv, json).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e, { json, ...(argv[0] && argv[0] in commands ? { command: argv[0] } : {}) });
  },
);
