/**
 * Plays every `tests/rfc1939/*.txt` transcript (format: tests/harness/transcript.ts) against
 * a fresh server on port 0, one `Deno.test` per file. Connections named `imap…` (`Cimap:`)
 * talk to the IMAP port, `smtp…` to SMTP, `pop3s…` to the implicit-TLS POP3 port, all others
 * to POP3.
 *
 * Header directives: `@config {json}` (merged into `testConfig`, `limits` and `tls` into
 * their defaults; `"tls": {}` turns TLS on, and `!starttls` trusts the server's certificate),
 * `@users alice:secret,...`.
 *
 * Hooks for `!call`:
 * - `deliver USER TEXT...`: stores TEXT (escapes allowed) in the user's INBOX, as a delivery
 *   from outside the session would (no trace headers, so sizes are known).
 * - `count USER MAILBOX N`: the mailbox holds N messages.
 * - `flags USER MAILBOX UID FLAG...`: the stored flags are exactly these.
 * - `apop VAR TIMESTAMP PASSWORD`: binds `$VAR` to MD5(TIMESTAMP PASSWORD) in hex.
 * - `reset`: resets the store; `stop`: starts stopping the server (as SIGTERM does).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import {
  configFor,
  type Hook,
  readTranscripts,
  runTranscript,
  toBytes,
} from "../harness/transcript.ts";

function hooks(server: Elektromail): Record<string, Hook> {
  const store = server.store;
  return {
    reset: () => store.reset(),
    // Not awaited: the transcript reads the goodbye while the server waits for sessions.
    stop: () => {
      server.stop();
    },
    deliver: ([user, ...words]) => {
      store.ensureUser(user);
      store.append(user, "INBOX", toBytes(words.join(" ")));
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
    apop: ([name, timestamp, password], { vars }) => {
      vars.set(name, createHash("md5").update(timestamp + password).digest("hex"));
    },
  };
}

for (const transcript of readTranscripts(new URL("./", import.meta.url))) {
  Deno.test(`${transcript.file} (RFC ${transcript.rfc})`, async () => {
    const server = await startElektromail(configFor(transcript.directives));
    try {
      await runTranscript(transcript, {
        port: server.ports.pop3!,
        portFor: (name) =>
          name.startsWith("imap")
            ? server.ports.imap
            : name.startsWith("smtp")
            ? server.ports.smtp
            : name.startsWith("pop3s")
            ? server.ports.pop3s ?? undefined
            : undefined,
        implicitTls: (name) => name.startsWith("pop3s"),
        hooks: hooks(server),
        caCerts: server.tls ? [server.tls.cert] : [],
      });
    } finally {
      await server.stop();
    }
  });
}
