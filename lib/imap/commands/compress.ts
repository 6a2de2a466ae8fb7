/**
 * COMPRESS (RFC 4978): DEFLATE both ways after the tagged OK, over TLS too. Authenticated
 * state only (RFC 4978 5: `command-auth`), advertised after login, as Dovecot does. The
 * compression itself is the transport's (`lib/net/compress.ts`).
 *
 * ```abnf
 * compress  = "COMPRESS" SP algorithm        ; RFC 4978 5
 * algorithm = "DEFLATE"
 * resp-text-code =/ "COMPRESSIONACTIVE"
 * ```
 *
 * Errors as Dovecot 2.3 words them: a missing or extra argument is `BAD`, an unknown
 * mechanism `NO`, a second COMPRESS `NO [COMPRESSIONACTIVE]` (RFC 4978 3).
 *
 * @module
 */

import { AUTHED, ImapError, type OpenCommandSpec } from "../context.ts";

export const COMPRESS_COMMANDS: ReadonlyArray<[string, OpenCommandSpec]> = [
  ["COMPRESS", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["COMPRESS=DEFLATE"],
    run(session, reader) {
      reader.sp();
      const mechanism = reader.readAtom().toUpperCase();
      reader.end();
      if (session.compressed) {
        throw new ImapError("NO", "COMPRESSIONACTIVE", "DEFLATE compression is already active");
      }
      if (mechanism !== "DEFLATE") {
        throw new ImapError("NO", null, `Unknown compression mechanism: ${mechanism}`);
      }
      session.startCompression();
      return { text: "DEFLATE active" };
    },
  }],
];
