import assert from "node:assert/strict";
import { testConfig } from "../../lib/config.ts";
import type { Logger } from "../../lib/log.ts";
import { quietLogger } from "../../lib/log.ts";
import { createSmtpSession } from "../../lib/smtp/session.ts";
import { openMemoryStore } from "../../lib/store/mod.ts";
import type { Store } from "../../lib/store/types.ts";

/** A sans-IO session whose store fails `ensureUser`; returns a send-and-read function. */
function sessionWithFailingStore() {
  const store = openMemoryStore();
  const failing: Store = Object.create(store);
  failing.ensureUser = () => {
    throw new Error("planted store failure");
  };
  const errors: string[] = [];
  const logger: Logger = { ...quietLogger(), error: (message: string) => errors.push(message) };
  let out = "";
  const session = createSmtpSession({
    config: testConfig(),
    store: failing,
    logger,
    remote: "192.0.2.1:25",
    label: "t",
    nextQueueId: () => "Q",
    now: () => 0,
  }, { write: (text) => out += text, close: () => out += "<close>" });
  session.start();
  const exchange = (line: string) => {
    out = "";
    session.receive(new TextEncoder().encode(line + "\r\n"));
    return out;
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
