/** Drives an ImapFramer over split input, for the framer and fuzz tests. */

import { type FrameEvent, ImapFramer } from "../../lib/imap/framer.ts";

export { splits } from "../harness/splits.ts";

export const enc = new TextEncoder();
const dec = new TextDecoder();

/** An event with byte fields turned into text, for readable deepEqual. */
export type Seen =
  | { type: "command"; line: string; literals: string[] }
  | {
    type: "literal-request";
    tag: string;
    size: number;
    binary: boolean;
    prefix: string;
    /** Present only when true. */
    nonSync?: true;
    /** Present only when not 0. */
    buffered?: number;
  }
  | { type: "line-too-long"; tag: string | null };

export function describe(event: FrameEvent): Seen {
  switch (event.type) {
    case "command":
      return {
        type: "command",
        line: dec.decode(event.command.line),
        literals: event.command.literals.map((l) => dec.decode(l)),
      };
    case "literal-request":
      return {
        type: "literal-request",
        tag: event.tag,
        size: event.size,
        binary: event.binary,
        prefix: dec.decode(event.prefix),
        ...(event.nonSync ? { nonSync: true } : {}),
        ...(event.buffered ? { buffered: event.buffered } : {}),
      };
    default:
      return event;
  }
}

export interface RunOptions {
  maxLineLength?: number;
  maxLiteralSize?: number;
  /** Decides each literal-request; default: accept. */
  accept?: (size: number) => boolean;
}

/** Feeds `chunks` one by one, draining events after each; returns all events. */
export function run(chunks: Uint8Array[], options: RunOptions = {}): Seen[] {
  const framer = new ImapFramer({
    maxLineLength: options.maxLineLength ?? 200,
    maxLiteralSize: options.maxLiteralSize ?? 1000,
  });
  const accept = options.accept ?? (() => true);
  const seen: Seen[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let event = framer.next(); event; event = framer.next()) {
      seen.push(describe(event));
      if (event.type === "literal-request") {
        if (accept(event.size)) framer.acceptLiteral();
        else framer.rejectLiteral();
      }
    }
  }
  return seen;
}
