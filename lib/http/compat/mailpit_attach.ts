/**
 * Attachments of Mailpit's `POST /api/v1/send` (`[{Content: base64, Filename, ContentType?,
 * ContentID?}]`): the message `/inject` would compose becomes the first part of a
 * `multipart/mixed`, each attachment a base64 part after it (with a `Content-ID`, an inline
 * one). Composed text is 7-bit (RFC 2047 headers, quoted-printable bodies), so the result is
 * handed to `/inject` as `raw`.
 *
 * @module
 */

import { findHeaderEnd, parseHeaderFields } from "../../mail/headers.ts";
import { type ComposeInput, composeMessage } from "../compose.ts";
import { HttpError } from "../json.ts";

/** One attachment, validated. */
interface Attachment {
  bytes: string;
  filename: string;
  type: string;
  contentId: string | null;
}

/** Mailpit's attachment list, or a 400 naming the entry at fault. */
export function readAttachments(value: unknown[]): Attachment[] {
  return value.map((entry, i) => {
    const item = entry as Record<string, unknown> | null;
    const where = `"Attachments"[${i}]`;
    if (typeof item?.Content !== "string" || typeof item.Filename !== "string") {
      throw new HttpError(400, `${where} needs "Content" (base64) and "Filename"`);
    }
    let bytes: string;
    try {
      bytes = atob(item.Content.replace(/\s+/g, ""));
    } catch {
      throw new HttpError(400, `${where}: "Content" is not base64`);
    }
    const given = typeof item.ContentType === "string" ? item.ContentType.trim() : "";
    const type = /^[\w.+-]+\/[\w.+-]+$/.test(given) ? given : "application/octet-stream";
    const id = typeof item.ContentID === "string" ? item.ContentID.replace(/^<|>$/g, "") : "";
    if (/[\s<>"]/.test(id)) throw new HttpError(400, `${where}: "ContentID" is not a message id`);
    return {
      bytes,
      filename: item.Filename.replace(/[\x00-\x1f\x7f"\\]/g, "_"),
      type,
      contentId: id === "" ? null : id,
    };
  });
}

/** Base64 of a binary string in lines of 76 characters (RFC 2045 6.8). */
function base64Lines(binary: string): string {
  const encoded = btoa(binary);
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.join("\r\n");
}

/** The composed message with `attachments` after its body, as 7-bit text. */
export function composeWithAttachments(input: ComposeInput, attachments: Attachment[]): string {
  const message = composeMessage(input);
  const { headerEnd, bodyStart } = findHeaderEnd(message);
  const latin1 = (from: number, to: number) => String.fromCharCode(...message.subarray(from, to));
  let top = "";
  let content = "";
  for (const field of parseHeaderFields(message, 0, headerEnd)) {
    const text = latin1(field.start, field.end);
    if (/^content-(type|transfer-encoding)$/i.test(field.name)) content += text;
    else top += text;
  }
  const boundary = `=_elektromail_mixed_${crypto.randomUUID()}`;
  let out = `${top}Content-Type: multipart/mixed;\r\n boundary="${boundary}"\r\n\r\n` +
    `--${boundary}\r\n${content}\r\n`;
  // The body in chunks: String.fromCharCode takes a bounded number of arguments.
  for (let i = bodyStart; i < message.length; i += 8192) {
    out += latin1(i, Math.min(message.length, i + 8192));
  }
  for (const file of attachments) {
    const disposition = file.contentId === null ? "attachment" : "inline";
    out += `\r\n--${boundary}\r\n` +
      `Content-Type: ${file.type}; name="${file.filename}"\r\n` +
      `Content-Disposition: ${disposition}; filename="${file.filename}"\r\n` +
      (file.contentId === null ? "" : `Content-ID: <${file.contentId}>\r\n`) +
      `Content-Transfer-Encoding: base64\r\n\r\n${base64Lines(file.bytes)}`;
  }
  return out + `\r\n--${boundary}--\r\n`;
}
