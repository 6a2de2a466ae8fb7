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
 *
 * Hand-written scans, run twice per message: what the patterns it replaces matched (`\s` is
 * {@linkcode isSpace}, the prefix ASCII case-insensitive), without compiling a pattern per
 * call.
 */
export function parsePathArgument(text: string, prefix: "FROM" | "TO"): PathArgument {
  if (!startsWithPrefix(text, prefix)) {
    throw new SmtpError(
      501,
      "5.5.4",
      `Syntax: ${prefix === "FROM" ? "MAIL FROM:<address>" : "RCPT TO:<address>"}`,
    );
  }
  // trimStart removes exactly the characters `\s` matches.
  let rest = text.slice(prefix.length + 1).trimStart();
  let path: string;
  if (rest.charCodeAt(0) === LESS_THAN) {
    const close = findClosingBracket(rest);
    if (close < 0) throw new SmtpError(501, "5.1.7", "Bad address syntax: missing >");
    path = rest.slice(1, close);
    rest = rest.slice(close + 1);
  } else {
    const space = findSpace(rest, 0);
    path = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space);
  }
  // Drop an obsolete source route: <@a,@b:user@c>.
  if (path.charCodeAt(0) === AT) {
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
  if (rest !== "" && !isSpace(rest.charCodeAt(0))) {
    throw new SmtpError(501, "5.5.4", "Syntax: a space must separate parameters");
  }
  return { address: path, params: rest === "" ? NO_PARAMS : parseParams(rest) };
}

/** The parameters of a path without any (nearly every MAIL and RCPT): one map for all. */
const NO_PARAMS: ReadonlyMap<string, string | null> = new Map();

const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;
const AT = 0x40;
const DOT = 0x2e;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** `PREFIX:` at the start, the letters in either ASCII case. */
function startsWithPrefix(text: string, prefix: string): boolean {
  if (text.length <= prefix.length || text.charCodeAt(prefix.length) !== 0x3a) return false;
  for (let i = 0; i < prefix.length; i++) {
    if ((text.charCodeAt(i) | 0x20) !== (prefix.charCodeAt(i) | 0x20)) return false;
  }
  return true;
}

/** ESMTP parameters (`SIZE=10 BODY=8BITMIME`), space-separated; keywords upper-cased. */
function parseParams(text: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i === text.length) break;
    let end = findSpace(text, i);
    if (end < 0) end = text.length;
    const word = text.slice(i, end);
    i = end;
    const eq = word.indexOf("=");
    const keyword = (eq < 0 ? word : word.slice(0, eq)).toUpperCase();
    if (!isKeyword(keyword)) throw new SmtpError(501, "5.5.4", `Bad parameter: ${word}`);
    params.set(keyword, eq < 0 ? null : word.slice(eq + 1));
  }
  return params;
}

/** `[A-Z0-9][A-Z0-9-]*` (esmtp-keyword, upper-cased). */
function isKeyword(word: string): boolean {
  if (word === "" || word.charCodeAt(0) === 0x2d) return false;
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    const ok = (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x2d;
    if (!ok) return false;
  }
  return true;
}

/** The first `\s` character at or after `from`, or -1. */
function findSpace(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (isSpace(text.charCodeAt(i))) return i;
  return -1;
}

/** Whether a UTF-16 code unit is one `\s` matches (ECMAScript WhiteSpace and LineTerminator). */
function isSpace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f ||
    code === 0x3000 || code === 0xfeff;
}

function findClosingBracket(text: string): number {
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH && quoted) i++;
    else if (code === QUOTE) quoted = !quoted;
    else if (code === GREATER_THAN && !quoted) return i;
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
  if (path.length > 512) return false;
  const localOk = path.charCodeAt(0) === QUOTE
    ? isQuotedString(path, 0, at)
    : isDotString(path, 0, at);
  return localOk && isDomain(path, at + 1, path.length);
}

/** `"(?:[^"\\\r\n]|\\.)*"`: the whole of `text[start, end)`. */
function isQuotedString(text: string, start: number, end: number): boolean {
  if (end - start < 2 || text.charCodeAt(end - 1) !== QUOTE) return false;
  for (let i = start + 1; i < end - 1; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) {
      // `\\.`: a quoted pair inside the quotes, not a line terminator (`.` does not match those).
      i++;
      if (i >= end - 1 || isLineTerminator(text.charCodeAt(i)) || isControl(text.charCodeAt(i))) {
        return false;
      }
    } else if (code === QUOTE || isControl(code)) return false;
  }
  return true;
}

/** `[^\s()<>\[\]:;@\\,."]+(\.[^\s()<>\[\]:;@\\,."]+)*`: the whole of `text[start, end)`. */
function isDotString(text: string, start: number, end: number): boolean {
  let atomLength = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === DOT) {
      if (atomLength === 0) return false;
      atomLength = 0;
    } else if (isSpecial(code)) return false;
    else atomLength++;
  }
  return atomLength > 0;
}

/** `\[[^\]\s]+\]` or `[^\s()<>\[\]:;@\\,"]+`: the whole of `text[start, end)`. */
function isDomain(text: string, start: number, end: number): boolean {
  if (text.charCodeAt(start) === 0x5b) {
    if (end - start < 3 || text.charCodeAt(end - 1) !== 0x5d) return false;
    for (let i = start + 1; i < end - 1; i++) {
      const code = text.charCodeAt(i);
      if (code === 0x5d || isSpace(code) || isControl(code)) return false;
    }
    return true;
  }
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code !== DOT && isSpecial(code)) return false;
  }
  return end > start;
}

/** `\s ( ) < > [ ] : ; @ \\ , . "`: not allowed in an atom. */
function isSpecial(code: number): boolean {
  switch (code) {
    case 0x28: // (
    case 0x29: // )
    case LESS_THAN:
    case GREATER_THAN:
    case 0x5b: // [
    case 0x5d: // ]
    case 0x3a: // :
    case 0x3b: // ;
    case AT:
    case BACKSLASH:
    case 0x2c: // ,
    case DOT:
    case QUOTE:
      return true;
    default:
      return isSpace(code) || isControl(code);
  }
}

/**
 * ASCII control characters (NUL, ESC, DEL, ...): in no part of an RFC 5321 address (atext,
 * qtextSMTP and quoted pairs are printable), so never written into a stored `Return-Path:`.
 */
export function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

/** What `.` in a pattern without the `s` flag does not match. */
function isLineTerminator(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029;
}

/** Whether text holds anything beyond ASCII (needs SMTPUTF8). */
export function isNonAscii(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}
