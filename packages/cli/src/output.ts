/**
 * How the CLI talks: one JSON object on stdout with --json (nothing else
 * there), human text otherwise; errors as one line plus a hint on stderr.
 * Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { isTunaSetupError } from '@tuna-setup/sdk';

export class UsageError extends Error {}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function say(line = ''): void {
  process.stdout.write(line + '\n');
}

export function reportError(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`tuna-setup: ${e.message}\nhint: run 'tuna-setup --help' for usage\n`);
    return 2;
  }
  if (isTunaSetupError(e)) {
    process.stderr.write(`tuna-setup: ${e.message}\nhint: ${e.hint}\n`);
    return 1;
  }
  process.stderr.write(`tuna-setup: internal error: ${(e as Error)?.stack ?? String(e)}\nhint: please report this with the command you ran\n`);
  return 1;
}
