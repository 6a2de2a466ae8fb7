/**
 * The GitHub Action: `scripts/action-start.sh` run the way `action.yml` runs it (its input
 * defaults and env mapping read from the file, some inputs overridden as a workflow would),
 * with `GITHUB_OUTPUT` pointing at a temporary file. The server it leaves running must answer
 * on the ports it reports; a bad setting must fail the step with the server's message.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();
const slow = { sanitizeResources: false, sanitizeOps: false };

/** The environment action.yml gives the script for these inputs (defaults for the rest). */
function actionEnv(inputs: Record<string, string>): Record<string, string> {
  const yaml = Deno.readTextFileSync(`${ROOT}action.yml`);
  const defaults = new Map<string, string>();
  const section = (name: string) => yaml.split(new RegExp(`^${name}:$`, "m"))[1].split(/^\S/m)[0];
  for (
    const match of section("inputs").matchAll(
      /^ {2}([\w-]+):\n(?: {4}.*\n)*? {4}default: "(.*)"$/gm,
    )
  ) {
    defaults.set(match[1], match[2]);
  }
  for (const name of Object.keys(inputs)) assert.ok(defaults.has(name), `input ${name}`);
  const env: Record<string, string> = {};
  for (const match of yaml.matchAll(/^ {8}(\w+): \$\{\{ inputs\.([\w-]+) \}\}$/gm)) {
    const [, variable, input] = match;
    assert.ok(defaults.has(input), `${variable} maps a declared input (${input})`);
    env[variable] = inputs[input] ?? defaults.get(input)!;
  }
  assert.match(yaml, /run: '"\$GITHUB_ACTION_PATH\/scripts\/action-start\.sh"'/);
  return env;
}

/**
 * Where the outputs go: GITHUB_OUTPUT (as the runner does), or without it stdout redirected to a
 * file (`action-start.sh > ports.env`) or a pipe.
 */
type Sink = "github" | "file" | "pipe";

/** Parses name=value lines. */
function parseOutputs(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter(Boolean).map((line) => {
      const eq = line.indexOf("=");
      return [line.slice(0, eq), line.slice(eq + 1)];
    }),
  );
}

/** Runs the script as the runner would; returns its exit code, output and the outputs. */
async function runAction(
  inputs: Record<string, string>,
  sink: Sink = "github",
  env: Record<string, string> = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "elektromail-action-" });
  const output = `${dir}/github_output`;
  await Deno.writeTextFile(output, "");
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) =>
      !/^(ELEKTROMAIL_|SMTPS?_PORT$|IMAPS?_PORT$|POP3S?_PORT$|HTTP_PORT$|BIND_ADDR$|TLS_)/.test(
        name,
      )
    ),
  );
  const script = `${ROOT}scripts/action-start.sh`;
  const result = await new Deno.Command("bash", {
    args: sink === "file" ? ["-c", '"$0" > "$1"', script, output] : [script],
    env: {
      ...base,
      ...actionEnv(inputs),
      // action.yml has no POP3 input; a free port keeps parallel runs apart.
      POP3_PORT: "0",
      ...(sink === "github" ? { GITHUB_OUTPUT: output } : {}),
      GITHUB_ACTION_PATH: ROOT,
      RUNNER_TEMP: dir,
      ...env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(result.stdout);
  const written = sink === "pipe" ? stdout : await Deno.readTextFile(output);
  return {
    sink,
    written,
    outputs: parseOutputs(written),
    dir,
    code: result.code,
    stdout,
    stderr: decoder.decode(result.stderr),
  };
}

/** SIGTERM, then waits until the SMTP port no longer answers (the process may stay a zombie). */
async function stop(pid: number, smtpPort: number): Promise<void> {
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: smtpPort })).close();
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  Deno.kill(pid, "SIGKILL");
}

Deno.test({
  name: "action: starts in the background, waits until healthy, writes the ports",
  ...slow,
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const run = await runAction({
      "smtp-port": "0",
      "imap-port": "0",
      "http-port": "0",
      "smtps-port": "0",
      users: "ann:pw",
    });
    const pid = Number(run.outputs.pid);
    try {
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(Object.keys(run.outputs).sort(), [
        "cert-file",
        "cert-fingerprint",
        "http-port",
        "imap-port",
        "imaps-port",
        "log",
        "pid",
        "smtp-port",
        "smtps-port",
      ]);
      assert.ok(pid > 0);
      assert.equal(run.outputs["imaps-port"], "", "off unless asked");
      assert.match(run.stdout, /Elektromail .* ready/);
      // The reported ports answer: SMTP greets, HTTP is healthy, SMTPS speaks TLS with the
      // certificate in cert-file, whose fingerprint is cert-fingerprint.
      const smtp = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(run.outputs["smtp-port"]),
      });
      const buffer = new Uint8Array(200);
      const greeting = decoder.decode(buffer.subarray(0, (await smtp.read(buffer))!));
      smtp.close();
      assert.match(greeting, /^220 localhost ESMTP Elektromail/);
      const health = await fetch(`http://127.0.0.1:${run.outputs["http-port"]}/health`);
      assert.equal(health.status, 200);
      const ports = (await health.json()).ports;
      assert.equal(String(ports.imap), run.outputs["imap-port"]);
      const pem = await Deno.readTextFile(run.outputs["cert-file"]);
      assert.equal(
        (await fetch(`http://127.0.0.1:${run.outputs["http-port"]}/tls/cert`)).headers.get(
          "x-elektromail-fingerprint",
        ),
        run.outputs["cert-fingerprint"],
      );
      const smtps = await Deno.connectTls({
        hostname: "localhost",
        port: Number(run.outputs["smtps-port"]),
        caCerts: [pem],
      });
      const tlsGreeting = decoder.decode(buffer.subarray(0, (await smtps.read(buffer))!));
      smtps.close();
      assert.match(tlsGreeting, /^220 /);
      assert.match(await Deno.readTextFile(run.outputs.log), /auth +1 configured user/);
      if (Deno.build.os === "linux") {
        // The server's Deno does not check for a newer Deno while the tests run.
        const environ = (await Deno.readTextFile(`/proc/${pid}/environ`)).split("\0");
        assert.ok(environ.includes("DENO_NO_UPDATE_CHECK=1"), "update check off");
        // Nor does it read this checkout's deno.json (or the caller's).
        const command = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
        assert.ok(command.includes("--no-config"), command.join(" "));
      }
    } finally {
      if (pid > 0) await stop(pid, Number(run.outputs["smtp-port"]));
      await Deno.remove(run.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "action: deno cache analyses main.ts before the server's first deno run",
  ...slow,
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // A `deno` first on the PATH that writes down each command line, then runs the real one.
    const shim = await Deno.makeTempDir({ prefix: "elektromail-deno-shim-" });
    await Deno.writeTextFile(
      `${shim}/deno`,
      `#!/bin/sh\necho "$*" >> "${shim}/calls"\nexec "${Deno.execPath()}" "$@"\n`,
      { mode: 0o755 },
    );
    const run = await runAction({ "smtp-port": "0", "imap-port": "0" }, "github", {
      PATH: `${shim}:${Deno.env.get("PATH") ?? ""}`,
    });
    const pid = Number(run.outputs.pid);
    try {
      assert.equal(run.code, 0, run.stderr);
      const calls = (await Deno.readTextFile(`${shim}/calls`)).trim().split("\n");
      assert.equal(calls[0], `cache --no-config --quiet ${ROOT}main.ts`, calls.join("\n"));
      assert.match(calls[1], /^run --no-config .* \/\S*main\.ts$/, calls.join("\n"));
    } finally {
      if (pid > 0) await stop(pid, Number(run.outputs["smtp-port"]));
      await Deno.remove(run.dir, { recursive: true });
      await Deno.remove(shim, { recursive: true });
    }
  },
});

Deno.test({
  name: "action: a bad setting fails the step with the server's message",
  ...slow,
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const run = await runAction({ "smtp-port": "smtp", "imap-port": "0" });
    try {
      assert.equal(run.code, 1);
      assert.match(run.stderr, /the server exited before it was ready/);
      assert.match(run.stderr, /elektromail: SMTP_PORT: "smtp" is not a port number/);
      assert.deepEqual(run.outputs, {}, "no outputs");
    } finally {
      await Deno.remove(run.dir, { recursive: true });
    }
  },
});

for (const sink of ["file", "pipe"] as const) {
  Deno.test({
    name: `action: without GITHUB_OUTPUT the outputs survive stdout as a ${sink}`,
    ...slow,
    ignore: Deno.build.os === "windows",
    fn: async () => {
      const run = await runAction({ "smtp-port": "0", "imap-port": "0", "http-port": "0" }, sink);
      const pid = Number(run.outputs.pid);
      try {
        assert.equal(run.code, 0, run.stderr);
        // Only name=value lines: the banner goes to stderr, never over the outputs.
        for (const line of run.written.split("\n").filter(Boolean)) {
          assert.match(line, /^[a-z-]+=/, `an output line: ${JSON.stringify(line)}`);
        }
        assert.ok(pid > 0, run.written);
        assert.match(run.outputs["smtp-port"], /^\d+$/);
        assert.match(run.stderr, /Elektromail .* ready/);
        const health = await fetch(`http://127.0.0.1:${run.outputs["http-port"]}/health`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
      } finally {
        if (pid > 0) await stop(pid, Number(run.outputs["smtp-port"]));
        await Deno.remove(run.dir, { recursive: true });
      }
    },
  });
}
