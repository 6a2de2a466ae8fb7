/**
 * What the first close of a connection costs the others: V8 code thrown away ("deoptimized")
 * because a field that had been written only once, and that compiled code took for a
 * constant, was written again by the close. Starts the server with `--trace-deopt` and
 * `--trace-generalization` (under `stdbuf -o0`, so V8's lines arrive as they are printed),
 * has four clients of one protocol run a few thousand commands each (SMTP: transactions;
 * IMAP: FETCH and NOOP; POP3: STAT and NOOP), then the first of them quits while the others
 * go on, and counts what V8 printed meanwhile: fields made mutable, code objects deoptimized
 * for it ("dependent field type constness changed"), and other eager deopts.
 *
 * ```sh
 * deno run -A bench/close_deopts.ts                    # SMTP, IMAP and POP3
 * deno run -A bench/close_deopts.ts --protocol smtp --skip-warm-up --show
 * ```
 *
 * `--skip-warm-up` is the case of a server without the startup warm-up (lib/imap/warm_up.ts):
 * the clients' first close is then the process's first (until round 14 it was also a fresh
 * server's first burst of mail, which the warm-up waited for). Issue 13, round 13: before the connection classes and
 * sessions wrote their close-time fields twice at creation, that first close deoptimized the
 * transport's and the session's hot path (17 code objects with SMTP and POP3, 19 with IMAP; 7
 * with IMAP even after the warm-up), and the other clients stalled 3-5 ms while it ran
 * interpreted; now none.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type TracedProtocol, traceFirstClose } from "../tests/harness/close_trace.ts";

/** What V8 printed between the first close and the end of the others' work. */
interface Count {
  fields: string[];
  constnessDeopts: number;
  eagerDeopts: string[];
}

async function measure(
  protocol: TracedProtocol,
  opts: { clients: number; steps: number; skipWarmUp: boolean },
): Promise<Count> {
  const { after } = await traceFirstClose(protocol, {
    ...opts,
    v8Flags: ["--trace-deopt", "--trace-generalization"],
  });
  const meanwhile = after.split("\n");
  return {
    fields: meanwhile
      .filter((text) => text.includes("[generalizing]") && text.includes("->"))
      .filter((text) => !text.includes("(field type generalization)"))
      .map((text) => text.replace(/^.*\[generalizing\]/, "")),
    constnessDeopts: meanwhile.filter((text) => text.includes("constness changed")).length,
    eagerDeopts: meanwhile.flatMap((text) => {
      const match = /deopt-eager, reason: ([^)]*)\).*?<JSFunction (\S*)/.exec(text);
      return match ? [`${match[2]} (${match[1]})`] : [];
    }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      protocol: { type: "string", default: "all" },
      clients: { type: "string", default: "4" },
      steps: { type: "string", default: "3000" },
      "skip-warm-up": { type: "boolean", default: false },
      show: { type: "boolean", default: false },
    },
  });
  const protocols: TracedProtocol[] = values.protocol === "all"
    ? ["smtp", "imap", "pop3"]
    : [values.protocol as TracedProtocol];
  for (const protocol of protocols) {
    if (!["smtp", "imap", "pop3"].includes(protocol)) {
      throw new Error(`--protocol: smtp, imap, pop3 or all`);
    }
    const count = await measure(protocol, {
      clients: Number(values.clients),
      steps: Number(values.steps),
      skipWarmUp: values["skip-warm-up"],
    });
    console.log(
      `${protocol}: after the first close, ${count.constnessDeopts} code objects deoptimized ` +
        `for a field's constness, ${count.fields.length} fields generalized, eager deopts: ` +
        `${count.eagerDeopts.join(", ") || "none"}`,
    );
    if (values.show) { for (const field of count.fields) console.log(`  ${field}`); }
  }
}

if (import.meta.main) await main();
