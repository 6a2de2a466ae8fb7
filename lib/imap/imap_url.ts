/**
 * IMAP URLs (RFC 5092) that name one message or one part of it, as CATENATE (RFC 4469) and
 * URLAUTH (RFC 4467) use them:
 *
 * ```abnf
 * imapurl       = "imap://" iserver "/" imessagepart [iurlauth]      ; absolute
 * iserver       = [iuserinfo "@"] host [":" port]
 * iuserinfo     = enc-user [iauth] / [enc-user] iauth
 * iauth         = ";AUTH=" ("*" / enc-auth-type)
 * imessagepart  = imailbox-ref iuid [isection] [ipartial]
 * imailbox-ref  = enc-mailbox [";UIDVALIDITY=" nz-number]
 * iuid          = "/;UID=" nz-number
 * isection      = "/;SECTION=" enc-section
 * ipartial      = "/;PARTIAL=" number ["." nz-number]
 * iurlauth      = [";EXPIRE=" date-time] ";URLAUTH=" access [":" mechanism ":" urlauth]
 * ; relative forms (RFC 5092 7.2, RFC 3986 4.2): "/" imessagepart (path-absolute), and
 * ; iuid without its "/" and what follows (relative to the selected mailbox)
 * ```
 * Every value is percent-decoded (mailbox names are UTF-8, RFC 5092 3.4; they become the
 * server's names as given). `;` never appears undecoded inside a value, so the path is read
 * as `;`-separated parameters in one linear pass; no regular expression sees the URL.
 * Anything else (a search `?`, a message list, a fragment) is refused with the reason.
 *
 * @module
 */

/** A URL that cannot be used; `message` says why (it goes into `[BADURL]` responses). */
export class ImapUrlError extends Error {
  override name = "ImapUrlError";
}

/** The `;URLAUTH=` parts (RFC 4467 3): access identifier, mechanism and token. */
export interface UrlAuth {
  readonly access: string;
  /** Null in the form GENURLAUTH takes (`;URLAUTH=access` only). */
  readonly mechanism: string | null;
  readonly token: string | null;
}

/** A parsed IMAP URL naming a message or a part of one. */
export interface ImapUrl {
  /** `absolute` (imap://...), `path` (/mailbox...) or `relative` (;UID=... in the selected mailbox). */
  readonly form: "absolute" | "path" | "relative";
  /** The absolute form's server: decoded user (null when absent), host, port. */
  readonly user: string | null;
  readonly host: string | null;
  readonly port: number | null;
  /** The `;AUTH=` type of the absolute form, null when absent. */
  readonly auth: string | null;
  /** Null for the relative form. */
  readonly mailbox: string | null;
  readonly uidValidity: number | null;
  readonly uid: number;
  /** The decoded section text (`1.2`, `HEADER.FIELDS (From)`), null for the whole message. */
  readonly section: string | null;
  readonly partial: { readonly offset: number; readonly length: number | null } | null;
  /** `;EXPIRE=`, as given (RFC 3339 date-time), null when absent. */
  readonly expire: string | null;
  readonly urlauth: UrlAuth | null;
  /**
   * The URL up to and including `;URLAUTH=access` (RFC 4467 3: the "rump URL" a token
   * authorizes); null without URLAUTH.
   */
  readonly rump: string | null;
}

/** Longest URL accepted; a command's line limit bounds it anyway. */
export const MAX_URL_LENGTH = 8192;

const MAX_NUMBER = 0xffffffff;

/**
 * Parses an IMAP URL naming a message or a part; throws {@linkcode ImapUrlError}.
 *
 * @example
 * ```ts
 * parseImapUrl("/INBOX;UIDVALIDITY=1/;UID=3/;SECTION=1.2").section; // "1.2"
 * ```
 */
export function parseImapUrl(text: string): ImapUrl {
  if (text.length === 0) throw new ImapUrlError("Empty URL");
  if (text.length > MAX_URL_LENGTH) throw new ImapUrlError("URL too long");
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) throw new ImapUrlError("URL has a character that needs %-encoding");
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) {
      throw new ImapUrlError("URL with a search or a fragment does not name one message");
    }
  }
  let server: Server = { user: null, host: null, port: null, auth: null };
  let path = text;
  let form: ImapUrl["form"];
  if (startsWithIgnoreCase(text, "imap://")) {
    const slash = text.indexOf("/", 7);
    if (slash < 0) throw new ImapUrlError("URL names no mailbox");
    server = parseServer(text.slice(7, slash));
    path = text.slice(slash + 1);
    form = "absolute";
  } else if (text[0] === "/") {
    if (text[1] === "/") throw new ImapUrlError("Network-path URL without imap:");
    path = text.slice(1);
    form = "path";
  } else if (text[0] === ";") {
    form = "relative";
  } else {
    throw new ImapUrlError("Not an IMAP URL");
  }
  const parsed = parsePath(path, form === "relative");
  if (parsed.urlauth) {
    // `;` is never undecoded inside a value: the first `;URLAUTH=` is the parameter.
    const start = text.toUpperCase().indexOf(";URLAUTH=") + ";URLAUTH=".length;
    const colon = text.indexOf(":", start);
    parsed.rump = text.slice(0, colon < 0 ? text.length : colon);
  }
  return { form, ...server, ...parsed };
}

interface Server {
  user: string | null;
  host: string | null;
  port: number | null;
  auth: string | null;
}

/** `[iuserinfo "@"] host [":" port]` */
function parseServer(text: string): Server {
  const at = text.lastIndexOf("@");
  let user: string | null = null;
  let auth: string | null = null;
  if (at >= 0) {
    const info = text.slice(0, at);
    const semi = info.indexOf(";");
    const rawUser = semi < 0 ? info : info.slice(0, semi);
    if (semi >= 0) {
      const param = info.slice(semi + 1);
      if (!startsWithIgnoreCase(param, "AUTH=") || param.length === 5) {
        throw new ImapUrlError("Invalid ;AUTH= in the URL");
      }
      auth = param.slice(5) === "*" ? "*" : percentDecode(param.slice(5));
    }
    if (rawUser.length > 0) user = percentDecode(rawUser);
    else if (auth === null) throw new ImapUrlError("Empty user in the URL");
  }
  const hostPort = text.slice(at + 1);
  let host = hostPort;
  let port: number | null = null;
  const colon = hostPort.lastIndexOf(":");
  if (colon >= 0 && !hostPort.endsWith("]")) {
    host = hostPort.slice(0, colon);
    port = parseNumber(hostPort.slice(colon + 1), "port", 65535, false);
  }
  if (host.length === 0) throw new ImapUrlError("URL names no host");
  return { user, host: percentDecode(host), port, auth };
}

type PathPart = Omit<ImapUrl, "form" | "user" | "host" | "port" | "auth">;

/**
 * The path after the server's `/` (or the relative `;UID=...`): `;`-separated parameters,
 * each ended by `/` when another follows in a new path segment.
 */
function parsePath(path: string, relative: boolean): Mutable<PathPart> {
  const pieces = path.split(";");
  let mailbox: string | null = null;
  let slashBefore = true;
  if (!relative) {
    const head = pieces[0];
    const endsInSlash = head.endsWith("/");
    const name = endsInSlash ? head.slice(0, -1) : head;
    if (name.length === 0) throw new ImapUrlError("URL names no mailbox");
    mailbox = percentDecode(name);
    slashBefore = endsInSlash;
  } else if (pieces[0] !== "") {
    throw new ImapUrlError("Not an IMAP URL");
  }
  const result: Mutable<PathPart> = {
    mailbox,
    uidValidity: null,
    uid: 0,
    section: null,
    partial: null,
    expire: null,
    urlauth: null,
    rump: null,
  };
  // The order RFC 5092 allows: UIDVALIDITY (same segment as the mailbox), UID, SECTION,
  // PARTIAL (each in a new segment), then EXPIRE and URLAUTH (same segment).
  let stage = 0;
  for (let index = 1; index < pieces.length; index++) {
    const piece = pieces[index];
    const last = index === pieces.length - 1;
    const endsInSlash = !last && piece.endsWith("/");
    const param = endsInSlash ? piece.slice(0, -1) : piece;
    const eq = param.indexOf("=");
    if (eq <= 0) throw new ImapUrlError(`Invalid URL parameter ;${param}`);
    const key = param.slice(0, eq).toUpperCase();
    const value = param.slice(eq + 1);
    const next = keyStage(key);
    if (next <= stage || (NEEDS_SLASH.has(key) !== slashBefore)) {
      throw new ImapUrlError(`Unexpected ;${key}= in the URL`);
    }
    stage = next;
    switch (key) {
      case "UIDVALIDITY":
        if (relative) throw new ImapUrlError("UIDVALIDITY needs a mailbox");
        result.uidValidity = parseNumber(value, "UIDVALIDITY", MAX_NUMBER, false);
        break;
      case "UID":
        result.uid = parseNumber(value, "UID", MAX_NUMBER, false);
        break;
      case "SECTION":
        if (value.length === 0) throw new ImapUrlError("Empty SECTION in the URL");
        result.section = percentDecode(value);
        break;
      case "PARTIAL":
        result.partial = parsePartial(value);
        break;
      case "EXPIRE":
        if (value.length === 0) throw new ImapUrlError("Empty EXPIRE in the URL");
        result.expire = percentDecode(value);
        break;
      case "URLAUTH":
        result.urlauth = parseUrlAuth(value);
        break;
    }
    slashBefore = endsInSlash;
  }
  if (slashBefore && !relative && stage > 0) throw new ImapUrlError("URL ends in /");
  if (result.uid === 0) throw new ImapUrlError("URL names no message (;UID= is missing)");
  return result;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NEEDS_SLASH = new Set(["UID", "SECTION", "PARTIAL"]);

function keyStage(key: string): number {
  switch (key) {
    case "UIDVALIDITY":
      return 1;
    case "UID":
      return 2;
    case "SECTION":
      return 3;
    case "PARTIAL":
      return 4;
    case "EXPIRE":
      return 5;
    case "URLAUTH":
      return 6;
    default:
      throw new ImapUrlError(`Unknown URL parameter ;${key}=`);
  }
}

/** `access [":" mechanism ":" urlauth]` */
function parseUrlAuth(value: string): UrlAuth {
  const first = value.indexOf(":");
  const accessText = first < 0 ? value : value.slice(0, first);
  if (accessText.length === 0) throw new ImapUrlError("Empty URLAUTH access identifier");
  const access = percentDecode(accessText);
  if (first < 0) return { access, mechanism: null, token: null };
  const second = value.indexOf(":", first + 1);
  if (second < 0) throw new ImapUrlError("URLAUTH needs a mechanism and a token");
  const mechanism = value.slice(first + 1, second);
  const token = value.slice(second + 1);
  if (mechanism.length === 0 || !isAtomText(mechanism)) {
    throw new ImapUrlError("Invalid URLAUTH mechanism");
  }
  // RFC 4467 7: enc-urlauth = 32*HEXDIG.
  if (token.length < 32 || !isHex(token)) throw new ImapUrlError("Invalid URLAUTH token");
  return { access, mechanism: mechanism.toUpperCase(), token: token.toLowerCase() };
}

/** `number ["." nz-number]` */
function parsePartial(value: string): { offset: number; length: number | null } {
  const dot = value.indexOf(".");
  if (dot < 0) return { offset: parseNumber(value, "PARTIAL", MAX_NUMBER, true), length: null };
  return {
    offset: parseNumber(value.slice(0, dot), "PARTIAL", MAX_NUMBER, true),
    length: parseNumber(value.slice(dot + 1), "PARTIAL", MAX_NUMBER, false),
  };
}

function parseNumber(text: string, what: string, max: number, zeroOk: boolean): number {
  if (text.length === 0 || text.length > 10) throw new ImapUrlError(`Invalid ${what} number`);
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) throw new ImapUrlError(`Invalid ${what} number`);
    value = value * 10 + (c - 0x30);
  }
  if (value > max || (!zeroOk && (value === 0 || text[0] === "0"))) {
    throw new ImapUrlError(`Invalid ${what} number`);
  }
  return value;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** `%XX` escapes decoded as UTF-8; a bad escape or bad UTF-8 is an error. */
export function percentDecode(text: string): string {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (hex.length !== 2 || !isHex(hex)) throw new ImapUrlError("Invalid %-escape in the URL");
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  try {
    return utf8.decode(new Uint8Array(bytes));
  } catch {
    throw new ImapUrlError("URL is not UTF-8 after %-decoding");
  }
}

function isHex(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function isAtomText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || '(){%*"\\]:'.includes(text[i])) return false;
  }
  return true;
}

function startsWithIgnoreCase(text: string, prefix: string): boolean {
  return text.length >= prefix.length &&
    text.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase();
}
