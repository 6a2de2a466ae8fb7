/**
 * The part of the startup warm-up (lib/imap/warm_up.ts) that a sans-IO conversation cannot
 * reach: a listener's accept, the transport (lib/net/transport.ts: its reads, write queue,
 * input guard and timers) and Deno's own socket code, all of which a fresh server's first
 * connection otherwise runs for the first time, whatever its protocol. So the warm-up opens a
 * private SMTP listener on the loopback address at a port the OS picks, over its own store
 * and with a quiet logger, connects to it, plays the SMTP conversation of lib/smtp/warm_up.ts
 * through the socket as a client would, and closes both. Nothing of it reaches the server's
 * listeners, store or log.
 *
 * The listener lives for the conversation only (a few milliseconds); another local process
 * that connected to it meanwhile would meet an SMTP session on the warm-up's store, as the
 * conversation does. It is skipped where the process may not use every loopback port (a
 * narrower `--allow-net` would otherwise prompt for one), and any failure (no loopback, a
 * refused connection, an unexpected reply, no reply within
 * {@linkcode SOCKET_WARM_UP_TIMEOUT_MS}) ends it quietly: it is counted, and the server goes on
 * as without it.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { quietLogger } from "../log.ts";
import { startTimer } from "../net/timer.ts";
import type { Store } from "../store/types.ts";
import { warmUpConfig, type WarmUpTurns } from "../warm_up_turns.ts";
import { replyReader } from "./client.ts";
import { startSmtp } from "./server.ts";
import {
  ehloExtensions,
  replyCodes,
  sameCodes,
  smtpConversation,
  WARM_UP_EHLO,
} from "./warm_up.ts";

/** How long the whole conversation may take before it is abandoned (a guard, not a goal). */
export const SOCKET_WARM_UP_TIMEOUT_MS = 5_000;

/**
 * Plays the SMTP conversation over a loopback socket to a private listener on `store`; counts
 * one exchange, which fails when any reply was not the expected one. Returns the port the
 * listener had (closed by then), or null when none could be opened.
 */
export async function warmUpSmtpSocket(
  config: Config,
  store: Store,
  turns: WarmUpTurns,
): Promise<number | null> {
  const host = "127.0.0.1";
  const privateConfig: Config = {
    ...warmUpConfig(config),
    bindAddr: host,
    // Plain text, whatever the server's TLS settings: the transport a first client meets most.
    tls: null,
  };
  // Only where the process may use any loopback port: a server run with narrower `--allow-net`
  // must not meet a permission prompt for a port it never named.
  if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
    turns.counted(false);
    return null;
  }
  let ok = false;
  let conn: Deno.TcpConn | null = null;
  let listener: Awaited<ReturnType<typeof startSmtp>> | null = null;
  const timer = startTimer(SOCKET_WARM_UP_TIMEOUT_MS, () => conn?.close());
  try {
    listener = await startSmtp(privateConfig, store, quietLogger(), {
      name: "smtp-warm-up",
      port: 0,
      tls: null,
    });
    conn = await Deno.connect({ hostname: host, port: listener.port });
    // A message sent in two writes: with Nagle's algorithm the second waited for the ACK of
    // the first, which the server's kernel delays (~40 ms: the warm-up took 90 ms, not 50).
    conn.setNoDelay(true);
    ok = await converse(conn, turns);
  } catch {
    // Counted as a failed exchange below; the server works as without it.
  } finally {
    timer.cancel();
    try {
      conn?.close();
    } catch {
      // Closed by the timer or the server's QUIT.
    }
    await listener?.close();
    turns.counted(ok);
  }
  return listener?.port ?? null;
}

/** The conversation as a client plays it on `conn`; false at the first unexpected reply. */
async function converse(conn: Deno.TcpConn, turns: WarmUpTurns): Promise<boolean> {
  const read = replyReader(conn, (message) => new Error(message));
  /** The next `count` replies' text. */
  const replies = async (count: number) => {
    let text = "";
    for (let i = 0; i < count; i++) text += await read();
    return text;
  };
  if (!sameCodes(replyCodes(await replies(1)), [220])) return false;
  await conn.write(WARM_UP_EHLO.send);
  const ehlo = await replies(1);
  if (!sameCodes(replyCodes(ehlo), WARM_UP_EHLO.replies)) return false;
  for (const step of smtpConversation(ehloExtensions(ehlo))) {
    if (!turns.goOn()) return false;
    await conn.write(step.send);
    if (!sameCodes(replyCodes(await replies(step.replies.length)), step.replies)) return false;
  }
  return true;
}
