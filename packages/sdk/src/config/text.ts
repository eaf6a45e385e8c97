/**
 * Line handling shared by the text renderers: split a file into lines that
 * keep their own endings (so CRLF files stay CRLF) and tell which ending a
 * new line should get.
 */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * Lines as Python reads a text file (universal newlines: `\n`, `\r\n` and a
 * lone `\r` each end a line), for files Python's configparser reads (pip).
 */
export function pythonLines(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

export function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** `text` with a line ending at its end (when non-empty), so lines can be appended. */
export function withTrailingEol(text: string, eol: string): string {
  return text === '' || /[\r\n]$/.test(text) ? text : text + eol;
}
