/**
 * The bundle `deno task start` runs (scripts/bundle.ts, `dist/bundle/main.js`): every part
 * the program loads only on first use sits in a chunk of its own, so this starts the bundle
 * with all of them on (HTTP, POP3, STARTTLS with a self-signed certificate, the SQLite store)
 * and uses each once with a real client: the HTTP API hands out the certificate, nodemailer
 * sends over STARTTLS into SQLite, POP3 and IMAP read the message back. The rebuild it forces
 * also clears an earlier build's day-old chunks. And a new bundle's modules, the lazy chunks too,
 * are analysed into Deno's cache before the server first starts from it.
 *
 * @module
 */

import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import { DatabaseSync } from "node:sqlite";
import {
  analyse,
  bundle,
  BUNDLE_DIR,
  deferLazyImports,
  KEEP_OLD_CHUNKS_MS,
} from "../../scripts/bundle.ts";
import { V8_FLAGS_ARGUMENT } from "../../lib/v8_flags.ts";
import { spawnMain } from "../process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends `lines` one by one over plain TCP and returns everything read until the last reply. */
async function converse(port: number, lines: string[], done: RegExp): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  const chunk = new Uint8Array(16384);
  const readUntil = async (pattern: RegExp, from = 0) => {
    while (!pattern.test(text.slice(from))) {
      const n = await conn.read(chunk);
      if (n === null) throw new Error(`closed early:\n${text}`);
      text += decoder.decode(chunk.subarray(0, n));
    }
  };
  try {
    await readUntil(/\r\n/);
    for (const line of lines) {
      const before = text.length;
      await conn.write(encoder.encode(line + "\r\n"));
      await readUntil(/^(\+OK|-ERR|[a-z] )/m, before);
    }
    await readUntil(done);
    return text;
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "deno task start's bundle: HTTP, STARTTLS, SQLite, POP3 and IMAP all load and serve",
  ignore: Deno.build.os === "windows",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  // A rebuild drops an earlier build's chunk once it is a day old, and keeps a younger one.
  await Deno.mkdir(`${ROOT}${BUNDLE_DIR}`, { recursive: true });
  const [old, young] = ["old", "young"].map((name) => `${ROOT}${BUNDLE_DIR}/chunk-TEST${name}.js`);
  await Deno.writeTextFile(old, "");
  await Deno.writeTextFile(young, "");
  const before = new Date(Date.now() - KEEP_OLD_CHUNKS_MS - 60_000);
  await Deno.utime(old, before, before);
  assert.equal(await bundle(true), true);
  assert.throws(() => Deno.statSync(old), Deno.errors.NotFound);
  assert.ok(Deno.statSync(young).isFile);
  await Deno.remove(young);
  // What loads at startup (main.js and the chunks it imports) is ASCII, without comments
  // (scripts/strip_comments.ts): V8 keeps it as a one-byte string.
  const main = await Deno.readTextFile(`${ROOT}${BUNDLE_DIR}/main.js`);
  const imported = [...main.matchAll(/^(?:import .*|\}) from "\.\/([\w-]+\.js)";$/gm)];
  assert.ok(imported.length > 0, "main.js imports its chunks");
  for (const name of ["main.js", ...imported.map((match) => match[1])]) {
    const code = await Deno.readTextFile(`${ROOT}${BUNDLE_DIR}/${name}`);
    assert.match(code, /^[\x00-\x7f]*$/, `${name} is ASCII`);
    assert.ok(!code.includes("/**") && !/^\s*\/\/ /m.test(code), `${name} has no comments`);
  }
  const dir = await Deno.makeTempDir({ prefix: "elektromail-bundle-" });
  const server = await spawnMain(
    [
      ...["--smtp-port", "0", "--imap-port", "0", "--pop3-port", "0", "--http-port", "0"],
      ...["--tls", "--db", `${dir}/mail.db`],
    ],
    {},
    {
      command: [Deno.execPath(), "run", "-A", V8_FLAGS_ARGUMENT, `${BUNDLE_DIR}/main.js`],
      cwd: ROOT,
    },
  );
  try {
    const { SMTP: smtp, IMAP: imap, POP3: pop3, HTTP: http } = server.ports;
    assert.ok(smtp && imap && pop3 && http, `ports from the banner:\n${server.banner}`);
    const cert = await fetch(`http://127.0.0.1:${http}/tls/cert`);
    assert.equal(cert.status, 200);
    const ca = await cert.text();
    assert.match(ca, /^-----BEGIN CERTIFICATE-----/);

    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: smtp,
      secure: false,
      requireTLS: true,
      tls: { ca },
    });
    const info = await transport.sendMail({
      from: "app@example.com",
      to: "bob@example.com",
      subject: "from the bundle",
      text: "bundled body",
    }) as { accepted: string[] };
    transport.close();
    assert.deepEqual(info.accepted, ["bob@example.com"]);

    const listed = await fetch(`http://127.0.0.1:${http}/messages`);
    assert.equal(listed.status, 200);
    assert.match(await listed.text(), /from the bundle/);

    const popped = await converse(pop3, ["USER bob", "PASS any", "STAT", "RETR 1"], /\r\n\.\r\n/);
    assert.match(popped, /\+OK 1 \d+\r\n/);
    assert.match(popped, /bundled body/);

    const fetched = await converse(
      imap,
      ["a LOGIN bob any", "b SELECT INBOX", "c FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"],
      /c OK/,
    );
    assert.match(fetched, /\* 1 EXISTS/);
    assert.match(fetched, /Subject: from the bundle/);
  } finally {
    server.child.kill("SIGTERM");
    await server.exit();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The bundle's files `main.js` reaches through static and dynamic imports, itself included. */
async function reachable(dir: string): Promise<Set<string>> {
  const found = new Set<string>();
  const visit = async (name: string) => {
    if (found.has(name)) return;
    found.add(name);
    const code = await Deno.readTextFile(`${dir}/${name}`);
    const imports = /(?:\bfrom|\bimport\(?|\bimport\(String\()\s*"\.\/([\w-]+\.js)"/g;
    for (const match of code.matchAll(imports)) {
      await visit(match[1]);
    }
  };
  await visit("main.js");
  return found;
}

Deno.test({
  name: "bundle: deno cache analyses main.js and every chunk it may load into Deno's cache",
  ignore: Deno.build.os === "windows",
}, async () => {
  await bundle();
  const dir = `${ROOT}${BUNDLE_DIR}`;
  const files = await reachable(dir);
  assert.ok(files.size >= 5, `main.js and its chunks: ${[...files].join(" ")}`);
  assert.ok([...files].some((name) => name.startsWith("sqlite-")), "a lazy chunk is reached");
  const denoDir = await Deno.makeTempDir({ prefix: "elektromail-deno-dir-" });
  try {
    assert.equal(await analyse(new URL(`file://${dir}/main.js`), { DENO_DIR: denoDir }), true);
    // Deno's own cache, as Deno 2.9 lays it out: a module analysed once is not parsed again.
    const db = new DatabaseSync(`${denoDir}/dep_analysis_cache_v2`, { readOnly: true });
    try {
      const analysed = new Set(
        db.prepare("SELECT specifier FROM moduleinfocache").all()
          .map((row) => String(row.specifier)),
      );
      for (const name of files) {
        assert.ok(analysed.has(`file://${dir}/${name}`), `${name} analysed`);
      }
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

Deno.test("bundle: a lazy chunk's import names it by an expression, other imports stay", () => {
  const chunks = new Set(["sqlite-AB12.js", "chunk-CD34.js"]);
  const code = 'import { a } from "./chunk-CD34.js";\n' +
    'const s = await import("./sqlite-AB12.js");\n' +
    'const u = await import("node:util");\n' +
    'const o = await import("./other-EF56.js");\n';
  assert.equal(
    deferLazyImports(code, chunks),
    'import { a } from "./chunk-CD34.js";\n' +
      'const s = await import(String("./sqlite-AB12.js"));\n' +
      'const u = await import("node:util");\n' +
      'const o = await import("./other-EF56.js");\n',
  );
});

Deno.test({
  name: "bundle: Deno's module graph at startup holds no lazy chunk (SQLite, HTTP, TLS)",
  ignore: Deno.build.os === "windows",
}, async () => {
  await bundle();
  const dir = `${ROOT}${BUNDLE_DIR}`;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--no-config", "--json", `${dir}/main.js`],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(code, 0);
  const graph = JSON.parse(decoder.decode(stdout)) as { modules: { specifier: string }[] };
  const names = graph.modules.map((module) => module.specifier.split("/").pop()!);
  assert.ok(names.includes("main.js"), names.join(" "));
  assert.ok(names.some((name) => name.startsWith("chunk-")), names.join(" "));
  const lazy = [...await reachable(dir)].filter((name) => !name.startsWith("chunk-"));
  for (const prefix of ["sqlite-", "routes-", "tls-", "healthcheck-"]) {
    assert.ok(lazy.some((name) => name.startsWith(prefix)), `${prefix} chunk in the bundle`);
    assert.ok(!names.some((name) => name.startsWith(prefix)), `${prefix} chunk not in the graph`);
  }
});
