/**
 * How the CLI talks: human text on stdout, or with --json exactly one JSON
 * object there — the result, or `{"error":{code,message,hint,fixes}}` plus
 * whatever structured context the failure carries. Errors also go to stderr
 * as one line and a hint, in the CLI's words (flags).
 * Exit codes: 0 ok, 1 failure, 2 usage error (a flag, value or combination
 * that cannot work), and `run` exits with the job's own code.
 */
import { inWords, isTunaSetupError } from '@tuna-setup/sdk';

/** A mistake in the command line itself; `command` names the command whose --help to read. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** --help: the usage text, or under --json {"usage": text} (stdout is always one object there). */
export function printUsage(usage: string, json: boolean | undefined): number {
  if (json) printJson({ usage });
  else say(usage);
  return 0;
}

export function reportError(e: unknown, context: { json: boolean; command?: string }): number {
  const help = `run 'tuna-setup ${context.command ? `${context.command} ` : ''}--help' for usage`;
  let code: string;
  let message: string;
  let hint: string;
  let exit = 1;
  let extra: Record<string, unknown> = {};
  if (e instanceof UsageError) {
    [code, message, hint, exit] = ['USAGE', e.message, e.hint ?? help, 2];
  } else if (isTunaSetupError(e)) {
    ({ message, hint } = e.say('cli'));
    code = e.code;
    exit = e.usage ? 2 : 1;
    extra = { ...(e.fixes.length ? { fixes: e.fixes } : {}) };
    if (context.json && e.details) Object.assign(extra, { details: e.details });
  } else {
    code = 'INTERNAL';
    message = `internal error: ${(e as Error)?.message ?? String(e)}`;
    hint = 'please report this with the command you ran';
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  }
  process.stderr.write(`tuna-setup: ${message}\nhint: ${hint}\n`);
  if (context.json) {
    const { details, ...fixes } = extra as { details?: Record<string, unknown> };
    // context lines (a resolution's reasons) may name settings too: in the CLI's words
    const words = (x: unknown): unknown => (typeof x === 'string' ? inWords(x, 'cli') : Array.isArray(x) ? x.map(words) : x);
    printJson({ error: { code, message, hint, ...fixes }, ...Object.fromEntries(Object.entries(details ?? {}).map(([k, x]) => [k, words(x)])) });
  }
  return exit;
}
