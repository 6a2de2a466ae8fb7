import assert from "node:assert/strict";
import { Chaos } from "../../lib/chaos/mod.ts";
import { parseChaosText } from "../../lib/chaos/rules.ts";
import { AuthGuard } from "../../lib/auth_guard.ts";
import { DEFAULT_LIMITS, parseUsers, testConfig } from "../../lib/config.ts";
import { quietLogger } from "../../lib/log.ts";
import { createSmtpSession } from "../../lib/smtp/session.ts";
import { openMemoryStore, openSqliteStore } from "../../lib/store/mod.ts";
import type { Store } from "../../lib/store/types.ts";
import { failingCommitStore } from "../store/failing_commit.ts";

/** A sans-IO session over `store`; returns what it wrote so far and the errors it logged. */
function storeSession(store: Store) {
  let out = "";
  const errors: string[] = [];
  const session = createSmtpSession({
    config: testConfig(),
    store,
    logger: { ...quietLogger(), error: (message: string) => errors.push(message) },
    remote: "192.0.2.1:25",
    label: "t",
    nextQueueId: () => "Q",
    now: () => 0,
  }, { write: (text) => out += text, close: () => out += "<close>" });
  session.start();
  out = "";
  const send = (text: string) => session.receive(new TextEncoder().encode(text));
  const clear = () => out = "";
  const until = async (text: string) => {
    for (let waited = 0; !out.includes(text) && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return out;
  };
  return { send, output: () => out, clear, until, errors };
}

/** A sans-IO session whose store fails `ensureUser`; returns a send-and-read function. */
function sessionWithFailingStore() {
  const store = openMemoryStore();
  const failing: Store = Object.create(store);
  failing.ensureUser = () => {
    throw new Error("planted store failure");
  };
  const { send, output, clear, errors } = storeSession(failing);
  const exchange = (line: string) => {
    clear();
    send(line + "\r\n");
    return output();
  };
  return { exchange, errors };
}

const PLAIN = btoa("\0bob\0pw");

Deno.test("session: an unexpected failure in a command is 451 4.3.0, logged", () => {
  const { exchange, errors } = sessionWithFailingStore();
  exchange("EHLO c");
  assert.equal(
    exchange(`AUTH PLAIN ${PLAIN}`),
    "451 4.3.0 Internal server error; please try again\r\n",
  );
  assert.deepEqual(errors, ["t: AUTH failed"]);
  assert.equal(exchange("NOOP"), "250 2.0.0 OK\r\n");
});

Deno.test("session: an unexpected failure on a SASL response line is 451 4.3.0 too", () => {
  const { exchange, errors } = sessionWithFailingStore();
  exchange("EHLO c");
  assert.equal(exchange("AUTH PLAIN"), "334\r\n");
  assert.equal(exchange(PLAIN), "451 4.3.0 Internal server error; please try again\r\n");
  assert.deepEqual(errors, ["t: AUTH failed"]);
  // The exchange is over: the next line is a command again.
  assert.equal(exchange("NOOP"), "250 2.0.0 OK\r\n");
});

Deno.test("session: a failed AUTH's late reply holds the pipelined commands behind it", async () => {
  const config = testConfig({
    users: parseUsers("alice:secret"),
    limits: { ...DEFAULT_LIMITS, authFailuresBeforeDelay: 0, authFailureDelayMs: 20 },
  });
  const guard = new AuthGuard(config.limits, quietLogger());
  let out = "";
  const session = createSmtpSession({
    config,
    store: openMemoryStore(),
    logger: quietLogger(),
    remote: "192.0.2.1:25",
    label: "t",
    nextQueueId: () => "Q",
    now: () => 0,
    authAttempts: guard.connection("smtp", "192.0.2.1:25"),
  }, { write: (text) => out += text, close: () => out += "<close>" });
  session.start();
  out = "";
  const wrong = btoa("\0alice\0wrong");
  session.receive(new TextEncoder().encode(`EHLO c\r\nAUTH PLAIN ${wrong}\r\nNOOP\r\n`));
  assert.match(out, /^250-/);
  assert.doesNotMatch(out, /535|250 2\.0\.0 OK/, "the 535 and the NOOP wait");
  for (let waited = 0; !out.includes("250 2.0.0 OK") && waited < 5000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.match(out, /\r\n535 5\.7\.8 Authentication credentials invalid\r\n250 2\.0\.0 OK\r\n$/);
  guard.close();
});

/** A sans-IO session that records what it asks of its connection. */
function recordingSession(chaos?: Chaos) {
  const calls: string[] = [];
  let out = "";
  const session = createSmtpSession({
    config: testConfig(),
    store: openMemoryStore(),
    logger: quietLogger(),
    remote: "192.0.2.1:25",
    label: "t",
    nextQueueId: () => "Q",
    now: () => 0,
    chaos,
  }, {
    write: (text) => out += text,
    close: () => calls.push("close"),
    expectBody: (on) => calls.push(`body ${on}`),
    pause: () => calls.push("pause"),
    resume: () => calls.push("resume"),
  });
  session.start();
  out = "";
  const send = (text: string) => {
    out = "";
    session.receive(new TextEncoder().encode(text));
    return out;
  };
  const output = () => {
    const text = out;
    out = "";
    return text;
  };
  return { session, send, calls, output };
}

Deno.test("session: message data is announced to the connection, from 354 to its end", () => {
  const { send, calls } = recordingSession();
  send("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n");
  assert.deepEqual(calls, []);
  assert.match(send("DATA\r\n"), /^354 /);
  assert.deepEqual(calls, ["body true"]);
  assert.match(send("Subject: x\r\n\r\nhi\r\n.\r\n"), /^250 /);
  assert.deepEqual(calls, ["body true", "body false"]);
});

Deno.test("session: a receive timeout is 421 4.4.2 and a close", () => {
  const { session, send, calls, output } = recordingSession();
  assert.match(send("EHLO c\r\n"), /^250-/);
  output();
  session.slowInput();
  assert.equal(
    output(),
    "421 4.4.2 localhost Timeout receiving the command or data, closing connection\r\n",
  );
  assert.deepEqual(calls, ["close"]);
  assert.equal(send("NOOP\r\n"), "", "nothing after the close");
});

Deno.test("session: input is paused while a chaos delay holds it", async () => {
  const chaos = new Chaos(
    parseChaosText('{"protocol":"smtp","command":"EHLO","action":"delay","delayMs":50}'),
  );
  try {
    const { send, calls } = recordingSession(chaos);
    assert.equal(send("EHLO c\r\n"), "");
    assert.deepEqual(calls, ["pause"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(calls, ["pause", "resume"]);
  } finally {
    chaos.close();
  }
});

Deno.test("session: the Received header follows the client's name and protocol in one session", () => {
  // Its start is kept between transactions (see commands.ts receivedStart): a new HELO/EHLO
  // name, AUTH or SMTPUTF8 must each show in the next message's header.
  const store = openMemoryStore();
  const config = testConfig();
  let ids = 0;
  const session = createSmtpSession({
    config,
    store,
    logger: quietLogger(),
    remote: "192.0.2.1:25",
    label: "t",
    nextQueueId: () => `Q${++ids}`,
    now: () => 0,
  }, { write: () => {}, close: () => {} });
  session.start();
  const send = (text: string) => session.receive(new TextEncoder().encode(text));
  const deliver = (mail: string) =>
    send(`${mail}\r\nRCPT TO:<amy@example.test>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n`);
  const expected = (name: string, protocol: string, id: string) =>
    `Received: from ${name} ([192.0.2.1])\r\n\tby ${config.hostname} (Elektromail) with ` +
    `${protocol} id ${id}\r\n\tfor <amy@example.test>;\r\n\tThu, 1 Jan 1970 00:00:00 +0000\r\n`;
  send("HELO one\r\n");
  deliver("MAIL FROM:<a@b.example>");
  deliver("MAIL FROM:<a@b.example>");
  send("EHLO two\r\n");
  deliver("MAIL FROM:<a@b.example>");
  send(`AUTH PLAIN ${PLAIN}\r\n`);
  deliver("MAIL FROM:<a@b.example>");
  deliver("MAIL FROM:<a@b.example> SMTPUTF8");
  send("EHLO three\r\n");
  deliver("MAIL FROM:<a@b.example>");
  const want = [
    expected("one", "SMTP", "Q1"),
    expected("one", "SMTP", "Q2"),
    expected("two", "ESMTP", "Q3"),
    expected("two", "ESMTPA", "Q4"),
    expected("two", "UTF8SMTPA", "Q5"),
    expected("three", "ESMTPA", "Q6"),
  ];
  want.forEach((header, i) => {
    const raw = new TextDecoder().decode(store.getRaw("amy", "INBOX", i + 1)!);
    const received = raw.slice(raw.indexOf("Received:"), raw.indexOf("Subject:"));
    assert.equal(received, header, `message ${i + 1}`);
  });
  store.close();
});

const ONE_MESSAGE = "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<amy@example.test>\r\nDATA\r\n" +
  "Subject: x\r\n\r\nbody\r\n.\r\n";

Deno.test("session: with SQLite, the 250 after DATA and the commands behind it wait for the commit", async () => {
  const store = openSqliteStore(":memory:");
  const { send, output, until } = storeSession(store);
  let added = 0;
  store.subscribe((event) => {
    if (event.type === "message.added") added++;
  });
  send(ONE_MESSAGE + "NOOP\r\n");
  assert.match(output(), /354 /);
  assert.doesNotMatch(output(), /250 2\.0\.0 OK/, "the 250 and the NOOP wait for the commit");
  assert.equal(added, 0);
  assert.match(
    await until("250 2.0.0 OK\r\n"),
    /\r\n354 [^\r]*\r\n250 2\.0\.0 OK queued as Q\r\n250 2\.0\.0 OK\r\n$/,
  );
  assert.equal(added, 1);
  assert.equal(store.listMessages("amy", "INBOX").length, 1);
  store.close();
});

Deno.test("session: a commit that fails is 451 4.3.0, logged, and the session goes on", async () => {
  const { store } = failingCommitStore();
  const { send, until, errors } = storeSession(store);
  send(ONE_MESSAGE + "NOOP\r\n");
  assert.match(
    await until("250 2.0.0 OK\r\n"),
    /\r\n451 4\.3\.0 Delivery failed; please try again\r\n250 2\.0\.0 OK\r\n$/,
  );
  assert.deepEqual(errors, ["t: delivery failed"]);
});
