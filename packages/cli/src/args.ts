/** Argument parsing on node:util parseArgs: strict, and every mistake a UsageError (exit 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './output.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<T extends Options>(args: string[], options: T, { allowPositionals = false } = {}) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      tokens: true,
      allowPositionals,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, ' ')); // one line, as every error
  }
  // a flag that takes one value, given twice, would silently keep only the last
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || options[t.name]?.type !== 'string' || options[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once; give it once`);
    seen.add(t.name);
  }
  return parsed;
}

/** Flags given that the command would ignore in this combination: a usage error naming them. */
export function refuseIgnored(given: Record<string, unknown>, flags: readonly string[], why: string): void {
  const ignored = flags.filter((f) => given[f] !== undefined);
  if (ignored.length) throw new UsageError(`${ignored.map((f) => `--${f}`).join(', ')} ${ignored.length > 1 ? 'are' : 'is'} only used ${why}`);
}

export function positiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) throw new UsageError(`${flag} '${value}' is not a positive whole number`);
  return Number(value);
}
