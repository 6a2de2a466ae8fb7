/**
 * Plays every `tests/rfc5321/*.txt` transcript (format: tests/harness/transcript.ts) against
 * a fresh server on port 0, one `Deno.test` per file.
 *
 * Header directives read here: `@config {json}` (merged into `testConfig`, `limits` and `tls`
 * merged into their defaults; `"tls": {}` turns TLS on, and `!starttls` trusts the server's
 * certificate) and `@users alice:secret,...` (parsed with `parseUsers`).
 *
 * Hooks for `!call`:
 * - `count USER MAILBOX N`: the mailbox holds N messages (0 when it does not exist).
 * - `stored USER MAILBOX UID TEXT...`: the stored bytes are well-formed trace headers
 *   (Return-Path, Delivered-To, Received) followed by exactly TEXT (words joined by one
 *   space; escapes allowed, `\x20` for more).
 * - `received USER MAILBOX UID TEXT...`: the Received header contains TEXT.
 * - `trace USER MAILBOX UID TEXT...`: the Return-Path and Delivered-To lines are exactly TEXT.
 * - `envelope USER MAILBOX UID FROM TO`: the store's envelope of the message (`<>` for the
 *   null reverse-path).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startElektromail } from "../../lib/server.ts";
import type { Store } from "../../lib/store/mod.ts";
import { splitReceived } from "../harness/smtp_received.ts";
import {
  configFor,
  type Hook,
  readTranscripts,
  runTranscript,
  toBytes,
} from "../harness/transcript.ts";

function messages(store: Store, user: string, mailbox: string) {
  return store.getMailbox(user, mailbox) ? store.listMessages(user, mailbox) : [];
}

function rawOf(store: Store, args: string[]): { raw: Uint8Array; text: string } {
  const [user, mailbox, uid, ...words] = args;
  const raw = store.getRaw(user, mailbox, Number(uid));
  assert.ok(raw, `no message ${user}/${mailbox}/${uid}`);
  return { raw, text: words.join(" ") };
}

function hooks(store: Store): Record<string, Hook> {
  return {
    count: ([user, mailbox, n]) => {
      const got = messages(store, user, mailbox).length;
      assert.equal(got, Number(n), `${user}/${mailbox} holds ${got} messages, expected ${n}`);
    },
    stored: (args) => {
      const { raw, text } = rawOf(store, args);
      const { body } = splitReceived(raw);
      const latin1 = new TextDecoder("latin1");
      assert.equal(
        JSON.stringify(latin1.decode(body)),
        JSON.stringify(latin1.decode(toBytes(text))),
        "stored bytes after the trace headers",
      );
    },
    trace: (args) => {
      const { raw, text } = rawOf(store, args);
      const { envelope } = splitReceived(raw);
      assert.equal(JSON.stringify(envelope), JSON.stringify(text), "Return-Path and Delivered-To");
    },
    envelope: ([user, mailbox, uid, from, to]) => {
      const meta = store.getMessage(user, mailbox, Number(uid));
      assert.ok(meta, `no message ${user}/${mailbox}/${uid}`);
      const { from: sender, to: recipient } = meta.envelope ?? {};
      assert.deepEqual({ from: sender, to: recipient }, { from: from === "<>" ? "" : from, to });
    },
    received: (args) => {
      const { raw, text } = rawOf(store, args);
      const { received } = splitReceived(raw);
      assert.ok(
        received.includes(text),
        `Received header lacks ${JSON.stringify(text)}:\n${received}`,
      );
    },
  };
}

for (const transcript of readTranscripts(new URL("./", import.meta.url))) {
  Deno.test(`${transcript.file} (RFC ${transcript.rfc})`, async () => {
    const server = await startElektromail(configFor(transcript.directives));
    try {
      await runTranscript(transcript, {
        port: server.ports.smtp,
        hooks: hooks(server.store),
        caCerts: server.tls ? [server.tls.cert] : [],
      });
    } finally {
      await server.stop();
    }
  });
}
