/**
 * Real POP3 clients against a live server: Python's poplib (plain, STLS, POP3S) and curl's
 * `pop3://` and `pop3s://`. They check the bytes: what a client retrieves is exactly what
 * was stored, the sizes LIST reports are the octets RETR sends, DELE + QUIT removes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertExit, installed, MESSAGES, run, withPop3 } from "./pop3_helpers.ts";

const hasCurl = installed("/usr/bin/curl", "curl");

/** poplib: every command, over the mode given; prints one JSON document. */
const POPLIB = `
import json, poplib, ssl, sys
port, mode, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
if mode == "pop3s":
    p = poplib.POP3_SSL("localhost", port, context=context, timeout=10)
else:
    p = poplib.POP3("127.0.0.1", port, timeout=10)
out = {"greeting": p.getwelcome().decode()}
out["capa"] = sorted(p.capa().keys())
if mode == "stls":
    p.stls(context)
    out["capa_tls"] = sorted(p.capa().keys())
p.user("alice")
p.pass_("secret")
out["stat"] = list(p.stat())
out["list"] = [line.decode() for line in p.list()[1]]
out["uidl"] = [line.decode() for line in p.uidl()[1]]
out["retr"] = []
for n in range(1, out["stat"][0] + 1):
    resp, lines, octets = p.retr(n)
    out["retr"].append({"text": "".join(l.decode() + "\\r\\n" for l in lines), "octets": octets})
out["top"] = [l.decode() for l in p.top(2, 1)[1]]
p.dele(1)
out["quit"] = p.quit().decode()
print(json.dumps(out))
`;

async function poplib(port: number, mode: string, cafile: string) {
  const result = await run("python3", ["-c", POPLIB, String(port), mode, cafile]);
  assertExit(result, [0], `poplib (${mode})`);
  return JSON.parse(result.stdout);
}

for (const mode of ["plain", "stls", "pop3s"]) {
  Deno.test(`poplib (${mode}): STAT, LIST, UIDL, RETR, TOP, DELE and QUIT`, async () => {
    await withPop3(async (world) => {
      world.deliver("alice", ...MESSAGES);
      const { ports } = world.server;
      const out = await poplib(mode === "pop3s" ? ports.pop3s! : ports.pop3!, mode, world.certFile);
      assert.match(out.greeting, /^\+OK Elektromail /);
      if (mode !== "pop3s") assert.ok(out.capa.includes("STLS"), out.capa.join());
      if (mode === "stls") assert.ok(!out.capa_tls.includes("STLS"));
      const sizes = MESSAGES.map((text) => text.length);
      assert.deepEqual(out.stat, [3, sizes.reduce((a, b) => a + b)]);
      assert.deepEqual(out.list, sizes.map((size, i) => `${i + 1} ${size}`));
      assert.deepEqual(out.uidl, [1, 2, 3].map((n) => `${n} 0000000${n}00000001`));
      // poplib unstuffs the lines; joined with CRLF they are the stored message exactly.
      assert.deepEqual(out.retr.map((r: { text: string }) => r.text), MESSAGES);
      assert.equal(
        out.top.join("\r\n"),
        "From: app@example.com\r\nSubject: second\r\n\r\n.leading dot",
      );
      assert.equal(out.quit, "+OK Logging out, messages deleted.");
      assert.equal(world.count("alice"), 2);
    });
  });
}

Deno.test({
  name: "curl pop3:// and pop3s://: LIST, RETR, UIDL, DELE over plain, STLS and implicit TLS",
  ignore: !hasCurl,
  fn: async () => {
    await withPop3(async (world) => {
      world.deliver("alice", ...MESSAGES);
      const { pop3, pop3s } = world.server.ports;
      const curl = async (url: string, ...extra: string[]) => {
        const result = await run("curl", [
          "-sS",
          "--max-time",
          "10",
          "-u",
          "alice:x",
          ...extra,
          url,
        ]);
        assertExit(result, [0], `curl ${url}`);
        return result.stdout;
      };
      const list = await curl(`pop3://127.0.0.1:${pop3}/`);
      assert.equal(list, MESSAGES.map((text, i) => `${i + 1} ${text.length}\r\n`).join(""));
      // curl unstuffs RETR: the message comes back byte for byte.
      assert.equal(await curl(`pop3://127.0.0.1:${pop3}/2`), MESSAGES[1]);
      const tls = ["--cacert", world.certFile, "--resolve", `localhost:${pop3}:127.0.0.1`];
      assert.equal(
        await curl(`pop3://localhost:${pop3}/3`, "--ssl-reqd", ...tls),
        MESSAGES[2],
      );
      const implicit = ["--cacert", world.certFile, "--resolve", `localhost:${pop3s}:127.0.0.1`];
      assert.equal(await curl(`pop3s://localhost:${pop3s}/1`, ...implicit), MESSAGES[0]);
      const uidl = await curl(`pop3://127.0.0.1:${pop3}/`, "-X", "UIDL");
      assert.match(uidl, /^1 0000000100000001\r\n2 0000000200000001\r\n3 0000000300000001\r\n$/);
      // DELE is a custom request without a body; curl sends QUIT after it, which expunges.
      await curl(`pop3://127.0.0.1:${pop3}/`, "-X", "DELE 2", "-I");
      assert.equal(world.count("alice"), 2);
      assert.equal(
        await curl(`pop3://127.0.0.1:${pop3}/`),
        `1 ${MESSAGES[0].length}\r\n2 ${MESSAGES[2].length}\r\n`,
      );
    });
  },
});
