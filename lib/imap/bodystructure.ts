/**
 * FETCH BODYSTRUCTURE and BODY (RFC 9051 7.5.2): the encoded structure of a message, built
 * once per message and variant and kept in its MIME index (`index.memo`).
 *
 * ```abnf
 * body            = "(" (body-type-1part / body-type-mpart) ")"
 * body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
 * body-type-basic = media-basic SP body-fields
 * body-type-msg   = media-message SP body-fields SP envelope SP body SP body-fld-lines
 * body-type-text  = media-text SP body-fields SP body-fld-lines
 * body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
 *                   body-fld-octets
 * body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
 * body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
 * body-ext-mpart  = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
 * body-fld-dsp    = "(" string SP body-fld-param ")" / nil
 * body-fld-lang   = nstring / "(" string *(SP string) ")"
 * ```
 *
 * BODY is the same without extension data. `media-message` is MESSAGE/RFC822 or, in
 * IMAP4rev2, MESSAGE/GLOBAL; an IMAP4rev1 client (RFC 3501 knows only RFC822) gets a
 * message/global part as a basic body.
 *
 * @module
 */

import {
  type BodyStructure,
  bodyStructureOf,
  type Disposition,
  hasMessageGlobal,
  type Params,
  type SinglePart,
} from "../mail/bodystructure.ts";
import type { MimePart } from "../mail/mime.ts";
import type { ByteSlabs } from "./byte_slabs.ts";
import { type Encoded, EncodedWriter, writeEnvelope } from "./envelope.ts";
import type { MessageView } from "./message_view.ts";

/** Which form of the structure to write. */
export interface BodyForm {
  /** BODYSTRUCTURE (with extension data) rather than BODY. */
  readonly extended: boolean;
  /** message/global parts carry envelope, body and lines (IMAP4rev2). */
  readonly messageGlobal: boolean;
}

/** Writes `body` (parentheses included). */
export function writeBody(out: EncodedWriter, body: BodyStructure, form: BodyForm): void {
  out.push("(");
  if (body.kind === "multipart") {
    for (const child of body.children) writeBody(out, child, form);
    out.push(" ").nstring(body.subtype);
    if (form.extended) {
      out.push(" ");
      writeParams(out, body.params);
      writeExtension(out, body);
    }
  } else writeSingle(out, body, form);
  out.push(")");
}

function writeSingle(out: EncodedWriter, part: SinglePart, form: BodyForm): void {
  out.nstring(part.type).push(" ").nstring(part.subtype).push(" ");
  writeParams(out, part.params);
  out.push(" ").nstring(part.id).push(" ").nstring(part.description).push(" ")
    .nstring(part.encoding).push(` ${part.size}`);
  const message = part.message && (part.subtype === "rfc822" || form.messageGlobal)
    ? part.message
    : null;
  if (message) {
    out.push(" (");
    writeEnvelope(out, message.envelope);
    out.push(") ");
    writeBody(out, message.body, form);
  }
  if (part.lines !== null && (message || part.type === "text")) out.push(` ${part.lines}`);
  if (!form.extended) return;
  out.push(" ").nstring(part.md5);
  writeExtension(out, part);
}

function writeExtension(
  out: EncodedWriter,
  body: {
    disposition: Disposition | null;
    language: readonly string[] | null;
    location: string | null;
  },
): void {
  out.push(" ");
  if (body.disposition) {
    out.push("(").nstring(body.disposition.type).push(" ");
    writeParams(out, body.disposition.params);
    out.push(")");
  } else out.push("NIL");
  out.push(" ");
  if (body.language) {
    out.push("(");
    body.language.forEach((tag, i) => out.push(i > 0 ? " " : "").nstring(tag));
    out.push(")");
  } else out.push("NIL");
  out.push(" ").nstring(body.location);
}

function writeParams(out: EncodedWriter, params: Params | null): void {
  if (!params) {
    out.push("NIL");
    return;
  }
  out.push("(");
  // Indexed, the pairs not destructured (an iterator a pair): every delivered message's
  // BODYSTRUCTURE is written.
  for (let i = 0; i < params.length; i++) {
    const param = params[i];
    out.push(i > 0 ? " " : "").nstring(param[0]).push(" ").nstring(param[1]);
  }
  out.push(")");
}

/**
 * The encoded `body` of a message (or of a part), in the given form.
 *
 * @example
 * ```ts
 * encodeBodyStructure(raw, index.root, { extended: true, messageGlobal: false });
 * // '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 1 NIL NIL NIL NIL)'
 * ```
 */
export function encodeBodyStructure(raw: Uint8Array, part: MimePart, form: BodyForm): Encoded {
  const out = new EncodedWriter();
  writeBody(out, bodyStructureOf(raw, part), form);
  return out.done();
}

const KEYS = {
  body: Symbol("imap BODY"),
  bodyRev2: Symbol("imap BODY rev2"),
  bodystructure: Symbol("imap BODYSTRUCTURE"),
  bodystructureRev2: Symbol("imap BODYSTRUCTURE rev2"),
};

/**
 * The message's encoded BODY (`extended` false) or BODYSTRUCTURE, computed on first use and
 * kept (as bytes, ready to send) in its MIME index (cut from `slabs` when given). The IMAP4rev2 form is a separate entry only for messages that hold
 * a message/global part; for all others it is the same value.
 */
export function cachedBodyStructure(
  view: MessageView,
  extended: boolean,
  rev2: boolean,
  slabs: ByteSlabs | null = null,
): Uint8Array {
  // The usual call (indexing at delivery, an IMAP4rev1 FETCH): one memo entry, no closures
  // for the rev2 entry.
  if (!rev2) {
    return view.index.memo(extended ? KEYS.bodystructure : KEYS.body, () => {
      const out = new EncodedWriter(slabs);
      writeBody(out, bodyStructureOf(view.raw, view.root), { extended, messageGlobal: false });
      return out.bytes();
    });
  }
  let structure: BodyStructure | null = null;
  const tree = () => structure ??= bodyStructureOf(view.raw, view.root);
  const encode = (messageGlobal: boolean) => {
    const out = new EncodedWriter(slabs);
    writeBody(out, tree(), { extended, messageGlobal });
    return out.bytes();
  };
  const rev1 = () =>
    view.index.memo(extended ? KEYS.bodystructure : KEYS.body, () => encode(false));
  return view.index.memo(
    extended ? KEYS.bodystructureRev2 : KEYS.bodyRev2,
    () => hasMessageGlobal(tree()) ? encode(true) : rev1(),
  );
}
