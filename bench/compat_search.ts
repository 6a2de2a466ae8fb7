/**
 * What a search through the MailHog and Mailpit compatible APIs costs over a few thousand
 * messages: `GET /api/v2/search?kind=containing` (MailHog) and `GET /api/v1/search?query=`
 * (Mailpit) against a server started in this process, its INBOXes filled through the store.
 * Messages look delivered: trace fields, a DKIM signature, some encoded-word subjects, a
 * ~2-3 KB body, every third multipart/alternative (quoted-printable HTML).
 *
 * Prints, per query, the first run (indexes built) and the median of the later runs, in ms,
 * with the number of messages found and a SHA-256 of the response body (equal hashes before
 * and after a change: identical results).
 *
 * ```sh
 * deno run -A bench/compat_search.ts [--messages 3000] [--runs 9] [--db /tmp/bench.db]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { testConfig } from "../lib/config.ts";
import { startElektromail } from "../lib/server.ts";

const encoder = new TextEncoder();
const WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " +
  "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud").split(" ");

/** Message `n`: deterministic, ~3 KB. */
function message(n: number): Uint8Array {
  const words = (count: number, salt: number) =>
    Array.from({ length: count }, (_, i) => WORDS[(n * 7 + i * 13 + salt) % WORDS.length]);
  const lines = (count: number) =>
    Array.from({ length: count }, (_, i) => words(11, i).join(" ")).join("\r\n");
  const subject = n % 5 === 0
    ? `=?UTF-8?Q?Gr=C3=BC=C3=9Fe_order_${n}?=`
    : `Order ${n} ${words(3, 1).join(" ")}`;
  const header = [
    "Return-Path: <shop@example.com>",
    `Delivered-To: user${n % 20}@example.test`,
    `Received: from mx${n % 3}.example.com (mx.example.com [192.0.2.${n % 250}]) by localhost ` +
    `with ESMTP id ${n.toString(36)}; Tue, 01 Dec 2026 10:00:00 +0000`,
    "Received: from app.internal (app.internal [10.0.0.1]) by mx.example.com with ESMTPSA;\r\n" +
    " Tue, 01 Dec 2026 09:59:59 +0000",
    `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1;\r\n` +
    ` h=from:to:subject:date:message-id; bh=${btoa(String(n)).padEnd(44, "A")};\r\n` +
    ` b=${"Zm9vYmFy".repeat(21)}`,
    `From: "Shop ${n % 11}" <shop${n % 11}@example.com>`,
    `To: user${n % 20}@example.test`,
    `Subject: ${subject}`,
    `Date: Tue, 01 Dec 2026 10:00:${String(n % 60).padStart(2, "0")} +0000`,
    `Message-ID: <bench-${n}@example.com>`,
    `X-Mailer: BenchMailer ${n % 4}`,
    // One message in 500 carries this in a header only: the header search's needle.
    ...(n % 500 === 7 ? ["X-Campaign: spring-sale-needle"] : []),
    "MIME-Version: 1.0",
  ];
  if (n % 3 !== 0) {
    header.push("Content-Type: text/plain; charset=utf-8");
    return encoder.encode(`${header.join("\r\n")}\r\n\r\n${lines(30)}\r\n`);
  }
  header.push('Content-Type: multipart/alternative; boundary="alt"');
  const html = `<p>${lines(15).replaceAll("\r\n", "</p>=\r\n<p>")}</p>`;
  return encoder.encode(
    `${header.join("\r\n")}\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
      `${lines(15)}\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n` +
      `Content-Transfer-Encoding: quoted-printable\r\n\r\n${html}\r\n--alt--\r\n`,
  );
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].slice(0, 8).map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "3000" },
    runs: { type: "string", default: "9" },
    db: { type: "string" },
  },
});
const count = Number(values.messages);
const runs = Number(values.runs);
if (values.db) await Deno.remove(values.db).catch(() => {});
const server = await startElektromail(
  testConfig({ pop3Port: null, dbPath: values.db ?? null }),
);
try {
  // Fixed dates: the same run gives the same answers, so their hashes can be compared.
  const at = Date.UTC(2026, 11, 1);
  for (let n = 0; n < count; n++) {
    server.store.append(`user${n % 20}`, "INBOX", message(n), { internalDate: at + n * 1000 });
  }
  const base = `http://127.0.0.1:${server.ports.http}`;
  const queries = [
    ["mailhog containing, header only", "/api/v2/search?kind=containing&query=needle&limit=250"],
    ["mailhog containing, no match", "/api/v2/search?kind=containing&query=zzznomatch"],
    ["mailhog containing, header name", "/api/v2/search?kind=containing&query=x-campaign"],
    ["mailpit word, header only", "/api/v1/search?query=needle"],
    ["mailpit word, no match", "/api/v1/search?query=zzznomatch"],
    ["mailpit two words", "/api/v1/search?query=grüße%20magna&limit=1000"],
  ];
  console.log(`${count} messages (${values.db ? "SQLite" : "memory"}), ${runs} runs`);
  for (const [name, path] of queries) {
    const times: number[] = [];
    let body = "";
    for (let run = 0; run < runs; run++) {
      const start = performance.now();
      const response = await fetch(base + path);
      body = await response.text();
      times.push(performance.now() - start);
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body}`);
    }
    const parsed = JSON.parse(body);
    const found = parsed.messages_count ?? parsed.total;
    console.log(
      `${name.padEnd(34)} first ${times[0].toFixed(1).padStart(7)} ms, then median ` +
        `${median(times.slice(1)).toFixed(1).padStart(7)} ms; found ${found}, body ${await sha256(
          body,
        )}`,
    );
  }
} finally {
  await server.stop();
}
