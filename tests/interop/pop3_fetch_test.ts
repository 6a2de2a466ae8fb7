/**
 * fetchmail and getmail6 (Debian) pulling mail from a live server: with `keep` (the second
 * run fetches nothing new: both track UIDL) and without (the server's INBOX ends empty), over
 * plain POP3, STLS (fetchmail; getmail6 has no STLS) and POP3S, trusting the served
 * certificate. What they deliver is compared with what was stored: byte for byte in LF form
 * for fetchmail (below its own Received header), the bodies for getmail6 (which adds headers).
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertExit, installed, MESSAGES, type Pop3World, run, withPop3 } from "./pop3_helpers.ts";

const hasFetchmail = installed("/usr/bin/fetchmail", "fetchmail");
const hasGetmail = installed("/usr/bin/getmail", "getmail6");
const SEPARATOR = "==ELEKTROMAIL-END==";

type Transport = "plain" | "stls" | "pop3s";

/** Runs fetchmail once; returns the messages its MDA received (fetchmail's header removed). */
async function fetchmail(world: Pop3World, transport: Transport, keep: boolean) {
  const out = `${world.dir}/fetched`;
  const rc = `${world.dir}/fetchmailrc`;
  const port = transport === "pop3s" ? world.server.ports.pop3s : world.server.ports.pop3;
  // sslproto "": no opportunistic STLS (fetchmail upgrades whenever CAPA offers it).
  const tls = transport === "plain"
    ? `sslproto ""`
    : `${transport === "pop3s" ? "ssl" : "sslproto tls1.2+"} sslcertck sslcertfile ` +
      `"${world.certFile}" sslcommonname localhost`;
  await Deno.writeTextFile(
    rc,
    [
      "set no bouncemail",
      `poll 127.0.0.1 with proto POP3 port ${port} uidl`,
      `  user "alice" there with password "secret" is "root" here`,
      `  ${keep ? "keep" : "no keep fetchall"} ${tls}`,
      `  mda "/bin/sh -c 'cat >> ${out}; echo ${SEPARATOR} >> ${out}'"`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  await Deno.remove(out).catch(() => {});
  const result = await run("fetchmail", ["-f", rc, "-v", "--nosyslog"], {
    FETCHMAILHOME: world.dir,
    HOME: world.dir,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  });
  // 0: mail fetched, 1: no mail.
  assertExit(result, [0, 1], `fetchmail (${transport}, ${keep ? "keep" : "no keep"})`);
  const log = result.stdout + result.stderr;
  assert.equal(log.includes("POP3> STLS"), transport === "stls", `STLS used:\n${log}`);
  const text = await Deno.readTextFile(out).catch(() => "");
  return text.split(`${SEPARATOR}\n`).filter((part) => part !== "").map(dropFetchmailHeader);
}

/** fetchmail puts its own `Received:` header (with folded lines) on top, in LF form. */
function dropFetchmailHeader(message: string): string {
  const lines = message.split("\n");
  let i = 0;
  if (lines[0].startsWith("Received:")) {
    i = 1;
    while (lines[i]?.startsWith("\t") || lines[i]?.startsWith(" ")) i++;
  }
  return lines.slice(i).join("\n");
}

const asLf = (text: string) => text.replaceAll("\r\n", "\n");

for (const transport of ["plain", "stls", "pop3s"] as const) {
  Deno.test({
    name: `fetchmail (${transport}): keep fetches each message once, no keep empties INBOX`,
    ignore: !hasFetchmail,
    fn: async () => {
      await withPop3(async (world) => {
        world.deliver("alice", ...MESSAGES);
        const first = await fetchmail(world, transport, true);
        assert.deepEqual(first, MESSAGES.map(asLf));
        assert.equal(world.count("alice"), 3, "keep: left on the server");
        world.deliver("alice", "Subject: fourth\r\n\r\nlate\r\n");
        // UIDL: only the new message is fetched.
        assert.deepEqual(await fetchmail(world, transport, true), ["Subject: fourth\n\nlate\n"]);
        const all = await fetchmail(world, transport, false);
        assert.equal(all.length, 4);
        assert.equal(world.count("alice"), 0, "no keep: deleted at QUIT");
      });
    },
  });
}

/**
 * Runs getmail6 once; returns the messages its MDA received. (getmail6 will not write an
 * mbox as root, which CI is: an external MDA allowed to run as root collects them instead.)
 */
async function getmail(world: Pop3World, ssl: boolean, keep: boolean) {
  const out = `${world.dir}/fetched`;
  await Deno.writeTextFile(out, "");
  const rc = `${world.dir}/getmailrc`;
  const port = ssl ? world.server.ports.pop3s : world.server.ports.pop3;
  await Deno.writeTextFile(
    rc,
    [
      "[retriever]",
      `type = ${ssl ? "SimplePOP3SSLRetriever" : "SimplePOP3Retriever"}`,
      "server = 127.0.0.1",
      `port = ${port}`,
      "username = alice",
      "password = secret",
      ...(ssl ? [`ca_certs = ${world.certFile}`, "ssl_cert_hostname = localhost"] : []),
      "[destination]",
      "type = MDA_external",
      "path = /bin/sh",
      `arguments = ("-c", "cat >> ${out}; echo ${SEPARATOR} >> ${out}")`,
      "allow_root_commands = true",
      "[options]",
      `delete = ${keep ? "false" : "true"}`,
      "read_all = false",
      "received = false",
      "delivered_to = false",
      "",
    ].join("\n"),
  );
  const result = await run("getmail", [`--rcfile=${rc}`, `--getmaildir=${world.dir}`]);
  assertExit(result, [0], `getmail (${ssl ? "pop3s" : "plain"}, ${keep ? "keep" : "delete"})`);
  const text = await Deno.readTextFile(out);
  return text.split(`${SEPARATOR}\n`).filter((part) => part !== "");
}

for (const ssl of [false, true]) {
  Deno.test({
    name: `getmail6 (${
      ssl ? "pop3s" : "plain"
    }): keep fetches each message once, delete empties INBOX`,
    ignore: !hasGetmail,
    fn: async () => {
      await withPop3(async (world) => {
        world.deliver("alice", ...MESSAGES);
        const first = await getmail(world, ssl, true);
        assert.equal(first.length, 3);
        for (const [i, message] of first.entries()) {
          assert.ok(
            message.endsWith(asLf(MESSAGES[i]).split("\n\n").slice(1).join("\n\n")),
            `message ${i + 1}:\n${message}`,
          );
        }
        assert.equal(world.count("alice"), 3);
        world.deliver("alice", "Subject: fourth\r\n\r\nlate\r\n");
        const second = await getmail(world, ssl, true);
        assert.equal(second.length, 1, second.join("\n----\n"));
        assert.match(second[0], /Subject: fourth/);
        await getmail(world, ssl, false);
        assert.equal(world.count("alice"), 0);
      });
    },
  });
}
