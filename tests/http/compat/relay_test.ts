/**
 * The release relay client (`lib/http/compat/relay.ts`) against a scripted SMTP server: the
 * transaction it sends, AUTH CRAM-MD5 (RFC 2195, as MailHog's `CRAMMD5`), multi-line
 * replies, dot-stuffing, and a refusal surfacing as a RelayError with the server's reply.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { relay, RelayError } from "../../../lib/http/compat/relay.ts";
import { dotStuff } from "../../../lib/smtp/client.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * A one-connection SMTP server: answers each command by `answer`, records what it read.
 * Resolves with the whole transcript the client sent.
 */
function scriptedServer(answer: (line: string) => string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const transcript = (async () => {
    const conn = await listener.accept();
    listener.close();
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    let received = "";
    let buffer = "";
    let inData = false;
    const buf = new Uint8Array(4096);
    try {
      await conn.write(encoder.encode("220 fake ESMTP\r\n"));
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        const chunk = decoder.decode(buf.subarray(0, n));
        received += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\r\n")) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (inData) {
            if (line === ".") {
              inData = false;
              await conn.write(encoder.encode("250 2.0.0 queued\r\n"));
            }
            continue;
          }
          const reply = answer(line);
          await conn.write(encoder.encode(reply));
          if (reply.startsWith("354")) inData = true;
          if (line === "QUIT") return received;
        }
      }
    } finally {
      conn.close();
    }
    return received;
  })();
  return { port: (listener.addr as Deno.NetAddr).port, transcript };
}

Deno.test("relay: EHLO, AUTH CRAM-MD5, MAIL, RCPT, dot-stuffed DATA, QUIT", async () => {
  const challenge = "<1896.697170952@fake>";
  let authOk = false;
  let pendingCram = false;
  const server = scriptedServer((line) => {
    if (line.startsWith("EHLO ")) return "250-fake\r\n250-AUTH PLAIN CRAM-MD5\r\n250 8BITMIME\r\n";
    if (line === "AUTH CRAM-MD5") {
      pendingCram = true;
      return `334 ${btoa(challenge)}\r\n`;
    }
    if (pendingCram) {
      pendingCram = false;
      const digest = createHmac("md5", "tanstaaf").update(challenge).digest("hex");
      authOk = atob(line) === `tim ${digest}`;
      return authOk ? "235 2.7.0 ok\r\n" : "535 5.7.8 no\r\n";
    }
    if (line.startsWith("MAIL") || line.startsWith("RCPT")) return "250 2.1.0 ok\r\n";
    if (line === "DATA") return "354 go\r\n";
    if (line === "QUIT") return "221 bye\r\n";
    return "500 what\r\n";
  });
  await relay({
    host: "127.0.0.1",
    port: server.port,
    helo: "me.test",
    from: "nobody@me.test",
    to: ["a@x.test", "b@x.test"],
    data: new TextEncoder().encode("Subject: s\r\n\r\n.dot\r\nno end"),
    auth: { mechanism: "CRAM-MD5", username: "tim", password: "tanstaaf" },
  });
  assert.ok(authOk, "the CRAM-MD5 digest is the RFC 2195 one");
  const sent = await server.transcript;
  const lines = sent.split("\r\n");
  assert.equal(lines[0], "EHLO me.test");
  assert.equal(lines[1], "AUTH CRAM-MD5");
  assert.deepEqual(lines.slice(3), [
    "MAIL FROM:<nobody@me.test>",
    "RCPT TO:<a@x.test>",
    "RCPT TO:<b@x.test>",
    "DATA",
    "Subject: s",
    "",
    "..dot",
    "no end",
    ".",
    "QUIT",
    "",
  ]);
});

Deno.test("relay: a refused recipient is a RelayError with the server's reply", async () => {
  const server = scriptedServer((line) => {
    if (line.startsWith("EHLO")) return "250 fake\r\n";
    if (line.startsWith("MAIL")) return "250 ok\r\n";
    if (line.startsWith("RCPT")) return "550-5.1.1 no such user\r\n550 5.1.1 really\r\n";
    return "221 bye\r\n";
  });
  await assert.rejects(
    relay({
      host: "127.0.0.1",
      port: server.port,
      helo: "me.test",
      from: "a@me.test",
      to: ["nobody@x.test"],
      data: new Uint8Array(),
    }),
    (error: unknown) =>
      error instanceof RelayError &&
      error.message === "RCPT TO:<nobody@x.test>: 550-5.1.1 no such user 550 5.1.1 really",
  );
  await server.transcript.catch(() => {});
});

Deno.test("relay: dotStuff doubles leading dots and ends with CRLF.CRLF", () => {
  assert.equal(text(dotStuff(new TextEncoder().encode(".a\r\nb\r\n"))), "..a\r\nb\r\n.\r\n");
  assert.equal(text(dotStuff(new TextEncoder().encode("a"))), "a\r\n.\r\n");
  assert.equal(text(dotStuff(new Uint8Array())), ".\r\n");
});
