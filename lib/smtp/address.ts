/**
 * Parsing of `MAIL FROM:<path> params` and `RCPT TO:<path> params` (RFC 5321 4.1.2).
 *
 * @module
 */

import { SmtpError } from "./reply.ts";

/** A parsed MAIL or RCPT argument. */
export interface PathArgument {
  /** The mailbox, or "" for the null reverse-path `<>`. */
  readonly address: string;
  /** ESMTP parameters, keyword upper-cased; value null when none was given. */
  readonly params: ReadonlyMap<string, string | null>;
}

/**
 * Parses the text after `MAIL`/`RCPT` (`FROM:<a@b> SIZE=10`). `prefix` is `FROM` or `TO`.
 * Lenient where real clients are sloppy: a space after the colon, a missing pair of angle
 * brackets around a plain address. Throws {@linkcode SmtpError} 501 on bad syntax.
 */
export function parsePathArgument(text: string, prefix: "FROM" | "TO"): PathArgument {
  const match = new RegExp(`^${prefix}:\\s*`, "i").exec(text);
  if (!match) {
    throw new SmtpError(
      501,
      "5.5.4",
      `Syntax: ${prefix === "FROM" ? "MAIL FROM:<address>" : "RCPT TO:<address>"}`,
    );
  }
  let rest = text.slice(match[0].length);
  let path: string;
  if (rest.startsWith("<")) {
    const close = findClosingBracket(rest);
    if (close < 0) throw new SmtpError(501, "5.1.7", "Bad address syntax: missing >");
    path = rest.slice(1, close);
    rest = rest.slice(close + 1);
  } else {
    const space = rest.search(/\s/);
    path = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space);
  }
  // Drop an obsolete source route: <@a,@b:user@c>.
  if (path.startsWith("@")) {
    const colon = path.indexOf(":");
    if (colon < 0) throw new SmtpError(501, "5.1.7", "Bad address syntax: broken source route");
    path = path.slice(colon + 1);
  }
  if (path !== "" && !isMailbox(path)) {
    throw new SmtpError(
      501,
      prefix === "FROM" ? "5.1.7" : "5.1.3",
      `Bad address syntax: <${path}>`,
    );
  }
  if (rest !== "" && !/^\s/.test(rest)) {
    throw new SmtpError(501, "5.5.4", "Syntax: a space must separate parameters");
  }
  const params = new Map<string, string | null>();
  for (const word of rest.trim().split(/\s+/)) {
    if (word === "") continue;
    const eq = word.indexOf("=");
    const keyword = (eq < 0 ? word : word.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(keyword)) {
      throw new SmtpError(501, "5.5.4", `Bad parameter: ${word}`);
    }
    params.set(keyword, eq < 0 ? null : word.slice(eq + 1));
  }
  return { address: path, params };
}

function findClosingBracket(text: string): number {
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\" && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ">" && !quoted) return i;
  }
  return -1;
}

/** A Mailbox per RFC 5321 (dot-string or quoted local part) with RFC 6531 UTF-8 allowed. */
function isMailbox(path: string): boolean {
  const at = path.lastIndexOf("@");
  if (at <= 0 || at === path.length - 1) {
    // RFC 5321 4.5.1: "postmaster" alone is a valid recipient.
    return path.toLowerCase() === "postmaster";
  }
  const local = path.slice(0, at);
  const domain = path.slice(at + 1);
  const localOk = /^"(?:[^"\\\r\n]|\\.)*"$/.test(local) ||
    /^[^\s()<>\[\]:;@\\,."]+(\.[^\s()<>\[\]:;@\\,."]+)*$/.test(local);
  const domainOk = /^\[[^\]\s]+\]$/.test(domain) || /^[^\s()<>\[\]:;@\\,"]+$/.test(domain);
  return localOk && domainOk && path.length <= 512;
}

/** Whether text holds anything beyond ASCII (needs SMTPUTF8). */
export function isNonAscii(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}
