/**
 * The README's "Send it a message and read it back" block, pasted whole into bash as a
 * newcomer would: it must wait for the server it starts in the background, and every command
 * must succeed. The fixed ports are swapped for free ones and `deno task start` for the same
 * `deno run` (so the background process is the server itself and can be stopped).
 *
 * @module
 */

import assert from "node:assert/strict";
import { freePort } from "../free_ports.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test({
  name: "README quick start: the block works pasted whole",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const section = readme.split("Send it a message and read it back:")[1];
  const block = section.split("```bash\n")[1].split("```")[0];
  assert.match(block, /HTTP_PORT=8025 deno task start &\n/);
  assert.match(block, /deno task healthcheck --wait --http-port 8025\n/);
  const [smtp, imap, http] = [freePort(), freePort(), freePort()];
  const script = block
    .replace(
      "HTTP_PORT=8025 deno task start &",
      `HTTP_PORT=${http} SMTP_PORT=${smtp} IMAP_PORT=${imap} POP3_PORT=off ` +
        `deno run --allow-net --allow-env --allow-read --allow-write main.ts &\nserver=$!`,
    )
    .replaceAll("127.0.0.1:8025", `127.0.0.1:${http}`)
    .replace(
      "--http-port 8025",
      `--http-port ${http} --smtp-port ${smtp} --imap-port ${imap} --pop3-port off`,
    )
    .replaceAll("127.0.0.1:2525", `127.0.0.1:${smtp}`)
    .replaceAll("127.0.0.1:1143", `127.0.0.1:${imap}`);
  const result = await new Deno.Command("bash", {
    // Each command must succeed; the server is stopped whatever happens.
    args: ["-c", `set -e\ntrap 'kill $server 2>/dev/null' EXIT\n${script}`],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(result.stdout);
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /"subject": ?"hello"/, stdout);
  assert.match(stdout, /Hi Alice/, "IMAP fetches it");
});

Deno.test({
  name: "README TLS: the curl block, then the Python block, run as written",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const section = readme.split("```bash\nELEKTROMAIL_TLS=true")[1];
  assert.ok(section, "the TLS section");
  const shell = "ELEKTROMAIL_TLS=true" + section.split("```")[0];
  const python = section.split("```python\n")[1].split("```")[0];
  const start = "ELEKTROMAIL_TLS=true HTTP_PORT=8025 IMAPS_PORT=1993 deno task start &";
  assert.ok(shell.startsWith(start), shell);
  const [smtp, imap, imaps, http] = [freePort(), freePort(), freePort(), freePort()];
  const ports = (text: string) =>
    text.replaceAll("8025", String(http)).replaceAll("2525", String(smtp))
      .replaceAll("1993", String(imaps));
  const script = ports(shell).replace(
    ports(start),
    `ELEKTROMAIL_TLS=true HTTP_PORT=${http} IMAPS_PORT=${imaps} SMTP_PORT=${smtp} ` +
      `IMAP_PORT=${imap} POP3_PORT=off deno run --allow-net --allow-env --allow-read ` +
      `--allow-write ${ROOT}main.ts &\nserver=$!`,
  ) + `python3 - <<'PYTHON'\n${ports(python)}PYTHON\n`;
  const dir = await Deno.makeTempDir({ prefix: "elektromail-readme-" });
  try {
    const result = await new Deno.Command("bash", {
      args: ["-c", `set -e\ntrap 'kill $server 2>/dev/null' EXIT\n${script}`],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(result.stdout);
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `${stdout}\n${stderr}`);
    // Both messages are in alice's INBOX: curl's over STARTTLS, then Python's.
    assert.match(stdout, /\('OK', \[b'2'\]\)/, stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
