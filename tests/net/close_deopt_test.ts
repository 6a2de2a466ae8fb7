/**
 * The first connection to close must not throw away the compiled code the other connections
 * run. The fields a close (or flow control) writes are written twice when a connection or a
 * session is made (lib/net/transport.ts, `SocketConnection`'s constructor, says why): V8 takes a
 * field written only once for a constant, compiles on that, and deoptimizes every function that
 * relied on it when the field is written again (issue 13: all four SMTP clients of a burst
 * stalled 3-5 ms when the first of them quit). V8 reports it under `--trace-deopt` as "dependent
 * field type constness changed".
 *
 * The server runs without its startup warm-up (whose own connection would close first) and with
 * Maglev's invocation threshold low, so that the clients' path is compiled before the close: V8's
 * lines before the close must show Maglev code, those after it no such deoptimization.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type TracedProtocol, traceFirstClose } from "../harness/close_trace.ts";

/** `stdbuf` (coreutils) gets V8's lines as they are printed; without it there is no test. */
const hasStdbuf = (() => {
  try {
    return new Deno.Command("stdbuf", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

async function assertNoDeoptAtFirstClose(protocol: TracedProtocol): Promise<void> {
  const { before, after } = await traceFirstClose(protocol, {
    v8Flags: ["--trace-opt", "--trace-deopt", "--invocation-count-for-maglev=50"],
    clients: 3,
    steps: 300,
    skipWarmUp: true,
  });
  // The test means something only if the clients' path was Maglev code when the first quit.
  assert.match(before, /completed compiling .*#writeNext.*MAGLEV/);
  const deopts = after.split("\n").filter((line) => line.includes("constness changed"));
  assert.deepEqual(deopts, []);
}

Deno.test({
  name: "close: the first SMTP client's QUIT deoptimizes nothing the others run",
  ignore: !hasStdbuf,
  fn: () => assertNoDeoptAtFirstClose("smtp"),
});

Deno.test({
  name: "close: the first IMAP client's LOGOUT deoptimizes nothing the others run",
  ignore: !hasStdbuf,
  fn: () => assertNoDeoptAtFirstClose("imap"),
});

Deno.test({
  name: "close: the first POP3 client's QUIT deoptimizes nothing the others run",
  ignore: !hasStdbuf,
  fn: () => assertNoDeoptAtFirstClose("pop3"),
});
