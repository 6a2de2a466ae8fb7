/**
 * FETCH and UID FETCH.
 *
 * ```abnf
 * fetch     = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *             "(" fetch-att *(SP fetch-att) ")")          ; RFC 9051 6.4.5
 * uid-fetch = "UID" SP fetch                              ; RFC 9051 6.4.9
 * ```
 * Responses: RFC 9051 7.5.2. A non-peek body fetch sets `\Seen` and reports FLAGS.
 *
 * @module
 */

import { MessageIndex } from "../../mail/index.ts";
import type { MessageMeta } from "../../store/mod.ts";
import { type CommandSpec, FLUSH_THRESHOLD, ImapError, type Session } from "../context.ts";
import { flagList, formatInternalDate } from "../encoder.ts";
import { type FetchAttribute, readFetchAttributes } from "../parse_fetch.ts";
import type { Reader } from "../parser.ts";
import { applyPartial, MessageView, sectionBytes, sectionKey } from "../sections.ts";
import { resolveTargets, selectionOf } from "./targets.ts";

/** Items this server cannot produce yet: refused before any output. */
const NOT_YET = new Set(["ENVELOPE", "BODYSTRUCTURE", "BODY", "BINARY", "BINARY.SIZE"]);

/** Whether fetching the item marks the message `\Seen` (RFC 9051 6.4.5). */
function setsSeen(item: FetchAttribute): boolean {
  if (item.kind === "RFC822" || item.kind === "RFC822.TEXT") return true;
  return (item.kind === "BODY" && "section" in item && !item.peek);
}

async function fetch(session: Session, reader: Reader, byUid: boolean) {
  reader.sp();
  const set = reader.readSequenceSet();
  reader.sp();
  const items = readFetchAttributes(reader);
  reader.end();
  for (const item of items) {
    const plainBody = item.kind === "BODY" && !("section" in item);
    if (plainBody || (item.kind !== "BODY" && NOT_YET.has(item.kind))) {
      throw new ImapError("NO", "CANNOT", `FETCH ${item.kind} is not supported yet`);
    }
  }
  if (byUid && !items.some((item) => item.kind === "UID")) {
    items.unshift({ kind: "UID" } as FetchAttribute);
  }
  const selection = selectionOf(session);
  const targets = resolveTargets(session, set, byUid);
  const { store } = session.ctx;
  const user = session.user!;
  const mailbox = selection.tracker.mailbox;

  const marksSeen = !selection.readOnly && items.some(setsSeen);
  const addFlags = marksSeen && !items.some((item) => item.kind === "FLAGS");
  if (marksSeen) {
    const changed = store.setFlags(user, mailbox, targets.map((t) => t.uid), "add", ["\\Seen"]);
    selection.tracker.dropFlagUpdates(changed.map((change) => change.uid));
  }

  let missing = 0;
  for (const { seq, uid } of targets) {
    const meta = store.getMessage(user, mailbox, uid);
    if (!meta) {
      missing++;
      continue;
    }
    let view: MessageView | null = null;
    const message = () => {
      if (view) return view;
      const raw = store.getRaw(user, mailbox, uid) ?? new Uint8Array(0);
      return view = new MessageView(
        raw,
        () => store.getIndex(user, mailbox, uid) ?? new MessageIndex(raw),
      );
    };
    const out = session.out;
    out.push(`* ${seq} FETCH (`);
    let first = true;
    const put = (...parts: Array<string | Uint8Array>) => {
      if (!first) out.push(" ");
      first = false;
      out.push(...parts);
    };
    for (const item of items) writeItem(session, item, meta, message, put);
    if (addFlags) put(`FLAGS ${flags(session, meta)}`);
    out.push(")\r\n");
    if (out.length > FLUSH_THRESHOLD) await session.flush();
  }
  if (missing > 0) {
    throw new ImapError("NO", "EXPUNGEISSUED", "Some of the requested messages no longer exist");
  }
}

function flags(session: Session, meta: MessageMeta): string {
  const recent = !session.rev2 && session.selection?.recent.has(meta.uid);
  return flagList(recent ? [...meta.flags, "\\Recent"] : meta.flags);
}

function writeItem(
  session: Session,
  item: FetchAttribute,
  meta: MessageMeta,
  message: () => MessageView,
  put: (...parts: Array<string | Uint8Array>) => void,
): void {
  switch (item.kind) {
    case "UID":
      return put(`UID ${meta.uid}`);
    case "FLAGS":
      return put(`FLAGS ${flags(session, meta)}`);
    case "INTERNALDATE":
      return put(`INTERNALDATE ${formatInternalDate(meta.internalDate)}`);
    case "RFC822.SIZE":
      return put(`RFC822.SIZE ${meta.size}`);
    case "RFC822":
      return put("RFC822 ", ...literal(message().raw));
    case "RFC822.HEADER":
      return put(
        "RFC822.HEADER ",
        ...literal(sectionBytes(message(), { part: [], text: "HEADER", fields: [] })),
      );
    case "RFC822.TEXT":
      return put(
        "RFC822.TEXT ",
        ...literal(sectionBytes(message(), { part: [], text: "TEXT", fields: [] })),
      );
    case "BODY": {
      if (!("section" in item)) return;
      const bytes = applyPartial(sectionBytes(message(), item.section), item.partial);
      const origin = item.partial ? `<${item.partial.offset}>` : "";
      return put(`BODY[${sectionKey(item.section)}]${origin} `, ...literal(bytes));
    }
    default:
      return;
  }
}

/** A literal as parts: the `{n}` line, then the caller's bytes, uncopied. */
function literal(bytes: Uint8Array): [string, Uint8Array] {
  return [`{${bytes.length}}\r\n`, bytes];
}

export const FETCH_COMMANDS: ReadonlyArray<[string, CommandSpec]> = [
  ["FETCH", {
    states: ["selected"],
    allowExpunge: false,
    run: (session, reader) => fetch(session, reader, false),
  }],
  ["UID FETCH", {
    states: ["selected"],
    allowExpunge: true,
    run: (session, reader) => fetch(session, reader, true),
  }],
];
