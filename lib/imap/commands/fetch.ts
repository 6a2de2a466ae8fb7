/**
 * FETCH and UID FETCH.
 *
 * ```abnf
 * fetch     = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *             "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]  ; RFC 9051 6.4.5, RFC 4466
 * uid-fetch = "UID" SP fetch                              ; RFC 9051 6.4.9
 * ```
 * CONDSTORE (RFC 7162 3.1.4): MODSEQ is an item; CHANGEDSINCE n limits the command to the
 * messages changed since n (found through the store's modseq index) and adds MODSEQ; UID
 * FETCH's VANISHED (QRESYNC, 3.2.6) first reports the UIDs of the set expunged since n.
 * PARTIAL first:last (RFC 9394) keeps the messages at those positions among the ones
 * named (after CHANGEDSINCE), negative positions counting from the last.
 * Once CONDSTORE is on, a response carrying FLAGS carries MODSEQ too, and one that reports
 * a `\Seen` set by this FETCH also carries the UID (RFC 7162 3.1).
 * OBJECTID (RFC 8474 5): EMAILID from the store and THREADID NIL (object_id.ts); PREVIEW (RFC 8970) from the
 * cached MIME index (mail/preview.ts).
 * Responses: RFC 9051 7.5.2. A non-peek BODY[...] or BINARY[...] (and RFC822, RFC822.TEXT)
 * sets `\Seen`, and the response reports FLAGS for the messages whose flags changed.
 * ENVELOPE, BODY and BODYSTRUCTURE come from the message's cached index (encoded once per
 * message). BINARY of a part with an unknown transfer encoding is left out of that message's
 * response and the command ends `NO [UNKNOWN-CTE]` (RFC 3516 4.3) after the other data.
 *
 * A section named twice in one command (`BINARY.PEEK[1] BINARY.PEEK[1]<0.10>`) is decoded or
 * copied once per message, and the response is written out item by item as it grows, waiting
 * while the client is slow to read: what one FETCH costs the server is bounded by one
 * message's sections, not by the items times their size (the items themselves are bounded by
 * `MAX_FETCH_ITEMS`, see parse_fetch.ts).
 *
 * @module
 */

import { partialSlice } from "../search_return.ts";
import { holdsNul, MessageIndex } from "../../mail/message_index.ts";
import { preview } from "../../mail/preview.ts";
import type { MimePart } from "../../mail/mime.ts";
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
import { formatInternalDate, nstring as encodeNstring } from "../encoder.ts";
import { cachedEnvelope } from "../envelope.ts";
import { fetchHeaderFields, headerFieldsPlan } from "../fetch_header_fields.ts";
import { fetchRecordItems, recordItemsOnly } from "../fetch_meta.ts";
import { MessageView } from "../message_view.ts";
import { enableCondstore, intersectRanges } from "../condstore.ts";
import {
  type FetchAttribute,
  type FetchModifiers,
  readFetchAttributes,
  readFetchModifiers,
  responseKey,
  type Section,
} from "../parse_fetch.ts";
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
import { writeVanished } from "../responses.ts";
import { sequenceRanges, type SequenceSet } from "../sequence.ts";
import { announceKeywords, sessionFlagList } from "../updates.ts";
import {
  resolveAmong,
  resolveRuns,
  runsOf,
  selectionOf,
  type Target,
  type TargetRuns,
  targetsOf,
} from "./targets.ts";

/** Bytes read for a FETCH after which they are freed at its next flush (see `releaseRaw`). */
const RELEASE_BYTES = 1024 * 1024;

/** Whether fetching the item marks the message `\Seen` (RFC 9051 6.4.5). */
function setsSeen(item: FetchAttribute): boolean {
  if (item.kind === "RFC822" || item.kind === "RFC822.TEXT") return true;
  return (item.kind === "BODY" || item.kind === "BINARY") && "peek" in item && !item.peek;
}

type Part = string | Uint8Array;

/** An item's keys, built once per command. */
interface ItemKeys {
  /** The response key (`BODY[1.TEXT]<0>`). */
  readonly response: string;
  /** The section it reads, without partial (`BODY[1.TEXT]`): what its data is cached under. */
  readonly section: string;
}

/** What writing one message's items needs; `unknownCte` is set when a BINARY item is left out. */
interface ItemContext {
  readonly session: Session;
  readonly meta: MessageMeta;
  readonly message: () => MessageView;
  readonly put: (...parts: Part[]) => void;
  /** Writes `prefix` and then `bytes` as a literal (`~{n}` when `binary`), the bytes uncopied. */
  readonly literal: (prefix: string, bytes: Uint8Array, binary?: boolean) => void;
  readonly keys: ReadonlyMap<FetchAttribute, ItemKeys>;
  /** Section data made for this message, by section key: each is made once per command. */
  readonly sections: Map<string, Uint8Array | null>;
  unknownCte: boolean;
}

async function fetch(session: AuthedSession, reader: Reader, byUid: boolean) {
  reader.sp();
  const set = reader.readSequenceSet();
  reader.sp();
  const items = readFetchAttributes(reader);
  const modifiers = readFetchModifiers(reader);
  reader.end();
  if (byUid && !items.some((item) => item.kind === "UID")) {
    items.unshift({ kind: "UID" } as FetchAttribute);
  }
  const selection = selectionOf(session);
  const named = fetchTargets(session, set, byUid, items, modifiers);
  // RFC 9394: a page of the messages named, by position in UID order.
  const targets = modifiers.partial ? partialSlice(targetsOf(named), modifiers.partial) : null;
  if (recordItemsOnly(items)) {
    const runs = targets ? runsOf(targets) : named;
    const missing = await fetchRecordItems(session, selection.tracker.mailbox, runs, items);
    if (missing > 0) throw expungeIssued();
    return;
  }
  const plan = headerFieldsPlan(items);
  if (plan) {
    const runs = targets ? runsOf(targets) : named;
    const missing = await fetchHeaderFields(session, selection.tracker.mailbox, runs, plan);
    if (missing > 0) throw expungeIssued();
    return;
  }
  return await fetchItems(session, byUid, items, targets ?? targetsOf(named));
}

/** FETCH of items that read the message (and any others), message by message. */
async function fetchItems(
  session: AuthedSession,
  byUid: boolean,
  items: FetchAttribute[],
  targets: readonly Target[],
) {
  const selection = selectionOf(session);
  const keys = new Map(items.map((item) => [item, itemKeys(item)]));
  const { store } = session.ctx;
  const user = session.user;
  const mailbox = selection.tracker.mailbox;

  // A store whose bytes are made for each read (SQLite) frees them once they are written:
  // a first `FETCH 1:* BODY.PEEK[]` of 5,000 messages otherwise faulted in fresh pages for
  // each (see `releaseRaw`).
  const release = store.kind === "sqlite" && store.releaseRaw
    ? (raw: Uint8Array) => store.releaseRaw!(raw)
    : null;
  const lent: Uint8Array[] = [];
  let lentBytes = 0;
  const viewOf = (uid: number) =>
    new MessageView(
      () => {
        const raw = store.getRaw(user, mailbox, uid) ?? new Uint8Array(0);
        if (release) {
          lent.push(raw);
          lentBytes += raw.length;
        }
        return raw;
      },
      (raw) => store.getIndex(user, mailbox, uid) ?? new MessageIndex(raw()),
      () => store.getIndex(user, mailbox, uid, true),
    );
  /**
   * After a message's last item: once a megabyte was read, waits for all output written, then
   * frees it. Never in the middle of a message, whose next item may read its bytes again.
   */
  const giveBack = async () => {
    if (lentBytes < RELEASE_BYTES || session.ended) return;
    await session.drained();
    if (session.ended) return;
    for (const raw of lent) release!(raw);
    lent.length = 0;
    lentBytes = 0;
  };
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
    const changed = selection.tracker.ownFlagChange(
      () => store.setFlags(user, mailbox, uids, "add", ["\\Seen"]),
      false,
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
    // RFC 9051 7.3.5: a keyword set by another session meanwhile is announced before use.
    announceKeywords(session);
    let view: MessageView | null = null;
    const message = () => view ??= viewOf(uid);
    let opened = false;
    const put = (...parts: Part[]) => {
      out.push(opened ? " " : `* ${seq} FETCH (`, ...parts);
      opened = true;
    };
    const literal = (prefix: string, bytes: Uint8Array, binary = false) => {
      put(prefix);
      out.literal(bytes, binary);
    };
    const sections = new Map<string, Uint8Array | null>();
    const context: ItemContext = {
      session,
      meta,
      message,
      put,
      literal,
      keys,
      sections,
      unknownCte: false,
    };
    for (const item of items) {
      writeItem(context, item);
      // Written as it grows: a message's items may add up to far more than the message. Its
      // bytes are given back only after its last item: the next may read them again.
      if (out.length > FLUSH_THRESHOLD) await session.flush();
      if (session.ended) return;
    }
    if (seenNow.has(uid) && !reportsFlags) put(`FLAGS ${flags(session, meta)}`);
    if (session.condstore) {
      // RFC 7162 3.1: a \Seen this FETCH set is reported with UID and MODSEQ, and (as
      // Dovecot does) any FLAGS with MODSEQ.
      if (seenNow.has(uid) && !byUid && !items.some((item) => item.kind === "UID")) {
        put(`UID ${uid}`);
      }
      if ((reportsFlags || seenNow.has(uid)) && !items.some((item) => item.kind === "MODSEQ")) {
        put(`MODSEQ (${meta.modseq})`);
      }
    }
    unknownCte ||= context.unknownCte;
    if (opened) out.push(")\r\n");
    if (out.length > FLUSH_THRESHOLD) await session.flush();
    // Checked here, not by an await of it for each message (5,000 of them cost a first
    // `FETCH 1:* BODY.PEEK[]` on SQLite 20-40 ms, issue 13, round 23).
    if (lentBytes >= RELEASE_BYTES) await giveBack();
    if (session.ended) return;
  }
  if (unknownCte) {
    throw new ImapError("NO", "UNKNOWN-CTE", "Cannot decode the transfer encoding of a part");
  }
  if (missing > 0) throw expungeIssued();
}

function expungeIssued(): ImapError {
  return new ImapError("NO", "EXPUNGEISSUED", "Some of the requested messages no longer exist");
}

/**
 * The messages a FETCH names: all of the set, or with CHANGEDSINCE those changed since
 * (MODSEQ added to the items), after the VANISHED (EARLIER) that UID FETCH's VANISHED asks
 * for. Enables CONDSTORE when the command uses it.
 */
function fetchTargets(
  session: AuthedSession,
  set: SequenceSet,
  byUid: boolean,
  items: FetchAttribute[],
  modifiers: FetchModifiers,
): TargetRuns {
  const { changedSince, vanished } = modifiers;
  if (vanished) {
    // RFC 7162 3.2.6: UID FETCH only, with CHANGEDSINCE, once QRESYNC is enabled.
    if (!byUid) throw new ImapError("BAD", null, "VANISHED is only allowed with UID FETCH");
    if (!session.qresync) {
      throw new ImapError("BAD", null, "QRESYNC is not enabled (ENABLE QRESYNC first)");
    }
    if (changedSince === null) throw new ImapError("BAD", null, "VANISHED needs CHANGEDSINCE");
  }
  if (changedSince === null) {
    if (items.some((item) => item.kind === "MODSEQ")) enableCondstore(session);
    return resolveRuns(session, set, byUid);
  }
  enableCondstore(session);
  if (!items.some((item) => item.kind === "MODSEQ")) items.push({ kind: "MODSEQ" });
  const { store } = session.ctx;
  const mailbox = selectionOf(session).tracker.mailbox;
  if (vanished) {
    // Expunged UIDs above the last one in use count too: `*` is the last UID ever given.
    const info = store.getMailbox(session.user, mailbox)!;
    const wanted = sequenceRanges(set, info.uidNext - 1, selectionOf(session).savedSearch);
    const gone = store.vanishedSince(session.user, mailbox, changedSince);
    writeVanished(session.out, intersectRanges(gone, wanted), true);
  }
  return runsOf(
    resolveAmong(session, set, byUid, store.changedSince(session.user, mailbox, changedSince)),
  );
}

function flags(session: Session, meta: MessageMeta): string {
  return sessionFlagList(session, meta.uid, meta.flags);
}

function itemKeys(item: FetchAttribute): ItemKeys {
  const whole = "partial" in item && item.partial ? { ...item, partial: null } : item;
  return { response: responseKey(item), section: responseKey(whole) };
}

/**
 * A section's data fit for a literal (no NUL, see `withoutNul`), or null when the message has
 * no such section; made once per message and command, whatever the items' partials.
 */
function bodySection(context: ItemContext, key: string, section: Section): Uint8Array | null {
  let bytes = context.sections.get(key);
  if (bytes === undefined) {
    const view = context.message();
    const data = sectionBytes(view, section);
    bytes = data && withoutNul(view, data);
    context.sections.set(key, bytes);
  }
  return bytes;
}

/** A BINARY section's decoded bytes, decoded once per message and command. */
function binaryData(context: ItemContext, key: string, part: MimePart | null): Uint8Array {
  let bytes = context.sections.get(key);
  if (!bytes) context.sections.set(key, bytes = binaryBytes(context.message(), part));
  return bytes;
}

const WHOLE: Section = { part: [], text: null, fields: [] };
const HEADER: Section = { part: [], text: "HEADER", fields: [] };
const TEXT: Section = { part: [], text: "TEXT", fields: [] };

function writeItem(context: ItemContext, item: FetchAttribute): void {
  const { session, meta, message, put } = context;
  const keys = context.keys.get(item)!;
  const key = keys.response;
  switch (item.kind) {
    case "UID":
      return put(`UID ${meta.uid}`);
    case "FLAGS":
      return put(`FLAGS ${flags(session, meta)}`);
    case "INTERNALDATE":
      return put(`INTERNALDATE ${formatInternalDate(meta.internalDate)}`);
    case "SAVEDATE":
      // RFC 8514 4: every message here has a save date, so never NIL.
      return put(`SAVEDATE ${formatInternalDate(meta.saveDate)}`);
    case "RFC822.SIZE":
      return put(`RFC822.SIZE ${meta.size}`);
    case "MODSEQ":
      return put(`MODSEQ (${meta.modseq})`);
    case "EMAILID":
      return put(`EMAILID (${meta.emailId})`);
    case "THREADID":
      return put("THREADID NIL");
    case "PREVIEW": {
      const view = message();
      return put("PREVIEW ", encodeNstring(preview(view.index, () => view.raw), session.utf8));
    }
    // The same data as BODY[], BODY[HEADER] and BODY[TEXT], and cached under their keys.
    case "RFC822":
      return nstring(context, "RFC822 ", bodySection(context, "BODY[]", WHOLE));
    case "RFC822.HEADER":
      return nstring(context, `${item.kind} `, bodySection(context, "BODY[HEADER]", HEADER));
    case "RFC822.TEXT":
      return nstring(context, `${item.kind} `, bodySection(context, "BODY[TEXT]", TEXT));
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
      const bytes = bodySection(context, keys.section, item.section);
      return nstring(context, `${key} `, bytes && applyPartial(bytes, item.partial));
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
        if (section.kind === "missing") return put(`${key} 0`);
        // Decoded already for a BINARY item: its length; else counted without decoding base64.
        const decoded = context.sections.get(`BINARY[${item.part.join(".")}]`);
        return put(`${key} ${decoded ? decoded.length : binarySize(view, section.part)}`);
      }
      if (section.kind === "missing") return put(`${key} NIL`);
      const bytes = applyPartial(binaryData(context, keys.section, section.part), item.partial);
      // RFC 3516 4.3: literal8 only when the data holds NUL, which a literal cannot carry.
      return context.literal(`${key} `, bytes, holdsNul(bytes));
    }
  }
}

/** Section data (without NUL) as an `nstring` after `prefix`: NIL when there is no such section. */
function nstring(context: ItemContext, prefix: string, bytes: Uint8Array | null): void {
  if (bytes) context.literal(prefix, bytes);
  else context.put(prefix, "NIL");
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
