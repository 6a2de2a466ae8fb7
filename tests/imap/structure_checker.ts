/**
 * A strict reader for what FETCH ENVELOPE, BODY and BODYSTRUCTURE send (RFC 9051 9): parses
 * the bytes back into values and checks them against the `envelope` and `body` grammar.
 * Independent of the encoder, so tests can feed it anything the server produced.
 *
 * @module
 */

/** A parsed IMAP value: NIL, a number, a string (quoted or literal, as bytes), or a list. */
export type Value = null | number | { readonly string: Uint8Array } | Value[];

/** Thrown for bytes that are not valid IMAP syntax or do not fit the grammar. */
export class SyntaxError extends Error {}

/** Parses exactly one value from `bytes` (nothing may follow). */
export function parseValue(bytes: Uint8Array): Value {
  const reader = { bytes, at: 0 };
  const value = readValue(reader);
  if (reader.at !== bytes.length) fail(reader, "trailing bytes");
  return value;
}

interface Reader {
  readonly bytes: Uint8Array;
  at: number;
}

function fail(reader: Reader, what: string): never {
  throw new SyntaxError(`${what} at offset ${reader.at}`);
}

function readValue(reader: Reader): Value {
  const { bytes } = reader;
  const byte = bytes[reader.at];
  if (byte === 0x28) {
    reader.at++;
    const list: Value[] = [];
    while (bytes[reader.at] !== 0x29) {
      if (reader.at >= bytes.length) fail(reader, "unterminated list");
      // Elements are separated by one SP, except that a list may follow a list directly
      // (`body-type-mpart = 1*body`).
      if (list.length > 0) {
        if (bytes[reader.at] === 0x20) reader.at++;
        else if (bytes[reader.at] !== 0x28 || !Array.isArray(list[list.length - 1])) {
          fail(reader, "missing SP");
        }
      }
      list.push(readValue(reader));
    }
    reader.at++;
    return list;
  }
  if (byte === 0x22) return { string: readQuoted(reader) };
  if (byte === 0x7b) return { string: readLiteral(reader) };
  if (byte >= 0x30 && byte <= 0x39) {
    let n = 0;
    const start = reader.at;
    while (bytes[reader.at] >= 0x30 && bytes[reader.at] <= 0x39) {
      n = n * 10 + bytes[reader.at++] - 0x30;
    }
    if (reader.at - start > 1 && bytes[start] === 0x30) fail(reader, "leading zero");
    return n;
  }
  if (bytes[reader.at] === 0x4e && bytes[reader.at + 1] === 0x49 && bytes[reader.at + 2] === 0x4c) {
    reader.at += 3;
    return null;
  }
  fail(reader, `unexpected byte ${byte}`);
}

function readQuoted(reader: Reader): Uint8Array {
  const { bytes } = reader;
  const out: number[] = [];
  reader.at++;
  while (true) {
    if (reader.at >= bytes.length) fail(reader, "unterminated quoted string");
    const byte = bytes[reader.at++];
    if (byte === 0x22) return new Uint8Array(out);
    if (byte === 0x0d || byte === 0x0a || byte === 0) fail(reader, "CR, LF or NUL in quoted");
    if (byte >= 0x80) fail(reader, "8-bit byte in a quoted string (a literal must carry it)");
    if (byte === 0x5c) {
      const next = bytes[reader.at++];
      if (next !== 0x22 && next !== 0x5c) fail(reader, "bad escape");
      out.push(next);
    } else out.push(byte);
  }
}

function readLiteral(reader: Reader): Uint8Array {
  const { bytes } = reader;
  const close = bytes.indexOf(0x7d, reader.at);
  const digits = String.fromCharCode(...bytes.subarray(reader.at + 1, close));
  if (close < 0 || !/^[0-9]+$/.test(digits)) fail(reader, "bad literal length");
  if (bytes[close + 1] !== 0x0d || bytes[close + 2] !== 0x0a) fail(reader, "literal without CRLF");
  const start = close + 3;
  const end = start + Number(digits);
  if (end > bytes.length) fail(reader, "literal past the end");
  const data = bytes.subarray(start, end);
  if (data.includes(0)) fail(reader, "NUL in a literal");
  reader.at = end;
  return data;
}

const text = (value: Value) =>
  value !== null && typeof value === "object" && "string" in value
    ? String.fromCharCode(...value.string)
    : null;

function isString(value: Value): boolean {
  return text(value) !== null;
}

function isNstring(value: Value): boolean {
  return value === null || isString(value);
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new SyntaxError(what);
}

/** Checks `envelope` (a parsed list of 10 members). */
export function checkEnvelope(value: Value): void {
  expect(Array.isArray(value) && value.length === 10, "envelope is a list of 10");
  const list = value as Value[];
  for (const i of [0, 1, 8, 9]) expect(isNstring(list[i]), `envelope member ${i} is an nstring`);
  for (let i = 2; i <= 7; i++) {
    const addresses = list[i];
    if (addresses === null) continue;
    expect(Array.isArray(addresses) && addresses.length > 0, `address list ${i}`);
    let open = false;
    for (const address of addresses as Value[]) {
      expect(Array.isArray(address) && address.length === 4, "address is a list of 4");
      const [name, adl, mailbox, host] = address as Value[];
      expect([name, adl, mailbox, host].every(isNstring), "address members are nstrings");
      if (host === null) {
        // Group start (mailbox = name) or end (all NIL), properly nested.
        if (mailbox === null) {
          expect(open, "group end without start");
          open = false;
        } else {
          expect(!open, "nested group");
          open = true;
        }
      } else expect(mailbox !== null, "a mailbox with a host has a local part");
    }
    expect(!open, "group not closed");
  }
}

/**
 * Checks `body` (BODY when `extended` is false, else BODYSTRUCTURE); `messageGlobal`: whether
 * message/global parts carry envelope, body and lines.
 */
export function checkBody(value: Value, extended: boolean, messageGlobal = false): void {
  expect(Array.isArray(value) && value.length > 0, "body is a non-empty list");
  const list = value as Value[];
  if (Array.isArray(list[0])) {
    let i = 0;
    while (Array.isArray(list[i])) checkBody(list[i++], extended, messageGlobal);
    expect(isString(list[i++]), "multipart subtype");
    if (extended) {
      expect(i < list.length, "BODYSTRUCTURE multipart has extension data");
      checkParams(list[i++]);
      checkExtension(list, i);
    } else expect(i === list.length, "BODY multipart has no extension data");
    return;
  }
  const type = text(list[0])?.toLowerCase();
  const subtype = text(list[1])?.toLowerCase();
  expect(type !== undefined && subtype !== undefined, "type and subtype are strings");
  checkParams(list[2]);
  expect(isNstring(list[3]) && isNstring(list[4]), "id and description are nstrings");
  expect(isString(list[5]), "encoding is a string");
  expect(typeof list[6] === "number", "size is a number");
  let i = 7;
  if (type === "message" && (subtype === "rfc822" || (subtype === "global" && messageGlobal))) {
    checkEnvelope(list[i++]);
    checkBody(list[i++], extended, messageGlobal);
    expect(typeof list[i++] === "number", "message lines");
  } else if (type === "text") expect(typeof list[i++] === "number", "text lines");
  if (extended) {
    expect(i < list.length, "BODYSTRUCTURE part has extension data");
    expect(isNstring(list[i++]), "md5");
    checkExtension(list, i);
  } else expect(i === list.length, "BODY part has no extension data");
}

function checkParams(value: Value): void {
  if (value === null) return;
  expect(Array.isArray(value) && value.length >= 2 && value.length % 2 === 0, "params");
  expect((value as Value[]).every(isString), "params are strings");
}

/** body-fld-dsp, body-fld-lang, body-fld-loc from `list[i]`. */
function checkExtension(list: Value[], i: number): void {
  const dsp = list[i];
  if (dsp !== null) {
    expect(Array.isArray(dsp) && dsp.length === 2 && isString(dsp[0]), "disposition");
    checkParams((dsp as Value[])[1]);
  }
  const lang = list[i + 1];
  if (Array.isArray(lang)) expect(lang.length > 0 && lang.every(isString), "language list");
  else expect(isNstring(lang), "language");
  expect(isNstring(list[i + 2]), "location");
  expect(list.length === i + 3, "nothing after the location");
}
