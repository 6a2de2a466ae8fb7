/**
 * What the first FETCH and SEARCH of new mail cost, stage by stage, in one process and
 * without sockets: the MIME index, a HEADER.FIELDS item, ENVELOPE, BODYSTRUCTURE and the
 * SEARCH header and text forms of every corpus message. Each stage runs over the corpus
 * twice on fresh indexes: the first pass is what a cold server pays (the code runs for the
 * first time), the later ones (their mean) what it pays once the JIT has compiled it.
 * Figures are the main thread's CPU time (`/proc/thread-self/stat`, 10 ms ticks), which a
 * busy host disturbs far less than wall time; background GC and compiler threads are not
 * counted.
 *
 * ```sh
 * deno run -A bench/first_touch_stages.ts [--messages 5000]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { searchHeaders, searchText } from "../lib/mail/search_text.ts";
import { cachedBodyStructure } from "../lib/imap/bodystructure.ts";
import { cachedEnvelope } from "../lib/imap/envelope.ts";
import { HeaderFieldItems } from "../lib/imap/header_fields.ts";
import { MessageView } from "../lib/imap/message_view.ts";
import type { Section } from "../lib/imap/parse_fetch.ts";
import { corpusMessage } from "./imap_corpus.ts";

const SECTION: Section = { part: [], text: "HEADER.FIELDS", fields: ["FROM", "SUBJECT", "DATE"] };
const PREFIX = "BODY[HEADER.FIELDS (FROM SUBJECT DATE)] ";

/** The stages in the order a client meets them after a burst (issue 13's table). */
const STAGES: ReadonlyArray<[string, (view: MessageView, items: HeaderFieldItems) => unknown]> = [
  ["MIME index", (view) => view.index],
  ["HEADER.FIELDS item", (view, items) => items.item(view, view.root, SECTION, PREFIX)],
  ["ENVELOPE", (view) => cachedEnvelope(view)],
  ["BODYSTRUCTURE", (view) => cachedBodyStructure(view, true, false)],
  ["SEARCH header fields", (view) => searchHeaders(view.index)],
  ["SEARCH text", (view) => searchText(view.index, () => view.raw)],
];

/** CPU time of the calling thread (user + system), in ms. */
function threadCpuMs(): number {
  const fields = Deno.readTextFileSync("/proc/thread-self/stat").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

function pass(corpus: readonly Uint8Array[]): number[] {
  const views = corpus.map((raw) => new MessageView(raw));
  const items = new HeaderFieldItems();
  return STAGES.map(([, stage]) => {
    const start = threadCpuMs();
    for (const view of views) stage(view, items);
    return threadCpuMs() - start;
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { messages: { type: "string", default: "5000" } },
  });
  const corpus = Array.from({ length: Number(values.messages) }, (_, i) => corpusMessage(i));
  const cold = pass(corpus);
  const later = Array.from({ length: 4 }, () => pass(corpus));
  const warm = cold.map((_, i) => later.reduce((sum, times) => sum + times[i], 0) / later.length);
  const load = Deno.loadavg()[0].toFixed(1);
  console.log(`${corpus.length} messages, load ${load}\n| stage | first pass | later passes |`);
  console.log("| --- | --- | --- |");
  STAGES.forEach(([name], i) =>
    console.log(`| ${name} | ${cold[i].toFixed(1)} ms | ${warm[i].toFixed(1)} ms |`)
  );
}
