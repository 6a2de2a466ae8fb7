/**
 * `deno run` from a URL: the repository served over HTTP on 127.0.0.1 and `main.ts` run from
 * there, in an empty working directory (so nothing can be read relative to it and no
 * `deno.json` is found), with TLS on so the lazily loaded modules (node:net/node:tls
 * transport, the certificate generator) load from the URL too.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sendMail, spawnMain } from "../process.ts";

const ROOT = new URL("../../", import.meta.url);
const slow = { sanitizeResources: false, sanitizeOps: false };

/** A static file server for the repository; records every path asked for. */
function serveRepository(): { server: Deno.HttpServer<Deno.NetAddr>; requested: string[] } {
  const requested: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    requested.push(path);
    if (path.includes("..")) return new Response("no", { status: 400 });
    try {
      const body = await Deno.readFile(new URL(`.${path}`, ROOT));
      const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { server, requested };
}

Deno.test({
  name: "url run: deno run http://127.0.0.1:<port>/main.ts starts, accepts SMTP, serves TLS",
  ...slow,
  fn: async () => {
    const { server, requested } = serveRepository();
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const cwd = await Deno.makeTempDir({ prefix: "elektromail-url-" });
    const dbDir = await Deno.makeTempDir({ prefix: "elektromail-url-db-" });
    try {
      const running = await spawnMain(
        [
          "--smtp-port",
          "0",
          "--imap-port",
          "0",
          "--http-port",
          "0",
          "--tls",
          "--db",
          `${dbDir}/mail.db`,
        ],
        {},
        {
          command: [
            Deno.execPath(),
            "run",
            "--allow-net",
            "--allow-env",
            "--allow-read",
            "--allow-write",
            `--reload=${origin}`,
            `${origin}/main.ts`,
          ],
          cwd,
        },
      );
      try {
        assert.match(running.banner, /Elektromail .* ready/);
        assert.match(running.banner, /storage\s+SQLite /);
        assert.match(running.banner, /SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
        const reply = await sendMail(
          running.ports.SMTP,
          "ann@example.com",
          "Subject: url\r\n\r\nhi\r\n",
        );
        assert.match(reply, /^250 2\.0\.0 /);
        const messages = await fetch(`http://127.0.0.1:${running.ports.HTTP}/messages?user=ann`);
        assert.match(await messages.text(), /"subject": "url"/);
        const cert = await fetch(`http://127.0.0.1:${running.ports.HTTP}/tls/cert`);
        assert.match(await cert.text(), /^-----BEGIN CERTIFICATE-----/);
      } finally {
        running.child.kill("SIGTERM");
        const { code, stderr } = await running.exit();
        assert.equal(code, 0, stderr);
      }
      // The lazily loaded modules (TLS, HTTP, SQLite) came from the URL; no configuration file
      // was looked for.
      const lazy = ["/lib/net/node_transport.ts", "/lib/net/self_signed.ts", "/lib/http/server.ts"];
      for (const path of ["/main.ts", ...lazy, "/lib/store/sqlite.ts"]) {
        assert.ok(requested.includes(path), `${path} requested: ${requested.join(" ")}`);
      }
      assert.deepEqual(requested.filter((path) => !path.endsWith(".ts")), []);
      assert.deepEqual([...Deno.readDirSync(cwd)], [], "nothing written to the working directory");
    } finally {
      await server.shutdown();
      await Deno.remove(cwd, { recursive: true });
      await Deno.remove(dbDir, { recursive: true });
    }
  },
});
