/**
 * The JIT warm-up (lib/imap/warm_up.ts): its conversation is valid IMAP that a server
 * completes with OK throughout, it runs to the end on its own store, and a server started
 * with it stops cleanly while it runs.
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import {
  conversation,
  PRIME_RECORD_STEPS,
  PRIME_REPEATED,
  syntheticMessage,
  warmUpCode,
} from "../../lib/imap/warm_up.ts";
import { pop3Conversation } from "../../lib/pop3/warm_up.ts";
import { startElektromail } from "../../lib/server.ts";
import { warmUpSmtp } from "../../lib/smtp/warm_up.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";
import { RawImap } from "../raw_imap.ts";

const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/**
 * The exchanges of the SMTP and POP3 parts (lib/smtp/warm_up.ts, lib/pop3/warm_up.ts), which
 * count as commands.
 */
async function smtpPop3Exchanges(): Promise<number> {
  let count = 0;
  const store = openMemoryStore();
  await warmUpSmtp(testConfig(), store, {
    next: () => Promise.resolve(true),
    counted: () => count++,
  });
  store.close();
  // The same SMTP conversation over a loopback socket counts as one (lib/smtp/warm_up_socket.ts);
  // POP3's greeting, then its exchanges.
  return count + 1 + 1 + pop3Conversation().length;
}

Deno.test("warm-up: every command of its conversation ends OK on a server", async () => {
  const server = await startElektromail(testConfig());
  const client = await RawImap.connect(server.ports.imap);
  try {
    await client.command("LOGIN warm up");
    for (const command of conversation(1)) {
      if (command === "APPEND") {
        for (let n = 0; n < 8; n++) {
          const text = latin1.decode(syntheticMessage(n));
          const size = encoder.encode(text).length;
          const reply = await client.command(`APPEND INBOX {${size}+}\r\n${text}`);
          assert.match(reply.at(-1)!, /^t\d+ OK/, `APPEND of synthetic message ${n}`);
        }
        continue;
      }
      const reply = await client.command(command);
      assert.match(reply.at(-1)!, /^t\d+ OK/, command);
    }
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("warm-up: runs its conversation to the end, every command OK", async () => {
  const result = await warmUpCode(testConfig(), { rounds: 2, messages: 12 }).done;
  // The SMTP and POP3 parts, LOGIN, the prime round (with its repeated FETCH) and the rounds (an APPEND
  // burst counts once), LOGOUT.
  assert.equal(
    result.commands,
    await smtpPop3Exchanges() + 2 + 3 * conversation(0).length + PRIME_RECORD_STEPS +
      PRIME_REPEATED.size,
  );
  assert.equal(result.failed, 0);
});

Deno.test("warm-up: logs in to its own store whatever users the server has", async () => {
  const config = testConfig({ users: [{ user: "ann", password: "pw", address: null }] });
  const result = await warmUpCode(config, { rounds: 1, messages: 12, prime: 0 }).done;
  assert.equal(result.failed, 0);
  assert.equal(result.commands, 2 + conversation(0).length);
});

Deno.test("warm-up: stop ends it after the command in flight", async () => {
  const warmUp = warmUpCode(testConfig(), { rounds: 50, messages: 50 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  warmUp.stop();
  const result = await warmUp.done;
  assert.ok(result.commands < 2 + 50 * conversation(0).length, "it ran to the end");
});

Deno.test("warm-up: a server started with it stops while it runs", async () => {
  const server = await startElektromail(testConfig(), { warmUp: true });
  await server.stop(); // the sanitizers check that nothing is left running
});

Deno.test("warm-up: without a prime round, runs nothing while real clients are connected", async () => {
  const warmUp = warmUpCode(testConfig(), {
    rounds: 1,
    messages: 12,
    prime: 0,
    busy: () => true,
  });
  // Well past its start delay.
  await new Promise((resolve) => setTimeout(resolve, 400));
  warmUp.stop();
  assert.deepEqual(await warmUp.done, { commands: 0, failed: 0 });
});

Deno.test("warm-up: the prime round runs while clients are connected, the rest waits", async () => {
  const warmUp = warmUpCode(testConfig(), { rounds: 1, messages: 12, busy: () => true });
  // Well past its start delay and the prime round (a few hundred ms of a cold process).
  const deadline = Date.now() + 10_000;
  let commands = 0;
  const counting = warmUp.done.then((result) => commands = result.commands);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.ok(Date.now() < deadline);
  warmUp.stop();
  await counting;
  // The SMTP and POP3 parts, LOGIN and the prime round; nothing of the patient round.
  assert.equal(
    commands,
    await smtpPop3Exchanges() + 1 + conversation(0).length + PRIME_RECORD_STEPS +
      PRIME_REPEATED.size,
  );
});

Deno.test("warm-up: goes on once the clients have gone, and runs to the end", async () => {
  let busy = true;
  const warmUp = warmUpCode(testConfig(), { rounds: 1, messages: 12, busy: () => busy });
  await new Promise((resolve) => setTimeout(resolve, 300));
  busy = false;
  const result = await warmUp.done;
  assert.equal(
    result.commands,
    await smtpPop3Exchanges() + 2 + 2 * conversation(0).length + PRIME_RECORD_STEPS +
      PRIME_REPEATED.size,
  );
  assert.equal(result.failed, 0);
});

Deno.test("warm-up: without a POP3 listener, no POP3 part", async () => {
  const result = await warmUpCode({ ...testConfig(), pop3Port: null }).done;
  assert.deepEqual(result, {
    commands: await smtpPop3Exchanges() - 1 - pop3Conversation().length + 2 +
      conversation(0).length + PRIME_RECORD_STEPS + PRIME_REPEATED.size,
    failed: 0,
  });
});

Deno.test("warm-up: without its SMTP and POP3 parts, only the IMAP conversation", async () => {
  const result = await warmUpCode(testConfig(), { smtpPop3: false }).done;
  assert.deepEqual(result, {
    commands: 2 + conversation(0).length + PRIME_RECORD_STEPS + PRIME_REPEATED.size,
    failed: 0,
  });
});

/** An SMTP input count that grows every millisecond until `stop` (a client sending mail). */
function sendingMail(): { count: () => number; stop: () => void } {
  let chunks = 0;
  const timer = setInterval(() => chunks++, 1);
  return { count: () => chunks, stop: () => clearInterval(timer) };
}

Deno.test("warm-up: waits while SMTP clients send mail and nobody reads, then runs to the end", async () => {
  const mail = sendingMail();
  const warmUp = warmUpCode(testConfig(), {
    mailInput: mail.count,
    readers: () => false,
    mailWaitMaxMs: 60_000,
  });
  let commands = -1;
  const counting = warmUp.done.then((result) => commands = result.commands);
  try {
    // Past its start delay, within its longest wait for mail.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(commands, -1, "it ran to the end while mail arrived");
  } finally {
    mail.stop();
  }
  const result = await warmUp.done;
  await counting;
  assert.deepEqual(result, {
    commands: await smtpPop3Exchanges() + 2 + conversation(0).length + PRIME_RECORD_STEPS +
      PRIME_REPEATED.size,
    failed: 0,
  });
});

Deno.test("warm-up: does not wait for mail while an IMAP or POP3 client is connected", async () => {
  const mail = sendingMail();
  // It would wait for mail for a minute: it ends at once because a reader is there.
  const warmUp = warmUpCode(testConfig(), {
    mailInput: mail.count,
    readers: () => true,
    mailWaitMaxMs: 60_000,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await Promise.race([
      warmUp.done,
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 20_000)),
    ]);
    assert.ok(result, "it waited for the mail to stop");
    assert.equal(result.failed, 0);
    assert.ok(result.commands > conversation(0).length, `${result.commands} commands`);
  } finally {
    clearTimeout(timer);
    mail.stop();
    warmUp.stop();
    await warmUp.done;
  }
});

Deno.test("warm-up: a client that keeps sending mail holds it up a while, not for ever", async () => {
  const mail = sendingMail();
  try {
    const result = await warmUpCode(testConfig(), { mailInput: mail.count, mailWaitMaxMs: 50 })
      .done;
    assert.equal(result.failed, 0);
    assert.ok(result.commands > conversation(0).length, `${result.commands} commands`);
  } finally {
    mail.stop();
  }
});
