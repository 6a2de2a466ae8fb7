/**
 * Where indexing at delivery (lib/imap/warm.ts's stages, as bench/delivery_index.ts runs them)
 * allocates on the V8 heap: a sampling heap profile (`node:inspector`,
 * `HeapProfiler.startSampling`, objects collected by scavenges and mark-compacts included) of
 * passes over the IMAP corpus (or `--smtp`: SMTP-shaped messages), summed by allocating
 * function, per message.
 *
 * ```sh
 * deno run -A bench/index_alloc_profile.ts [--messages 5000] [--top 30] [--interval 1024] [--smtp] [--stages 1-5]
 * ```
 *
 * @module
 */

import { Session } from "node:inspector";
import { parseArgs } from "node:util";
import { ByteSlabs } from "../lib/imap/byte_slabs.ts";
import { TableSlab } from "../lib/mail/mime_table.ts";
import { corpusMessage } from "./imap_corpus.ts";
import { smtpMessage, warm } from "./delivery_index.ts";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function post<T>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => error ? reject(error) : resolve(result as T))
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      top: { type: "string", default: "30" },
      interval: { type: "string", default: "1024" },
      smtp: { type: "boolean", default: false },
      stages: { type: "string", default: "5" },
    },
  });
  const count = Number(values.messages);
  const make = values.smtp ? smtpMessage : corpusMessage;
  const messages = Array.from({ length: count }, (_, n) => make(n));
  // Compiled first: the profile is of the warm code.
  for (const raw of messages) warm(raw, new ByteSlabs(), new TableSlab());
  const session = new Session();
  session.connect();
  await post(session, "HeapProfiler.enable");
  await post(session, "HeapProfiler.startSampling", {
    samplingInterval: Number(values.interval),
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const slabs = new ByteSlabs();
  const tables = new TableSlab();
  for (const raw of messages) warm(raw, slabs, tables, Number(values.stages));
  const { profile } = await post<{ profile: { head: ProfileNode } }>(
    session,
    "HeapProfiler.stopSampling",
  );
  const byFunction = new Map<string, number>();
  let total = 0;
  const byStage = new Map<string, number>();
  const name = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode) =>
    `${functionName || "(anonymous)"} ${url.replace(/^.*\/(lib|bench)\//, "$1/")}:${
      lineNumber + 1
    }`;
  // `stack`: the frames below the bench's `warm`, outermost first (null: not under it).
  const walk = (node: ProfileNode, stack: string[] | null) => {
    const here = name(node);
    const key = here + (stack !== null && stack.length > 0 ? ` <- ${stack.at(-1)}` : "");
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
    const stage = stack === null ? "(outside warm)" : stack[0] ?? "(warm itself)";
    byStage.set(stage, (byStage.get(stage) ?? 0) + node.selfSize);
    total += node.selfSize;
    const below = stack !== null
      ? [...stack, here]
      : node.callFrame.functionName === "warm"
      ? []
      : null;
    for (const child of node.children) walk(child, below);
  };
  walk(profile.head, null);
  for (const [stage, bytes] of [...byStage].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`stage ${(bytes / count).toFixed(0).padStart(6)}  ${stage}`);
  }
  console.log(`${count} messages: ~${(total / count).toFixed(0)} B/msg sampled`);
  const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  for (const [key, bytes] of rows) console.log(`${(bytes / count).toFixed(0).padStart(6)}  ${key}`);
  session.disconnect();
}
