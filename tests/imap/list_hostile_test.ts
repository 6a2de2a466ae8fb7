/**
 * Issue 11 item 1: a LIST or LSUB pattern built to make a backtracking matcher explode
 * (`*a*a*a*b` against a 1,000-character name took over 80 s of CPU) must not freeze the
 * server. The server runs as a subprocess so that a frozen one fails the test (a second
 * client is not served within seconds) instead of freezing the test too.
 */

import assert from "node:assert/strict";
import { spawnMain } from "../process.ts";
import { RawImap } from "../raw_imap.ts";

Deno.test({
  name: "list: hostile patterns on a 1,000-character name do not stall other clients",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const server = await spawnMain(["--smtp-port", "0", "--imap-port", "0"]);
    const clients: RawImap[] = [];
    try {
      const attacker = await RawImap.connect(server.ports.IMAP);
      clients.push(attacker);
      await attacker.command("LOGIN x x");
      const long = "a".repeat(1000);
      assert.match((await attacker.command(`CREATE ${long}`)).at(-1)!, /^t\d+ OK/);
      assert.match((await attacker.command(`SUBSCRIBE ${long}`)).at(-1)!, /^t\d+ OK/);
      const hostile = [
        `LIST "" "*a*a*a*b"`,
        `LIST "" "%a%a%a%a%b"`,
        `LIST "" ("*a*a*a*a*c" "*a%a*a%a*d")`,
        `LSUB "" "*a*a*a*a*b"`,
      ];
      for (const command of hostile) {
        // The attacker's command is sent, not awaited: another client must be served meanwhile.
        const pending = attacker.command(command, 30_000);
        pending.catch(() => {});
        const other = await RawImap.connect(server.ports.IMAP, 10_000);
        clients.push(other);
        assert.match((await other.command("LOGIN y y", 10_000)).at(-1)!, /^t\d+ OK/);
        assert.match((await other.command("NOOP", 10_000)).at(-1)!, /^t\d+ OK/);
        other.close();
        const reply = await pending;
        assert.deepEqual(reply.slice(0, -1), [], `${command} matches nothing`);
        assert.match(reply.at(-1)!, /^t\d+ OK/);
      }
      const star = await attacker.command(`LIST "" "*a*a*a*"`);
      assert.equal(star.length, 2, "the name is listed by a pattern that matches it");
      assert.match(star[0], new RegExp(`^\\* LIST \\(.*\\) "/" ${long}$`));
    } finally {
      for (const client of clients) client.close();
      server.child.kill("SIGKILL");
      await server.exit();
    }
  },
});
