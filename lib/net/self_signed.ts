/**
 * Self-signed certificates for `--tls` without `TLS_CERT`: an EC P-256 key from `node:crypto`
 * (native, under a millisecond; TLS loads Deno's Node layer anyway) in an X.509 v3
 * certificate (RFC 5280) written here in DER (X.690) and signed with that key. The certificate
 * has one fixed shape, so its encoder is the handful of DER types it uses, not an ASN.1
 * library: the npm pair that did this (pkijs and asn1js, 666 KB bundled) was in every run's
 * module graph, parsed by Deno at the first start from an empty cache (+15 MB of idle memory,
 * also without TLS) and downloaded by a run from a URL. Loaded only when a certificate has to
 * be generated, so plain startup and `TLS_CERT` startup never pay for it.
 *
 * The certificate is its own trust anchor: a client trusts it by adding it as a CA
 * (`GET /tls/cert`). It is an end-entity certificate (`CA:FALSE`, serverAuth) so that strict
 * verifiers (rustls/webpki, Python's `VERIFY_X509_STRICT`) accept it as the server's.
 *
 * @module
 */

import { nodeCrypto } from "../node_builtins.ts";

/** Names the certificate is valid for. */
export interface CertificateNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

/** A PEM certificate and its PEM (PKCS #8) private key. */
export interface GeneratedCertificate {
  readonly cert: string;
  readonly key: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** OIDs used below (RFC 5280 4.1.1.2, 4.1.2.4, 4.2.1; RFC 5758 3.2). */
const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

/**
 * Generates a self-signed certificate for `names`, valid from a day ago (clock skew) for
 * `days` days.
 *
 * @example
 * ```ts
 * const { cert, key } = await generateSelfSigned({ dns: ["localhost"], ips: ["127.0.0.1"] });
 * ```
 */
export function generateSelfSigned(
  names: CertificateNames,
  days = 365,
): Promise<GeneratedCertificate> {
  const { createHash, generateKeyPairSync, sign } = nodeCrypto();
  const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = pair.publicKey.export({ type: "spki", format: "der" });
  // The subjectPublicKey bits: the uncompressed point (65 octets for P-256) that ends the
  // SubjectPublicKeyInfo.
  const keyId = createHash("sha1").update(spki.subarray(spki.length - 65)).digest();

  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, no leading zero octet
  const subject = names.dns[0] ?? names.ips[0] ?? "localhost";
  const name = sequence(set(sequence(oid(OID.commonName), tlv(UTF8_STRING, utf8(subject)))));
  const now = Date.now();
  const signature = sequence(oid(OID.ecdsaWithSha256));
  const altNames = [
    ...names.dns.map((dns) => tlv(CONTEXT_2, utf8(dns))), // dNSName, IA5String
    ...names.ips.map((ip) => tlv(CONTEXT_7, ipBytes(ip))), // iPAddress
  ];
  const extensions = [
    extension(OID.basicConstraints, true, sequence()), // cA FALSE: the default, so empty
    // digitalSignature only: the one usage an ECDSA TLS server key needs.
    extension(OID.keyUsage, true, tlv(BIT_STRING, new Uint8Array([7, 0x80]))),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, sequence(...altNames)),
    extension(OID.subjectKeyIdentifier, false, tlv(OCTET_STRING, keyId)),
  ];
  const tbs = sequence(
    tlv(CONTEXT_0, integer(new Uint8Array([2]))), // version v3
    integer(serial),
    signature,
    name, // issuer
    sequence(time(new Date(now - DAY_MS)), time(new Date(now + days * DAY_MS))),
    name, // subject
    spki,
    tlv(CONTEXT_3, sequence(...extensions)),
  );
  // Ecdsa-Sig-Value (RFC 5758 3.2): node:crypto's ECDSA signatures are DER by default.
  const der = sequence(tbs, signature, bitString(sign("sha256", tbs, pair.privateKey)));
  const pkcs8 = pair.privateKey.export({ type: "pkcs8", format: "der" });
  return Promise.resolve({ cert: pem("CERTIFICATE", der), key: pem("PRIVATE KEY", pkcs8) });
}

const BOOLEAN = 0x01;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OBJECT_IDENTIFIER = 0x06;
const UTF8_STRING = 0x0c;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const SEQUENCE = 0x30;
const SET = 0x31;
/** `[0]` and `[3]` EXPLICIT (constructed), `[2]` and `[7]` IMPLICIT over primitive types. */
const CONTEXT_0 = 0xa0;
const CONTEXT_3 = 0xa3;
const CONTEXT_2 = 0x82;
const CONTEXT_7 = 0x87;

/**
 * One DER value: `tag`, the definite length (short form below 128, else long form) and the
 * concatenated `contents` (X.690 8.1).
 *
 * @example
 * ```ts
 * tlv(0x04, new Uint8Array([1, 2])); // 04 02 01 02: an OCTET STRING of two octets
 * ```
 */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of contents) length += part.length;
  const lengthBytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest % 256);
  const header = length < 0x80 ? [tag, length] : [tag, 0x80 | lengthBytes.length, ...lengthBytes];
  const out = new Uint8Array(header.length + length);
  out.set(header);
  let at = header.length;
  for (const part of contents) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(SEQUENCE, ...items);
}

function set(...items: Uint8Array[]): Uint8Array {
  return tlv(SET, ...items);
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * An INTEGER from unsigned big-endian `bytes`: minimal, with a 0 octet if the top bit is set.
 *
 * @example
 * ```ts
 * integer(new Uint8Array([0x80])); // 02 02 00 80
 * ```
 */
export function integer(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = bytes.subarray(start);
  return body[0] & 0x80 ? tlv(INTEGER, new Uint8Array([0]), body) : tlv(INTEGER, body);
}

/**
 * An OBJECT IDENTIFIER from its dotted form (X.690 8.19: base 128, high bit continues).
 *
 * @example
 * ```ts
 * oid("2.5.29.17"); // 06 03 55 1d 11: subjectAltName
 * ```
 */
export function oid(dotted: string): Uint8Array {
  const [first, second, ...rest] = dotted.split(".").map(Number);
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      groups.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...groups);
  }
  return tlv(OBJECT_IDENTIFIER, new Uint8Array(bytes));
}

function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(BIT_STRING, new Uint8Array([0]), bytes); // no unused bits
}

/**
 * Validity times as RFC 5280 4.1.2.5 wants them: UTCTime through 2049, GeneralizedTime from
 * 2050, in UTC to the second.
 *
 * @example
 * ```ts
 * time(new Date("2050-01-01T00:00:00Z")); // GeneralizedTime "20500101000000Z"
 * ```
 */
export function time(date: Date): Uint8Array {
  const digits = date.toISOString().replace(/[-:T]|\.\d+/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  const year = date.getUTCFullYear();
  return year < 2050
    ? tlv(UTC_TIME, utf8(`${digits.slice(2)}Z`))
    : tlv(GENERALIZED_TIME, utf8(`${digits}Z`));
}

/** An Extension (RFC 5280 4.1): `critical` is DEFAULT FALSE, so DER leaves it out when false. */
function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  const flag = critical ? [tlv(BOOLEAN, new Uint8Array([0xff]))] : [];
  return sequence(oid(id), ...flag, tlv(OCTET_STRING, value));
}

/** The 4 or 16 octets of an IPv4 or IPv6 address (`::` allowed) that `isIpAddress` accepts. */
export function ipBytes(ip: string): Uint8Array {
  if (!ip.includes(":")) return new Uint8Array(ip.split(".").map(Number));
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, null];
  const groups = (text: string) => text === "" ? [] : text.split(":").map((g) => parseInt(g, 16));
  const front = groups(head);
  const back = tail === null ? [] : groups(tail);
  const all = [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  const out = new Uint8Array(16);
  all.forEach((group, i) => {
    out[i * 2] = group >> 8;
    out[i * 2 + 1] = group & 0xff;
  });
  return out;
}

/** PEM armour (RFC 7468): base64 in 64-character lines. */
export function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
