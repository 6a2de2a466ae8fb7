/**
 * The `elektromail` command as a user runs it: `main.ts` in a subprocess. Errors are one
 * line on stderr with exit status 2; the banner lists everything; signals stop it cleanly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../lib/store/mod.ts";
import { testConfig } from "../lib/config.ts";
import { startElektromail } from "../lib/server.ts";
import { VERSION } from "../lib/version.ts";
import { assertConfigFailure, runMain, sendMail, SmtpClient, spawnMain } from "./process.ts";

const slow = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "cli: --help and --version print to stdout and exit 0",
  ...slow,
  fn: async () => {
    const help = await runMain(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: elektromail \[options\]$/m);
    for (const name of ["--smtp-port", "SMTP_PORT", "--db", "ELEKTROMAIL_USERS", "--version"]) {
      assert.ok(help.stdout.includes(name), name);
    }
    assert.equal(help.stderr, "");
    // Readable in an 100-column terminal or CI log: no line wraps or runs off.
    for (const line of help.stdout.split("\n")) {
      assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
    }
    const version = await runMain(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `elektromail ${VERSION}\n`);
  },
});

Deno.test({
  name: "cli: bad configuration stops before serving with one line and exit 2",
  ...slow,
  fn: async () => {
    await assertConfigFailure(["--smtp-port", "abc"], {}, /--smtp-port: "abc" is not a port/);
    await assertConfigFailure([], { SMTP_PORT: "70000" }, /^elektromail: SMTP_PORT: "70000"/);
    await assertConfigFailure([], { IMAP_PORT: "abc" }, /IMAP_PORT: "abc" is not a port/);
    await assertConfigFailure(["--http-port=99999"], {}, /--http-port: "99999"/);
    await assertConfigFailure(
      [],
      { ELEKTROMAIL_USERS: "ann:pw,bob" },
      /ELEKTROMAIL_USERS: entry 2 \("bob:…"\) must be user:pass/,
    );
    await assertConfigFailure(["--users", "nopassword"], {}, /--users: entry 1/);
    await assertConfigFailure(
      [],
      { ELEKTROMAIL_AUTH_DISABLED: "perhaps" },
      /ELEKTROMAIL_AUTH_DISABLED: "perhaps" is not a boolean/,
    );
    await assertConfigFailure(["--bogus"], {}, /Unknown option '--bogus'/);
  },
});

Deno.test({
  name: "cli: an unwritable database path and a port in use exit 2 naming the setting",
  ...slow,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-cli-" });
    try {
      const missing = `${dir}/no/such/dir/mail.db`;
      await assertConfigFailure(
        ["--db", missing, "--smtp-port", "0", "--imap-port", "0"],
        {},
        new RegExp(`ELEKTROMAIL_DB \\(--db\\): cannot open ${missing}`),
      );
      await assertConfigFailure(
        ["--smtp-port", "0", "--imap-port", "0"],
        { ELEKTROMAIL_DB: dir },
        /ELEKTROMAIL_DB \(--db\): cannot open/,
      );
      // A file that is not a database, and a database from a newer version: refused, and
      // left as it was.
      const text = `${dir}/notes.txt`;
      await Deno.writeTextFile(text, "not a database, ".repeat(20));
      await assertConfigFailure(
        ["--db", text, "--smtp-port", "0", "--imap-port", "0"],
        {},
        /ELEKTROMAIL_DB \(--db\): cannot open .*notes\.txt: file is not a database/,
      );
      assert.equal(await Deno.readTextFile(text), "not a database, ".repeat(20));
      const newer = `${dir}/newer.db`;
      const db = new DatabaseSync(newer);
      db.exec("PRAGMA user_version = 99");
      db.close();
      await assertConfigFailure(
        ["--smtp-port", "0", "--imap-port", "0"],
        { ELEKTROMAIL_DB: newer },
        /ELEKTROMAIL_DB \(--db\): cannot open .*newer\.db: .*schema version 99, newer than/,
      );
      // A database whose mail file is gone (copied without it): refused, not emptied.
      const lone = `${dir}/lone.db`;
      const store = openSqliteStore(lone);
      store.append("u", "INBOX", new TextEncoder().encode("Subject: kept\r\n\r\nx\r\n"));
      store.close();
      await Deno.remove(`${lone}.mail`);
      await assertConfigFailure(
        ["--db", lone, "--smtp-port", "0", "--imap-port", "0"],
        {},
        /ELEKTROMAIL_DB \(--db\): cannot open .*lone\.db: its mail file .*lone\.db\.mail is missing \(it holds the bytes of 1 stored message\)/,
      );
      const check = new DatabaseSync(lone);
      assert.equal(check.prepare("SELECT count(*) AS n FROM messages").get()!.n, 1);
      check.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = String(busy.addr.port);
      await assertConfigFailure(
        ["--imap-port", "0"],
        { SMTP_PORT: port },
        new RegExp(`SMTP_PORT \\(--smtp-port\\): port ${port} is already in use`),
      );
      await assertConfigFailure(
        ["--smtp-port", "0", "--imap-port", port],
        {},
        new RegExp(`IMAP_PORT \\(--imap-port\\): port ${port} is already in use`),
      );
      await assertConfigFailure(
        ["--smtp-port", "0", "--imap-port", "0", "--http-port", port],
        {},
        new RegExp(`HTTP_PORT \\(--http-port\\): port ${port} is already in use`),
      );
    } finally {
      busy.close();
    }
  },
});

Deno.test({
  name: "cli: the banner lists every listener, storage, auth mode and user count",
  ...slow,
  fn: async () => {
    const server = await spawnMain(
      ["--smtp-port", "0", "--imap-port", "0", "--http-port", "0"],
      { ELEKTROMAIL_USERS: "ann:pw,bob:bob@example.com:pw" },
    );
    try {
      assert.match(
        server.banner,
        new RegExp(`Elektromail ${VERSION.replaceAll(".", "\\.")} ready`),
      );
      assert.ok(server.ports.SMTP > 0, server.banner);
      assert.ok(server.ports.HTTP > 0, server.banner);
      assert.ok(server.ports.IMAP > 0, server.banner);
      assert.ok(server.ports.POP3 > 0, server.banner);
      for (const name of ["SMTP", "IMAP", "POP3", "HTTP"]) {
        assert.match(
          server.banner,
          new RegExp(`^\\s+${name}\\s+127\\.0\\.0\\.1:${server.ports[name]}$`, "m"),
        );
      }
      assert.equal(new Set([server.ports.SMTP, server.ports.IMAP, server.ports.HTTP]).size, 3);
      assert.match(server.banner, /storage\s+memory/);
      assert.match(server.banner, /auth\s+2 configured users/);
      // The listed ports are the ones that answer.
      const { client, greeting } = await SmtpClient.connect(server.ports.SMTP);
      client.close();
      assert.match(greeting, /^220 /);
      const health = await fetch(`http://127.0.0.1:${server.ports.HTTP}/health`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).ports.pop3, server.ports.POP3);
    } finally {
      server.child.kill("SIGTERM");
      await server.exit();
    }

    const dir = await Deno.makeTempDir({ prefix: "elektromail-cli-" });
    const open = await spawnMain(["--smtp-port", "0", "--imap-port", "0", "--pop3-port", "off"], {
      ELEKTROMAIL_DB: `${dir}/mail.db`,
      ELEKTROMAIL_USERS: "ann:pw",
      ELEKTROMAIL_AUTH_DISABLED: "yes",
    });
    try {
      assert.match(open.banner, new RegExp(`storage\\s+SQLite ${dir}/mail\\.db`));
      assert.match(
        open.banner,
        /auth\s+any credentials accepted \(auth disabled, 1 users configured\)/,
      );
      assert.equal(open.ports.HTTP, undefined, "no HTTP listener unless asked");
      assert.equal(open.ports.POP3, undefined, "POP3 switched off");
    } finally {
      open.child.kill("SIGTERM");
      await open.exit();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Reads until `until` matches what was read, or else until the peer closes. */
async function readUntilClosed(conn: Deno.Conn, until?: RegExp): Promise<string> {
  const buffer = new Uint8Array(4096);
  const decoder = new TextDecoder();
  let text = "";
  while (!until?.test(text)) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name: `cli: ${signal} sends SMTP 421, IMAP * BYE and POP3 -ERR to open sessions and exits 0`,
    ...slow,
    ignore: Deno.build.os === "windows",
    fn: async () => {
      const server = await spawnMain(["--smtp-port", "0", "--imap-port", "0"]);
      let exited = false;
      try {
        const { client, greeting } = await SmtpClient.connect(server.ports.SMTP);
        const imap = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.IMAP });
        const pop3 = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.POP3 });
        try {
          assert.match(await readUntilClosed(pop3, /\r\n/), /^\+OK /);
          assert.match(greeting, /^220 /);
          assert.match(await client.command("EHLO test"), /^250[ -]/);
          assert.match(await readUntilClosed(imap, /\r\n/), /^\* OK /);
          server.child.kill(signal);
          const reply = await client.readReply();
          assert.match(reply, /^421 4\.3\.2 /);
          // A second signal while stopping (deno task forwards one too) changes nothing.
          try {
            server.child.kill(signal);
          } catch {
            // already exited
          }
          assert.equal(await client.readReply(), "", "then the connection closes");
          assert.match(await readUntilClosed(imap), /^\* BYE .*\r\n$/);
          assert.equal(await readUntilClosed(pop3), "-ERR Server shutting down.\r\n");
        } finally {
          client.close();
          try {
            pop3.close();
          } catch {
            // already closed
          }
          try {
            imap.close();
          } catch {
            // already closed
          }
        }
        const { code, stderr } = await server.exit();
        exited = true;
        assert.equal(code, 0, stderr);
        assert.equal(stderr.match(new RegExp(`${signal}: stopping`, "g"))?.length, 1, stderr);
        // Nothing listens any more.
        await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: server.ports.SMTP }));
      } finally {
        if (!exited) {
          server.child.kill("SIGKILL");
          await server.exit();
        }
      }
    },
  });
}

Deno.test({
  name: "embedding: two servers in one process do not share state",
  ...slow,
  fn: async () => {
    const one = await startElektromail(testConfig());
    const two = await startElektromail(testConfig());
    try {
      assert.notEqual(one.store, two.store);
      assert.notEqual(one.ports.smtp, two.ports.smtp);
      assert.notEqual(one.ports.imap, two.ports.imap);
      assert.notEqual(one.ports.http, two.ports.http);
      const body = "Subject: only one\r\n\r\nhello\r\n";
      assert.match(await sendMail(one.ports.smtp, "ann@example.com", body), /^250 /);
      assert.deepEqual(one.store.listUsers(), ["ann"]);
      assert.deepEqual(two.store.listUsers(), []);
      const users = await (await fetch(`http://127.0.0.1:${two.ports.http}/users`)).text();
      assert.doesNotMatch(users, /ann/);
      two.store.append("bob", "INBOX", new TextEncoder().encode(body));
      one.store.reset();
      assert.deepEqual(one.store.listUsers(), []);
      assert.deepEqual(two.store.listUsers(), ["bob"]);
      await one.stop();
      assert.match(await sendMail(two.ports.smtp, "bob@example.com", body), /^250 /);
      assert.equal(two.store.listMessages("bob", "INBOX").length, 2);
    } finally {
      await one.stop();
      await two.stop();
    }
  },
});
