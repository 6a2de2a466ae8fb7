/**
 * TLS from the command line: bad certificates and keys stop startup with one line naming the
 * variable (exit 2); the banner shows the listeners and the certificate's SHA-256
 * fingerprint (the one `GET /tls/cert` serves); with `--db` the certificate is kept and the
 * same one comes back after a restart; a signal ends TLS sessions cleanly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateSelfSigned } from "../../lib/net/self_signed.ts";
import { assertConfigFailure, spawnMain } from "../process.ts";

const slow = { sanitizeResources: false, sanitizeOps: false };
const PORTS = ["--smtp-port", "0", "--imap-port", "0"];

Deno.test({
  name: "cli tls: a bad certificate, key or TLS port exits 2 with one line naming it",
  ...slow,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-tls-cli-" });
    try {
      const pair = await generateSelfSigned({ dns: ["localhost"], ips: [] });
      const other = await generateSelfSigned({ dns: ["localhost"], ips: [] });
      await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
      await Deno.writeTextFile(`${dir}/other.key`, other.key);
      await Deno.writeTextFile(`${dir}/junk.pem`, "-----BEGIN CERTIFICATE-----\nAAAA\n");
      await assertConfigFailure(
        PORTS,
        { TLS_CERT: `${dir}/missing.pem`, TLS_KEY: `${dir}/other.key` },
        /^elektromail: TLS_CERT \(--tls-cert\): cannot read .*missing\.pem: no such file$/,
      );
      await assertConfigFailure(
        [...PORTS, "--tls-cert", `${dir}/cert.pem`, "--tls-key", `${dir}/other.key`],
        {},
        /^elektromail: TLS_KEY \(--tls-key\): the key does not belong to the certificate/,
      );
      await assertConfigFailure(
        PORTS,
        { TLS_CERT: `${dir}/junk.pem` },
        /^elektromail: TLS_CERT \(--tls-cert\): .*junk\.pem holds no PEM certificate$/,
      );
      await assertConfigFailure(
        PORTS,
        { TLS_CERT: `${dir}/cert.pem` },
        /^elektromail: TLS_KEY \(--tls-key\) is not set and TLS_CERT holds no private key$/,
      );
      await assertConfigFailure(
        [...PORTS, "--no-tls"],
        { IMAPS_PORT: "9930" },
        /^elektromail: --tls turns TLS off, but IMAPS_PORT \(--imaps-port\) needs it$/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      await assertConfigFailure(
        [...PORTS, "--smtps-port", String(busy.addr.port)],
        {},
        new RegExp(
          `^elektromail: SMTPS_PORT \\(--smtps-port\\): port ${busy.addr.port} is already`,
        ),
      );
    } finally {
      busy.close();
    }
  },
});

/** SHA-256 of the PEM's DER as `AB:CD:…`, computed here. */
async function fingerprintOf(pem: string): Promise<string> {
  const der = Uint8Array.from(
    atob(pem.split("-----")[2].replace(/\s+/g, "")),
    (c) => c.charCodeAt(0),
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

Deno.test({
  name: "cli tls: banner fingerprint = GET /tls/cert; kept with --db across restarts; 421 on TLS",
  ...slow,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "elektromail-tls-cli-" });
    const args = [...PORTS, "--http-port", "0", "--smtps-port", "0", "--imaps-port", "0"];
    const env = { ELEKTROMAIL_DB: `${dir}/mail.db`, ELEKTROMAIL_TLS: "yes" };
    let fingerprint = "";
    try {
      for (const run of [1, 2]) {
        const server = await spawnMain(args, env);
        let exited = false;
        try {
          for (const name of ["SMTP", "IMAP", "SMTPS", "IMAPS", "HTTP"]) {
            assert.ok(server.ports[name] > 0, `${name} in the banner:\n${server.banner}`);
          }
          const kept = run === 1 ? "generated and kept in" : "kept in";
          assert.match(
            server.banner,
            new RegExp(
              `tls +STARTTLS on SMTP and IMAP, STLS on POP3; certificate self-signed, ${kept} ${dir}/mail\\.db\\.cert\\.pem`,
            ),
          );
          assert.match(
            server.banner,
            /for DNS:localhost, IP Address:127\.0\.0\.1, IP Address:::1$/m,
          );
          const shown = /SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/m.exec(server.banner)?.[1];
          assert.ok(shown, server.banner);
          const response = await fetch(`http://127.0.0.1:${server.ports.HTTP}/tls/cert`);
          const pem = await response.text();
          assert.equal(response.headers.get("x-elektromail-fingerprint"), shown);
          assert.equal(await fingerprintOf(pem), shown);
          assert.equal(pem, await Deno.readTextFile(`${dir}/mail.db.cert.pem`));
          if (run === 1) fingerprint = shown;
          else assert.equal(shown, fingerprint, "the same certificate after a restart");

          // An open implicit-TLS session is told 421 over TLS when the server stops.
          const conn = await Deno.connectTls({
            hostname: "localhost",
            port: server.ports.SMTPS,
            caCerts: [pem],
          });
          try {
            const buffer = new Uint8Array(1024);
            const greeting = new TextDecoder().decode(
              buffer.subarray(0, (await conn.read(buffer))!),
            );
            assert.match(greeting, /^220 localhost ESMTP /);
            server.child.kill("SIGTERM");
            let rest = "";
            for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
              rest += new TextDecoder().decode(buffer.subarray(0, n));
            }
            assert.match(rest, /^421 4\.3\.2 /);
          } finally {
            conn.close();
          }
          const { code, stderr } = await server.exit();
          exited = true;
          assert.equal(code, 0, stderr);
        } finally {
          if (!exited) {
            server.child.kill("SIGKILL");
            await server.exit();
          }
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
