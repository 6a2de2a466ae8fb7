/** Shared helpers for the HTTP control-plane tests: a server on port 0 and a JSON client. */

import assert from "node:assert/strict";
import { type Config, testConfig } from "../../lib/config.ts";
import { type Elektromail, startElektromail } from "../../lib/server.ts";
import { SmtpClient } from "../process.ts";

export interface Api {
  readonly base: string;
  readonly server: Elektromail;
  /** Sends a request and reads the whole response (status, headers, parsed JSON or bytes). */
  request(path: string, init?: RequestInit): Promise<ApiResponse>;
  /** POST /inject with a JSON body. */
  inject(body: unknown): Promise<ApiResponse>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Uint8Array;
  // deno-lint-ignore no-explicit-any
  readonly json: any;
}

/** Starts a server with HTTP on port 0, runs `fn`, and always stops the server. */
export async function withApi(
  fn: (api: Api) => Promise<void>,
  overrides: Partial<Config> = {},
): Promise<void> {
  const server = await startElektromail(testConfig({ httpPort: 0, ...overrides }));
  try {
    const base = `http://127.0.0.1:${server.ports.http}`;
    const request = async (path: string, init?: RequestInit): Promise<ApiResponse> => {
      const response = await fetch(base + path, init);
      const bytes = new Uint8Array(await response.arrayBuffer());
      let json: unknown = undefined;
      if (
        bytes.length > 0 && response.headers.get("content-type")?.startsWith("application/json")
      ) {
        json = JSON.parse(new TextDecoder().decode(bytes));
      }
      return { status: response.status, headers: response.headers, bytes, json };
    };
    const inject = (body: unknown) =>
      request("/inject", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await fn({ base, server, request, inject });
  } finally {
    await server.stop();
  }
}

/** The path of a message resource: ids may contain `/` (mailbox names), so they are encoded. */
export function messagePath(id: string, suffix = ""): string {
  return `/messages/${encodeURIComponent(id)}${suffix}`;
}

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A 1×1 PNG. */
export const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/**
 * Mail from other@example.org to bob@example.test, "report attached": a text part ("see the
 * report") and a PDF attachment, `r.pdf`. The MailHog and Mailpit client tests send it.
 */
export const REPORT_WITH_PDF = [
  "From: other@example.org",
  "To: bob@example.test",
  "Subject: report attached",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain",
  "",
  "see the report",
  "--b",
  "Content-Type: application/pdf",
  // Unquoted: cypress-mailhog reads the file name from the raw header and keeps any quotes.
  "Content-Disposition: attachment; filename=r.pdf",
  "",
  "%PDF-1",
  "--b--",
  "",
].join("\r\n");

/**
 * A message whose parts are HTML and SVG with `script` (no file names: what used to be
 * served inline), a PNG, a PDF and plain text.
 */
export function hostileParts(script: string): string {
  const part = (headers: string[], body: string) => ["--p", ...headers, "", body].join("\r\n");
  return [
    "From: mallory@example.com",
    "To: amy@example.com",
    "Subject: parts",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="p"',
    "",
    part(["Content-Type: text/plain"], "see attached"),
    part(
      ["Content-Type: text/html"],
      `<html><body><p id=x>html part</p><script>${script}</script></body></html>`,
    ),
    part(
      ["Content-Type: image/svg+xml", "Content-Disposition: inline"],
      `<svg xmlns="http://www.w3.org/2000/svg"><script>${script}</script></svg>`,
    ),
    part(
      [
        "Content-Type: image/png",
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="dot.png"',
      ],
      PNG_BASE64,
    ),
    part(["Content-Type: application/pdf"], "%PDF-1.4"),
    "--p--",
    "",
  ].join("\r\n");
}

/** Sends `body` (CRLF lines, ending with CRLF) over SMTP from `from` to every `to`; asserts 250s. */
export async function sendSmtp(
  api: Api,
  from: string,
  to: readonly string[],
  body: string,
): Promise<void> {
  const { client } = await SmtpClient.connect(api.server.ports.smtp);
  try {
    const lines = ["EHLO test", `MAIL FROM:<${from}>`, ...to.map((rcpt) => `RCPT TO:<${rcpt}>`)];
    for (const line of lines) assert.match(await client.command(line), /^250[ -]/, line);
    assert.match(await client.command("DATA"), /^354 /);
    await client.write(body + ".\r\n");
    assert.match(await client.readReply(), /^250 /);
    await client.command("QUIT");
  } finally {
    client.close();
  }
}
