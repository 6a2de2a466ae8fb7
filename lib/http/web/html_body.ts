/**
 * `GET /messages/{id}/html`: a message's HTML body as a page that cannot do harm, for the
 * web inbox's `<iframe sandbox="">`. The Content-Security-Policy alone already blocks every
 * script and every load but inline styles and `data:` images, and sandboxes the document
 * even when it is opened on its own. On top of that, `cid:` images are inlined as `data:`
 * URLs (so they show without a network request) and `<meta http-equiv=refresh>` and `<base>`
 * are removed (a CSP does not govern navigation).
 *
 * Remote images are blocked by default, and each `<img>` that would load one shows a visible
 * placeholder (a `data:` SVG) instead of a broken icon; `X-Remote-Images` says how many there
 * are. `?images=remote` (the web inbox's per-message "Show remote images") serves the body
 * with the images as written and a policy that lets images, and only images, load from
 * http(s): still no script, no style sheet, no frame, no form.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { asciiLower, attribute, tokenizeHtml } from "../../mail/html_tokens.ts";
import { decodeBody, extractContent, type MimePart, parseMime } from "../../mail/mime.ts";
import type { HttpContext } from "../context.ts";
import { HttpError } from "../json.ts";
import { locate } from "../messages.ts";
import type { RouteRequest } from "../router.ts";

/** The policy of every HTML body: nothing runs, nothing loads from anywhere. */
export const HTML_BODY_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; " +
  "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox";

/** The policy with remote images allowed: the same, but `img-src` takes http(s) too. */
export const HTML_BODY_CSP_REMOTE_IMAGES = HTML_BODY_CSP.replace(
  "img-src data:;",
  "img-src data: http: https:;",
);

/** What a blocked remote image shows: a labelled box, not a broken icon. */
const PLACEHOLDER = "data:image/svg+xml," + encodeURIComponent(
  `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40">` +
    `<rect x="0.5" y="0.5" width="159" height="39" fill="#eef0f3" stroke="#9aa0a6" ` +
    `stroke-dasharray="4 3"/><text x="80" y="25" font-family="sans-serif" font-size="12" ` +
    `fill="#555" text-anchor="middle">remote image blocked</text></svg>`,
);

/** Largest image inlined for a `cid:` reference, and all of them together, in octets. */
const MAX_INLINE_IMAGE = 5 * 1024 * 1024;
const MAX_INLINE_TOTAL = 20 * 1024 * 1024;

/** `GET /messages/{id}/html`. */
export function getHtmlBody(ctx: HttpContext, { params, url }: RouteRequest): Response {
  const images = url.searchParams.get("images");
  if (images !== null && images !== "remote") {
    throw new HttpError(400, `"images" must be "remote", got "${images}"`);
  }
  const { raw } = locate(ctx.store, params[0]);
  const root = parseMime(raw);
  const { html } = extractContent(raw, root);
  if (html === null) throw new HttpError(404, `Message "${params[0]}" has no html body`);
  const blocked = blockRemoteImages(defuse(inlineCidImages(html, raw, root)));
  return new Response(images === "remote" ? blocked.original : blocked.html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": images === "remote" ? HTML_BODY_CSP_REMOTE_IMAGES : HTML_BODY_CSP,
      "x-remote-images": String(blocked.count),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    },
  });
}

/**
 * Removes what navigates or rebases the document: meta refresh and `<base>`. The tags are
 * found by the tokenizer, so quoted attribute values cannot hide them (`<meta x=">"
 * http-equiv=refresh>`), and hostile markup costs linear time.
 */
export function defuse(html: string): string {
  const kept: string[] = [];
  let from = 0;
  for (const token of tokenizeHtml(html)) {
    if (token.kind !== "start" || !navigates(token.name, token.attributes)) continue;
    kept.push(html.slice(from, token.start));
    from = token.end;
  }
  if (from === 0) return html;
  kept.push(html.slice(from));
  return kept.join("");
}

/** Whether a URL loads from the network (http, https or scheme-relative). */
function isRemote(url: string): boolean {
  const lower = asciiLower(url.trim());
  return lower.startsWith("http:") || lower.startsWith("https:") || lower.startsWith("//");
}

/**
 * Gives every `<img>` with a remote `src` (or `srcset`) the placeholder instead, keeping its
 * other attributes (so its width and height); `<source srcset>` of a `<picture>` is dropped
 * too. `count` is the number of images blocked; `original` the input.
 */
export function blockRemoteImages(
  html: string,
): { html: string; original: string; count: number } {
  const kept: string[] = [];
  let from = 0;
  let count = 0;
  for (const token of tokenizeHtml(html)) {
    if (token.kind !== "start" || (token.name !== "img" && token.name !== "source")) continue;
    const src = attribute(token.attributes, "src");
    const srcset = attribute(token.attributes, "srcset");
    const remote = (src !== null && isRemote(src)) || (srcset !== null && srcset.trim() !== "");
    if (!remote) continue;
    if (token.name === "img") count++;
    const attributes = token.attributes.filter(([name]) => name !== "src" && name !== "srcset");
    let tag = `<${token.name}`;
    if (token.name === "img") tag += ` src="${PLACEHOLDER}"`;
    for (const [name, value] of attributes) tag += ` ${name}="${value.replace(/"/g, "&quot;")}"`;
    kept.push(html.slice(from, token.start), tag + ">");
    from = token.end;
  }
  if (from === 0) return { html, original: html, count };
  kept.push(html.slice(from));
  return { html: kept.join(""), original: html, count };
}

function navigates(name: string, attributes: ReadonlyArray<readonly [string, string]>): boolean {
  if (name === "base") return true;
  if (name !== "meta") return false;
  const equiv = attribute(attributes, "http-equiv");
  return equiv !== null && asciiLower(equiv.trim()).startsWith("refresh");
}

/** Replaces `cid:ID` references with `data:` URLs of the parts with that Content-ID. */
export function inlineCidImages(html: string, raw: Uint8Array, root: MimePart): string {
  if (!/cid:/i.test(html)) return html;
  const byId = new Map<string, MimePart>();
  const walk = (part: MimePart) => {
    if (part.contentId !== null && part.children.length === 0) {
      byId.set(part.contentId.toLowerCase(), part);
    }
    part.children.forEach(walk);
  };
  walk(root);
  let budget = MAX_INLINE_TOTAL;
  return html.replace(/cid:([^"'\s>)]+)/gi, (whole, id: string) => {
    const part = byId.get(decodeURIComponentSafe(id).toLowerCase());
    if (!part) return whole;
    const bytes = decodeBody(raw, part);
    if (bytes.length > MAX_INLINE_IMAGE || bytes.length > budget) return whole;
    budget -= bytes.length;
    const type = `${part.contentType.type}/${part.contentType.subtype}`.replace(/[^\w.+\/-]/g, "");
    return `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
  });
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
