/**
 * What the 5,000-message APPEND burst leaves on the V8 heap (issue 13, round 11): starts a
 * server in this process (memory store, startup warm-up as the program has it), takes a heap
 * snapshot (`node:v8`, which collects first: only what is retained counts) before and after
 * the burst, and prints the difference by object type and constructor, per message.
 *
 * ```sh
 * deno run -A bench/heap_probe.ts [--messages 5000] [--top 30] [--keep-snapshots]
 * deno run -A bench/heap_probe.ts --smtp --messages 2000   # SMTP messages instead of APPENDs
 * deno run -A bench/heap_probe.ts --smtp --no-reader        # no IMAP client connected meanwhile
 * ```
 *
 * `--no-reader`: the IMAP client logs in only after the second snapshot, so the SMTP burst is
 * stored as with no reader (no indexing at delivery or at append: what a warm SMTP round's
 * scavenges copy; issue 13, round 18). `--settle MS`: the second snapshot waits that long after
 * the burst, so what the pause's indexing keeps is in it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { testConfig } from "../lib/config.ts";
import { startElektromail } from "../lib/server.ts";
import { Client } from "./imap_client.ts";
import { corpusMessage } from "./imap_corpus.ts";
import { client as smtpClient, encodeMessages } from "./smtp_load.ts";

/** `--smtp`: bench/smtp_load.ts's message size (bench/smtp_source.ts's latency client sends 2,200 too). */
const SMTP_MESSAGE_SIZE = 2200;

/** Object count and self bytes by "type:name". */
type Census = Map<string, { count: number; bytes: number }>;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Counts a snapshot's nodes by type and (for objects) constructor name. */
function census(path: string): Census {
  const data = JSON.parse(Deno.readTextFileSync(path)) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const result: Census = new Map();
  for (let i = 0; i < data.nodes.length; i += width) {
    // Nodes of no size are the snapshot's own (small integers, edges' names): not objects.
    if (data.nodes[i + sizeAt] === 0) continue;
    const type = types[data.nodes[i + typeAt]];
    const name = data.strings[data.nodes[i + nameAt]];
    // Strings and code are grouped by type; objects by constructor.
    const key = type === "object" || type === "hidden" || type === "native"
      ? `${type}:${name.slice(0, 60)}`
      : type;
    const entry = result.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += data.nodes[i + sizeAt];
    result.set(key, entry);
  }
  return result;
}

/** The census's totals: all nodes, and those on V8's heap (not the ArrayBuffers' bytes). */
function total(c: Census): { count: number; bytes: number; heapCount: number; heapBytes: number } {
  let count = 0;
  let bytes = 0;
  let heapCount = 0;
  let heapBytes = 0;
  for (const [key, entry] of c) {
    count += entry.count;
    bytes += entry.bytes;
    if (key === EXTERNAL_BYTES) continue;
    heapCount += entry.count;
    heapBytes += entry.bytes;
  }
  return { count, bytes, heapCount, heapBytes };
}

/** The census key of ArrayBuffers' backing stores: outside V8's heap, never moved by a GC. */
const EXTERNAL_BYTES = "native:system / JSArrayBufferData";

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      top: { type: "string", default: "30" },
      "keep-snapshots": { type: "boolean", default: false },
      commands: { type: "boolean", default: false },
      smtp: { type: "boolean", default: false },
      "no-reader": { type: "boolean", default: false },
      settle: { type: "string", default: "0" },
    },
  });
  const messages = Number(values.messages);
  const corpus = Array.from({ length: messages }, (_, n) => corpusMessage(n));
  const server = await startElektromail(
    testConfig({ smtpPort: 0, imapPort: 0, pop3Port: null, httpPort: null }),
    { warmUp: true },
  );
  await new Promise((resolve) => setTimeout(resolve, 8000));
  const dir = await Deno.makeTempDir();
  const login = async () => {
    const client = await Client.connect(server.ports.imap);
    await client.command("LOGIN u p");
    return client;
  };
  const reader = values["no-reader"] ? null : await login();
  const before = census(writeHeapSnapshot(`${dir}/before.heapsnapshot`));
  if (values.smtp) {
    await smtpClient(
      { port: server.ports.smtp, size: SMTP_MESSAGE_SIZE, pipelining: false },
      0,
      encodeMessages(0, messages, SMTP_MESSAGE_SIZE),
      [],
    );
  } else await (reader ?? await login()).appendAll("INBOX", corpus);
  const settle = Number(values.settle);
  if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));
  const after = census(writeHeapSnapshot(`${dir}/after.heapsnapshot`));
  const c = reader ?? await login();
  const rows = [...after].map(([key, entry]) => {
    const old = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: entry.count - old.count, bytes: entry.bytes - old.bytes };
  }).sort((a, b) => b.bytes - a.bytes);
  const t0 = total(before);
  const t1 = total(after);
  const perMessage = (n: number) => (n / messages).toFixed(1);
  console.log(
    `retained on V8's heap: ${t0.heapCount} objects ${(t0.heapBytes / 1e6).toFixed(2)} MB ` +
      `before, ${t1.heapCount} objects ${(t1.heapBytes / 1e6).toFixed(2)} MB after; per ` +
      `message ${perMessage(t1.heapCount - t0.heapCount)} objects ` +
      `${perMessage(t1.heapBytes - t0.heapBytes)} bytes (ArrayBuffer bytes outside the heap: ` +
      `${perMessage(t1.bytes - t1.heapBytes - (t0.bytes - t0.heapBytes))} a message)`,
  );
  console.log("objects/msg  bytes/msg  type:constructor");
  for (const row of rows.slice(0, Number(values.top))) {
    console.log(
      `${(row.count / messages).toFixed(2).padStart(11)} ${
        (row.bytes / messages).toFixed(1).padStart(10)
      }  ${row.key}`,
    );
  }
  if (values["keep-snapshots"]) console.log(`snapshots in ${dir}`);
  else await Deno.remove(dir, { recursive: true });
  await c.command("LOGOUT");
  c.close();
  await server.stop();
}

if (import.meta.main) await main();
