/**
 * The SMTP part of the JIT warm-up (lib/smtp/warm_up.ts): its conversation is valid SMTP
 * that a server answers as expected at every step over a real socket, delivering its two
 * messages, and it plays to the end on its own store, whatever the server's users and
 * AUTH setting.
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import { startElektromail } from "../../lib/server.ts";
import {
  ehloExtensions,
  replyCodes,
  smtpConversation,
  WARM_UP_EHLO,
  warmUpMessages,
  warmUpSmtp,
} from "../../lib/smtp/warm_up.ts";
import { warmUpSmtpSocket } from "../../lib/smtp/warm_up_socket.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";
import type { Store } from "../../lib/store/types.ts";
import { SmtpClient } from "../process.ts";

/** Each recipient's messages in `store`, as text. */
function inboxes(store: Store): Record<string, string[]> {
  const decoder = new TextDecoder();
  return Object.fromEntries(
    store.listUsers().map((user) => [
      user,
      store.listMessages(user, "INBOX").map((meta) =>
        decoder.decode(store.getRaw(user, "INBOX", meta.uid))
      ),
    ]),
  );
}

/** What the conversation must have delivered: one copy per recipient, unstuffed. */
function assertDelivered(store: Store): void {
  const mail = inboxes(store);
  assert.equal(mail.one?.length, 2, "both messages to one@");
  assert.equal(mail.two?.length, 1, "the first message to two+list@");
  assert.match(mail.two[0], /\r\n\.\r\n\.\.a line that starts with dots\r\n/);
  assert.match(mail.one[1], /with UTF8SMTPA id/);
  assert.match(mail.one[1], /^Return-Path: <jos\u00e9@example\.com>\r\n/);
  assert.ok(mail.one[1].endsWith("\r\n.\r\nJos\u00e9\r\n"));
}

Deno.test("SMTP warm-up: every exchange gets the expected replies from a server", async () => {
  const server = await startElektromail(testConfig());
  const { client, greeting } = await SmtpClient.connect(server.ports.smtp);
  try {
    assert.deepEqual(replyCodes(greeting + "\r\n"), [220]);
    await client.write(WARM_UP_EHLO.send);
    const ehlo = await client.readReply();
    assert.deepEqual(replyCodes(ehlo + "\r\n"), WARM_UP_EHLO.replies);
    const extensions = ehloExtensions(ehlo + "\r\n");
    // What the server offers, and so what the conversation uses.
    for (const keyword of ["SIZE", "PIPELINING", "8BITMIME", "SMTPUTF8", "AUTH"]) {
      assert.ok(extensions.has(keyword), keyword);
    }
    for (const step of smtpConversation(extensions)) {
      await client.write(step.send);
      const replies: string[] = [];
      for (const _ of step.replies) replies.push(await client.readReply());
      const sent = new TextDecoder().decode(step.send).slice(0, 40);
      assert.deepEqual(replyCodes(replies.join("\r\n") + "\r\n"), step.replies, sent);
    }
    assertDelivered(server.store);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("SMTP warm-up: plays to the end on its own store, every reply as expected", async () => {
  for (
    const config of [
      testConfig(),
      // Configured users, AUTH required: the warm-up's session does not depend on them.
      testConfig({
        users: [{ user: "ann", password: "pw", address: "ann@example.com" }],
        smtpAuthRequired: true,
      }),
    ]
  ) {
    const store = openMemoryStore();
    const counted: boolean[] = [];
    let asks = 0;
    await warmUpSmtp(config, store, {
      goOn: () => ++asks > 0,
      counted: (ok) => counted.push(ok),
    });
    const expected = 2 + smtpConversation(ehloExtensions(
      "250-localhost\r\n250-SIZE 1\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n" +
        "250 AUTH PLAIN LOGIN\r\n",
    )).length;
    assert.deepEqual(counted, Array(expected).fill(true));
    assert.equal(asks, expected - 1, "asked whether to go on between exchanges");
    assertDelivered(store);
    store.close();
  }
});

Deno.test("SMTP warm-up: stops when its caller says so", async () => {
  const store = openMemoryStore();
  const counted: boolean[] = [];
  let asks = 0;
  await warmUpSmtp(testConfig(), store, {
    goOn: () => ++asks < 3,
    counted: (ok) => counted.push(ok),
  });
  // The greeting, EHLO and MAIL; the RCPT after the third ask is not sent.
  assert.deepEqual(counted, [true, true, true]);
  assert.deepEqual(store.listUsers(), []);
  store.close();
});

Deno.test("SMTP warm-up: the conversation without PIPELINING, SMTPUTF8 and AUTH", () => {
  const steps = smtpConversation(new Map([["SIZE", ["1000"]]]));
  const text = steps.map((step) => new TextDecoder().decode(step.send));
  assert.ok(!text.some((line) => /SMTPUTF8|BODY=|AUTH/.test(line)));
  // One command a chunk: MAIL, RCPT and DATA each wait for their reply.
  const commands = text.filter((chunk) => /^[A-Z]{4}[ \r]/.test(chunk));
  assert.deepEqual(commands.filter((line) => line.startsWith("DATA")).length, 2);
  for (const line of commands) assert.equal(line.indexOf("\r\n"), line.length - 2, line);
  const [first] = warmUpMessages();
  assert.ok(text[0].includes(` SIZE=${first.length}`));
});

Deno.test("SMTP warm-up over a socket: plays to the end through a private listener, then closes it", async () => {
  for (
    const config of [
      testConfig(),
      // Whatever the server's users, AUTH and TLS settings: the private listener is plain SMTP.
      {
        ...testConfig(),
        users: [{ user: "amy", address: "amy@example.com", password: "pw" }],
        smtpAuthRequired: true,
        tls: { cert: null, key: null, required: true, smtpsPort: null, imapsPort: null },
      },
    ]
  ) {
    const store = openMemoryStore();
    const counted: boolean[] = [];
    const port = await warmUpSmtpSocket(config, store, {
      goOn: () => true,
      counted: (ok) => counted.push(ok),
    });
    assert.deepEqual(counted, [true]);
    assertDelivered(store);
    store.close();
    // The private listener is closed once it is over.
    assert.ok(port !== null && port > 0);
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port }),
      Deno.errors.ConnectionRefused,
    );
  }
});

Deno.test("SMTP warm-up over a socket: stopped at its first turn, it counts a failure and closes", async () => {
  const store = openMemoryStore();
  const counted: boolean[] = [];
  await warmUpSmtpSocket(testConfig(), store, {
    goOn: () => false,
    counted: (ok) => counted.push(ok),
  });
  assert.deepEqual(counted, [false]);
  assert.deepEqual(inboxes(store), {});
  store.close();
});

Deno.test("SMTP warm-up over a socket: skipped, without listening, where not every loopback port is allowed", async () => {
  // A narrower --allow-net (`query` then says "prompt"): listening would ask the user.
  const permissions = Deno.permissions as { querySync: typeof Deno.permissions.querySync };
  const query = permissions.querySync;
  const deno = Deno as { listen: typeof Deno.listen };
  const listen = deno.listen;
  let listened = false;
  permissions.querySync = () => ({ state: "prompt", partial: false, onchange: null }) as never;
  deno.listen = ((options: Deno.TcpListenOptions) => {
    listened = true;
    return listen(options);
  }) as typeof Deno.listen;
  const store = openMemoryStore();
  const counted: boolean[] = [];
  try {
    const port = await warmUpSmtpSocket(testConfig(), store, {
      goOn: () => true,
      counted: (ok) => counted.push(ok),
    });
    assert.equal(port, null);
  } finally {
    permissions.querySync = query;
    deno.listen = listen;
    store.close();
  }
  assert.equal(listened, false, "it listened");
  assert.deepEqual(counted, [false]);
});
