/**
 * Real SMTP clients send; the HTTP API reads back the exact bytes (after the trace headers
 * the server prepends: Return-Path, Delivered-To, Received) and the envelope.
 */
import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import { splitReceived } from "../harness/smtp_received.ts";
import { messagePath, text, withApi } from "./helpers.ts";

/** A message with the shapes that break naive relays: a leading dot, 8-bit text, a long line. */
function sample(marker: string): string {
  return [
    "From: Sender <sender@example.com>",
    `To: Rcpt <rcpt+${marker}@example.com>`,
    `Subject: ${marker}`,
    "Message-ID: <" + marker + "@example.com>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    "Grüße from a real client.",
    ".a line that starts with a dot",
    "..two dots",
    ".",
    "x".repeat(900),
    "",
    "end",
    "",
  ].join("\r\n");
}

async function readBack(api: Parameters<Parameters<typeof withApi>[0]>[0], marker: string) {
  const list = await api.request(`/messages?user=rcpt&to=${marker}`);
  assert.equal(list.status, 200);
  assert.equal(list.json.length, 1, JSON.stringify(list.json));
  const raw = await api.request(messagePath(list.json[0].id, "/raw"));
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get("content-type"), "message/rfc822");
  // The trace headers a delivery agent writes, then the client's bytes (see the callers).
  assert.ok(
    text(raw.bytes).startsWith(
      `Return-Path: <sender@example.com>\r\nDelivered-To: rcpt+${marker}@example.com\r\n` +
        "Received: ",
    ),
    text(raw.bytes).slice(0, 200),
  );
  assert.deepEqual(list.json[0].envelope, {
    from: "sender@example.com",
    to: `rcpt+${marker}@example.com`,
  });
  return { id: list.json[0].id as string, raw: splitReceived(raw.bytes).body };
}

Deno.test("http: a message sent with nodemailer reads back byte-identical", async () => {
  await withApi(async (api) => {
    const message = sample("nodemailer");
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: api.server.ports.smtp,
      secure: false,
      ignoreTLS: true,
    });
    try {
      const info = await transport.sendMail({
        envelope: { from: "sender@example.com", to: ["rcpt+nodemailer@example.com"] },
        raw: message,
      });
      assert.deepEqual(info.accepted, ["rcpt+nodemailer@example.com"]);
    } finally {
      transport.close();
    }
    const { id, raw } = await readBack(api, "nodemailer");
    assert.deepEqual(raw, new TextEncoder().encode(message));
    const detail = await api.request(messagePath(id));
    assert.equal(detail.json.subject, "nodemailer");
    assert.ok(detail.json.text.startsWith("Grüße from a real client.\r\n.a line"));
  });
});

const PYTHON_SENDER = `
import base64, smtplib, sys
port, message = int(sys.argv[1]), base64.b64decode(sys.argv[2])
with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
    client.ehlo("python.test")
    refused = client.sendmail("sender@example.com", ["rcpt+python@example.com"], message)
    assert refused == {}, refused
`;

Deno.test("http: a message sent with Python smtplib reads back byte-identical", async () => {
  await withApi(async (api) => {
    const message = new TextEncoder().encode(sample("python"));
    let binary = "";
    for (const byte of message) binary += String.fromCharCode(byte);
    const child = new Deno.Command("python3", {
      args: ["-c", PYTHON_SENDER, String(api.server.ports.smtp), btoa(binary)],
      stdout: "piped",
      stderr: "piped",
    });
    const result = await child.output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    const { raw } = await readBack(api, "python");
    assert.deepEqual(raw, message);
  });
});
