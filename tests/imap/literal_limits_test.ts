/**
 * Literal limits over a real socket (issue 11 item 6; RFC 7888 4, RFC 9051 4.3, 7.5): before
 * login no command may carry more than 64 KiB of literals, and a non-synchronizing one over
 * that ends the connection; after login the same cap holds outside APPEND, the refused bytes
 * are drained so the stream stays in step.
 *
 * @module
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { appendTotalLimit } from "../../lib/imap/commands/append.ts";
import { literalDecision, MAX_SMALL_LITERAL } from "../../lib/imap/dispatch.ts";
import { startElektromail } from "../../lib/server.ts";
import { RawImap } from "./raw_client.ts";
import { withTimeout } from "../interop/imap_helpers.ts";

async function withImap(
  fn: (port: number) => Promise<void>,
  maxMessageSize = 25 * 1024 * 1024,
): Promise<void> {
  const config = testConfig({ httpPort: null });
  const server = await startElektromail({
    ...config,
    limits: { ...config.limits, maxMessageSize },
  });
  try {
    await withTimeout(fn(server.ports.imap), "literal limits", 10_000);
  } finally {
    await server.stop();
  }
}

const x = (n: number) => "x".repeat(n);

Deno.test("literals before login: several {n+} adding up past 64 KiB: BAD, BYE, closed", async () => {
  await withImap(async (port) => {
    const { client } = await RawImap.connect(port);
    try {
      // Each literal alone is under the cap; together they are over it.
      const half = MAX_SMALL_LITERAL / 2 + 1;
      await client.write(`a1 LOGIN {${half}+}\r\n${x(half)} {${half}+}\r\n`);
      const lines = await client.readToEnd();
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(lines[0], /^a1 BAD \[TOOBIG\] /);
      assert.match(lines[1], /^\* BYE /);
    } finally {
      client.close();
    }
  });
});

Deno.test("literals before login: {n} over 64 KiB gets no '+', the session goes on", async () => {
  await withImap(async (port) => {
    const { client } = await RawImap.connect(port);
    try {
      const size = MAX_SMALL_LITERAL + 1;
      assert.deepEqual(await client.command(`a1 LOGIN {${size}}`), [
        `a1 BAD [TOOBIG] Literal of ${size} octets is over the limit of ${MAX_SMALL_LITERAL}`,
      ]);
      // Two synchronizing literals adding up past the cap: the second gets no '+'.
      const half = MAX_SMALL_LITERAL / 2 + 1;
      await client.write(`a2 LOGIN {${half}}\r\n`);
      assert.equal(await client.readLine(), "+ Ready for literal data");
      await client.write(`${x(half)} {${half}}\r\n`);
      const refused = await client.readUntilTagged("a2");
      assert.equal(refused.length, 1, refused.join("\n"));
      assert.match(refused[0], /^a2 BAD \[TOOBIG\] /);
      assert.deepEqual(await client.command("a3 NOOP"), ["a3 OK NOOP completed"]);
    } finally {
      client.close();
    }
  });
});

Deno.test("literals after login: {n+} over 64 KiB outside APPEND is drained and refused", async () => {
  await withImap(async (port) => {
    const { client } = await RawImap.connect(port);
    try {
      assert.match((await client.command("a1 LOGIN alice x")).at(-1)!, /^a1 OK /);
      const size = MAX_SMALL_LITERAL + 1;
      // Text that looks like commands inside the refused literal is never run.
      const data = "a9 LOGOUT\r\n".repeat(Math.ceil(size / 11)).slice(0, size);
      await client.write(`a2 SELECT {${size}+}\r\n${data} {3+}\r\nabc\r\na3 NOOP\r\n`);
      assert.deepEqual(await client.readUntilTagged("a2"), [
        `a2 BAD [TOOBIG] Literal of ${size} octets is over the limit of ${MAX_SMALL_LITERAL}`,
      ]);
      assert.deepEqual(await client.readUntilTagged("a3"), ["a3 OK NOOP completed"]);
      // Under the cap a non-synchronizing literal is read as ever.
      const lines = await client.command(`a4 CREATE {5+}\r\nBoxes`);
      assert.deepEqual(lines, ["a4 OK [MAILBOXID (F6)] CREATE completed"]);
    } finally {
      client.close();
    }
  });
});

Deno.test("literals after login: APPEND's literals add up past one message (MULTIAPPEND)", async () => {
  await withImap(async (port) => {
    const { client } = await RawImap.connect(port);
    try {
      assert.match((await client.command("a1 LOGIN alice x")).at(-1)!, /^a1 OK /);
      const size = 90_000;
      // Each literal within the message size, together over it: read whole (RFC 3502 lets
      // one APPEND carry many messages; appendTotalLimit caps the sum, multiappend_test.ts),
      // and the mailbox named by the first is refused only then.
      await client.write(`a2 APPEND {${size}+}\r\n${x(size)} {${size}+}\r\n${x(size)}\r\n`);
      await client.write("a3 NOOP\r\n");
      const lines = await client.readUntilTagged("a2");
      assert.equal(lines.length, 1, lines.join("\n").slice(0, 200));
      assert.match(lines[0], /^a2 NO \[CANNOT\] /); // 90,000 octets: no CREATE could make it
      assert.deepEqual(await client.readUntilTagged("a3"), ["a3 OK NOOP completed"]);
    } finally {
      client.close();
    }
  }, 100_000);
});

Deno.test("literalDecision: the policy as a table", () => {
  const enc = new TextEncoder();
  const MB = 1024 * 1024;
  const decide = (
    prefix: string,
    state: "not-authenticated" | "authenticated",
    size: number,
    nonSync: boolean,
    buffered = 0,
  ) => {
    const d = literalDecision(
      { tag: "t", size, nonSync, prefix: enc.encode(prefix), buffered },
      state,
      10 * MB,
    );
    return [d.accept, d.response?.split(" ").slice(0, 3).join(" ") ?? null, d.close];
  };
  const cap = MAX_SMALL_LITERAL;
  // MULTIAPPEND: all of an APPEND's literals together, beside the 64 KiB for the rest.
  const total = appendTotalLimit(10 * MB);
  const cases: Array<[Parameters<typeof decide>, ReturnType<typeof decide>]> = [
    [["t LOGIN {1}", "not-authenticated", cap, false], [true, "+ Ready for", false]],
    [["t LOGIN {1}", "not-authenticated", cap + 1, false], [false, "t BAD [TOOBIG]", false]],
    [["t LOGIN {1+}", "not-authenticated", cap + 1, true], [false, "t BAD [TOOBIG]", true]],
    [["t LOGIN {1} {2+}", "not-authenticated", 2, true, cap], [false, "t BAD [TOOBIG]", true]],
    [["t APPEND X {1}", "not-authenticated", 10, false], [false, "t BAD APPEND", false]],
    [["t APPEND X {1+}", "not-authenticated", cap + 1, true], [false, "t BAD [TOOBIG]", true]],
    [["t SELECT {1+}", "authenticated", cap + 1, true], [false, "t BAD [TOOBIG]", false]],
    [["t SELECT {1+}", "authenticated", cap, true], [true, null, false]],
    [["t APPEND X {1+}", "authenticated", 10 * MB, true], [true, null, false]],
    [["t APPEND X {1}", "authenticated", 10 * MB + 1, false], [false, "t NO [TOOBIG]", false]],
    [["t APPEND X {1+}", "authenticated", 10 * MB + 1, true], [false, "t BAD [TOOBIG]", false]],
    [["t APPEND {1} {2}", "authenticated", 10 * MB, false, total - 10 * MB + cap], [
      true,
      "+ Ready for",
      false,
    ]],
    [["t APPEND {1} {2}", "authenticated", 10 * MB, false, total - 10 * MB + cap + 1], [
      false,
      "t NO [TOOBIG]",
      false,
    ]],
    [["t UID SEARCH {1}", "authenticated", cap + 1, false], [false, "t BAD [TOOBIG]", false]],
  ];
  for (const [args, expected] of cases) {
    assert.deepEqual(decide(...args), expected, JSON.stringify(args));
  }
});

Deno.test("literals after login: APPEND literals held at once are bound across sessions (NO [LIMIT])", async () => {
  // A budget of four messages of the largest size: 4 x 100,000 octets.
  await withImap(async (port) => {
    const size = 90_000;
    const clients: RawImap[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const { client } = await RawImap.connect(port);
        clients.push(client);
        assert.match((await client.command(`a LOGIN user${i} x`)).at(-1)!, /^a OK /);
      }
      // Four unfinished APPENDs get their "+"; the fifth does not fit beside them.
      for (const client of clients.slice(0, 4)) {
        await client.write(`b APPEND INBOX {${size}}\r\n`);
        assert.match(await client.readLine() ?? "", /^\+ /);
      }
      await clients[4].write(`b APPEND INBOX {${size}}\r\n`);
      assert.match(await clients[4].readLine() ?? "", /^b NO \[LIMIT\] /);
      // One finishes: its room is given back, and the sixth gets its "+".
      await clients[0].write(`Subject: x\r\n\r\n${x(size - 14)}\r\n`);
      assert.match((await clients[0].readUntilTagged("b")).at(-1)!, /^b OK \[APPENDUID /);
      await clients[5].write(`b APPEND INBOX {${size}}\r\n`);
      assert.match(await clients[5].readLine() ?? "", /^\+ /);
      // A session that goes away mid-literal gives its room back too.
      clients[1].close();
      await clients[4].write(`c APPEND INBOX {${size}}\r\n`);
      let line = await clients[4].readLine() ?? "";
      for (let tries = 0; tries < 100 && !line.startsWith("+"); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await clients[4].write(`c${tries} APPEND INBOX {${size}}\r\n`);
        line = await clients[4].readLine() ?? "";
      }
      assert.match(line, /^\+ /);
    } finally {
      for (const client of clients) {
        try {
          client.close();
        } catch {
          // Closed above.
        }
      }
    }
  }, 100_000);
});
