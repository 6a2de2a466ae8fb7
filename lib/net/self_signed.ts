/**
 * Self-signed certificates for `--tls` without `TLS_CERT`: an EC P-256 key from `node:crypto`
 * (native, about a millisecond) in an X.509 v3 certificate built and signed with pkijs
 * (WebCrypto underneath; no hand-written ASN.1). Loaded only when a certificate has to be
 * generated, so plain startup and `TLS_CERT` startup never pay for it. The imports are full
 * pinned `npm:` specifiers, not `deno.json` names: a run from a URL reads no `deno.json`.
 *
 * The certificate is its own trust anchor: a client trusts it by adding it as a CA
 * (`GET /tls/cert`). It is an end-entity certificate (`CA:FALSE`, serverAuth) so that strict
 * verifiers (rustls/webpki, Python's `VERIFY_X509_STRICT`) accept it as the server's.
 *
 * @module
 */

import * as asn1js from "npm:asn1js@3.0.6";
import * as pkijs from "npm:pkijs@3.4.3";

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

/** OIDs used below (RFC 5280 4.2.1). */
const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
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
export async function generateSelfSigned(
  names: CertificateNames,
  days = 365,
): Promise<GeneratedCertificate> {
  const { generateKeyPairSync } = await import("node:crypto");
  const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signingKey = await crypto.subtle.importKey(
    "jwk",
    pair.privateKey.export({ format: "jwk" }) as JsonWebKey,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const spki = new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" }));

  const cert = new pkijs.Certificate();
  cert.version = 2; // v3
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, no leading zero octet
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  const subject = names.dns[0] ?? names.ips[0] ?? "localhost";
  for (const name of [cert.subject, cert.issuer]) {
    name.typesAndValues.push(
      new pkijs.AttributeTypeAndValue({
        type: OID.commonName,
        value: new asn1js.Utf8String({ value: subject }),
      }),
    );
  }
  const now = Date.now();
  cert.notBefore.value = new Date(now - DAY_MS);
  cert.notAfter.value = new Date(now + days * DAY_MS);
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spki);

  const keyId = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-1",
      cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView.slice(),
    ),
  );
  const altNames = [
    ...names.dns.map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...names.ips.map((ip) =>
      new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip) }) })
    ),
  ];
  cert.extensions = [
    extension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
    // digitalSignature only: the one usage an ECDSA TLS server key needs.
    extension(
      OID.keyUsage,
      true,
      new asn1js.BitString({ valueHex: new Uint8Array([0x80]), unusedBits: 7 }),
    ),
    extension(
      OID.extKeyUsage,
      false,
      new pkijs.ExtKeyUsage({ keyPurposes: [OID.serverAuth] }).toSchema(),
    ),
    extension(OID.subjectAltName, false, new pkijs.AltName({ altNames }).toSchema()),
    extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyId })),
  ];
  await cert.sign(signingKey, "SHA-256");

  const der = new Uint8Array(cert.toSchema(true).toBER(false));
  const pkcs8 = new Uint8Array(pair.privateKey.export({ type: "pkcs8", format: "der" }));
  return { cert: pem("CERTIFICATE", der), key: pem("PRIVATE KEY", pkcs8) };
}

function extension(id: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID: id, critical, extnValue: value.toBER(false) });
}

/** The 4 or 16 octets of an IPv4 or IPv6 address (`::` shorthand allowed). */
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
