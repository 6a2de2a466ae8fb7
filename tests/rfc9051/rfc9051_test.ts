/**
 * Plays every `tests/rfc9051/*.txt` transcript (format: tests/harness/transcript.ts) against
 * a fresh server on port 0, one `Deno.test` per file. Connections named `smtp…` (`Csmtp:`)
 * talk to the SMTP port, all others to IMAP.
 *
 * Header directives: `@config {json}` (merged into `testConfig`, `limits` and `tls` into
 * their defaults; `"tls": {}` turns TLS on, and `!starttls` trusts the server's certificate),
 * `@users alice:secret,...`, `@clock ISO-DATE` (the store's clock starts there and stands
 * still: INTERNALDATE defaults and save dates are that time, and OLDER/YOUNGER count from it).
 *
 * Hooks for `!call`:
 * - `deliver USER MAILBOX TEXT...`: stores TEXT (escapes allowed) as a message, as a
 *   delivery from outside the session would.
 * - `count USER MAILBOX N`: the mailbox holds N messages.
 * - `flags USER MAILBOX UID FLAG...`: the stored flags are exactly these.
 * - `reset`, `delete-mailbox USER MAILBOX`: change the store under the sessions.
 * - `stop`: starts stopping the server (as SIGTERM does).
 * - `clock ISO-DATE`: sets the store's clock (with `@clock` only).
 *
 * Hooks that build long command text into a variable (for line-length transcripts, where a
 * 64 KiB line would not fit a readable script); each then stands in a `C:` line as `$VAR`:
 * - `fill VAR OCTETS [UNIT]`: UNIT (default `x`) repeated and cut to OCTETS octets.
 * - `uid-list VAR COUNT STEP`: COUNT numbers from 1 apart by STEP, comma separated
 *   (`1,3,5` for 3 2), as a sync client lists scattered UIDs.
 * - `id-params VAR PAIRS FIELD VALUE`: PAIRS `"field" "value"` pairs for ID, separated by
 *   spaces, each field name distinct and FIELD octets long, each value VALUE octets long.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";
import {
  configFor,
  type Hook,
  readTranscripts,
  runTranscript,
  toBytes,
} from "../harness/transcript.ts";

/** A fixed INTERNALDATE for delivered messages, so transcripts can show it. */
const FIXED_DATE = Date.UTC(2026, 10, 25, 7, 22, 1);

/** A clock that stands still until set (`@clock`, `!call clock`). */
interface Clock {
  now: number;
}

function hooks(server: Elektromail, clock: Clock | null): Record<string, Hook> {
  const store = server.store;
  return {
    clock: ([iso]) => {
      assert.ok(clock, "!call clock needs the @clock directive");
      clock.now = Date.parse(iso);
      assert.ok(Number.isFinite(clock.now), `clock: cannot read ${iso}`);
    },
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
    fill: ([name, octets, unit = "x"], { vars }) => {
      vars.set(name, unit.repeat(Math.ceil(Number(octets) / unit.length)).slice(0, Number(octets)));
    },
    "uid-list": ([name, count, step], { vars }) => {
      const uids = Array.from({ length: Number(count) }, (_, i) => 1 + i * Number(step));
      vars.set(name, uids.join(","));
    },
    "id-params": ([name, pairs, field, value], { vars }) => {
      const params = Array.from({ length: Number(pairs) }, (_, i) => {
        const key = `field-${String(i + 1).padStart(2, "0")}-`.padEnd(Number(field), "f");
        return `"${key}" "${"v".repeat(Number(value))}"`;
      });
      vars.set(name, params.join(" "));
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
    const start = transcript.directives.get("clock");
    const clock = start === undefined ? null : { now: Date.parse(start) };
    // With a clock, the runner opens the store (as the server would, but on that clock).
    const store = clock ? openMemoryStore({ now: () => clock.now }) : undefined;
    const server = await startElektromail(configFor(transcript.directives), { store });
    try {
      await runTranscript(transcript, {
        port: server.ports.imap,
        portFor: (name) => name.startsWith("smtp") ? server.ports.smtp : undefined,
        hooks: hooks(server, clock),
        caCerts: server.tls ? [server.tls.cert] : [],
      });
    } finally {
      await server.stop();
      store?.close();
    }
  });
}
