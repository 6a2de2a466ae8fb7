/**
 * Jakarta Mail 2.0 (Debian's libjakarta-mail-java) managing mailboxes on a live server on
 * port 0, through `java/ElektromailClient.java` (one JVM run a test): flags (system and
 * keyword), `UIDFolder.getUID`, SEARCH with subject, flag and date terms, `copyMessages`,
 * `moveUIDMessages` (MOVE with COPYUID), `expunge`, `appendUIDMessages` (APPENDUID), folder
 * `create`, `renameTo`, `delete` (UTF-8 names: Jakarta Mail enables UTF8=ACCEPT), `list("*")`,
 * `listSubscribed`, STATUS counts, NAMESPACE;
 * and every MIME fixture read as a mail client's listing does (one FETCH for all, then each
 * part and the whole bytes), checked against the store and the HTTP API.
 *
 * Sending, TLS, reading a multipart and IDLE are in jakarta_mail_test.ts. Without Java or the
 * jars the tests are skipped with a note, except in CI (`CI` set), where that is a failure.
 *
 * @module
 */

import assert from "node:assert/strict";
import { jakartaTest, plainMessage, ports, runClient, sha256 } from "./jakarta_helpers.ts";
import { withWorld } from "./smtp_client_helpers.ts";

jakartaTest(
  "IMAP: flags, UIDs, SEARCH, copyMessages, moveUIDMessages, expunge, append, folders",
  async () => {
    await withWorld(async ({ server }) => {
      for (const subject of ["one", "two", "Grüße three", "four"]) {
        server.store.append("alice", "INBOX", plainMessage(subject));
      }
      const out = await runClient([
        ...ports(server),
        "user=alice@corp.example",
        "password=secret",
        "uid=1",
        "read",
        "flags",
        "subject=three",
        "search",
        // Jakarta Mail 2.0 writes a search string as Latin-1 once UTF8=ACCEPT is enabled
        // (jakartaee/mail-api#474): the server answers NO [BADCHARSET] to the invalid UTF-8,
        // and Jakarta Mail searches on its side instead of failing.
        "as=search-utf8",
        "subject=grüße",
        "search",
        "search-flags",
        "target=Archive",
        "create",
        "as=create-again",
        "create",
        "target=Archive/Grüße ✓",
        "as=create-nested",
        "create",
        "list",
        "uid=2",
        "target=Archive",
        "copy",
        "uid=3",
        "move",
        "uid=4",
        "expunge",
        "from=alice@corp.example",
        "to=bob@example.com",
        "subject=Entwurf ✓",
        "text=noch nicht fertig",
        "target=Drafts",
        "append",
        "folder=Archive/Grüße ✓",
        "target=Archive/Ärger",
        "rename",
        "target=Archive/Ärger",
        "delete",
        "as=list-after",
        "list",
        "folder=INBOX",
        "target=Archive",
        "status",
      ]);
      const steps = ["read", "flags", "search", "search-utf8", "search-flags", "create"];
      steps.push("create-nested", "list");
      steps.push("copy", "move", "expunge", "append", "rename", "delete", "list-after", "status");
      for (const step of steps) out.ok(step);

      assert.equal(out.get("read.count"), "4");
      assert.equal(out.get("read.subject"), "one");
      assert.equal(out.get("read.body.type"), "text/plain");
      assert.equal(out.get("read.body.text"), "Body of one\r\n");
      assert.equal(out.get("read.sent"), String(Date.UTC(2026, 11, 3, 8, 0, 23)));

      assert.equal(out.get("flags.seen"), "true");
      assert.equal(out.get("flags.flagged"), "true");
      assert.equal(out.get("flags.user-flags"), "$Jakarta");
      assert.deepEqual(server.store.getMessage("alice", "INBOX", 1)!.flags, [
        "\\Flagged",
        "\\Seen",
        "$Jakarta",
      ]);

      assert.equal(out.get("search.uids"), "3");
      assert.equal(out.get("search-utf8.uids"), "3");
      assert.equal(out.get("search-flags.flagged"), "1");
      assert.equal(out.get("search-flags.unseen"), "2,3,4");

      assert.equal(out.get("create.existed"), "false");
      assert.equal(out.get("create.created"), "true");
      assert.equal(out.get("create.exists"), "true");
      assert.equal(out.get("create-again.existed"), "true");
      assert.equal(out.get("create-again.created"), "false", "CREATE of an existing folder is NO");
      assert.equal(out.get("create-nested.created"), "true");
      assert.equal(out.get("list.separator"), "/");
      assert.deepEqual(
        out.get("list.folders").split(",").sort(),
        ["Archive", "Archive/Grüße ✓", "Drafts", "INBOX", "Junk", "Sent", "Trash"],
      );

      assert.equal(out.get("copy.target-count"), "1");
      assert.equal(out.get("move.target-uid"), "2");
      assert.equal(out.get("move.expunged"), "true");
      assert.equal(out.get("expunge.removed"), "1");
      assert.equal(out.get("expunge.remaining"), "2");
      const subjects = (mailbox: string) =>
        server.store.listMessages("alice", mailbox).map((m) => [m.uid, m.summary.subject]);
      assert.deepEqual(subjects("INBOX"), [[1, "one"], [2, "two"]]);
      assert.deepEqual(subjects("Archive"), [[1, "two"], [2, "Grüße three"]]);

      // APPEND with its APPENDUID; RENAME and DELETE of a folder.
      assert.equal(out.get("append.uid"), "1");
      assert.equal(out.get("append.uidvalidity"), "1");
      const draft = server.store.getMessage("alice", "Drafts", 1)!;
      assert.equal(draft.summary.subject, "Entwurf ✓");
      assert.deepEqual(draft.flags, ["\\Draft"]);
      assert.equal(out.get("rename.renamed"), "true");
      assert.equal(out.get("delete.deleted"), "true");
      const after = ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"];
      assert.deepEqual(out.get("list-after.folders").split(",").sort(), after);
      assert.deepEqual(server.store.listMailboxes("alice").map((m) => m.name).sort(), after);

      // STATUS of the closed INBOX (uid 1 seen, uid 2 not; both \Recent were claimed by the
      // first SELECT), LSUB after subscribing, NAMESPACE.
      assert.equal(out.get("status.messages"), "2");
      assert.equal(out.get("status.unread"), "1");
      assert.equal(out.get("status.new"), "0");
      assert.ok(out.get("status.subscribed").split(",").includes("Archive"), out.text);
      assert.ok(server.store.listSubscriptions("alice").includes("Archive"));
      assert.equal(out.get("status.namespace"), '"" /');
    });
  },
);

jakartaTest(
  "every MIME fixture: one FETCH for the listing, each part and the whole bytes",
  async () => {
    await withWorld(async ({ server }) => {
      const dir = new URL("../fixtures/mime/", import.meta.url).pathname;
      const names = [...Deno.readDirSync(dir)].map((entry) => entry.name)
        .filter((name) => name.endsWith(".eml")).sort();
      for (const name of names) {
        server.store.append("alice", "INBOX", Deno.readFileSync(dir + name));
      }
      const out = await runClient([...ports(server), "user=alice", "password=secret", "read-all"]);
      out.ok("read-all");
      assert.equal(out.get("read-all.count"), String(names.length));
      let parts = 0;
      for (const [index, name] of names.entries()) {
        const uid = index + 1;
        const meta = server.store.getMessage("alice", "INBOX", uid)!;
        assert.equal(out.get(`read-all.${uid}.size`), String(meta.size), name);
        const raw = server.store.getRaw("alice", "INBOX", uid)!;
        assert.equal(out.get(`read-all.${uid}.sha256`), await sha256(raw), name);
        // Raw 8-bit header bytes: the server reads them as Latin-1, Jakarta Mail as UTF-8.
        if (name !== "broken_garbage_headers.eml" && name !== "empty.eml") {
          assert.equal(out.get(`read-all.${uid}.subject`), meta.summary.subject, name);
        }
        // Each non-text leaf as Jakarta Mail decoded it (BODY[n]) against the HTTP API's part.
        for (const [key, value] of out.values) {
          const match = key.match(new RegExp(`^read-all\\.${uid}\\.body\\.(.+)\\.sha256$`));
          if (!match) {
            continue;
          }
          // A nested message's own body is its part 1 (RFC 9051 6.4.5).
          const part = match[1].replace(/\.message$/, ".1").replaceAll(".message", "");
          const response = await fetch(
            `http://127.0.0.1:${server.ports.http}/messages/alice:INBOX:${uid}/parts/${part}`,
          );
          assert.equal(response.status, 200, `${name} part ${part}`);
          assert.equal(value, await sha256(new Uint8Array(await response.arrayBuffer())), name);
          parts++;
        }
      }
      assert.ok(parts >= 8, `only ${parts} parts compared:\n${out.text}`);
    });
  },
);
