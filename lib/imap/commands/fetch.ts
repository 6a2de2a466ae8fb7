/**
 * FETCH and UID FETCH.
 *
 * ```abnf
 * fetch     = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *             "(" fetch-att *(SP fetch-att) ")")          ; RFC 9051 6.4.5
 * uid-fetch = "UID" SP fetch                              ; RFC 9051 6.4.9
 * ```
 * Responses: RFC 9051 7.5.2. A non-peek BODY[...] or BINARY[...] (and RFC822, RFC822.TEXT)
 * sets `\Seen`, and the response reports FLAGS for the messages whose flags changed.
 * ENVELOPE, BODY and BODYSTRUCTURE come from the message's cached index (encoded once per
 * message). BINARY of a part with an unknown transfer encoding is left out of that message's
 * response and the command ends `NO [UNKNOWN-CTE]` (RFC 3516 4.3) after the other data.
 *
 * @module
 */

import { MessageIndex } from "../../mail/message_index.ts";
import type { MessageMeta } from "../../store/types.ts";
import { cachedBodyStructure } from "../bodystructure.ts";
import {
  type AuthedCommandSpec,
  type AuthedSession,
  FLUSH_THRESHOLD,
  ImapError,
  SELECTED,
  type Session,
} from "../context.ts";
import { formatInternalDate } from "../encoder.ts";
import { cachedEnvelope } from "../envelope.ts";
import { MessageView } from "../message_view.ts";
import { type FetchAttribute, readFetchAttributes, responseKey } from "../parse_fetch.ts";
import type { Reader } from "../parser.ts";
import {
  applyPartial,
  binaryBytes,
  binarySection,
  binarySize,
  headerFieldsItem,
  sectionBytes,
  withoutNul,
} from "../sections.ts";
import { sessionFlagList } from "../updates.ts";
import { resolveTargets, selectionOf } from "./targets.ts";

/** Whether fetching the item marks the message `\Seen` (RFC 9051 6.4.5). */
function setsSeen(item: FetchAttribute): boolean {
  if (item.kind === "RFC822" || item.kind === "RFC822.TEXT") return true;
  return (item.kind === "BODY" || item.kind === "BINARY") && "peek" in item && !item.peek;
}

type Part = string | Uint8Array;

/** What writing one message's items needs; `unknownCte` is set when a BINARY item is left out. */
interface ItemContext {
  readonly session: Session;
  readonly meta: MessageMeta;
  readonly message: () => MessageView;
  readonly put: (...parts: Part[]) => void;
  /** The response key of an item (`BODY[1.TEXT]<0>`), built once per command. */
  readonly keys: ReadonlyMap<FetchAttribute, string>;
  unknownCte: boolean;
}

async function fetch(session: AuthedSession, reader: Reader, byUid: boolean) {
  reader.sp();
  const set = reader.readSequenceSet();
  reader.sp();
  const items = readFetchAttributes(reader);
  reader.end();
  if (byUid && !items.some((item) => item.kind === "UID")) {
    items.unshift({ kind: "UID" } as FetchAttribute);
  }
  const keys = new Map(items.map((item) => [item, responseKey(item)]));
  const selection = selectionOf(session);
  const targets = resolveTargets(session, set, byUid);
  const { store } = session.ctx;
  const user = session.user;
  const mailbox = selection.tracker.mailbox;

  const viewOf = (uid: number) =>
    new MessageView(
      () => store.getRaw(user, mailbox, uid) ?? new Uint8Array(0),
      (raw) => store.getIndex(user, mailbox, uid) ?? new MessageIndex(raw()),
    );
  const reportsFlags = items.some((item) => item.kind === "FLAGS");
  let seenNow = new Set<number>();
  if (!selection.readOnly && items.some(setsSeen)) {
    // A BINARY item that fails (unknown transfer encoding) does not read the message.
    const binaryOnly = items.every((item) => !setsSeen(item) || item.kind === "BINARY");
    const read = (uid: number) => {
      const view = viewOf(uid);
      return items.some((item) =>
        setsSeen(item) && item.kind === "BINARY" &&
        binarySection(view, item.part).kind !== "unknown-cte"
      );
    };
    const uids = targets.map((t) => t.uid).filter((uid) => !binaryOnly || read(uid));
    const changed = selection.tracker.ownFlagChange(() =>
      store.setFlags(user, mailbox, uids, "add", ["\\Seen"])
    );
    seenNow = new Set(changed.map((change) => change.uid));
    selection.tracker.dropFlagUpdates([...seenNow]);
  }

  let missing = 0;
  let unknownCte = false;
  const out = session.out;
  for (const { seq, uid } of targets) {
    const meta = store.getMessage(user, mailbox, uid);
    if (!meta) {
      missing++;
      continue;
    }
    let view: MessageView | null = null;
    const message = () => view ??= viewOf(uid);
    let opened = false;
    const put = (...parts: Part[]) => {
      out.push(opened ? " " : `* ${seq} FETCH (`, ...parts);
      opened = true;
    };
    const context: ItemContext = { session, meta, message, put, keys, unknownCte: false };
    for (const item of items) writeItem(context, item);
    if (seenNow.has(uid) && !reportsFlags) put(`FLAGS ${flags(session, meta)}`);
    unknownCte ||= context.unknownCte;
    if (opened) out.push(")\r\n");
    if (out.length > FLUSH_THRESHOLD) await session.flush();
  }
  if (unknownCte) {
    throw new ImapError("NO", "UNKNOWN-CTE", "Cannot decode the transfer encoding of a part");
  }
  if (missing > 0) {
    throw new ImapError("NO", "EXPUNGEISSUED", "Some of the requested messages no longer exist");
  }
}

function flags(session: Session, meta: MessageMeta): string {
  return sessionFlagList(session, meta.uid, meta.flags);
}

function writeItem(context: ItemContext, item: FetchAttribute): void {
  const { session, meta, message, put } = context;
  const key = context.keys.get(item)!;
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
      return put("RFC822 ", ...nstring(message(), message().raw));
    case "RFC822.HEADER":
    case "RFC822.TEXT": {
      const text = item.kind === "RFC822.HEADER" ? "HEADER" : "TEXT";
      const bytes = sectionBytes(message(), { part: [], text, fields: [] });
      return put(`${item.kind} `, ...nstring(message(), bytes));
    }
    case "ENVELOPE":
      return put("ENVELOPE ", cachedEnvelope(message()));
    case "BODYSTRUCTURE":
      return put("BODYSTRUCTURE ", cachedBodyStructure(message(), true, session.rev2));
    case "BODY": {
      if (!("section" in item)) {
        return put("BODY ", cachedBodyStructure(message(), false, session.rev2));
      }
      const { text } = item.section;
      if (!item.partial && (text === "HEADER.FIELDS" || text === "HEADER.FIELDS.NOT")) {
        // The whole data item, kept per message: clients ask it of every message, every sync.
        const data = headerFieldsItem(
          message(),
          item.section,
          `${key} `,
          session.ctx.shared.fieldItems,
        );
        return put(data ?? `${key} NIL`);
      }
      const bytes = sectionBytes(message(), item.section);
      return put(`${key} `, ...nstring(message(), bytes && applyPartial(bytes, item.partial)));
    }
    case "BINARY":
    case "BINARY.SIZE": {
      const view = message();
      const section = binarySection(view, item.part);
      if (section.kind === "unknown-cte") {
        context.unknownCte = true;
        return;
      }
      if (item.kind === "BINARY.SIZE") {
        return put(`${key} ${section.kind === "missing" ? 0 : binarySize(view, section.part)}`);
      }
      if (section.kind === "missing") return put(`${key} NIL`);
      const bytes = applyPartial(binaryBytes(view, section.part), item.partial);
      // RFC 3516 4.3: literal8 only when the data holds NUL, which a literal cannot carry.
      return put(`${key} `, ...literal(bytes, bytes.includes(0)));
    }
  }
}

/** A literal as parts: the `{n}` (or `~{n}`) line, then the caller's bytes, uncopied. */
function literal(bytes: Uint8Array, binary = false): [string, Uint8Array] {
  return [`${binary ? "~" : ""}{${bytes.length}}\r\n`, bytes];
}

/** Section data as an `nstring`: NIL when the section does not exist. */
function nstring(view: MessageView, bytes: Uint8Array | null): Part[] {
  return bytes ? literal(withoutNul(view, bytes)) : ["NIL"];
}

export const FETCH_COMMANDS: ReadonlyArray<[string, AuthedCommandSpec]> = [
  ["FETCH", {
    states: SELECTED,
    allowExpunge: false,
    run: (session, reader) => fetch(session, reader, false),
  }],
  ["UID FETCH", {
    states: SELECTED,
    allowExpunge: true,
    run: (session, reader) => fetch(session, reader, true),
  }],
];
