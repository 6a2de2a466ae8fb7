/**
 * SASL responses shared by IMAP AUTHENTICATE and SMTP AUTH: the base64 a client sends
 * (RFC 4422 3.4) and the PLAIN mechanism's message (RFC 4616 2). Decoding only: each protocol
 * maps a failure to its own reply, and checks the credentials with `authenticate`.
 *
 * @module
 */

/** Why a PLAIN response was refused. */
export type SaslPlainFailure =
  /** Not base64 (RFC 4648 4, padded). */
  | "bad-base64"
  /** Decoded, but not `authzid NUL authcid NUL passwd`; also the empty response `=`. */
  | "malformed"
  /** Asks to act as another user (proxy authorization), which is never granted. */
  | "authzid-mismatch";

/** A decoded PLAIN response, or why it was refused. */
export type SaslPlainResult =
  | {
    readonly ok: true;
    readonly authzid: string;
    readonly authcid: string;
    readonly password: string;
  }
  | { readonly ok: false; readonly failure: SaslPlainFailure };

/**
 * Decodes a client's base64 response to UTF-8 text; null when it is not padded base64.
 *
 * @example
 * ```ts
 * decodeSaslText("YWxpY2U="); // "alice"
 * decodeSaslText("=");        // null
 * ```
 */
export function decodeSaslText(encoded: string): string | null {
  // Linear: a character class, then at most two "=".
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return null;
  const bytes = Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Decodes a PLAIN response (RFC 4616 2). `=` is the empty response (RFC 4954 4, RFC 4959),
 * which PLAIN cannot use. An authorization identity is accepted only when it names the
 * authenticating user (case-insensitive): nobody may log in as someone else.
 *
 * @example
 * ```ts
 * decodeSaslPlain("AGFsaWNlAHNlY3JldA==");
 * // { ok: true, authzid: "", authcid: "alice", password: "secret" }
 * ```
 */
export function decodeSaslPlain(encoded: string): SaslPlainResult {
  const text = encoded === "=" ? "" : decodeSaslText(encoded);
  if (text === null) return { ok: false, failure: "bad-base64" };
  const parts = text.split("\u0000");
  if (parts.length !== 3) return { ok: false, failure: "malformed" };
  const [authzid, authcid, password] = parts;
  if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return { ok: false, failure: "authzid-mismatch" };
  }
  return { ok: true, authzid, authcid, password };
}
