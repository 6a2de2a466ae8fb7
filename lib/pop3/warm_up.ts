/**
 * The POP3 part of the startup warm-up (lib/imap/warm_up.ts plays it): a short conversation
 * with a sans-IO POP3 session built as the listener builds one (server.ts), on a maildrop of
 * the warm-up's private store, so that a fresh server's first POP3 client runs compiled code:
 * the greeting, CAPA, USER and PASS, STAT, LIST, UIDL, TOP, RETR (a dot-stuffed line), DELE,
 * RSET, NOOP, DELE again and QUIT with its UPDATE. One command a step.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { quietLogger } from "../log.ts";
import type { Store } from "../store/types.ts";
import { warmUpConfig, type WarmUpTurns } from "../warm_up_turns.ts";
import { MaildropLocks } from "./maildrop.ts";
import { createPop3Session } from "./session.ts";

/** One command and whether its response is multi-line (RFC 1939 3). */
export interface Pop3Exchange {
  readonly command: string;
  readonly multiLine: boolean;
}

/** The maildrop the conversation reads, in the warm-up's store. */
const USER = "pop";

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * Plays the conversation on a new session over `store`, after putting a message in its
 * maildrop; stops at the first response that is not the expected `+OK`.
 */
export async function warmUpPop3(
  config: Config,
  store: Store,
  turns: WarmUpTurns,
): Promise<void> {
  store.ensureUser(USER);
  store.append(USER, "INBOX", warmUpPop3Message());
  let output = "";
  let ended = false;
  // The response being waited for: settled once it is complete, or the session ends.
  let waiting: { multiLine: boolean; resolve: () => void } | null = null;
  const settle = () => {
    if (waiting && (ended || isComplete(output, waiting.multiLine))) {
      waiting.resolve();
      waiting = null;
    }
  };
  const session = createPop3Session({
    config: warmUpConfig(config),
    store,
    logger: quietLogger(),
    label: "warm-up",
    locks: new MaildropLocks(),
    timestamp: null,
  }, {
    write: (data) => {
      output += typeof data === "string" ? data : latin1.decode(data);
      settle();
      return true;
    },
    drained: () => Promise.resolve(),
    close: () => {
      ended = true;
      settle();
    },
  });
  /**
   * Settles when the command's response is complete. It is written in the command's promise
   * chain: with the steps back to back (no turn of the loop between them), a check right after
   * the command came before the chain had run.
   */
  const response = (multiLine: boolean) =>
    new Promise<void>((resolve) => {
      waiting = { multiLine, resolve };
      settle();
    });
  /** Counts the response written since the last call. */
  const check = (multiLine: boolean) => {
    const ok = isResponse(output, multiLine);
    output = "";
    turns.counted(ok);
    return ok;
  };
  try {
    session.start();
    if (!check(false)) return;
    for (const step of pop3Conversation()) {
      session.receive(encoder.encode(`${step.command}\r\n`));
      await response(step.multiLine);
      const go = turns.goOn();
      if (!check(step.multiLine) || !go || ended) return;
    }
  } finally {
    if (!ended) session.shutdown();
    session.closed();
  }
}

/** What a mail client checking a maildrop sends, one command at a time. */
export function pop3Conversation(): Pop3Exchange[] {
  const one = (command: string) => ({ command, multiLine: false });
  const multi = (command: string) => ({ command, multiLine: true });
  return [
    multi("CAPA"),
    one(`USER ${USER}`),
    one("PASS warm-up"),
    one("STAT"),
    multi("LIST"),
    one("LIST 1"),
    multi("UIDL"),
    multi("TOP 1 0"),
    multi("RETR 1"),
    one("DELE 1"),
    one("RSET"),
    one("NOOP"),
    one("DELE 1"),
    one("QUIT"),
  ];
}

/** The maildrop's message: a short mail with a line that starts with a dot, which RETR stuffs. */
export function warmUpPop3Message(): Uint8Array {
  return encoder.encode(
    "From: Sender <sender@example.com>\r\nTo: pop@example.com\r\nSubject: POP3 warm-up\r\n" +
      "Date: Wed, 25 Nov 2026 10:02:00 +0000\r\nMessage-ID: <warm-pop3@example.com>\r\n\r\n" +
      "Hello,\r\n.\r\n-- \r\nSender\r\n",
  );
}

/** Whether `output` holds a whole response: a line, or with `+OK` a multi-line one's end. */
function isComplete(output: string, multiLine: boolean): boolean {
  if (!output.includes("\r\n")) return false;
  return !multiLine || !output.startsWith("+OK") || output.endsWith("\r\n.\r\n");
}

/** Whether `output` is one `+OK` response, single-line or ending a multi-line one. */
function isResponse(output: string, multiLine: boolean): boolean {
  if (!output.startsWith("+OK")) return false;
  if (multiLine) return output.endsWith("\r\n.\r\n");
  return output.indexOf("\r\n") === output.length - 2;
}
