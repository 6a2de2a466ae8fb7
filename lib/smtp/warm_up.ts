/**
 * The SMTP part of the startup warm-up (lib/imap/warm_up.ts, which plays it and says why):
 * a short conversation with a sans-IO SMTP session built as the listener builds one
 * (server.ts), against the warm-up's private store, so that the first message a fresh
 * server receives runs compiled code: the greeting, EHLO, MAIL with the parameters real
 * clients send, RCPT, DATA with dot-stuffed lines, the delivery with its Received header,
 * RSET, NOOP, AUTH PLAIN and QUIT (no BDAT: the server does not offer CHUNKING). Each
 * exchange is one chunk of input, as a client sends it.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { quietLogger } from "../log.ts";
import { messageSlab } from "../delivery.ts";
import type { Store } from "../store/types.ts";
import { warmUpConfig, type WarmUpTurns } from "../warm_up_turns.ts";
import { dotStuff } from "./client.ts";
import { createSmtpSession } from "./session.ts";

/** Microtask turns a reply may wait for a commit: ~3 (the commit, its waiters, the reply). */
const COMMIT_TURNS = 10;

/** One exchange: what a client sends in one chunk, and the reply codes it expects in order. */
export interface SmtpExchange {
  readonly send: Uint8Array;
  /** None: the server waits for more of the message. */
  readonly replies: readonly number[];
}

const encoder = new TextEncoder();

/** The warm-up client's EHLO; its reply says what the rest of the conversation uses. */
export const WARM_UP_EHLO: SmtpExchange = exchange("EHLO warm-up.example\r\n", 250);

/**
 * Plays the conversation on a new session over `store` (which gets its two messages); stops
 * at the first exchange whose replies are not the expected ones.
 */
export async function warmUpSmtp(
  config: Config,
  store: Store,
  turns: WarmUpTurns,
): Promise<void> {
  let output = "";
  let closed = false;
  let queueCounter = 0;
  const session = createSmtpSession({
    config: warmUpConfig(config),
    store,
    logger: quietLogger(),
    remote: "127.0.0.1:0",
    label: "warm-up",
    nextQueueId: () => `WU${(++queueCounter).toString(36).toUpperCase().padStart(6, "0")}`,
    now: Date.now,
    messageSlab: messageSlab(16 * 1024, store),
  }, {
    write: (text) => output += text,
    close: () => closed = true,
  });
  /**
   * Counts the replies written since the last call against `expected`. The 250 after a
   * message's data waits for a SQLite store's commit, a few microtasks away
   * (`Store.shareCommit`), so missing replies are waited for that long.
   */
  const check = async (expected: readonly number[]) => {
    for (let turn = 0; turn < COMMIT_TURNS && replyCodes(output).length < expected.length; turn++) {
      await null;
    }
    const ok = sameCodes(replyCodes(output), expected);
    output = "";
    turns.counted(ok);
    return ok;
  };
  try {
    session.start();
    if (!(await check([220])) || !turns.goOn()) return;
    session.receive(WARM_UP_EHLO.send);
    const extensions = ehloExtensions(output);
    if (!(await check(WARM_UP_EHLO.replies))) return;
    for (const step of smtpConversation(extensions)) {
      if (closed || !turns.goOn()) return;
      session.receive(step.send);
      if (!(await check(step.replies))) return;
    }
  } finally {
    // Stopped before QUIT: closed as at shutdown (the session holds no timers).
    if (!closed) session.shutdown();
  }
}

/**
 * The conversation after EHLO, for the extensions its reply offered (see
 * {@linkcode ehloExtensions}): a transaction as a client without PIPELINING sends it, one
 * command at a time (Python's smtplib, with SIZE and BODY=8BITMIME), to two recipients; RSET
 * and NOOP; AUTH PLAIN; a transaction pipelined as nodemailer sends it (SMTPUTF8 from a
 * non-ASCII address), its message in two chunks; QUIT.
 */
export function smtpConversation(extensions: ReadonlyMap<string, string[]>): SmtpExchange[] {
  const has = (keyword: string) => extensions.has(keyword);
  const eightBit = has("8BITMIME") ? " BODY=8BITMIME" : "";
  const size = (message: Uint8Array) => has("SIZE") ? ` SIZE=${message.length}` : "";
  const [first, second] = warmUpMessages();
  const steps = [
    exchange(`MAIL FROM:<sender@example.com>${size(first)}${eightBit}\r\n`, 250),
    exchange("RCPT TO:<one@example.com>\r\n", 250),
    exchange("RCPT TO:<two+list@example.org>\r\n", 250),
    exchange("DATA\r\n", 354),
    { send: dotStuff(first), replies: [250] },
    exchange("RSET\r\n", 250),
    exchange("NOOP\r\n", 250),
  ];
  if (extensions.get("AUTH")?.includes("PLAIN")) {
    steps.push(exchange(`AUTH PLAIN ${btoa("\0warm\0up")}\r\n`, 235));
  }
  // RFC 6531: a non-ASCII address only with SMTPUTF8.
  const from = has("SMTPUTF8") ? "jos\u00e9@example.com> SMTPUTF8" : "jose@example.com>";
  const commands = [
    `MAIL FROM:<${from}${size(second)}${eightBit}\r\n`,
    "RCPT TO:<one@example.com>\r\n",
    "DATA\r\n",
  ];
  const codes = [250, 250, 354];
  if (has("PIPELINING")) steps.push(exchange(commands.join(""), ...codes));
  else commands.forEach((command, i) => steps.push(exchange(command, codes[i])));
  const data = dotStuff(second);
  const half = data.indexOf(0x0a, data.length >> 1) + 1;
  steps.push({ send: data.subarray(0, half), replies: [] });
  steps.push({ send: data.subarray(half), replies: [250] });
  steps.push(exchange("QUIT\r\n", 221));
  return steps;
}

/**
 * The EHLO reply's extensions: keyword (upper case) to parameters, e.g. `AUTH` to
 * `["PLAIN", "LOGIN"]` (RFC 5321 4.1.1.1); the first line (the greeting) is not one.
 */
export function ehloExtensions(reply: string): Map<string, string[]> {
  const extensions = new Map<string, string[]>();
  const lines = reply.split("\r\n").filter((line) => /^250[- ]/.test(line)).slice(1);
  for (const line of lines) {
    const [keyword, ...params] = line.slice(4).trim().split(/\s+/);
    extensions.set(keyword.toUpperCase(), params.map((param) => param.toUpperCase()));
  }
  return extensions;
}

/**
 * The two messages the conversation sends, shaped like real mail (the second with 8-bit
 * UTF-8 text and encoded words), with lines that start with a dot, which DATA stuffs.
 */
export function warmUpMessages(): [Uint8Array, Uint8Array] {
  return [
    message([
      "From: Sender <sender@example.com>",
      'To: one@example.com, "Two" <two+list@example.org>',
      "Subject: Warm-up message",
      "Date: Wed, 25 Nov 2026 10:00:00 +0000",
      "Message-ID: <warm-smtp-1@example.com>",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=us-ascii",
    ], [
      "Hello,",
      "",
      "a few lines of text.",
      ".",
      "..a line that starts with dots",
      "-- ",
      "Sender",
    ]),
    message([
      "From: =?utf-8?q?Jos=C3=A9?= <jos\u00e9@example.com>",
      "To: one@example.com",
      "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=",
      "Date: Wed, 25 Nov 2026 10:01:00 +0000",
      "Message-ID: <warm-smtp-2@example.com>",
      "MIME-Version: 1.0",
      'Content-Type: text/plain; charset="utf-8"',
      "Content-Transfer-Encoding: 8bit",
    ], ["Gr\u00fc\u00dfe aus K\u00f6ln,", ".", "Jos\u00e9"]),
  ];
}

function message(header: string[], body: string[]): Uint8Array {
  return encoder.encode(`${header.join("\r\n")}\r\n\r\n${body.join("\r\n")}\r\n`);
}

function exchange(line: string, ...replies: number[]): SmtpExchange {
  return { send: encoder.encode(line), replies };
}

/** The codes of the complete replies in `output` (their last lines, `NNN `), in order. */
export function replyCodes(output: string): number[] {
  return output.split("\r\n").filter((line) => /^\d{3}( |$)/.test(line)).map((line) =>
    Number(line.slice(0, 3))
  );
}

/** Whether `codes` are `expected`, in order. */
export function sameCodes(codes: readonly number[], expected: readonly number[]): boolean {
  return codes.length === expected.length && codes.every((code, i) => code === expected[i]);
}
