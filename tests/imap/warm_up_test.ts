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
  warmUpBeforeListeners,
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

Deno.test("warm-up: a server started with it has played it before it answers, and stops clean", async () => {
  const server = await startElektromail(testConfig(), { warmUp: true });
  await server.stop(); // the sanitizers check that nothing is left running
});

Deno.test("warm-up: played alone, starts at once and gives the event loop no turn", async () => {
  // Its IMAP conversation is sans-IO: alone, no timer can fire before it ends (the SMTP socket
  // part, left out here, waits for real I/O).
  let fired = false;
  const timer = setTimeout(() => fired = true, 0);
  const result = await warmUpCode(testConfig(), { alone: true, collect: false, smtpPop3: false })
    .done;
  assert.equal(fired, false, "a timer fired during the warm-up");
  clearTimeout(timer);
  assert.deepEqual(result, {
    commands: 2 + conversation(0).length + PRIME_RECORD_STEPS + PRIME_REPEATED.size,
    failed: 0,
  });
});

Deno.test("warm-up before the listeners: the server's way, every command OK", async () => {
  const { result } = await warmUpBeforeListeners(testConfig());
  assert.deepEqual(result, {
    commands: await smtpPop3Exchanges() + 2 + conversation(0).length + PRIME_RECORD_STEPS +
      PRIME_REPEATED.size,
    failed: 0,
  });
});

Deno.test("warm-up before the listeners: past its time limit, stopped and given up", async () => {
  const { result, warmUp } = await warmUpBeforeListeners(testConfig(), 0);
  assert.equal(result, null);
  // Stopped: it ends after the command in flight, short of its conversation.
  const ended = await warmUp.done;
  assert.ok(ended.commands < await smtpPop3Exchanges() + 2, `${ended.commands} commands`);
});

Deno.test("warm-up: not alone, takes turns of the event loop between its steps", async () => {
  // The check above can fail: the same conversation, not alone, lets a timer fire.
  let fired = false;
  const timer = setTimeout(() => fired = true, 0);
  const result = await warmUpCode(testConfig(), { collect: false, smtpPop3: false }).done;
  clearTimeout(timer);
  assert.equal(fired, true);
  assert.equal(result.failed, 0);
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

Deno.test("warm-up: a SQLite server's plays on an in-memory SQLite store, not its file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dbPath = `${dir}/mail.db`;
    const result = await warmUpCode({ ...testConfig(), dbPath }, { alone: true }).done;
    assert.deepEqual(result, {
      commands: await smtpPop3Exchanges() + 2 + conversation(0).length + PRIME_RECORD_STEPS +
        PRIME_REPEATED.size,
      failed: 0,
    });
    assert.deepEqual([...Deno.readDirSync(dir)], [], "the warm-up wrote next to the database");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("warm-up: without its SMTP and POP3 parts, only the IMAP conversation", async () => {
  const result = await warmUpCode(testConfig(), { smtpPop3: false }).done;
  assert.deepEqual(result, {
    commands: 2 + conversation(0).length + PRIME_RECORD_STEPS + PRIME_REPEATED.size,
    failed: 0,
  });
});
