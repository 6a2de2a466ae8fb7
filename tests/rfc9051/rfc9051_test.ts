/**
 * Plays every `tests/rfc9051/*.txt` transcript (format: tests/harness/transcript.ts) against
 * a fresh server on port 0, one `Deno.test` per file. Connections named `smtp…` (`Csmtp:`)
 * talk to the SMTP port, all others to IMAP.
 *
 * Header directives: `@config {json}` (merged into `testConfig`, `limits` and `tls` into
 * their defaults; `"tls": {}` turns TLS on, and `!starttls` trusts the server's certificate),
 * `@users alice:secret,...`.
 *
 * Hooks for `!call`:
 * - `deliver USER MAILBOX TEXT...`: stores TEXT (escapes allowed) as a message, as a
 *   delivery from outside the session would.
 * - `count USER MAILBOX N`: the mailbox holds N messages.
 * - `flags USER MAILBOX UID FLAG...`: the stored flags are exactly these.
 * - `reset`, `delete-mailbox USER MAILBOX`: change the store under the sessions.
 * - `stop`: starts stopping the server (as SIGTERM does).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import {
  configFor,
  type Hook,
  readTranscripts,
  runTranscript,
  toBytes,
} from "../harness/transcript.ts";

/** A fixed INTERNALDATE for delivered messages, so transcripts can show it. */
const FIXED_DATE = Date.UTC(2026, 10, 25, 7, 22, 1);

function hooks(server: Elektromail): Record<string, Hook> {
  const store = server.store;
  return {
    reset: () => store.reset(),
    "delete-mailbox": ([user, mailbox]) => store.deleteMailbox(user, mailbox),
    // Not awaited: the transcript reads the BYE while the server waits for sessions to close.
    stop: () => {
      server.stop();
    },
    deliver: ([user, mailbox, ...words]) => {
      store.ensureUser(user);
      if (!store.getMailbox(user, mailbox)) store.createMailbox(user, mailbox);
      store.append(user, mailbox, toBytes(words.join(" ")), { internalDate: FIXED_DATE });
    },
    count: ([user, mailbox, n]) => {
      const got = store.getMailbox(user, mailbox)?.messages ?? 0;
      assert.equal(got, Number(n), `${user}/${mailbox} holds ${got} messages, expected ${n}`);
    },
    flags: ([user, mailbox, uid, ...flags]) => {
      const message = store.getMessage(user, mailbox, Number(uid));
      assert.ok(message, `no message ${user}/${mailbox}/${uid}`);
      assert.deepEqual([...message.flags], flags, `flags of ${user}/${mailbox}/${uid}`);
    },
  };
}

for (const transcript of readTranscripts(new URL("./", import.meta.url))) {
  Deno.test(`${transcript.file} (RFC ${transcript.rfc})`, async () => {
    const server = await startElektromail(configFor(transcript.directives));
    try {
      await runTranscript(transcript, {
        port: server.ports.imap,
        portFor: (name) => name.startsWith("smtp") ? server.ports.smtp : undefined,
        hooks: hooks(server),
        caCerts: server.tls ? [server.tls.cert] : [],
      });
    } finally {
      await server.stop();
    }
  });
}
