/**
 * Running the Jakarta Mail client (`java/*.java`) for jakarta_mail_test.ts and
 * jakarta_imap_test.ts: finding Java and Debian's Jakarta Mail jars (skipping without them,
 * except in CI), compiling the program once per test file with `javac`, building Java
 * truststores with `keytool`, and running the program with its output read back as
 * `label.key=value` lines; the server's ports as its settings, and small helpers for checking
 * what the server stored.
 *
 * @module
 */

import assert from "node:assert/strict";
import { unsharedBytes } from "../../lib/mail/shared_bytes.ts";
import type { Elektromail } from "../../lib/server.ts";

const IN_CI = (Deno.env.get("CI") ?? "") !== "" && Deno.env.get("CI") !== "false";
const JAVA_BIN = Deno.env.get("JAVA_HOME") ? `${Deno.env.get("JAVA_HOME")}/bin` : "/usr/bin";
const JAVA = `${JAVA_BIN}/java`;
const JAVAC = `${JAVA_BIN}/javac`;
const KEYTOOL = `${JAVA_BIN}/keytool`;
/** Debian's libjakarta-mail-java: the API with the IMAP and SMTP providers, and activation. */
const JARS = (Deno.env.get("JAKARTA_MAIL_JARS") ??
  "/usr/share/java/jakarta-mail.jar:/usr/share/java/jakarta-activation.jar").split(":");
const SOURCES = new URL("./java/", import.meta.url).pathname;
/** Faster JVM start for a short-lived client. */
const JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"];

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const missing = [JAVA, JAVAC, KEYTOOL, ...JARS].filter((path) => !isFile(path));
const available = missing.length === 0;
if (!available && !IN_CI) {
  console.warn(
    `Jakarta Mail tests skipped: missing ${missing.join(", ")} (apt-get install ` +
      `libjakarta-mail-java default-jdk-headless, or set JAVA_HOME / JAKARTA_MAIL_JARS)`,
  );
}

/** A Jakarta Mail test: skipped without Java or the jars, failed without them in CI. */
export function jakartaTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `Jakarta Mail: ${name}`,
    ignore: !available && !IN_CI,
    fn: async () => {
      assert.ok(available, `Java and Jakarta Mail are required in CI (missing ${missing})`);
      await fn();
    },
  });
}

async function command(program: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000), // a hang guard, not a timing assertion
  }).output();
  const text = decoder.decode(output.stdout) + decoder.decode(output.stderr);
  assert.equal(output.code, 0, `${program} ${args.join(" ")} failed:\n${text}`);
  return text;
}

let compiled: Promise<string> | undefined;

/** The folder of the compiled program: compiled once per test process, removed at exit. */
function classes(): Promise<string> {
  compiled ??= (async () => {
    const dir = Deno.makeTempDirSync({ prefix: "elektromail-jakarta-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    await command(JAVAC, [
      "-encoding",
      "UTF-8",
      "-Xlint:all,-path", // the mail jar's manifest names a jar Debian does not ship
      "-Werror",
      "-cp",
      JARS.join(":"),
      "-d",
      dir,
      ...[...Deno.readDirSync(SOURCES)].filter((entry) => entry.name.endsWith(".java"))
        .map((entry) => SOURCES + entry.name),
    ]);
    return dir;
  })();
  return compiled;
}

/** Imports the PEM certificate into a new PKCS12 truststore (password `changeit`). */
export async function truststore(pemFile: string, path: string): Promise<string> {
  await command(KEYTOOL, [
    "-importcert",
    "-noprompt",
    "-alias",
    "elektromail",
    "-file",
    pemFile,
    "-keystore",
    path,
    "-storetype",
    "PKCS12",
    "-storepass",
    "changeit",
  ]);
  return path;
}

/** What the program printed: `label.key` → value, plus the whole output for messages. */
export class ClientOutput {
  readonly values = new Map<string, string>();
  constructor(readonly text: string) {
    for (const line of text.split("\n")) {
      const eq = line.indexOf("=");
      if (eq <= 0) continue;
      const value = line.slice(eq + 1).replace(
        /\\(.)/g,
        (_, c: string) => c === "n" ? "\n" : c === "r" ? "\r" : c,
      );
      this.values.set(line.slice(0, eq), value);
    }
  }

  /** The value of `key`; fails (showing the output) when the program did not print it. */
  get(key: string): string {
    const value = this.values.get(key);
    assert.ok(value !== undefined, `the client printed no ${key}:\n${this.text}`);
    return value;
  }

  /** Asserts that step `label` ended with ok=true. */
  ok(label: string): void {
    assert.equal(this.values.get(`${label}.error`), undefined, `${label} failed:\n${this.text}`);
    assert.equal(this.get(`${label}.ok`), "true");
  }

  /** Asserts that step `label` failed; returns its error text. */
  failed(label: string): string {
    assert.equal(this.values.get(`${label}.ok`), undefined, `${label} succeeded:\n${this.text}`);
    return this.get(`${label}.error`);
  }
}

/** The JVM command line: java, the trusted store (when given), the classpath, the arguments. */
async function javaArgs(args: string[], trustStore?: string): Promise<string[]> {
  const trust = trustStore
    ? [`-Djavax.net.ssl.trustStore=${trustStore}`, "-Djavax.net.ssl.trustStorePassword=changeit"]
    : [];
  return [...JVM_FLAGS, ...trust, "-cp", [await classes(), ...JARS].join(":"), "ElektromailClient"]
    .concat(args);
}

/** Runs the program to its end (killed after 60 s); it must exit 0. */
export async function runClient(args: string[], trustStore?: string): Promise<ClientOutput> {
  const output = await new Deno.Command(JAVA, {
    args: await javaArgs(args, trustStore),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000), // a hang guard, not a timing assertion
  }).output();
  const result = new ClientOutput(decoder.decode(output.stdout));
  const stderr = decoder.decode(output.stderr);
  assert.equal(output.signal, null, `the client was killed (hang guard):\n${result.text}${stderr}`);
  assert.equal(output.code, 0, `the client exited ${output.code}:\n${result.text}${stderr}`);
  return result;
}

/** A running program whose output is read as it comes. */
export interface RunningClient {
  /** Resolves once the program has printed `key=...`; rejects if it exits first. */
  waitFor(key: string): Promise<void>;
  /** Waits for the exit (it must exit 0) and returns everything it printed. */
  finish(): Promise<ClientOutput>;
  /** Kills the program if it still runs and waits for it: for a test that failed early. */
  close(): Promise<void>;
}

/** Starts the program (killed after 60 s) for steps that need the test to act meanwhile. */
export async function startClient(args: string[], trustStore?: string): Promise<RunningClient> {
  const child = new Deno.Command(JAVA, {
    args: await javaArgs(args, trustStore),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000), // a hang guard, not a timing assertion
  }).spawn();
  let text = "";
  let ended = false;
  const waiters: Array<{ key: string; resolve: () => void; reject: (e: Error) => void }> = [];
  const printed = (key: string) => text.split("\n").some((line) => line.startsWith(`${key}=`));
  const stderr = new Response(child.stderr).text();
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      for (const waiter of waiters.filter((w) => printed(w.key))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    ended = true;
    for (const waiter of waiters.splice(0)) {
      waiter.reject(new Error(`The client exited before printing ${waiter.key}:\n${text}`));
    }
  })();
  return {
    waitFor: (key) => {
      if (printed(key)) return Promise.resolve();
      if (ended) return Promise.reject(new Error(`The client exited without ${key}:\n${text}`));
      return new Promise((resolve, reject) => waiters.push({ key, resolve, reject }));
    },
    finish: async () => {
      const status = await child.status;
      await reading;
      const errors = await stderr;
      assert.equal(status.signal, null, `the client was killed (hang guard):\n${text}${errors}`);
      assert.equal(status.code, 0, `the client exited ${status.code}:\n${text}${errors}`);
      return new ClientOutput(text);
    },
    close: async () => {
      if (!ended) {
        try {
          child.kill();
        } catch {
          // It has just exited.
        }
      }
      await Promise.all([child.status, reading, stderr]);
    },
  };
}

/** The server's ports as the program's settings. */
export function ports(server: Elektromail): string[] {
  return [
    // Jakarta Mail 2.0 on Java 17 checks the server identity against DNS names only (its
    // fallback when sun.security.util.HostnameChecker is not accessible), not IP addresses.
    "host=localhost",
    `smtp-port=${server.ports.smtp}`,
    `smtps-port=${server.ports.smtps}`,
    `imap-port=${server.ports.imap}`,
    `imaps-port=${server.ports.imaps}`,
  ];
}

/**
 * Lower-case hex SHA-256, as the program prints it. Stored bytes are shared memory, which
 * `crypto.subtle` refuses: it hashes a copy.
 */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", unsharedBytes(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `GET path` on the HTTP API, which must answer 200 with JSON. */
export async function httpJson(
  server: Elektromail,
  path: string,
): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${server.ports.http}${path}`);
  assert.equal(response.status, 200, path);
  return await response.json();
}

/** A plain single-part message for the store, as an SMTP client would have sent it. */
export function plainMessage(subject: string): Uint8Array {
  return encoder.encode(
    [
      "From: App <app@example.com>",
      "To: alice@corp.example",
      `Subject: =?UTF-8?B?${btoa(String.fromCharCode(...encoder.encode(subject)))}?=`,
      "Date: Thu, 03 Dec 2026 08:00:23 +0000",
      `Message-ID: <${subject.length}.${subject.charCodeAt(0)}@example.com>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      `Body of ${subject}`,
      "",
    ].join("\r\n"),
  );
}
