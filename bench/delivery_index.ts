/**
 * What indexing at delivery (lib/imap/warm.ts) costs per message and keeps per message, in one
 * process and without sockets: for each message, the MIME index, the cached ENVELOPE and
 * BODYSTRUCTURE and the SEARCH header and address forms, as `warm` computes them. Messages
 * are shaped like bench/smtp_load.ts's as delivered (Return-Path, Delivered-To and Received
 * prepended, ~2.2 KB), or the IMAP corpus (bench/imap_corpus.ts) with `--corpus`.
 *
 * Prints the main thread's CPU time per message (`/proc/thread-self/stat`, 10 ms ticks;
 * first pass and the mean of later passes, each on fresh indexes) and the heap retained by
 * the indexes of the last pass after a full GC, per message.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/delivery_index.ts [--messages 5000] [--passes 5] [--corpus]
 * ```
 *
 * `--stages N` (1-5) keeps only the first N of index, ENVELOPE, BODYSTRUCTURE, SEARCH header
 * fields and SEARCH addresses in the retained-heap measurement, to see what each keeps.
 *
 * `--alloc` prints instead the bytes each stage allocates on the V8 heap per message, kept or
 * not (V8's `total_allocated_bytes`, exact; the garbage is what drives scavenges in a burst):
 * passes over fresh indexes with the first 1, 2, ... 5 stages, each the mean of `--passes`,
 * and the differences between them.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc,--min-semi-space-size=128,--max-semi-space-size=128 \
 *   bench/delivery_index.ts --alloc [--corpus]
 * ```
 *
 * (The large young generation keeps collections out of the passes: objects a scavenge
 * promotes are counted as allocated again.)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getHeapStatistics } from "node:v8";
import { addressListMemo } from "../lib/mail/address.ts";
import { cachedBodyStructure } from "../lib/imap/bodystructure.ts";
import { ByteSlabs } from "../lib/imap/byte_slabs.ts";
import { cachedEnvelope } from "../lib/imap/envelope.ts";
import { MessageView } from "../lib/imap/message_view.ts";
import { MessageIndex } from "../lib/mail/message_index.ts";
import { TableSlab } from "../lib/mail/mime_table.ts";
import { searchAddresses, searchHeaders } from "../lib/mail/search_text.ts";
import { corpusMessage } from "./imap_corpus.ts";
import { messageLines } from "./smtp_load.ts";

/** Message `n` as bench/smtp_load.ts sends it, with the trace fields delivery prepends. */
export function smtpMessage(n: number, size = 2200): Uint8Array {
  const trace = [
    "Return-Path: <load@example.com>",
    "Delivered-To: bench@example.com",
    "Received: from client.example ([127.0.0.1])",
    `\tby elektromail.test (Elektromail) with ESMTP id Q${n.toString(16).padStart(8, "0")}`,
    "\tfor <bench@example.com>;",
    "\tWed, 25 Nov 2026 10:00:00 +0000",
  ];
  const lines = [...trace, ...messageLines(n, size - trace.join("\r\n").length - 2)];
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n");
}

/** CPU time of the calling thread (user + system), in ms. */
function threadCpuMs(): number {
  const fields = Deno.readTextFileSync("/proc/thread-self/stat").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

/** What lib/imap/warm.ts `warm` does for one stored message (the first `stages` of it). */
export function warm(
  raw: Uint8Array,
  slabs: ByteSlabs,
  tables: TableSlab,
  stages = 5,
): MessageIndex {
  // The table cut from a shared slab, as the memory store indexes an appended message.
  const index = new MessageIndex(raw, tables);
  if (stages === 1) return index;
  const view = new MessageView(() => raw, () => index);
  // From, To and Cc parsed once for ENVELOPE and SEARCH, as warm.ts does.
  const parse = addressListMemo();
  if (stages > 1) cachedEnvelope(view, slabs, parse);
  if (stages > 2) cachedBodyStructure(view, true, false, slabs);
  if (stages > 3) searchHeaders(index, view.root);
  if (stages > 4) searchAddresses(index, view.root, parse);
  return index;
}

/**
 * V8's count of bytes allocated on the heap since the isolate started (in Deno's heap
 * statistics, though not in the types of `node:v8`).
 */
function allocatedBytes(): number {
  return (getHeapStatistics() as { total_allocated_bytes?: number }).total_allocated_bytes ?? 0;
}

/** Prints the V8 heap bytes allocated per message by each stage of {@linkcode warm}. */
function printAllocation(messages: Uint8Array[], passes: number): void {
  const names = ["index (MIME parse)", "ENVELOPE", "BODYSTRUCTURE", "SEARCH headers", "addresses"];
  const perMessage: number[] = [];
  // First passes of all stages compile the code: feedback and code objects are not counted.
  for (let p = 0; p < 3; p++) {
    for (const raw of messages) warm(raw, new ByteSlabs(), new TableSlab());
  }
  for (let stages = 1; stages <= names.length; stages++) {
    let total = 0;
    for (let p = 0; p < passes; p++) {
      const slabs = new ByteSlabs();
      const tables = new TableSlab();
      const kept: MessageIndex[] = [];
      gc();
      const before = allocatedBytes();
      for (const raw of messages) kept.push(warm(raw, slabs, tables, stages));
      total += allocatedBytes() - before;
    }
    perMessage.push(total / passes / messages.length);
  }
  const split = perMessage.map((bytes, i) =>
    `${names[i]} ${(bytes - (i > 0 ? perMessage[i - 1] : 0)).toFixed(0)}`
  );
  console.log(
    `${messages.length} messages: ${perMessage.at(-1)!.toFixed(0)} B/msg allocated on the heap ` +
      `(${split.join(", ")})`,
  );
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error("Cannot collect garbage: run with --v8-flags=--expose-gc");
  collect();
  collect();
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      passes: { type: "string", default: "5" },
      corpus: { type: "boolean", default: false },
      stages: { type: "string", default: "5" },
      alloc: { type: "boolean", default: false },
    },
  });
  const count = Number(values.messages);
  const make = values.corpus ? corpusMessage : smtpMessage;
  const messages = Array.from({ length: count }, (_, n) => make(n));
  if (values.alloc) {
    printAllocation(messages, Number(values.passes));
    Deno.exit(0);
  }
  const bytes = messages.reduce((sum, raw) => sum + raw.length, 0);
  const times: number[] = [];
  let kept: MessageIndex[] = [];
  let slabs = new ByteSlabs();
  for (let p = 0; p < Number(values.passes); p++) {
    kept = [];
    slabs = new ByteSlabs();
    gc();
    const start = threadCpuMs();
    const tables = new TableSlab();
    for (const raw of messages) kept.push(warm(raw, slabs, tables));
    times.push(threadCpuMs() - start);
  }
  kept = [];
  slabs = new ByteSlabs();
  gc();
  const { heapUsed, external } = Deno.memoryUsage();
  const tables = new TableSlab();
  for (const raw of messages) kept.push(warm(raw, slabs, tables, Number(values.stages)));
  gc();
  const after = Deno.memoryUsage();
  const retained = after.heapUsed - heapUsed;
  const outside = after.external - external;
  const later = times.slice(1);
  const mean = later.reduce((sum, t) => sum + t, 0) / Math.max(1, later.length);
  const us = (ms: number) => (ms * 1000 / count).toFixed(1);
  console.log(
    `${count} messages (${(bytes / count).toFixed(0)} B each), load ${
      Deno.loadavg()[0].toFixed(1)
    }: first pass ${us(times[0])} us/msg, later passes ${us(mean)} us/msg, best ${
      us(Math.min(...later))
    } ` +
      `(${later.map(us).join(" ")}); retained ${
        (retained / count).toFixed(0)
      } B/msg on the heap + ` +
      `${(outside / count).toFixed(0)} B/msg external ` +
      `(${kept.length} indexes)`,
  );
}
