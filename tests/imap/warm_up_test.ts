/**
 * The JIT warm-up (lib/imap/warm_up.ts): its conversation is valid IMAP that a server
 * completes with OK throughout, it runs to the end on its own store, and a server started
 * with it stops cleanly while it runs.
 */

import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import {
  CONDSTORE_COMPLETIONS,
  conversation,
  FLAG_CHANGE_ROUNDS,
  FLAG_ROUND_MESSAGES,
  flagChangeRounds,
  PRIME_RECORD_STEPS,
  PRIME_REPEATED,
  syntheticMessage,
  warmUpBeforeListeners,
  warmUpCode,
} from "../../lib/imap/warm_up.ts";
import { queuedTimers } from "../../lib/net/timer.ts";
import { pop3Conversation } from "../../lib/pop3/warm_up.ts";
import { startElektromail } from "../../lib/server.ts";
import { warmUpSmtp } from "../../lib/smtp/warm_up.ts";
import { openMemoryStore } from "../../lib/store/memory.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { freePort } from "../free_ports.ts";
import { RawImap } from "../raw_imap.ts";

const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** The flag changes after the conversation: every message's, in every round. */
const FLAG_CHANGES = FLAG_ROUND_MESSAGES * FLAG_CHANGE_ROUNDS;

/**
 * The exchanges of the SMTP and POP3 parts (lib/smtp/warm_up.ts, lib/pop3/warm_up.ts), which
 * count as commands.
 */
async function smtpPop3Exchanges(): Promise<number> {
  let count = 0;
  const store = openMemoryStore();
  await warmUpSmtp(testConfig(), store, {
    goOn: () => true,
    counted: () => count++,
  });
  store.close();
  // The same SMTP conversation over a loopback socket counts as one (lib/smtp/warm_up_socket.ts);
  // POP3's greeting, then its exchanges.
  return count + 1 + 1 + pop3Conversation().length;
}

/**
 * The completions of the IMAP part: LOGIN, the conversation (an APPEND burst counts once)
 * with its repeated steps and the CONDSTORE session's, LOGOUT.
 */
function imapCompletions(): number {
  return 2 + conversation(0).length + PRIME_REPEATED.size + PRIME_RECORD_STEPS +
    CONDSTORE_COMPLETIONS;
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
  const result = await warmUpCode(testConfig()).done;
  // The SMTP and POP3 parts, LOGIN, the conversation (an APPEND burst counts once) with its
  // repeated steps, LOGOUT.
  assert.deepEqual(result, {
    commands: (await smtpPop3Exchanges()) + imapCompletions(),
    failed: 0,
    flagChanges: FLAG_CHANGES,
  });
});

Deno.test("warm-up: logs in to its own store whatever users the server has", async () => {
  const config = testConfig({ users: [{ user: "ann", password: "pw", address: null }] });
  const result = await warmUpCode(config, { smtpPop3: false }).done;
  assert.deepEqual(result, {
    commands: imapCompletions(),
    failed: 0,
    flagChanges: FLAG_CHANGES,
  });
});

Deno.test("warm-up: a server started with it has played it before it answers, and stops clean", async () => {
  const server = await startElektromail(testConfig(), { warmUp: true });
  await server.stop(); // the sanitizers check that nothing is left running
});

Deno.test("warm-up: the ports are bound before it; a client that connects meanwhile is greeted after it", async () => {
  // A free port, known before the server starts (port 0 would be known only once it has).
  const port = freePort();
  let started = false;
  const starting = startElektromail({ ...testConfig(), smtpPort: port }, { warmUp: true });
  starting.then(() => started = true, () => started = true);
  // The warm-up's SMTP conversation over a loopback socket gives the event loop turns, in
  // which these attempts run: refused until the port is bound, then connected at once.
  let conn: Deno.TcpConn | null = null;
  while (conn === null && !started) {
    conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
  }
  const connectedWhileStarting = conn !== null && !started;
  const server = await starting;
  try {
    assert.ok(connectedWhileStarting, "no connection before the start (and its warm-up) ended");
    // Taken only after the warm-up: the greeting arrives now.
    const buffer = new Uint8Array(512);
    const n = await conn!.read(buffer);
    assert.match(new TextDecoder().decode(buffer.subarray(0, n!)), /^220 /);
  } finally {
    conn?.close();
    await server.stop();
  }
});

Deno.test("warm-up: its steps back to back, the event loop gets no turn", async () => {
  // Its IMAP conversation is sans-IO: no timer can fire before it ends (the SMTP socket part,
  // left out here, waits for real I/O). A turn between steps (as until round 14) fails this.
  let fired = false;
  const timer = setTimeout(() => fired = true, 0);
  const result = await warmUpCode(testConfig(), { smtpPop3: false }).done;
  assert.equal(fired, false, "a timer fired during the warm-up");
  clearTimeout(timer);
  assert.deepEqual(result, {
    commands: imapCompletions(),
    failed: 0,
    flagChanges: FLAG_CHANGES,
  });
});

Deno.test("warm-up before the listeners: the server's way, every command OK", async () => {
  const queued = queuedTimers();
  const { result } = await warmUpBeforeListeners(testConfig());
  assert.deepEqual(result, {
    commands: (await smtpPop3Exchanges()) + imapCompletions(),
    failed: 0,
    flagChanges: FLAG_CHANGES,
  });
  // Its time limit is cancelled once it is over: an embedder's script is not kept waiting.
  assert.equal(queuedTimers(), queued);
});

Deno.test("warm-up before the listeners: past its time limit, stopped and given up", async () => {
  const pending = warmUpBeforeListeners(testConfig(), 0);
  // The limit is overdue before the warm-up's first socket turn: in a process that has played
  // it once already (the test above), a warm-up on a busy host could otherwise end in the ~1
  // ms its 0 ms timer may take to fire, and the race go the other way.
  const overdue = performance.now() + 20;
  while (performance.now() < overdue) { /* busy: no turn of the event loop */ }
  const { result, warmUp } = await pending;
  assert.equal(result, null);
  // Stopped: it ends after the command in flight, short of its conversation.
  const ended = await warmUp.done;
  assert.ok(ended.commands < (await smtpPop3Exchanges()) + 2, `${ended.commands} commands`);
});

Deno.test("warm-up: without a POP3 listener, no POP3 part", async () => {
  const result = await warmUpCode({ ...testConfig(), pop3Port: null }).done;
  assert.deepEqual(result, {
    commands: (await smtpPop3Exchanges()) - 1 - pop3Conversation().length + imapCompletions(),
    failed: 0,
    flagChanges: FLAG_CHANGES,
  });
});

Deno.test("warm-up: a SQLite server's plays on an in-memory SQLite store, not its file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dbPath = `${dir}/mail.db`;
    const result = await warmUpCode({ ...testConfig(), dbPath }).done;
    assert.deepEqual(result, {
      commands: (await smtpPop3Exchanges()) + imapCompletions(),
      failed: 0,
      flagChanges: FLAG_CHANGES,
    });
    assert.deepEqual([...Deno.readDirSync(dir)], [], "the warm-up wrote next to the database");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("warm-up: without its SMTP and POP3 parts, only the IMAP conversation", async () => {
  const result = await warmUpCode(testConfig(), { smtpPop3: false }).done;
  assert.deepEqual(result, {
    commands: imapCompletions(),
    failed: 0,
    flagChanges: FLAG_CHANGES,
  });
});

Deno.test("warm-up: its flag rounds change every message in every round, as one commit", () => {
  for (const store of [openMemoryStore(), openSqliteStore(":memory:")]) {
    try {
      const changes: number[] = [];
      store.subscribe((event) => {
        if (event.type === "flags.changed") changes.push(event.changes.length);
      });
      assert.equal(flagChangeRounds(store), FLAG_CHANGES);
      const messages = store.listMessages("warm", "INBOX");
      assert.equal(messages.length, FLAG_ROUND_MESSAGES);
      // `\Seen` added and removed in turn: an even count of rounds leaves none.
      assert.deepEqual(new Set(messages.map((meta) => meta.flags.length)), new Set([0]));
      assert.deepEqual(changes, Array(FLAG_CHANGE_ROUNDS).fill(FLAG_ROUND_MESSAGES));
      assert.equal(FLAG_CHANGE_ROUNDS % 2, 0);
    } finally {
      store.close();
    }
  }
});
