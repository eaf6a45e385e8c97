/**
 * Strings a server controls — file names from an index, a sync-status
 * string, a Location header, an error body — are data, never markup or
 * commands. `untrusted` makes such a string safe for every sink we print to:
 * control characters (C0, DEL, C1 — newlines, carriage returns, ESC and so
 * terminal escapes), Unicode line/paragraph separators and bidi overrides
 * become visible `\uXXXX` escapes, and the length is bounded. With no line
 * break left in it, such a string can never start a line, so it cannot start
 * a GitHub workflow command (`::set-output`, `::add-mask::`) however it is
 * logged. Markdown (the job summary) escapes its own specials on top
 * (`markdownText`).
 */

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\ufeff]/g;

/** `value` with control and bidi characters escaped (`\u001b`), cut to `max` characters: safe to log or show. */
export function untrusted(value: string, max = 200): string {
  const clean = value.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** decodeURIComponent that never throws: a malformed escape stays as written */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Text for a Markdown table cell or paragraph: untrusted, and Markdown/HTML specials escaped. */
export function markdownText(value: string, max = 300): string {
  return untrusted(value, max).replace(/[\\`*_{}[\]()<>#+!|~&]/g, (c) => `\\${c}`);
}
