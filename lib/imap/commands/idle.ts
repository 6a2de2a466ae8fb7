/**
 * IDLE (RFC 9051 6.3.13, RFC 2177): updates are written as they happen until `DONE`.
 *
 * ```abnf
 * idle = "IDLE" CRLF "DONE"
 * ```
 *
 * @module
 */

import { AUTHED, ImapError, type OpenCommandSpec } from "../context.ts";
import { untagged } from "../encoder.ts";
import { sendUpdates } from "../updates.ts";

/** Keep-alive while idling (as Dovecot's "Still here"); also finds dead peers. */
const KEEPALIVE_MS = 2 * 60_000;

export const IDLE_COMMANDS: ReadonlyArray<[string, OpenCommandSpec]> = [
  ["IDLE", {
    states: AUTHED,
    allowExpunge: true,
    capabilities: ["IDLE"],
    async run(session, reader) {
      reader.end();
      session.idling = true;
      const done = session.awaitLine("idling");
      sendUpdates(session, true);
      await session.flush();
      const keepAlive = setInterval(() => {
        session.out.push(untagged("OK Still here"));
        session.flush().catch(() => {});
      }, KEEPALIVE_MS);
      try {
        const line = await done;
        if (line.trim().toUpperCase() !== "DONE") {
          throw new ImapError("BAD", null, "Expected DONE to end IDLE");
        }
      } finally {
        clearInterval(keepAlive);
        session.idling = false;
      }
    },
  }],
];
