/**
 * RFC 5322 3.4 address lists, read the way IMAP ENVELOPE needs them (RFC 9051 7.5.2): each
 * mailbox as display name, source route, local part and domain, and groups as a start and an
 * end marker.
 *
 * ```abnf
 * address-list = (address *("," address)) / obs-addr-list
 * address      = mailbox / group
 * mailbox      = name-addr / addr-spec
 * name-addr    = [display-name] angle-addr
 * angle-addr   = [CFWS] "<" [obs-route] addr-spec ">" [CFWS]
 * group        = display-name ":" [group-list] ";" [CFWS]
 * addr-spec    = local-part "@" domain
 * ```
 *
 * Values are not decoded: a display name keeps its RFC 2047 encoded words, a quoted local part
 * keeps its quotes (it is the `local-part` as written), and any string works, including binary
 * strings with 8-bit bytes. Garbage never throws. Like Dovecot, a mailbox without a local part
 * or a domain gets `MISSING_MAILBOX` / `MISSING_DOMAIN`, because a NIL host would turn it
 * into a group marker; a display name may also come from a trailing comment
 * (`bob@example.com (Bob)`).
 *
 * @module
 */

import { decodeEncodedWords } from "./headers.ts";

/** One mailbox. */
export interface MailboxAddress {
  readonly kind: "mailbox";
  /** Display name (phrase) with quotes removed, or null. */
  readonly name: string | null;
  /** Obsolete source route (`@a,@b`), or null. */
  readonly route: string | null;
  /** Local part as written (quoted local parts keep their quotes). */
  readonly mailbox: string;
  readonly host: string;
}

/** The start of a group (`name:`); the group's mailboxes follow, then a {@linkcode GroupEnd}. */
export interface GroupStart {
  readonly kind: "group";
  readonly name: string;
}

/** The end of a group (`;`). */
export interface GroupEnd {
  readonly kind: "end";
}

export type AddressEntry = MailboxAddress | GroupStart | GroupEnd;

/** Local part of a mailbox that has none (`<@example.com>`, `<>`). */
export const MISSING_MAILBOX = "MISSING_MAILBOX";
/** Domain of a mailbox that has none (`To: alice`). */
export const MISSING_DOMAIN = "MISSING_DOMAIN";

/** Most entries read from one field; the rest is ignored (a header is bounded anyway). */
const MAX_ENTRIES = 10_000;

interface Token {
  readonly kind: "atom" | "quoted" | "literal" | "comment" | "special";
  /** Atom text, unescaped quoted or comment text, a literal with brackets, or the special. */
  readonly text: string;
  /** The token as written (a quoted string with its quotes and escapes). */
  readonly raw: string;
  /** White space or a comment came before it. */
  readonly space: boolean;
}

const SPECIALS = "<>@,;:.";
const ATOM_STOP = ' \t\r\n()<>@,;:."[';

function lex(value: string): Token[] {
  const tokens: Token[] = [];
  let space = false;
  let i = 0;
  const n = value.length;
  while (i < n) {
    const ch = value[i];
    if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") {
      space = true;
      i++;
    } else if (ch === "(") {
      let depth = 0;
      let text = "";
      const start = i;
      for (; i < n; i++) {
        const c = value[i];
        if (c === "\\" && i + 1 < n) text += value[++i];
        else if (c === "(") {
          if (depth++ > 0) text += c;
        } else if (c === ")") {
          if (--depth === 0) {
            i++;
            break;
          }
          text += c;
        } else text += c;
      }
      tokens.push({ kind: "comment", text, raw: value.slice(start, i), space });
      space = true;
    } else if (ch === '"') {
      let text = "";
      const start = i++;
      while (i < n && value[i] !== '"') {
        if (value[i] === "\\" && i + 1 < n) i++;
        text += value[i++];
      }
      i++; // the closing quote (or the end)
      tokens.push({ kind: "quoted", text, raw: value.slice(start, Math.min(i, n)), space });
      space = false;
    } else if (ch === "[") {
      const close = value.indexOf("]", i);
      const end = close < 0 ? n : close + 1;
      const raw = value.slice(i, end);
      tokens.push({ kind: "literal", text: raw, raw, space });
      i = end;
      space = false;
    } else if (SPECIALS.includes(ch)) {
      tokens.push({ kind: "special", text: ch, raw: ch, space });
      i++;
      space = false;
    } else {
      const start = i;
      while (i < n && !ATOM_STOP.includes(value[i])) i++;
      // A stray ")" or "]" cannot stop an atom, or the loop would not advance.
      if (i === start) i++;
      const raw = value.slice(start, i);
      tokens.push({ kind: "atom", text: raw, raw, space });
      space = false;
    }
  }
  return tokens;
}

const isSpecial = (token: Token | undefined, ch: string) =>
  token?.kind === "special" && token.text === ch;

/**
 * Parses an address list (the value of From, To, Cc, Bcc, Sender, Reply-To).
 *
 * @example
 * ```ts
 * parseAddressList('"Doe, Jane" <jane@example.com>, team: bob@example.com;');
 * // [{ kind: "mailbox", name: "Doe, Jane", route: null, mailbox: "jane", host: "example.com" },
 * //  { kind: "group", name: "team" }, { kind: "mailbox", ... "bob" ... }, { kind: "end" }]
 * ```
 */
export function parseAddressList(value: string): AddressEntry[] {
  return simpleMailbox(value) ?? parseAddressListGeneral(value);
}

/** Most values an {@linkcode addressListMemo} keeps. */
export const ADDRESS_MEMO_SIZE = 8;

/** Parses an address list; {@linkcode parseAddressList} or a memo of it. */
export type AddressListParser = (value: string) => readonly AddressEntry[];

/**
 * {@linkcode parseAddressList} that gives the same list again for a value it has parsed: one
 * for the indexing of one message, where ENVELOPE and SEARCH read the same From and To (the
 * same text when the header is ASCII), so each is parsed once. It keeps the first
 * {@linkcode ADDRESS_MEMO_SIZE} values only: ENVELOPE reads at most six, and a message with
 * thousands of address fields would otherwise make every lookup scan all the earlier ones.
 *
 * @example
 * ```ts
 * const parse = addressListMemo();
 * parse("a@b.org") === parse("a@b.org"); // true
 * ```
 */
export function addressListMemo(): AddressListParser {
  const values: string[] = [];
  const lists: AddressEntry[][] = [];
  return (value) => {
    for (let i = 0; i < values.length; i++) if (values[i] === value) return lists[i];
    const list = parseAddressList(value);
    if (values.length >= ADDRESS_MEMO_SIZE) return list;
    values.push(value);
    lists.push(list);
    return list;
  };
}

/**
 * {@linkcode parseAddressList} without its fast path for the commonest values; what the
 * tests hold the fast path to.
 */
export function parseAddressListGeneral(value: string): AddressEntry[] {
  const tokens = lex(value);
  const entries: AddressEntry[] = [];
  let inGroup = false;
  let pos = 0;
  while (pos < tokens.length && entries.length < MAX_ENTRIES) {
    const token = tokens[pos];
    if (isSpecial(token, ",") || token.kind === "comment") {
      pos++;
      continue;
    }
    if (isSpecial(token, ";")) {
      if (inGroup) entries.push({ kind: "end" });
      inGroup = false;
      pos++;
      continue;
    }
    const colon = inGroup ? -1 : groupColon(tokens, pos);
    if (colon >= 0) {
      entries.push({ kind: "group", name: phrase(tokens.slice(pos, colon)) ?? "" });
      inGroup = true;
      pos = colon + 1;
      continue;
    }
    const end = mailboxEnd(tokens, pos);
    const mailbox = parseMailbox(tokens.slice(pos, end));
    if (mailbox) entries.push(mailbox);
    pos = Math.max(end, pos + 1);
  }
  if (inGroup) entries.push({ kind: "end" });
  return entries;
}

/** The index of the `:` that makes the tokens from `pos` a group, or -1. */
function groupColon(tokens: Token[], pos: number): number {
  for (let i = pos; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind !== "special" || token.text === ".") continue;
    return token.text === ":" ? i : -1;
  }
  return -1;
}

/** Where the mailbox starting at `pos` ends: the next `,` or `;` outside angle brackets. */
function mailboxEnd(tokens: Token[], pos: number): number {
  let angle = false;
  for (let i = pos; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind !== "special") continue;
    if (token.text === "<") angle = true;
    else if (token.text === ">") angle = false;
    else if (!angle && (token.text === "," || token.text === ";")) return i;
  }
  return tokens.length;
}

function parseMailbox(tokens: Token[]): MailboxAddress | null {
  if (!tokens.some((token) => token.kind !== "comment")) return null;
  const angle = tokens.findIndex((token) => isSpecial(token, "<"));
  if (angle >= 0) {
    let close = tokens.findIndex((token, i) => i > angle && isSpecial(token, ">"));
    if (close < 0) close = tokens.length;
    let inner = tokens.slice(angle + 1, close).filter((token) => token.kind !== "comment");
    let route: string | null = null;
    const colon = inner.findIndex((token) => isSpecial(token, ":"));
    if (isSpecial(inner[0], "@") && colon > 0) {
      route = tight(inner.slice(0, colon));
      inner = inner.slice(colon + 1);
    }
    return { kind: "mailbox", name: phrase(tokens.slice(0, angle)), route, ...addrSpec(inner) };
  }
  const comments = tokens.filter((token) => token.kind === "comment");
  const name = comments.length > 0 ? comments[comments.length - 1].text.trim() : "";
  const words = tokens.filter((token) => token.kind !== "comment");
  return { kind: "mailbox", name: name || null, route: null, ...addrSpec(words) };
}

/** Local part and domain, split at the last `@`; either may be missing. */
function addrSpec(tokens: Token[]): { mailbox: string; host: string } {
  let at = -1;
  for (let i = tokens.length - 1; i >= 0; i--) {
    if (isSpecial(tokens[i], "@")) {
      at = i;
      break;
    }
  }
  const local = at < 0 ? tokens : tokens.slice(0, at);
  const domain = at < 0 ? [] : tokens.slice(at + 1);
  return {
    mailbox: spaced(local) || MISSING_MAILBOX,
    host: tight(domain) || MISSING_DOMAIN,
  };
}

/** Tokens as written, without white space or comments (a domain, a route). */
function tight(tokens: Token[]): string {
  let out = "";
  for (const token of tokens) {
    if (token.kind === "comment" || isSpecial(token, "<") || isSpecial(token, ">")) continue;
    out += token.raw;
  }
  return out;
}

/**
 * A local part as written: words and dots joined, white space kept only between words (so
 * `john . doe` is `john.doe`, while garbage like `John Smith` stays readable).
 */
function spaced(tokens: Token[]): string {
  let out = "";
  let previous: Token | null = null;
  for (const token of tokens) {
    if (token.kind === "comment" || isSpecial(token, "<") || isSpecial(token, ">")) continue;
    const word = token.kind !== "special";
    if (previous && word && previous.kind !== "special" && token.space) out += " ";
    out += token.raw;
    previous = token;
  }
  return out;
}

/**
 * A display name (`phrase = 1*word / obs-phrase`): words with quotes removed and dots, single
 * spaces where the source had white space; comments and stray specials dropped; null when
 * empty.
 */
function phrase(tokens: Token[]): string | null {
  let out = "";
  for (const token of tokens) {
    if (token.kind === "comment" || (token.kind === "special" && token.text !== ".")) continue;
    if (token.space && out.length > 0) out += " ";
    out += token.text;
  }
  out = out.trim();
  return out.length > 0 ? out : null;
}

/** A mailbox as people read it: decoded display name and `local@domain`. */
export interface DisplayAddress {
  readonly name: string | null;
  /** `local@domain`; without a domain the local part alone; `""` for the null path `<>`. */
  readonly address: string;
}

/**
 * The mailboxes of an address list for display (the HTTP API): groups flattened into their
 * members, RFC 2047 encoded words in names decoded.
 *
 * @example
 * ```ts
 * displayAddresses("=?UTF-8?Q?J=C3=B6rg?= <j@example.com>, team: a@x;");
 * // [{ name: "J\u00f6rg", address: "j@example.com" }, { name: null, address: "a@x" }]
 * ```
 */
export function displayAddresses(value: string): DisplayAddress[] {
  const out: DisplayAddress[] = [];
  for (const entry of parseAddressList(value)) {
    if (entry.kind !== "mailbox") continue;
    const local = entry.mailbox === MISSING_MAILBOX ? "" : entry.mailbox;
    out.push({
      name: entry.name === null ? null : decodeEncodedWords(entry.name),
      address: entry.host === MISSING_DOMAIN ? local : `${local}@${entry.host}`,
    });
  }
  return out;
}

/**
 * The commonest values read in one pass: `local@domain`, `<local@domain>` or
 * `Display Name <local@domain>`
 * whose words, local part and domain are plain atoms (letters, digits, `-`, `_`, `+`, `'` and
 * dots between them), one space between words. Null for anything else, which the general
 * parser reads; for these it gives what the general parser gives. Delivery reads From and
 * To of every message, for ENVELOPE and for SEARCH: lexing them was a tenth of its time.
 */
function simpleMailbox(value: string): AddressEntry[] | null {
  let name: string | null = null;
  let spec = value;
  const open = value.indexOf("<");
  if (open >= 0) {
    const last = value.length - 1;
    if (value.charCodeAt(last) !== 0x3e) return null;
    // `<local@domain>` alone (as Postfix's smtp-source and many scripts write From and To).
    if (open > 0) {
      if (open < 2 || value.charCodeAt(open - 1) !== 0x20) return null;
      name = value.slice(0, open - 1);
      if (!isPlainPhrase(name)) return null;
    }
    spec = value.slice(open + 1, last);
  }
  const at = spec.indexOf("@");
  if (at < 0 || !isPlainDotAtom(spec, 0, at) || !isPlainDotAtom(spec, at + 1, spec.length)) {
    return null;
  }
  return [{
    kind: "mailbox",
    name,
    route: null,
    mailbox: spec.slice(0, at),
    host: spec.slice(at + 1),
  }];
}

/**
 * Whether `value` is one the fast path of {@linkcode parseAddressList} reads (`local@domain`,
 * `<local@domain>` or `Display Name <local@domain>` of plain atoms), without making its entry.
 *
 * @example
 * ```ts
 * isSimpleMailbox("Bob <bob@example.com>"); // true
 * isSimpleMailbox('"Bob" <bob@example.com>'); // false
 * ```
 */
export function isSimpleMailbox(value: string): boolean {
  let from = 0;
  let to = value.length;
  const open = value.indexOf("<");
  if (open >= 0) {
    if (value.charCodeAt(to - 1) !== 0x3e) return false;
    if (open > 0) {
      if (open < 2 || value.charCodeAt(open - 1) !== 0x20) return false;
      if (!isPlainPhrase(value.slice(0, open - 1))) return false;
    }
    from = open + 1;
    to--;
  }
  const at = value.indexOf("@", from);
  return at >= 0 && at < to && isPlainDotAtom(value, from, at) && isPlainDotAtom(value, at + 1, to);
}

/** Letters, digits, `-`, `_`, `+` and `'`. */
function isPlainAtomChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || c === 0x5f || c === 0x2b || c === 0x27;
}

/** Words of plain atom chars with one space between them. */
function isPlainPhrase(text: string): boolean {
  if (text.length === 0) return false;
  let previousSpace = true; // no space first
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20) {
      if (previousSpace) return false;
      previousSpace = true;
    } else if (isPlainAtomChar(c)) previousSpace = false;
    else return false;
  }
  return !previousSpace;
}

/** `text[start, end)` is plain atoms joined by single dots. */
function isPlainDotAtom(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  let previousDot = true; // no dot first
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (previousDot) return false;
      previousDot = true;
    } else if (isPlainAtomChar(c)) previousDot = false;
    else return false;
  }
  return !previousDot;
}
