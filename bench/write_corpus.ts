/**
 * Writes the IMAP benchmark corpus (bench/imap_corpus.ts) to a file, for clients that are not
 * written in TypeScript (bench/imap_cold.py) to send the very same bytes.
 *
 * ```sh
 * deno run -A bench/write_corpus.ts --messages 5000 --out /tmp/corpus.bin
 * ```
 *
 * The file: one line of JSON, `{"rareWord": "quokka", "sizes": [n0, n1, ...]}` then LF, then
 * the messages back to back, each exactly `sizes[i]` bytes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { corpusMessage, RARE_WORD } from "./imap_corpus.ts";

const encoder = new TextEncoder();

/**
 * Writes the first `messages` corpus messages to `path` in the format above and returns the
 * number of message bytes. The messages are written one by one, never concatenated.
 *
 * @example
 * ```ts
 * const bytes = await writeCorpus("/tmp/corpus.bin", 5000); // ~108 MB
 * ```
 */
export async function writeCorpus(path: string, messages: number): Promise<number> {
  const corpus = Array.from({ length: messages }, (_, i) => corpusMessage(i));
  const sizes = corpus.map((message) => message.length);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const writer = file.writable.getWriter();
  try {
    await writer.write(encoder.encode(JSON.stringify({ rareWord: RARE_WORD, sizes }) + "\n"));
    for (const message of corpus) await writer.write(message);
  } finally {
    await writer.close();
  }
  return sizes.reduce((sum, size) => sum + size, 0);
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      messages: { type: "string", default: "5000" },
      out: { type: "string" },
    },
  });
  if (!values.out) throw new Error("Cannot write the corpus: --out FILE is missing");
  const bytes = await writeCorpus(values.out, Number(values.messages));
  console.log(`${values.messages} messages, ${(bytes / 1e6).toFixed(0)} MB: ${values.out}`);
}

if (import.meta.main) await main();
