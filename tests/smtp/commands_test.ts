import assert from "node:assert/strict";
import { DEFAULT_TLS, testConfig } from "../../lib/config.ts";
import { quietLogger } from "../../lib/log.ts";
import { COMMANDS, EHLO_COMMAND_ORDER, ehloKeywords } from "../../lib/smtp/commands.ts";
import type { SmtpState } from "../../lib/smtp/context.ts";
import { openMemoryStore } from "../../lib/store/mod.ts";

function state(tls: SmtpState["tls"], tlsRequired = false): SmtpState {
  const config = testConfig();
  return {
    ctx: {
      config: tlsRequired ? { ...config, tls: { ...DEFAULT_TLS, required: true } } : config,
      store: openMemoryStore(),
      logger: quietLogger(),
      remote: "192.0.2.1:25",
      label: "t",
      nextQueueId: () => "Q",
      now: () => 0,
    },
    greeted: null,
    clientName: "",
    authUser: null,
    transaction: null,
    auth: null,
    tls,
  };
}

Deno.test("commands: every command with an EHLO keyword is in the EHLO order", () => {
  const withKeyword = [...COMMANDS].filter(([, spec]) => spec.ehlo).map(([verb]) => verb);
  assert.deepEqual([...withKeyword].sort(), [...EHLO_COMMAND_ORDER].sort());
});

Deno.test("commands: EHLO keywords follow the TLS state", () => {
  const base = ["SIZE 26214400", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"];
  assert.deepEqual(ehloKeywords(state("off")), [...base, "AUTH PLAIN LOGIN", "HELP"]);
  assert.deepEqual(ehloKeywords(state("offered")), [
    ...base,
    "STARTTLS",
    "AUTH PLAIN LOGIN",
    "HELP",
  ]);
  assert.deepEqual(ehloKeywords(state("offered", true)), [...base, "STARTTLS", "HELP"]);
  assert.deepEqual(ehloKeywords(state("active", true)), [...base, "AUTH PLAIN LOGIN", "HELP"]);
});

Deno.test("commands: HELP lists the table's commands with a help column", () => {
  assert.equal(
    COMMANDS.get("HELP")!.run(state("off"), ""),
    "214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP AUTH\r\n" +
      "214 2.0.0 Elektromail accepts mail for any address; see the README\r\n",
  );
});

Deno.test("commands: only EHLO, NOOP, QUIT and STARTTLS run before a required STARTTLS", () => {
  const before = [...COMMANDS].filter(([, spec]) => spec.beforeTls).map(([verb]) => verb);
  assert.deepEqual(before, ["EHLO", "NOOP", "QUIT", "STARTTLS"]);
});
