/**
 * The client side of SMTP, where the server itself plays the client: the Mailpit/MailHog
 * release relay (lib/http/compat/relay.ts) and the startup warm-up's conversation over a
 * loopback socket (lib/smtp/warm_up_socket.ts). What a client sends after `DATA` (data
 * transparency, RFC 5321 4.5.2), and the server's replies read whole (RFC 5321 4.2).
 *
 * @module
 */

/** The longest reply {@linkcode replyReader} takes. */
export const MAX_REPLY = 64 * 1024;

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

/**
 * Reads whole replies off `conn` (the lines up to one whose fourth octet is not `-`), each at
 * most {@linkcode MAX_REPLY} long; `fail` makes the error for a longer reply or a connection
 * closed before one ends.
 */
export function replyReader(
  conn: Deno.Conn,
  fail: (message: string) => Error,
): () => Promise<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  const buf = new Uint8Array(4096);
  return async () => {
    while (true) {
      let start = 0;
      for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n", start)) {
        const line = buffer.slice(start, end + 1);
        start = end + 1;
        if (line.length < 4 || line[3] !== "-") {
          const reply = buffer.slice(0, start);
          buffer = buffer.slice(start);
          return reply;
        }
      }
      if (buffer.length > MAX_REPLY) throw fail("Reply longer than 64 KiB");
      const n = await conn.read(buf);
      if (n === null) throw fail("Connection closed by the server");
      buffer += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  };
}
