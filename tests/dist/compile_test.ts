/**
 * `compile.sh`: the commands it runs (targets, output names, exactly the permissions), its
 * usage errors, that `deno compile` accepts them and embeds only what the server needs, and,
 * where a denort runtime is at hand, the binary itself serving mail and passing its own
 * healthcheck.
 *
 * `deno compile` downloads denort from dl.deno.land, which this project's machines cannot
 * reach, and no npm package ships it; `DENORT_BIN` points it at one. Without one, the binary
 * test is skipped and says so; the embedding check then uses the deno executable as a
 * stand-in runtime (it builds, but a full deno does not run an embedded program).
 *
 * @module
 */

import assert from "node:assert/strict";
import { V8_FLAGS_ARGUMENT } from "../../lib/v8_flags.ts";
import { sendMail, spawnMain } from "../process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCRIPT = `${ROOT}compile.sh`;
const decoder = new TextDecoder();
const slow = { sanitizeResources: false, sanitizeOps: false };

async function compile(args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: [SCRIPT, ...args],
    env: { DENO: Deno.execPath(), NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

const denort = Deno.env.get("DENORT_BIN");
const canBuild = denort !== undefined && denort !== "" &&
  (() => {
    try {
      return Deno.statSync(denort).isFile;
    } catch {
      return false;
    }
  })();
if (!canBuild && Deno.build.os !== "windows") {
  console.log(
    "compile_test: skipping the compiled-binary test: `deno compile` needs a denort runtime, " +
      "it downloads one from dl.deno.land (unreachable here) and no npm package ships it; " +
      "set DENORT_BIN to a denort binary for this machine to run it.",
  );
}

Deno.test("compile.sh: five targets, documented names, exactly the server's permissions", async () => {
  const { code, stdout, stderr } = await compile(["--dry-run"]);
  assert.equal(code, 0, stderr);
  const flags = "compile --no-config --allow-net --allow-env --allow-read --allow-write " +
    V8_FLAGS_ARGUMENT;
  assert.deepEqual(
    stdout.trim().split("\n"),
    [
      ["x86_64-unknown-linux-gnu", "dist/elektromail-linux-x64"],
      ["aarch64-unknown-linux-gnu", "dist/elektromail-linux-arm64"],
      ["x86_64-apple-darwin", "dist/elektromail-macos-x64"],
      ["aarch64-apple-darwin", "dist/elektromail-macos-arm64"],
      ["x86_64-pc-windows-msvc", "dist/elektromail-windows-x64.exe"],
    ].map(([triple, output]) =>
      `${Deno.execPath()} ${flags} --target ${triple} --output ${output} main.ts`
    ),
  );
  const one = await compile(["--dry-run", "macos-arm64"], { OUT_DIR: "/tmp/out" });
  assert.match(
    one.stdout,
    /^\S+ compile .* --output \/tmp\/out\/elektromail-macos-arm64 main\.ts\n$/,
  );
});

Deno.test("compile.sh: usage errors exit 2 with a plain message", async () => {
  const bogus = await compile(["--dry-run", "solaris-sparc"]);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /^compile\.sh: unknown target solaris-sparc \(one of: linux-x64 /);
  const many = await compile(["--dry-run", "all"], { DENORT_BIN: Deno.execPath() });
  assert.equal(many.code, 2);
  assert.match(many.stderr, /DENORT_BIN is one target's runtime: give exactly one target/);
  const missing = await compile(["--dry-run", "host"], { DENORT_BIN: "/no/such/denort" });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /DENORT_BIN=\/no\/such\/denort is not a file/);
  const option = await compile(["--fast"]);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /unknown option --fast[\s\S]*Usage: \.\/compile\.sh/);
});

Deno.test({
  name:
    "compile.sh: deno compile accepts the flags and embeds the lazy modules, no npm package (deno as the runtime)",
  ...slow,
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "elektromail-compile-" });
    try {
      // Any runtime file will do to check what is embedded; this one cannot run the program.
      const { code, stderr } = await compile(["host"], {
        DENORT_BIN: Deno.execPath(),
        OUT_DIR: out,
      });
      assert.equal(code, 0, stderr);
      const [binary] = [...Deno.readDirSync(out)].map((entry) => entry.name);
      assert.match(binary, /^elektromail-(linux|macos)-(x64|arm64)$/);
      assert.ok(Deno.statSync(`${out}/${binary}`).size > Deno.statSync(Deno.execPath()).size);
      // The lazily imported modules are embedded too (TLS in net/, HTTP wait.ts, SQLite).
      for (const embedded of ["main.ts", "net/", "wait.ts", "sqlite.ts"]) {
        assert.ok(stderr.includes(embedded), `${embedded} embedded:\n${stderr}`);
      }
      for (const testOnly of ["imapflow", "nodemailer", "pino"]) {
        assert.ok(!stderr.includes(testOnly), `${testOnly} (a test client) is not embedded`);
      }
      assert.ok(!/node_modules|registry\.npmjs\.org/.test(stderr), `no npm package:\n${stderr}`);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test({
  name: "compile.sh: the binary serves SMTP with TLS and passes its own healthcheck " +
    "(needs DENORT_BIN)",
  ...slow,
  ignore: !canBuild || Deno.build.os === "windows",
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "elektromail-compile-" });
    try {
      const build = await compile(["host"], { DENORT_BIN: denort!, OUT_DIR: out });
      assert.equal(build.code, 0, build.stderr);
      const binary = `${out}/${[...Deno.readDirSync(out)][0].name}`;
      const version = await new Deno.Command(binary, { args: ["--version"] }).output();
      assert.match(decoder.decode(version.stdout), /^elektromail \d+\.\d+\.\d+\n$/);
      const server = await spawnMain(
        ["--smtp-port", "0", "--imap-port", "0", "--pop3-port", "0", "--http-port", "0", "--tls"],
        {},
        { command: [binary], cwd: out },
      );
      try {
        assert.match(server.banner, /SHA-256 /);
        const reply = await sendMail(
          server.ports.SMTP,
          "ann@example.com",
          "Subject: bin\r\n\r\n.\r\n",
        );
        assert.match(reply, /^250 /);
        const health = await new Deno.Command(binary, {
          args: [
            "healthcheck",
            "--smtp-port",
            String(server.ports.SMTP),
            "--imap-port",
            String(server.ports.IMAP),
            "--pop3-port",
            String(server.ports.POP3),
            "--http-port",
            String(server.ports.HTTP),
          ],
        }).output();
        assert.equal(health.code, 0, decoder.decode(health.stderr));
      } finally {
        server.child.kill("SIGTERM");
        assert.equal((await server.exit()).code, 0);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
