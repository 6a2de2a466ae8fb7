/**
 * The deterministic IMAP benchmark corpus (fixed PRNG seed): mostly 2–10 KB text/plain and
 * multipart/alternative messages, every tenth a multipart/mixed with a 20–200 KB base64
 * attachment (~108 MB for 5,000); one in a hundred has the word {@linkcode RARE_WORD} in its
 * body, for SEARCH TEXT.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut " +
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip " +
    "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur")
    .split(" ");

/** A word in the body of every hundredth corpus message only (n % 100 == 42). */
export const RARE_WORD = "quokka";

function text(random: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    let line = "";
    while (line.length < 70) line += WORDS[Math.floor(random() * WORDS.length)] + " ";
    lines.push(line.trimEnd());
    size += line.length + 1;
  }
  return lines.join("\r\n") + "\r\n";
}

/** The n-th corpus message. */
export function corpusMessage(n: number): Uint8Array {
  const random = prng(n + 1);
  // The rare word goes in front of the generated text, so the PRNG stream is unchanged.
  const body = (bytes: number) => (n % 100 === 42 ? `${RARE_WORD} ` : "") + text(random, bytes);
  const header = [
    `From: Sender ${n % 97} <sender${n % 97}@example.com>`,
    `To: Bench <bench@example.com>`,
    `Subject: Corpus message ${n} ${WORDS[n % WORDS.length]}`,
    `Date: Wed, 25 Nov 2026 ${String(n % 24).padStart(2, "0")}:00:00 +0000`,
    `Message-ID: <corpus-${n}@example.com>`,
    "MIME-Version: 1.0",
  ];
  const size = 2000 + Math.floor(random() * 8000);
  if (n % 10 === 9) {
    const attachment = new Uint8Array(20_000 + Math.floor(random() * 180_000));
    for (let i = 0; i < attachment.length; i++) attachment[i] = Math.floor(random() * 256);
    let binary = "";
    for (let i = 0; i < attachment.length; i += 8192) {
      binary += String.fromCharCode(...attachment.subarray(i, i + 8192));
    }
    const base64 = btoa(binary).replace(/.{76}/g, "$&\r\n");
    return encoder.encode(
      header.join("\r\n") + '\r\nContent-Type: multipart/mixed; boundary="mixed"\r\n\r\n' +
        '--mixed\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n' + body(size) +
        '--mixed\r\nContent-Type: application/octet-stream; name="data.bin"\r\n' +
        'Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        base64 + "\r\n--mixed--\r\n",
    );
  }
  if (n % 2 === 0) {
    const alternative = body(size / 2);
    return encoder.encode(
      header.join("\r\n") + '\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n' +
        '--alt\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n' + alternative +
        '--alt\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n<html><body><p>' + alternative +
        "</p></body></html>\r\n" +
        "--alt--\r\n",
    );
  }
  return encoder.encode(
    header.join("\r\n") + '\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n' +
      body(size),
  );
}
