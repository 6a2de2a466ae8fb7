/**
 * The server's TLS certificate: from `TLS_CERT`/`TLS_KEY` (file paths or PEM text), or
 * self-signed, generated at startup for localhost, 127.0.0.1 and ::1 (and the configured host
 * name and bind address), and kept beside `ELEKTROMAIL_DB` so clients can pin it across
 * restarts. Every problem is a {@linkcode ConfigError} naming the variable and flag.
 *
 * `node:crypto` (to check the pair and take the fingerprint) is loaded only here, and only
 * when TLS is on.
 *
 * @module
 */

import type { TlsConfig } from "../config.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { CertificateNames, GeneratedCertificate } from "./self_signed.ts";

/** A checked certificate chain and key, ready for `node:tls`. */
export interface TlsMaterial {
  /** PEM: the server certificate first, then any chain. */
  readonly cert: string;
  /** PEM private key. */
  readonly key: string;
  /** SHA-256 of the server certificate's DER, `AB:CD:...` (as `openssl x509 -fingerprint`). */
  readonly fingerprint: string;
  /** The names the certificate is valid for (`DNS:localhost, IP Address:127.0.0.1`). */
  readonly names: string;
  readonly validTo: Date;
  /** Where it came from, for the banner. */
  readonly origin: string;
}

const CERT_SETTING = "TLS_CERT (--tls-cert)";
const KEY_SETTING = "TLS_KEY (--tls-key)";
const DAY_MS = 24 * 60 * 60 * 1000;
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[^-]+-----END \1PRIVATE KEY-----/;

/**
 * Generated certificates by name list, for servers without a database: many servers in one
 * process (tests) share one instead of paying for a key and a signature each.
 */
const generated = new Map<string, Promise<GeneratedCertificate>>();

/** Where the certificate and key come from. */
export interface TlsSource {
  readonly tls: TlsConfig;
  /** With a database, a generated certificate is kept beside it. */
  readonly dbPath: string | null;
  /** Greeting host name and bind address: added to a generated certificate's names. */
  readonly hostname: string;
  readonly bindAddr: string;
  readonly logger: Logger;
}

/**
 * Reads and checks the configured certificate and key, or generates (or reuses) a
 * self-signed pair. Throws {@linkcode ConfigError}.
 */
export async function loadTlsMaterial(source: TlsSource): Promise<TlsMaterial> {
  const { tls } = source;
  if (tls.cert === null) {
    if (tls.key !== null) throw new ConfigError(`${KEY_SETTING} is set but TLS_CERT is not`);
    return await selfSigned(source);
  }
  const certText = await readPem(tls.cert, CERT_SETTING);
  const keyText = tls.key === null ? null : await readPem(tls.key, KEY_SETTING);
  const chain = certText.match(CERT_BLOCK);
  if (!chain) {
    throw new ConfigError(`${CERT_SETTING}: ${describe(tls.cert)} holds no PEM certificate`);
  }
  const key = (keyText ?? certText).match(KEY_BLOCK)?.[0];
  if (!key) {
    throw new ConfigError(
      keyText === null
        ? `${KEY_SETTING} is not set and TLS_CERT holds no private key`
        : `${KEY_SETTING}: ${describe(tls.key!)} holds no PEM private key`,
    );
  }
  const material = await check(chain.join("\n") + "\n", key + "\n", describe(tls.cert));
  if (material.validTo.getTime() < Date.now()) {
    source.logger.warn(
      `${CERT_SETTING}: the certificate expired on ${material.validTo.toISOString()}`,
    );
  }
  return material;
}

/** PEM text as given, or the file it names. `\n` escapes (one-line variables) become newlines. */
async function readPem(value: string, setting: string): Promise<string> {
  if (value.includes("-----BEGIN")) {
    return value.includes("\n") ? value : value.replaceAll("\\n", "\n");
  }
  try {
    return await Deno.readTextFile(value);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : (error as Error).message;
    throw new ConfigError(`${setting}: cannot read ${value}: ${reason}`);
  }
}

function describe(value: string): string {
  return value.includes("-----BEGIN") ? "the PEM text" : value;
}

/** Parses the pair with `node:crypto`: a readable certificate, a readable key, and a match. */
async function check(cert: string, key: string, origin: string): Promise<TlsMaterial> {
  const { X509Certificate, createPrivateKey } = await import("node:crypto");
  let x509: InstanceType<typeof X509Certificate>;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError(
      `${CERT_SETTING}: ${origin} is not a valid certificate (${reason(error)})`,
    );
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new ConfigError(`${KEY_SETTING}: not a valid private key (${reason(error)})`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${KEY_SETTING}: the key does not belong to the certificate in TLS_CERT`);
  }
  return {
    cert,
    key,
    fingerprint: x509.fingerprint256,
    names: x509.subjectAltName ?? x509.subject.replaceAll("\n", ", "),
    validTo: new Date(x509.validTo),
    origin,
  };
}

function reason(error: unknown): string {
  return ((error as Error).message ?? String(error)).split("\n")[0];
}

/** The names a generated certificate covers. */
export function certificateNames(hostname: string, bindAddr: string): CertificateNames {
  const dns = ["localhost"];
  const ips = ["127.0.0.1", "::1"];
  if (/^[A-Za-z0-9.-]+$/.test(hostname) && !/^[0-9.]+$/.test(hostname)) {
    if (!dns.includes(hostname.toLowerCase())) dns.push(hostname.toLowerCase());
  }
  if (!["0.0.0.0", "::", "localhost"].includes(bindAddr) && !ips.includes(bindAddr)) {
    ips.push(bindAddr);
  }
  return { dns, ips };
}

/** Generates a certificate, or reuses the one kept beside the database while it is good. */
async function selfSigned(source: TlsSource): Promise<TlsMaterial> {
  const names = certificateNames(source.hostname, source.bindAddr);
  const wanted = [...names.dns.map((n) => `DNS:${n}`), ...names.ips.map((n) => `IP:${n}`)];
  if (source.dbPath === null) {
    const pair = await shared(names);
    return await check(pair.cert, pair.key, "self-signed, generated at startup");
  }
  const certPath = `${source.dbPath}.cert.pem`;
  const keyPath = `${source.dbPath}.key.pem`;
  const kept = await reuse(certPath, keyPath, wanted, source.logger);
  if (kept) return kept;
  const { generateSelfSigned } = await import("./self_signed.ts");
  const pair = await generateSelfSigned(names);
  try {
    await Deno.writeTextFile(keyPath, pair.key, { mode: 0o600 });
    await Deno.writeTextFile(certPath, pair.cert);
  } catch (error) {
    throw new ConfigError(
      `ELEKTROMAIL_DB (--db): cannot keep the generated certificate in ${certPath}: ${
        reason(error)
      }`,
    );
  }
  return await check(pair.cert, pair.key, `self-signed, generated and kept in ${certPath}`);
}

function shared(names: CertificateNames): Promise<GeneratedCertificate> {
  const id = JSON.stringify(names);
  let pair = generated.get(id);
  if (!pair) {
    pair = import("./self_signed.ts").then(({ generateSelfSigned }) => generateSelfSigned(names));
    generated.set(id, pair);
    pair.catch(() => generated.delete(id));
  }
  return pair;
}

/** The kept pair if both files read, match, cover `wanted` and are valid for another day. */
async function reuse(
  certPath: string,
  keyPath: string,
  wanted: string[],
  logger: Logger,
): Promise<TlsMaterial | null> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([Deno.readTextFile(certPath), Deno.readTextFile(keyPath)]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new ConfigError(`ELEKTROMAIL_DB (--db): cannot read ${certPath}: ${reason(error)}`);
  }
  let material: TlsMaterial;
  try {
    material = await check(cert, key, `self-signed, kept in ${certPath}`);
  } catch (error) {
    logger.warn(`${certPath} is unusable (${reason(error)}); generating a new certificate`);
    return null;
  }
  const covered = material.names.replaceAll("IP Address:", "IP:").split(/,\s*/);
  const ipv6 = (name: string) => name.replace("IP:::1", "IP:0:0:0:0:0:0:0:1");
  const missing = wanted.filter((n) => !covered.includes(n) && !covered.includes(ipv6(n)));
  if (material.validTo.getTime() - Date.now() < DAY_MS || missing.length > 0) {
    logger.warn(
      `${certPath} ${
        missing.length > 0 ? `does not cover ${missing.join(", ")}` : "expires within a day"
      }; generating a new certificate`,
    );
    return null;
  }
  return material;
}
