/**
 * Line handling shared by the text renderers: split a file into lines that
 * keep their own endings (so CRLF files stay CRLF) and tell which ending a
 * new line should get.
 */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** `text` with a line ending at its end (when non-empty), so lines can be appended. */
export function withTrailingEol(text: string, eol: string): string {
  return text === '' || text.endsWith('\n') ? text : text + eol;
}
