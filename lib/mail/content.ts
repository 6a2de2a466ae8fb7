/**
 * What a person reads of a message (the HTTP API): the text and html bodies decoded to
 * strings, and the attachments with their file names, types and decoded sizes.
 *
 * @module
 */

import type { MimePart } from "./mime_part.ts";
import { base64DecodedLength, decodeBodyText, decodeQuotedPrintable, rawBody } from "./transfer.ts";

/** One attachment as the HTTP API lists it. */
export interface AttachmentInfo {
  /** IMAP part number, e.g. `2` or `1.2`. */
  readonly part: string;
  readonly filename: string | null;
  /** `type/subtype`. */
  readonly contentType: string;
  /** Size after removing the transfer encoding, in octets. */
  readonly size: number;
  /** `attachment`, `inline`, or null when the part has no Content-Disposition. */
  readonly disposition: string | null;
  readonly contentId: string | null;
}

/** The readable bodies and the attachments of a message. */
export interface MessageContent {
  /** The text/plain body decoded to a string, or null. */
  readonly text: string | null;
  readonly html: string | null;
  /** Part numbers of the parts chosen as text and html. */
  readonly textPart: string | null;
  readonly htmlPart: string | null;
  readonly attachments: readonly AttachmentInfo[];
}

/** The part's file name: disposition `filename`, else content-type `name`. */
export function partFilename(part: MimePart): string | null {
  return part.disposition?.params.filename ?? part.contentType.params.name ?? null;
}

function isAttachmentMarked(part: MimePart): boolean {
  return part.disposition?.type === "attachment";
}

/** IMAP part number of a part as the HTTP API names it (`1` for a single-part message). */
function publicNumber(part: MimePart): string {
  return part.partNumber === "" ? "1" : part.partNumber;
}

/**
 * Chooses the text and html bodies (the first text/plain and text/html not marked as
 * attachments, preferring those inside a multipart/alternative) and lists everything else
 * that is content as attachments. Encapsulated messages are attachments as a whole.
 */
export function extractContent(raw: Uint8Array, root: MimePart): MessageContent {
  const leaves: Array<{ part: MimePart; inAlternative: boolean }> = [];
  const walk = (part: MimePart, inAlternative: boolean) => {
    if (part.children.length > 0) {
      const alternative = inAlternative ||
        (part.contentType.type === "multipart" && part.contentType.subtype === "alternative");
      for (const child of part.children) walk(child, alternative);
    } else leaves.push({ part, inAlternative });
  };
  walk(root, false);
  const isBody = (part: MimePart, subtype: string) =>
    part.contentType.type === "text" && part.contentType.subtype === subtype &&
    !isAttachmentMarked(part) && (part.disposition !== null || partFilename(part) === null);
  const choose = (subtype: string) =>
    leaves.find(({ part, inAlternative }) => inAlternative && isBody(part, subtype))?.part ??
      leaves.find(({ part }) => isBody(part, subtype))?.part ?? null;
  const textPart = choose("plain");
  const htmlPart = choose("html");
  const attachments: AttachmentInfo[] = [];
  for (const { part, inAlternative } of leaves) {
    if (part === textPart || part === htmlPart) continue;
    const unnamedText = part.contentType.type === "text" && partFilename(part) === null &&
      !isAttachmentMarked(part);
    if (unnamedText && inAlternative) continue; // another rendering of the chosen body
    const body = rawBody(raw, part);
    attachments.push({
      part: publicNumber(part),
      filename: partFilename(part),
      contentType: `${part.contentType.type}/${part.contentType.subtype}`,
      size: part.encoding === "base64"
        ? base64DecodedLength(body)
        : part.encoding === "quoted-printable"
        ? decodeQuotedPrintable(body).length
        : body.length,
      disposition: part.disposition?.type ?? null,
      contentId: part.contentId,
    });
  }
  return {
    text: textPart ? decodeBodyText(raw, textPart) : null,
    html: htmlPart ? decodeBodyText(raw, htmlPart) : null,
    textPart: textPart ? publicNumber(textPart) : null,
    htmlPart: htmlPart ? publicNumber(htmlPart) : null,
    attachments,
  };
}
