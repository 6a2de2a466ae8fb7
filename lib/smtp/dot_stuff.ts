/**
 * The client side of SMTP's data transparency (RFC 5321 4.5.2): what a client sends after
 * `DATA`. Used where the server itself plays the client: the Mailpit/MailHog release relay
 * (lib/http/compat/relay.ts) and the startup warm-up's SMTP conversation (lib/smtp/warm_up.ts).
 *
 * @module
 */

/**
 * `data` with every line that starts with "." given a second one, ending in CRLF.CRLF (a CRLF
 * is added first when `data` does not end a line).
 *
 * @example
 * ```ts
 * dotStuff(new TextEncoder().encode(".a\r\nb\r\n")); // "..a\r\nb\r\n.\r\n" as bytes
 * ```
 */
export function dotStuff(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let lineStart = true;
  for (const byte of data) {
    if (lineStart && byte === 0x2e) out.push(0x2e);
    out.push(byte);
    lineStart = byte === 0x0a;
  }
  if (!lineStart) out.push(0x0d, 0x0a);
  out.push(0x2e, 0x0d, 0x0a);
  return new Uint8Array(out);
}
