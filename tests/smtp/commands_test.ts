import assert from "node:assert/strict";
import { DEFAULT_TLS, testConfig } from "../../lib/config.ts";
import { quietLogger } from "../../lib/log.ts";
import {
  COMMANDS,
  EHLO_COMMAND_ORDER,
  ehloKeywords,
  parseCommandLine,
} from "../../lib/smtp/commands.ts";
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
    addresses: new Map(),
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

/** The pattern parseCommandLine replaced, as the session used it. */
function oldParse(line: string): { verb: string; args: string } | null {
  const match = /^([A-Za-z]+)(?:\s+(.*))?$/.exec(line.trimEnd());
  return match ? { verb: match[1].toUpperCase(), args: match[2] ?? "" } : null;
}

Deno.test("commands: parseCommandLine splits verb and arguments as the old pattern did", () => {
  const cases = [
    "",
    "   ",
    "EHLO",
    "ehlo client.example",
    "MAIL FROM:<a@b> SIZE=10  ",
    "MAIL\tFROM:<a@b>",
    "MAIL  \r FROM:<a@b>",
    "MAIL FROM:<a@b>\rX",
    "MAIL FROM:<a\u2028b>",
    "MAIL\u00a0\u3000x",
    "MAIL:x",
    "1MAIL",
    "MAIL1 x",
    "é x",
    "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
  ];
  for (const line of cases) assert.deepEqual(parseCommandLine(line), oldParse(line), line);
  // Seeded random lines over an alphabet of letters, separators and line breaks.
  const alphabet = [
    "A",
    "b",
    "Z",
    " ",
    "\t",
    "\r",
    "\n",
    "\u2028",
    "\u00a0",
    "\ufeff",
    ":",
    "1",
    "é",
  ];
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 20000; i++) {
    let line = "";
    for (let length = random(12); length > 0; length--) line += alphabet[random(alphabet.length)];
    assert.deepEqual(parseCommandLine(line), oldParse(line), JSON.stringify(line));
  }
});

Deno.test("commands: a session keeps the addresses MAIL and RCPT named (and their users), a bounded number", () => {
  const s = state("off");
  s.greeted = "EHLO";
  const run = (verb: string, args: string) => COMMANDS.get(verb)!.run(s, args);
  run("MAIL", "FROM:<a@example.com> SIZE=100");
  run("RCPT", "TO:<b+tag@example.com>");
  assert.deepEqual([...s.addresses.keys()].sort(), ["a@example.com", "b", "b+tag@example.com"]);
  assert.equal(s.transaction!.from, "a@example.com");
  for (let n = 0; n < 100; n++) {
    run("RSET", "");
    run("MAIL", `FROM:<sender${n}@example.com>`);
  }
  assert.ok(s.addresses.size <= 64, `${s.addresses.size} addresses kept`);
  assert.ok(s.addresses.has("sender99@example.com"));
});
