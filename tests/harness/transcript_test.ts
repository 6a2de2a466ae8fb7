import assert from "node:assert/strict";
import {
  parseTranscript,
  runTranscript,
  toBytes,
  TranscriptError,
  unescapeText,
} from "./transcript.ts";

/** A scripted fake server: for each line received, writes `replies(line)`; "" closes. */
async function withFake(
  greeting: string,
  replies: (line: string) => string | null,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const enc = new TextEncoder();
        await conn.write(enc.encode(greeting));
        const buf = new Uint8Array(4096);
        let text = "";
        try {
          while (true) {
            const n = await conn.read(buf);
            if (n === null) break;
            text += new TextDecoder().decode(buf.subarray(0, n));
            let end;
            while ((end = text.indexOf("\n")) >= 0) {
              const line = text.slice(0, end).replace(/\r$/, "");
              text = text.slice(end + 1);
              const reply = replies(line);
              if (reply === null) {
                conn.close();
                return;
              }
              await conn.write(enc.encode(reply));
            }
          }
        } catch {
          // closed by the test
        }
      })();
    }
  })();
  try {
    await fn((listener.addr as Deno.NetAddr).port);
  } finally {
    listener.close();
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await serving.catch(() => {});
  }
}

const echo = (
  line: string,
) => (line === "BYE" ? null : line === "LF" ? "bare\n" : `OK ${line}\r\n`);

async function play(text: string, port: number): Promise<string | null> {
  try {
    await runTranscript(parseTranscript(text, "t.txt"), { port, timeoutSeconds: 1 });
    return null;
  } catch (error) {
    assert.ok(error instanceof TranscriptError, String(error));
    return error.message;
  }
}

Deno.test("harness: parse errors name the line", () => {
  assert.throws(() => parseTranscript("S: x\n", "a.txt"), /a.txt:1: missing @rfc/);
  assert.throws(() => parseTranscript("@rfc 1\nX: y\n", "a.txt"), /a.txt:2: cannot parse line/);
  assert.throws(() => parseTranscript("@rfc 1\n{\nC: x\n}\n", "a.txt"), /a.txt:3: only S: lines/);
  assert.throws(() => parseTranscript("@rfc 1\n{\nS: x\n", "a.txt"), /a.txt:2: \{ without \}/);
  assert.throws(() => parseTranscript("@rfc 1\n!frob\n", "a.txt"), /a.txt:2: unknown action/);
});

Deno.test("harness: escapes and raw bytes", () => {
  assert.deepEqual(
    toBytes(unescapeText("a\\r\\n\\x00\\xff\\\\é")),
    Uint8Array.of(0x61, 13, 10, 0, 0xff, 0x5c, 0xc3, 0xa9),
  );
});

Deno.test("harness: passing script with captures, regex, any-order block, close", async () => {
  await withFake("HELLO 42 there\r\n", echo, async (port) => {
    assert.equal(
      await play(
        `@rfc 0
S: HELLO $n {*}
C: A $n
C: B
{
S: OK B
S~: ^OK A (?<m>\\d+)$
}
C2: X \\$n $m
S2: HELLO {*}
S2: OK X $$n 42
C: BYE
!closed
`.replace("$$n", "\\$n"),
        port,
      ),
      null,
    );
  });
});

Deno.test("harness: mismatches, timeouts, extra lines, bare LF and unexpected close fail", async () => {
  await withFake("HELLO\r\n", echo, async (port) => {
    const cases: Array<[string, RegExp]> = [
      [
        "@rfc 0\nS: HELLO\nC: A\nS: OK B\n",
        /t.txt:4: unexpected server line\n {2}expected: S1: OK B\n {2}actual: {3}S1: OK A/,
      ],
      ["@rfc 0\nS: HELLO\nS: MORE\n", /t.txt:3: timed out after 1s/],
      ["@rfc 0\nS: HELLO\nC: A\n", /unread lines:\n {4}S1: OK A/],
      ["@rfc 0\nS: HELLO\nC: LF\nS: bare\n", /t.txt:4: the server ended a line with a bare LF/],
      ["@rfc 0\nS: HELLO\nC: BYE\nS: OK BYE\n", /t.txt:4: the server closed the connection/],
      ["@rfc 0\nS: HELLO\nC: A\n!closed\n", /t.txt:4: expected the server to close connection 1/],
      [
        "@rfc 0\nS: HELLO\nC: A\nC: B\n{\nS: OK A\nS: OK C\n}\n",
        /t.txt:5: server line matches nothing left/,
      ],
      ["@rfc 0\nS: HELLO\nC: $nope\n", /t.txt:3: variable \$nope is not set/],
      ["@rfc 0\n!call nothing\n", /t.txt:2: no hook named nothing/],
    ];
    for (const [script, expected] of cases) {
      const message = await play(script, port);
      assert.ok(message, `should fail: ${script}`);
      assert.match(message, expected);
    }
  });
});

Deno.test("harness: !starttls fails on plaintext after the go-ahead and on a failed handshake", async () => {
  await withFake("HELLO\r\nEXTRA\r\n", echo, async (port) => {
    assert.match(
      (await play("@rfc 0\nS: HELLO\n!starttls\n", port))!,
      /t.txt:3: cannot start TLS on connection 1: the server sent plaintext after its go-ahead: "EXTRA\\r\\n"/,
    );
  });
  await withFake("HELLO\r\n", echo, async (port) => {
    assert.match(
      (await play("@rfc 0\nS: HELLO\n!starttls\n", port))!,
      /t.txt:3: cannot start TLS on connection 1: /,
    );
    assert.match((await play("@rfc 0\n!starttls 2\n", port))!, /t.txt:2: no connection 2/);
  });
});
