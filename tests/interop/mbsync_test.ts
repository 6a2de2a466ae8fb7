/**
 * mbsync (Debian's `isync`) syncing a local Maildir with a live server on port 0, with
 * `Create Both`, `Expunge Both` and `SyncState *`: new mail, flags, deletions and new mailboxes
 * travel both ways, and each run is checked against `server.store` and the Maildir files.
 *
 * mbsync does not copy messages byte for byte: a Maildir copy has LF line endings, and both
 * directions add one `X-TUID:` header line (its token for finding the message again). The
 * tests check exactly that and nothing more: everything else must match to the byte.
 *
 * Without mbsync the tests are skipped with a note, except in CI (`CI` set), where a missing
 * mbsync is a failure: `.ci/run` installs it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Elektromail } from "../../lib/server.ts";
import { sendMail } from "../process.ts";
import { imapflowClient, withServer } from "./imap_helpers.ts";

const MBSYNC = Deno.env.get("MBSYNC_PATH") ?? "/usr/bin/mbsync";
const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";
const USER = "alice";

function mbsyncInstalled(): boolean {
  try {
    return Deno.statSync(MBSYNC).isFile;
  } catch {
    return false;
  }
}

const available = mbsyncInstalled();
if (!available && !IN_CI) {
  console.warn(
    `mbsync tests skipped: no mbsync at ${MBSYNC} (apt-get install isync, or set MBSYNC_PATH)`,
  );
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A Maildir message file: its folder (`new` or `cur`), name and the flag letters after `:2,`. */
interface MaildirMessage {
  readonly path: string;
  readonly folder: "new" | "cur";
  readonly flags: string;
  readonly text: string;
}

/** One test's world: a server, a Maildir root and an mbsyncrc pointing at both. */
interface Sync {
  readonly server: Elektromail;
  /** The Maildir folder of a mailbox name (`INBOX`, `Work/Sub`). */
  maildir(mailbox: string): string;
  /**
   * Runs `mbsync -a` (with `flags`, default `-V`) and fails with its output unless it exits 0.
   */
  run(flags?: string[]): Promise<string>;
  /** The messages of a local mailbox, sorted by their `Subject:`. */
  local(mailbox: string): MaildirMessage[];
}

function mbsyncrc(port: number, root: string, authMech: "LOGIN" | "PLAIN"): string {
  return [
    "IMAPAccount elektromail",
    "Host 127.0.0.1",
    `Port ${port}`,
    `User ${USER}`,
    "Pass any-password",
    "SSLType None",
    `AuthMechs ${authMech}`,
    "",
    "IMAPStore remote",
    "Account elektromail",
    "",
    "MaildirStore local",
    `Path ${root}/`,
    `Inbox ${root}/INBOX`,
    "SubFolders Verbatim",
    "",
    "Channel everything",
    "Far :remote:",
    "Near :local:",
    "Patterns *",
    "Create Both",
    "Expunge Both",
    "SyncState *",
    "",
  ].join("\n");
}

async function withSync(
  fn: (sync: Sync) => Promise<void>,
  authMech: "LOGIN" | "PLAIN" = "LOGIN",
): Promise<void> {
  assert.ok(available, `mbsync is required in CI (${MBSYNC})`);
  const dir = await Deno.makeTempDir({ prefix: "elektromail-mbsync-" });
  try {
    await withServer(async (server) => {
      const root = `${dir}/mail`;
      await Deno.mkdir(root);
      const rc = `${dir}/mbsyncrc`;
      await Deno.writeTextFile(rc, mbsyncrc(server.ports.imap!, root, authMech));
      const maildir = (mailbox: string) => `${root}/${mailbox}`;
      await fn({
        server,
        maildir,
        run: (flags) => runMbsync(rc, flags),
        local: (mailbox) => readMaildir(maildir(mailbox)),
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runMbsync(rc: string, flags = ["-V"]): Promise<string> {
  const output = await new Deno.Command(MBSYNC, {
    args: ["-c", rc, "-a", ...flags],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000), // a hang guard, not a timing assertion
  }).output();
  const log = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `mbsync exited with ${output.code}:\n${log}`);
  assert.doesNotMatch(log, /IMAP error|Maildir error|Error:/, `mbsync reported an error:\n${log}`);
  return log;
}

function readMaildir(path: string): MaildirMessage[] {
  const messages: MaildirMessage[] = [];
  for (const folder of ["new", "cur"] as const) {
    for (const entry of Deno.readDirSync(`${path}/${folder}`)) {
      const file = `${path}/${folder}/${entry.name}`;
      const info = /:2,([A-Z]*)$/.exec(entry.name);
      messages.push({
        path: file,
        folder,
        flags: info ? info[1] : "",
        text: decoder.decode(Deno.readFileSync(file)),
      });
    }
  }
  return messages.sort((a, b) => subject(a.text).localeCompare(subject(b.text)));
}

function subject(text: string): string {
  return /^Subject: (.*?)\r?$/m.exec(text)?.[1] ?? "";
}

/** Whether `path` is a Maildir folder (has `cur`, `new` and `tmp`). */
function isMaildir(path: string): boolean {
  try {
    return ["cur", "new", "tmp"].every((sub) => Deno.statSync(`${path}/${sub}`).isDirectory);
  } catch {
    return false;
  }
}

/** Splits a message at its first empty line; the header keeps its last line ending. */
function splitMessage(text: string, eol: string): { header: string; body: string } {
  const at = text.indexOf(eol + eol);
  assert.ok(at >= 0, `no end of header in ${JSON.stringify(text.slice(0, 200))}`);
  return { header: text.slice(0, at + eol.length), body: text.slice(at + 2 * eol.length) };
}

/**
 * Asserts that `copy` is `original` as mbsync copies it: the same header lines plus one
 * `X-TUID:` line at the end of the header, the same body, line endings `eol`.
 */
function assertSyncedCopy(copy: string, original: string, eol: "\n" | "\r\n"): void {
  const expected = original.replaceAll("\r\n", eol);
  const { header, body } = splitMessage(copy, eol);
  const want = splitMessage(expected, eol);
  assert.equal(body, want.body, "body");
  const tuid = new RegExp(`X-TUID: [A-Za-z0-9+/]{12}${eol}$`).exec(header);
  assert.ok(tuid, `one X-TUID line closes the header:\n${header}`);
  assert.equal(header.slice(0, tuid.index), want.header, "header");
}

function rawText(server: Elektromail, mailbox: string, uid: number): string {
  const raw = server.store.getRaw(USER, mailbox, uid);
  assert.ok(raw, `${mailbox} UID ${uid} exists on the server`);
  return decoder.decode(raw);
}

/** Renames a Maildir file to carry `flags`, moving it to `cur/` as a mail reader does. */
async function setLocalFlags(message: MaildirMessage, flags: string): Promise<void> {
  const parts = message.path.split("/");
  const name = parts.pop()!.replace(/:2,[A-Z]*$/, "");
  parts.pop(); // new or cur
  await Deno.rename(message.path, `${parts.join("/")}/cur/${name}:2,${flags}`);
}

function serverFlags(server: Elektromail, mailbox: string): Record<string, string[]> {
  return Object.fromEntries(
    server.store.listMessages(USER, mailbox).map((m) => [m.summary.subject, [...m.flags]]),
  );
}

function mail(subject: string, body: string): string {
  return [
    "From: Bob <bob@example.com>",
    `To: ${USER}@example.com`,
    `Subject: ${subject}`,
    "Date: Wed, 25 Nov 2026 07:22:01 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    body,
    "",
  ].join("\r\n");
}

const mbsyncTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `mbsync: ${name}`, ignore: !available && !IN_CI, fn });

mbsyncTest("pull: SMTP and APPENDed mail arrives whole, flags as letters", async () => {
  await withSync(async ({ server, run, local, maildir }) => {
    const smtp = server.ports.smtp!;
    assert.match(
      await sendMail(smtp, `${USER}@example.com`, mail("First", "Grüße, one\r\n")),
      /^250/,
    );
    assert.match(await sendMail(smtp, `${USER}@example.com`, mail("Second", "two")), /^250/);
    server.store.setFlags(USER, "INBOX", [1], "add", ["\\Seen"]);

    const imap = imapflowClient(server, USER);
    await imap.connect();
    try {
      await imap.mailboxCreate("Work/Sub");
      await imap.append("Work/Sub", mail("Filed", "in a sub mailbox"), ["\\Seen", "\\Flagged"]);
    } finally {
      await imap.logout();
    }

    await run();

    for (const mailbox of ["INBOX", "Drafts", "Sent", "Junk", "Trash", "Work/Sub"]) {
      assert.ok(isMaildir(maildir(mailbox)), `${mailbox} became a Maildir folder`);
    }
    const inbox = local("INBOX");
    assert.deepEqual(inbox.map((m) => [subject(m.text), m.folder, m.flags]), [
      ["First", "cur", "S"],
      ["Second", "new", ""],
    ]);
    assertSyncedCopy(inbox[0].text, rawText(server, "INBOX", 1), "\n");
    assertSyncedCopy(inbox[1].text, rawText(server, "INBOX", 2), "\n");
    assert.match(
      inbox[0].text,
      /^Return-Path: <[^>\n]*>\nDelivered-To: [^\n]+\nReceived: from /,
      "the SMTP trace headers came along",
    );

    const sub = local("Work/Sub");
    assert.deepEqual(sub.map((m) => [subject(m.text), m.flags]), [["Filed", "FS"]]);
    assertSyncedCopy(sub[0].text, rawText(server, "Work/Sub", 1), "\n");

    // Pulling changed nothing on the server: BODY.PEEK, no \Seen, no new messages.
    assert.deepEqual(serverFlags(server, "INBOX"), { First: ["\\Seen"], Second: [] });
    assert.deepEqual(serverFlags(server, "Work/Sub"), { Filed: ["\\Flagged", "\\Seen"] });

    // A second run finds nothing to do.
    const before = inbox.map((m) => m.path);
    await run();
    assert.deepEqual(local("INBOX").map((m) => m.path), before);
    assert.equal(server.store.listMessages(USER, "INBOX").length, 2);
  });
});

mbsyncTest("push: Maildir messages are APPENDed once, with flags and CRLF", async () => {
  await withSync(async ({ server, run, local, maildir }) => {
    await run(); // creates the Maildir folders from the server's mailboxes
    assert.equal(server.store.listMessages(USER, "INBOX").length, 0);

    const fresh = mail("Written locally", "plain and new");
    await Deno.writeTextFile(`${maildir("INBOX")}/new/1764000000.1_1.client`, fresh);
    // A message a reader has seen and flagged, stored with Unix line endings.
    const read = mail("Read locally", "seen and flagged").replaceAll("\r\n", "\n");
    await Deno.writeTextFile(`${maildir("INBOX")}/cur/1764000000.2_1.client:2,FS`, read);

    await run();
    const messages = server.store.listMessages(USER, "INBOX");
    assert.deepEqual(messages.map((m) => [m.uid, m.summary.subject, [...m.flags]]), [
      [1, "Written locally", []],
      [2, "Read locally", ["\\Flagged", "\\Seen"]],
    ]);
    assertSyncedCopy(rawText(server, "INBOX", 1), fresh, "\r\n");
    assertSyncedCopy(rawText(server, "INBOX", 2), read.replaceAll("\n", "\r\n"), "\r\n");
    // mbsync paired each file with the server UID from APPENDUID (UIDPLUS): its state file
    // holds "far-UID near-UID flags" lines.
    const state = await Deno.readTextFile(`${maildir("INBOX")}/.mbsyncstate`);
    const farUids = [...state.matchAll(/^(\d+) \d+ /gm)].map((m) => Number(m[1]));
    assert.deepEqual(
      farUids.sort((a, b) => a - b),
      [1, 2],
      `state pairs the server UIDs:\n${state}`,
    );

    // A third run must not append them again, and a server-side flag reaches the right file.
    server.store.setFlags(USER, "INBOX", [1], "add", ["\\Answered"]);
    await run();
    assert.equal(server.store.listMessages(USER, "INBOX").length, 2);
    assert.deepEqual(local("INBOX").map((m) => [subject(m.text), m.flags]), [
      ["Read locally", "FS"],
      ["Written locally", "R"],
    ]);
  }, "PLAIN");
});

mbsyncTest("flags: a renamed Maildir file and a server STORE both propagate", async () => {
  await withSync(async ({ server, run, local }) => {
    server.store.append(USER, "INBOX", encoder.encode(mail("Flag me", "one")));
    server.store.append(USER, "INBOX", encoder.encode(mail("Read me", "two")), {
      flags: ["\\Seen"],
    });
    await run();
    assert.deepEqual(local("INBOX").map((m) => [subject(m.text), m.flags]), [
      ["Flag me", ""],
      ["Read me", "S"],
    ]);

    // Locally: read and answer the first message.
    await setLocalFlags(local("INBOX")[0], "RS");
    await run();
    assert.deepEqual(serverFlags(server, "INBOX"), {
      "Flag me": ["\\Answered", "\\Seen"],
      "Read me": ["\\Seen"],
    });

    // On the server: flag the first, mark the second unread.
    server.store.setFlags(USER, "INBOX", [1], "add", ["\\Flagged"]);
    server.store.setFlags(USER, "INBOX", [2], "remove", ["\\Seen"]);
    await run();
    assert.deepEqual(local("INBOX").map((m) => [subject(m.text), m.flags]), [
      ["Flag me", "FRS"],
      ["Read me", ""],
    ]);
    assert.deepEqual(serverFlags(server, "INBOX"), {
      "Flag me": ["\\Answered", "\\Flagged", "\\Seen"],
      "Read me": [],
    });
  });
});

mbsyncTest("deletion: expunged on the other side with Expunge Both", async () => {
  await withSync(async ({ server, run, local }) => {
    for (const name of ["Delete locally", "Delete on server", "Expunge on server", "Keep"]) {
      server.store.append(USER, "INBOX", encoder.encode(mail(name, name)));
    }
    await run();
    assert.equal(local("INBOX").length, 4);

    // Locally: trash one (Maildir T flag). On the server: \Deleted without EXPUNGE, and a
    // message already expunged.
    await setLocalFlags(local("INBOX")[0], "T");
    server.store.setFlags(USER, "INBOX", [2], "add", ["\\Deleted"]);
    assert.deepEqual(server.store.expunge(USER, "INBOX", [3], true), [3]);

    await run();
    assert.deepEqual(server.store.listMessages(USER, "INBOX").map((m) => m.summary.subject), [
      "Keep",
    ]);
    assert.deepEqual(local("INBOX").map((m) => subject(m.text)), ["Keep"]);
    assertSyncedCopy(local("INBOX")[0].text, rawText(server, "INBOX", 4), "\n");
  });
});

mbsyncTest("create: a Maildir folder made locally becomes a server mailbox", async () => {
  await withSync(async ({ server, run, maildir }) => {
    await run();
    for (const mailbox of ["Projects", "Projects/2026"]) {
      for (const sub of ["cur", "new", "tmp"]) {
        await Deno.mkdir(`${maildir(mailbox)}/${sub}`, { recursive: true });
      }
    }
    const plan = mail("Plan", "the plan for 2026");
    await Deno.writeTextFile(`${maildir("Projects/2026")}/cur/1764000000.3_1.client:2,S`, plan);

    await run();
    const names = server.store.listMailboxes(USER).map((box) => box.name);
    assert.ok(names.includes("Projects"), `Projects on the server: ${names}`);
    assert.ok(names.includes("Projects/2026"), `Projects/2026 on the server: ${names}`);
    assert.deepEqual(serverFlags(server, "Projects/2026"), { Plan: ["\\Seen"] });
    assertSyncedCopy(rawText(server, "Projects/2026", 1), plan, "\r\n");
    assert.equal(server.store.listMessages(USER, "Projects").length, 0);
  });
});

mbsyncTest("compress: COMPRESS=DEFLATE is negotiated and the sync goes through it", async () => {
  await withSync(async ({ server, run, local }) => {
    const body = "compressible line\r\n".repeat(500);
    server.store.append(USER, "INBOX", encoder.encode(mail("Squeezed", body)));
    // -Dn logs the IMAP exchange (RFC 4978 3: COMPRESS right after login, then DEFLATE).
    const log = await run(["-Dn"]);
    assert.match(log, />>> \d+ COMPRESS DEFLATE/, `mbsync asked for COMPRESS:\n${log}`);
    assert.match(log, /\d+ OK DEFLATE active/, `the server agreed:\n${log}`);
    const inbox = local("INBOX");
    assert.deepEqual(inbox.map((m) => subject(m.text)), ["Squeezed"]);
    assertSyncedCopy(inbox[0].text, rawText(server, "INBOX", 1), "\n");
    // And back up, compressed: a local message is APPENDed.
    await Deno.writeTextFile(
      `${inbox[0].path.replace(/\/(new|cur)\/[^/]+$/, "")}/new/1764000000.9_1.client`,
      mail("Pushed", body),
    );
    await run(["-Dn"]);
    assert.deepEqual(
      server.store.listMessages(USER, "INBOX").map((m) => m.summary.subject),
      ["Squeezed", "Pushed"],
    );
  });
});
