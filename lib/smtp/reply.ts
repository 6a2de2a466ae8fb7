/**
 * The one SMTP reply builder (RFC 5321 4.2): `250-` continuation lines, the final line with
 * a space, and the enhanced status code (RFC 2034/3463) on every line that carries one.
 *
 * @module
 */

/**
 * Formats a reply. `enhanced` is null only where RFC 2034 leaves it out (the greeting, the
 * HELO/EHLO replies, and 334 challenges).
 *
 * @example
 * ```ts
 * reply(250, "2.1.0", "Sender OK"); // "250 2.1.0 Sender OK\r\n"
 * ```
 */
export function reply(code: number, enhanced: string | null, ...lines: string[]): string {
  if (lines.length === 1 && isPlainLine(lines[0])) {
    // One line with nothing to replace or trim (a reply per command): one string built, not
    // a line that is read to the end (a flat copy of it) and then joined again.
    const text = lines[0];
    return enhanced ? `${code} ${enhanced} ${text}\r\n` : `${code} ${text}\r\n`;
  }
  const texts = lines.length === 0 ? [""] : lines;
  let out = "";
  for (let i = 0; i < texts.length; i++) {
    const separator = i === texts.length - 1 ? " " : "-";
    const text = texts[i];
    // The replace and the trim only when they can change something (a reply per command).
    const safe = text.indexOf("\r") < 0 && text.indexOf("\n") < 0
      ? text
      : text.replace(/[\r\n]+/g, " ");
    const line = `${code}${separator}${enhanced ? `${enhanced} ` : ""}${safe}`;
    const last = line.charCodeAt(line.length - 1);
    out += (last > 0x20 && last < 0x7f ? line : line.trimEnd()) + "\r\n";
  }
  return out;
}

/**
 * Whether `text` is a reply line the general path leaves as it is: no CR or LF, and a last
 * character that `trimEnd` keeps (printable ASCII, not a space).
 */
function isPlainLine(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last > 0x20 && last < 0x7f && text.indexOf("\r") < 0 && text.indexOf("\n") < 0;
}

/** A typed SMTP failure, turned into a reply in one place (the session dispatcher). */
export class SmtpError extends Error {
  readonly code: number;
  readonly enhanced: string;
  constructor(code: number, enhanced: string, text: string) {
    super(text);
    this.name = "SmtpError";
    this.code = code;
    this.enhanced = enhanced;
  }
}
