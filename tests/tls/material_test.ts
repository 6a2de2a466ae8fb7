/**
 * Certificates: the generated one (names, usage, fingerprint, validity), `TLS_CERT`/`TLS_KEY`
 * as paths, PEM text and one-line PEM, the errors that name the variable, and the certificate
 * kept beside the database across restarts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { ConfigError, DEFAULT_TLS, type TlsConfig } from "../../lib/config.ts";
import { type Logger, quietLogger } from "../../lib/log.ts";
import { generateSelfSigned, integer, ipBytes, oid, time, tlv } from "../../lib/net/self_signed.ts";
import { certificateNames, loadTlsMaterial, type TlsSource } from "../../lib/net/tls.ts";

function source(tls: Partial<TlsConfig>, extra: Partial<TlsSource> = {}): TlsSource {
  return {
    tls: { ...DEFAULT_TLS, ...tls },
    dbPath: null,
    hostname: "localhost",
    bindAddr: "127.0.0.1",
    logger: quietLogger(),
    ...extra,
  };
}

/** SHA-256 of the first certificate's DER, as `AB:CD:…`, computed here independently. */
async function fingerprintOf(pem: string): Promise<string> {
  const base64 = pem.split("-----")[2].replace(/\s+/g, "");
  const der = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

async function configError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  });
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...quietLogger(), warn: (message) => warnings.push(message), warnings };
}

Deno.test("tls: the generated certificate covers localhost, 127.0.0.1, ::1 and the host name", async () => {
  const material = await loadTlsMaterial(
    source({}, { hostname: "mail.test", bindAddr: "10.1.2.3" }),
  );
  const x509 = new X509Certificate(material.cert);
  assert.equal(
    x509.subjectAltName,
    "DNS:localhost, DNS:mail.test, IP Address:127.0.0.1, IP Address:::1, IP Address:10.1.2.3",
  );
  assert.equal(x509.checkHost("localhost"), "localhost");
  assert.equal(x509.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(x509.checkIP("::1"), "::1");
  assert.equal(x509.checkHost("example.com"), undefined);
  assert.equal(x509.ca, false, "an end-entity certificate");
  assert.equal(x509.issuer, x509.subject, "self-signed");
  assert.ok(x509.verify(x509.publicKey), "signed by its own key");
  assert.deepEqual(x509.keyUsage, ["DigitalSignature"], "Deno reports the key usage bits");
  assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  const days = (new Date(x509.validTo).getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 364 && days < 366, `valid for a year, got ${days}`);
  assert.ok(new Date(x509.validFrom).getTime() < Date.now() - 23 * 3600_000, "clock skew");
  assert.equal(material.fingerprint, await fingerprintOf(material.cert));
  assert.match(material.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.match(material.key, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(material.origin, "self-signed, generated at startup");
});

Deno.test("tls: certificate names skip wildcard binds and IP host names", () => {
  assert.deepEqual(certificateNames("localhost", "0.0.0.0"), {
    dns: ["localhost"],
    ips: ["127.0.0.1", "::1"],
  });
  assert.deepEqual(certificateNames("Mail.Example", "::"), {
    dns: ["localhost", "mail.example"],
    ips: ["127.0.0.1", "::1"],
  });
  assert.deepEqual(certificateNames("192.0.2.1", "::1").dns, ["localhost"]);
  assert.deepEqual([...ipBytes("10.0.0.255")], [10, 0, 0, 255]);
  assert.deepEqual([...ipBytes("::1")], [...new Array(15).fill(0), 1]);
  assert.deepEqual(
    [...ipBytes("2001:db8::8:1")],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0, 0x01],
  );
});

Deno.test("tls: the certificate's DER: lengths, integers, object identifiers, times", () => {
  const hex = (bytes: Uint8Array) =>
    [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const filled = (n: number) => new Uint8Array(n).fill(7);
  assert.equal(hex(tlv(0x04)), "0400");
  assert.equal(hex(tlv(0x04, filled(127)).subarray(0, 2)), "047f", "short form up to 127");
  assert.equal(hex(tlv(0x04, filled(128)).subarray(0, 3)), "048180", "long form from 128");
  assert.equal(hex(tlv(0x04, filled(255)).subarray(0, 3)), "0481ff");
  assert.equal(hex(tlv(0x04, filled(256)).subarray(0, 4)), "04820100");
  assert.equal(hex(tlv(0x04, filled(65_536)).subarray(0, 5)), "0483010000");
  assert.equal(tlv(0x30, filled(3), filled(300)).length, 4 + 303, "contents concatenated");
  assert.equal(hex(integer(new Uint8Array([0, 0, 0x12]))), "020112", "leading zeros dropped");
  assert.equal(hex(integer(new Uint8Array([0x80, 1]))), "0203008001", "kept positive");
  assert.equal(hex(integer(new Uint8Array([0, 0]))), "020100", "zero is one octet");
  assert.equal(hex(oid("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
  assert.equal(hex(oid("2.5.29.17")), "0603551d11");
  assert.equal(hex(oid("1.3.6.1.5.5.7.3.1")), "06082b06010505070301");
  const ascii = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(2));
  assert.equal(ascii(time(new Date("2049-12-31T23:59:59.999Z"))), "491231235959Z");
  assert.equal(time(new Date("2049-12-31T23:59:59Z"))[0], 0x17, "UTCTime through 2049");
  assert.equal(ascii(time(new Date("2050-01-01T00:00:00Z"))), "20500101000000Z");
  assert.equal(time(new Date("2050-01-01T00:00:00Z"))[0], 0x18, "GeneralizedTime from 2050");
});

Deno.test("tls: a certificate valid past 2049 is read as such", async () => {
  const pair = await generateSelfSigned({ dns: ["localhost"], ips: [] }, 365 * 40);
  const x509 = new X509Certificate(pair.cert);
  assert.ok(new Date(x509.validTo).getUTCFullYear() >= 2065, x509.validTo);
  assert.ok(x509.verify(x509.publicKey));
});

Deno.test("tls: TLS_CERT and TLS_KEY as files, as PEM text, one-line PEM, one combined file", async () => {
  const pair = await generateSelfSigned({ dns: ["localhost"], ips: [] });
  const dir = await Deno.makeTempDir({ prefix: "elektromail-tls-" });
  try {
    await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
    await Deno.writeTextFile(`${dir}/both.pem`, pair.cert + pair.key);
    const expected = await fingerprintOf(pair.cert);
    const variants: Array<Partial<TlsConfig>> = [
      { cert: `${dir}/cert.pem`, key: `${dir}/key.pem` },
      { cert: pair.cert, key: pair.key },
      { cert: pair.cert.replaceAll("\n", "\\n"), key: pair.key.replaceAll("\n", "\\n") },
      { cert: `${dir}/both.pem` },
      { cert: `${dir}/cert.pem`, key: pair.key },
    ];
    for (const tls of variants) {
      const material = await loadTlsMaterial(source(tls));
      assert.equal(material.fingerprint, expected, JSON.stringify(tls).slice(0, 80));
      assert.equal(material.names, "DNS:localhost");
    }
    assert.equal((await loadTlsMaterial(source(variants[0]))).origin, `${dir}/cert.pem`);
    assert.equal((await loadTlsMaterial(source(variants[1]))).origin, "the PEM text");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: a bad certificate or key is a ConfigError naming the variable", async () => {
  const pair = await generateSelfSigned({ dns: ["localhost"], ips: [] });
  const other = await generateSelfSigned({ dns: ["localhost"], ips: [] });
  const dir = await Deno.makeTempDir({ prefix: "elektromail-tls-" });
  try {
    await Deno.writeTextFile(`${dir}/junk.pem`, "not a certificate\n");
    const garbled = pair.cert.replace(/\n[A-Za-z0-9+/]{20}/, "\nAAAAAAAAAAAAAAAAAAAA");
    await configError(
      loadTlsMaterial(source({ cert: `${dir}/missing.pem`, key: pair.key })),
      /^TLS_CERT \(--tls-cert\): cannot read .*missing\.pem: no such file$/,
    );
    await configError(
      loadTlsMaterial(source({ cert: `${dir}/junk.pem`, key: pair.key })),
      /^TLS_CERT \(--tls-cert\): .*junk\.pem holds no PEM certificate$/,
    );
    await configError(
      loadTlsMaterial(source({ cert: garbled, key: pair.key })),
      /^TLS_CERT \(--tls-cert\): the PEM text is not a valid certificate \(.+\)$/,
    );
    await configError(
      loadTlsMaterial(source({ cert: pair.cert })),
      /^TLS_KEY \(--tls-key\) is not set and TLS_CERT holds no private key$/,
    );
    await configError(
      loadTlsMaterial(source({ cert: pair.cert, key: `${dir}/junk.pem` })),
      /^TLS_KEY \(--tls-key\): .*junk\.pem holds no PEM private key$/,
    );
    await configError(
      loadTlsMaterial(source({ cert: pair.cert, key: other.key })),
      /^TLS_KEY \(--tls-key\): the key does not belong to the certificate in TLS_CERT$/,
    );
    await configError(
      loadTlsMaterial(source({ key: pair.key })),
      /^TLS_KEY \(--tls-key\) is set but TLS_CERT is not$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: with a database the generated certificate is kept and reused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-tls-" });
  const dbPath = `${dir}/mail.db`;
  try {
    const first = await loadTlsMaterial(source({}, { dbPath }));
    assert.equal(first.origin, `self-signed, generated and kept in ${dbPath}.cert.pem`);
    assert.equal(await Deno.readTextFile(`${dbPath}.cert.pem`), first.cert);
    assert.equal(await Deno.readTextFile(`${dbPath}.key.pem`), first.key);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(`${dbPath}.key.pem`)).mode! & 0o777, 0o600);
    }
    const again = await loadTlsMaterial(source({}, { dbPath }));
    assert.equal(again.fingerprint, first.fingerprint);
    assert.equal(again.origin, `self-signed, kept in ${dbPath}.cert.pem`);

    // A new host name the kept certificate does not cover: a new one, with a warning.
    const logger = recordingLogger();
    const renamed = await loadTlsMaterial(source({}, { dbPath, hostname: "mx.test", logger }));
    assert.notEqual(renamed.fingerprint, first.fingerprint);
    assert.match(logger.warnings[0], /does not cover DNS:mx\.test; generating a new certificate/);
    assert.equal(
      (await loadTlsMaterial(source({}, { dbPath, hostname: "mx.test" }))).fingerprint,
      renamed.fingerprint,
    );

    // Damaged files are replaced, with a warning.
    await Deno.writeTextFile(`${dbPath}.key.pem`, "garbage");
    const damaged = recordingLogger();
    const fresh = await loadTlsMaterial(
      source({}, { dbPath, hostname: "mx.test", logger: damaged }),
    );
    assert.notEqual(fresh.fingerprint, renamed.fingerprint);
    assert.match(damaged.warnings[0], /is unusable .*; generating a new certificate/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: a generated certificate that cannot be kept names ELEKTROMAIL_DB", async () => {
  await configError(
    loadTlsMaterial(source({}, { dbPath: "/nonexistent-dir/elektromail/mail.db" })),
    /^ELEKTROMAIL_DB \(--db\): cannot keep the generated certificate in .*mail\.db\.cert\.pem: /,
  );
});
