/**
 * Configuration: every variable and its flag, flags over env over defaults, booleans, user
 * entries, and errors that name the flag or variable.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Config,
  ConfigError,
  DEFAULT_LIMITS,
  DEFAULT_TLS,
  helpText,
  parseUsers,
  resolveConfig,
  SETTINGS,
  testConfig,
} from "../lib/config.ts";

function serve(args: string[], env: Record<string, string> = {}): Config {
  const result = resolveConfig(args, env);
  assert.equal(result.action, "serve");
  return (result as { config: Config }).config;
}

function configError(args: string[], env: Record<string, string>, pattern: RegExp): void {
  assert.throws(() => resolveConfig(args, env), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  });
}

Deno.test("config: defaults", () => {
  const config = serve([]);
  assert.equal(config.bindAddr, "127.0.0.1");
  assert.equal(config.smtpPort, 2525);
  assert.equal(config.imapPort, 1143);
  assert.equal(config.pop3Port, 1110);
  assert.equal(config.httpPort, null);
  assert.deepEqual(config.users, []);
  assert.equal(config.authDisabled, false);
  assert.equal(config.smtpAuthRequired, false);
  assert.equal(config.dbPath, null);
  assert.equal(config.hostname, "localhost");
  assert.equal(config.verbose, false);
  assert.deepEqual(config.limits, DEFAULT_LIMITS);
});

/** Each setting: a value for env, a different one for the flag, and how to read it back. */
const CASES: Record<string, { env: string; flag: string; get: (c: Config) => unknown }> = {
  "smtp-port": { env: "2600", flag: "0", get: (c) => c.smtpPort },
  "imap-port": { env: "1430", flag: "1431", get: (c) => c.imapPort },
  "pop3-port": { env: "1100", flag: "0", get: (c) => c.pop3Port },
  "http-port": { env: "8025", flag: "0", get: (c) => c.httpPort },
  "bind-addr": { env: "0.0.0.0", flag: "::1", get: (c) => c.bindAddr },
  "http-allowed-hosts": { env: "mail.test", flag: "*", get: (c) => c.httpAllowedHosts.join() },
  "release-hosts": { env: "mx.test", flag: "*", get: (c) => c.releaseHosts.join() },
  "release-relay": { env: "127.0.0.1:25", flag: "[::1]:2525", get: (c) => c.releaseRelay },
  users: {
    env: "ann:pw",
    flag: "bob:bob@example.com:pw",
    get: (c) => c.users.map((u) => u.user).join(),
  },
  db: { env: "/tmp/env.db", flag: "/tmp/flag.db", get: (c) => c.dbPath },
  hostname: { env: "mail.example", flag: "mx.example", get: (c) => c.hostname },
  "max-message-size": { env: "4096", flag: "8192", get: (c) => c.limits.maxMessageSize },
  "max-recipients": { env: "5", flag: "6", get: (c) => c.limits.maxRecipients },
  "max-connections": { env: "7", flag: "8", get: (c) => c.limits.maxConnections },
  "max-users": { env: "9", flag: "10", get: (c) => c.limits.maxUsers },
  "max-line-length": { env: "2048", flag: "100000", get: (c) => c.limits.imapMaxLineLength },
  "max-auth-failures": { env: "0", flag: "50", get: (c) => c.limits.maxAuthFailuresPerAddress },
  "max-connections-per-address": {
    env: "3",
    flag: "4",
    get: (c) => c.limits.maxConnectionsPerAddress,
  },
  "receive-timeout": { env: "9", flag: "0", get: (c) => String(c.limits.receiveTimeoutMs / 1000) },
  "tls-cert": { env: "/tmp/env.pem", flag: "/tmp/flag.pem", get: (c) => c.tls?.cert },
  "tls-key": { env: "/tmp/env.key", flag: "/tmp/flag.key", get: (c) => c.tls?.key },
  "smtps-port": { env: "4650", flag: "0", get: (c) => c.tls?.smtpsPort },
  "imaps-port": { env: "9930", flag: "9931", get: (c) => c.tls?.imapsPort },
  "pop3s-port": { env: "9950", flag: "9951", get: (c) => c.tls?.pop3sPort },
  chaos: {
    env: '{"protocol":"smtp","command":"RCPT"}',
    flag: '{"protocol":"imap","command":"SELECT"}',
    get: (c) => JSON.stringify({ protocol: c.chaos[0]?.protocol, command: c.chaos[0]?.command }),
  },
};

Deno.test("config: every string setting is read from its variable and its flag; flags win", () => {
  for (const setting of SETTINGS.filter((s) => s.kind === "string")) {
    const c = CASES[setting.flag];
    assert.ok(c, `a test case for --${setting.flag}`);
    const fromEnv = c.get(serve([], { [setting.env]: c.env }));
    const fromFlag = c.get(serve([`--${setting.flag}`, c.flag]));
    const both = c.get(serve([`--${setting.flag}=${c.flag}`], { [setting.env]: c.env }));
    assert.notDeepEqual(fromEnv, fromFlag, setting.flag);
    assert.deepEqual(both, fromFlag, `--${setting.flag} wins over ${setting.env}`);
    assert.deepEqual(fromEnv, c.get(serve([], { [setting.env]: c.env })));
    const expectedEnv = /port|max/.test(setting.flag) ? Number(c.env) : c.env;
    if (setting.flag !== "users") assert.deepEqual(fromEnv, expectedEnv, setting.env);
  }
  // POP3 alone can be switched off.
  assert.equal(serve([], { POP3_PORT: "off" }).pop3Port, null);
  assert.equal(serve(["--pop3-port", "OFF"]).pop3Port, null);
  assert.equal(serve(["--pop3-port", "0"], { POP3_PORT: "off" }).pop3Port, 0);
  assert.equal(serve([], { POP3S_PORT: "9950" }).tls?.pop3sPort, 9950, "POP3S_PORT turns TLS on");
  // An empty variable counts as unset.
  assert.equal(serve([], { SMTP_PORT: "" }).smtpPort, 2525);
  assert.equal(serve([], { ELEKTROMAIL_DB: "" }).dbPath, null);
});

Deno.test("config: booleans accept true/1/yes from env and flags, and --no- to override", () => {
  const booleans: Array<[string, string, (c: Config) => boolean]> = [
    ["auth-disabled", "ELEKTROMAIL_AUTH_DISABLED", (c) => c.authDisabled],
    ["smtp-auth-required", "ELEKTROMAIL_SMTP_AUTH_REQUIRED", (c) => c.smtpAuthRequired],
    ["verbose", "ELEKTROMAIL_VERBOSE", (c) => c.verbose],
    ["skip-warm-up", "ELEKTROMAIL_SKIP_WARM_UP", (c) => c.skipWarmUp],
    ["tls", "ELEKTROMAIL_TLS", (c) => c.tls !== null],
    ["tls-required", "ELEKTROMAIL_TLS_REQUIRED", (c) => c.tls?.required ?? false],
  ];
  assert.deepEqual(
    SETTINGS.filter((s) => s.kind === "boolean").map((s) => s.flag).sort(),
    booleans.map(([flag]) => flag).sort(),
  );
  for (const [flag, env, get] of booleans) {
    for (const yes of ["true", "1", "yes", "TRUE", "Yes", " on "]) {
      assert.equal(get(serve([], { [env]: yes })), true, `${env}=${yes}`);
    }
    for (const no of ["false", "0", "no", "off"]) {
      assert.equal(get(serve([], { [env]: no })), false, `${env}=${no}`);
    }
    assert.equal(get(serve([])), false);
    assert.equal(get(serve([`--${flag}`])), true);
    assert.equal(get(serve([`--${flag}`], { [env]: "false" })), true, "flag wins");
    assert.equal(get(serve([`--no-${flag}`], { [env]: "yes" })), false, "--no- wins");
    configError([], { [env]: "maybe" }, new RegExp(`^${env}: "maybe" is not a boolean`));
  }
});

Deno.test("config: user entries", () => {
  assert.deepEqual(parseUsers("ann:secret"), [{ user: "ann", password: "secret", address: null }]);
  assert.deepEqual(parseUsers("Ann:Ann@Example.COM:secret"), [
    { user: "ann", password: "secret", address: "ann@example.com" },
  ]);
  // The password may contain ':' (and '@' in the simple form's password is fine).
  assert.deepEqual(parseUsers("ann:a:b:c, bob:bob@x.org:p:w@d:"), [
    { user: "ann", password: "a:b:c", address: null },
    { user: "bob", password: "p:w@d:", address: "bob@x.org" },
  ]);
  assert.deepEqual(parseUsers("ann:p@ss"), [{ user: "ann", password: "p@ss", address: null }]);
  assert.deepEqual(parseUsers(" a:1 ,, b:2 ").map((u) => u.user), ["a", "b"]);
  const config = serve([], { ELEKTROMAIL_USERS: "ann:pw,bob:bob@example.com:pw2" });
  assert.equal(config.users.length, 2);
  assert.equal(config.users[1].address, "bob@example.com");
});

Deno.test("config: malformed user entries name the variable or flag and the entry", () => {
  const bad: Array<[string, RegExp]> = [
    ["ann", /entry 1 \("ann:…"\) must be user:pass or user:address:pass/],
    [":pw", /entry 1 .* must be user:pass/],
    ["ann:", /entry 1 .* has an empty password/],
    ["ann:ann@example.com:", /empty password/],
    ["ann:pw,bob", /entry 2 \("bob:…"\) must be/],
    ["a b:pw", /entry 1 .*Cannot use user name/],
    ["ann:pw,ANN:pw2", /user ann is listed twice/],
    ["ann:a@b@c:pw", /"a@b@c" is not an email address/],
    [",", /no users/],
  ];
  for (const [text, pattern] of bad) {
    configError(
      [],
      { ELEKTROMAIL_USERS: text },
      new RegExp(`^ELEKTROMAIL_USERS: .*${pattern.source}`),
    );
    configError(["--users", text], {}, new RegExp(`^--users: .*${pattern.source}`));
  }
  // The password never appears in the message.
  configError([], { ELEKTROMAIL_USERS: "ok:pw,bad:" }, /^(?!.*pw).*$/);
});

Deno.test("config: bad ports, counts and addresses name the variable or flag", () => {
  for (
    const [flag, env] of [["smtp-port", "SMTP_PORT"], ["imap-port", "IMAP_PORT"], [
      "http-port",
      "HTTP_PORT",
    ]]
  ) {
    for (const bad of ["abc", "70000", "65536", "-1", "1.5", "0x10", "123456"]) {
      configError(
        [],
        { [env]: bad },
        new RegExp(`^${env}: "${bad.replace(".", "\\.")}" is not a port`),
      );
      configError([`--${flag}=${bad}`], {}, new RegExp(`^--${flag}: ".*" is not a port`));
    }
    assert.doesNotThrow(() => serve([`--${flag}`, "65535"]));
  }
  configError([], { BIND_ADDR: "example.com" }, /^BIND_ADDR: "example.com" is not an IP address/);
  configError(["--bind-addr", "300.1.1.1"], {}, /^--bind-addr: "300.1.1.1" is not an IP/);
  for (
    const bad of [
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "12345::1",
      ":",
      "1:2:3:4:5:6:7",
      "::1:2:3:4:5:6:7:8",
    ]
  ) {
    configError(["--bind-addr", bad], {}, /^--bind-addr: ".*" is not an IP address/);
  }
  for (const good of ["::", "::1", "fe80::1:2", "1:2:3:4:5:6:7:8", "1::8", "0.0.0.0"]) {
    assert.equal(serve(["--bind-addr", good]).bindAddr, good);
  }
  configError([], { ELEKTROMAIL_MAX_MESSAGE_SIZE: "12" }, /^ELEKTROMAIL_MAX_MESSAGE_SIZE: "12"/);
  configError(["--max-recipients", "0"], {}, /^--max-recipients: "0" is not a whole number/);
  configError([], { ELEKTROMAIL_MAX_CONNECTIONS: "many" }, /^ELEKTROMAIL_MAX_CONNECTIONS:/);
  configError([], { ELEKTROMAIL_MAX_USERS: "0" }, /^ELEKTROMAIL_MAX_USERS: "0" is not a whole/);
  configError(["--max-connections-per-address", "0"], {}, /^--max-connections-per-address: "0"/);
  configError([], { ELEKTROMAIL_RECEIVE_TIMEOUT: "1.5" }, /^ELEKTROMAIL_RECEIVE_TIMEOUT: "1.5"/);
  configError([], { ELEKTROMAIL_HOSTNAME: "bad host" }, /^ELEKTROMAIL_HOSTNAME: "bad host"/);
  configError(["--hostname", "bad/host"], {}, /^--hostname: "bad\/host"/);
});

Deno.test("config: the line length setting is IMAP's, at least 1,024 octets; SMTP keeps 8,192", () => {
  assert.equal(DEFAULT_LIMITS.imapMaxLineLength, 65536);
  assert.equal(DEFAULT_LIMITS.smtpMaxLineLength, 8192);
  const small = serve(["--max-line-length", "1024"]);
  assert.equal(small.limits.imapMaxLineLength, 1024);
  assert.equal(small.limits.smtpMaxLineLength, 8192);
  configError(
    [],
    { ELEKTROMAIL_MAX_LINE_LENGTH: "1023" },
    /^ELEKTROMAIL_MAX_LINE_LENGTH: "1023" is not a whole number of at least 1024/,
  );
  configError(["--max-line-length", "64k"], {}, /^--max-line-length: "64k"/);
  assert.match(
    helpText(),
    /--max-line-length <value> +ELEKTROMAIL_MAX_LINE_LENGTH\n +.*IMAP.*65536/,
  );
});

Deno.test("config: the per-address limit defaults to 3/4 of the per-listener one", () => {
  assert.equal(serve([]).limits.maxConnectionsPerAddress, 150);
  assert.equal(serve(["--max-connections", "1000"]).limits.maxConnectionsPerAddress, 750);
  assert.equal(serve(["--max-connections", "1"]).limits.maxConnectionsPerAddress, 1);
  const both = serve(["--max-connections", "1000", "--max-connections-per-address", "5"]);
  assert.equal(both.limits.maxConnectionsPerAddress, 5);
  assert.equal(serve([]).limits.receiveTimeoutMs, 60_000);
});

Deno.test("config: unknown flags and positionals are refused", () => {
  configError(["--smtp"], {}, /Unknown option '--smtp'.*see --help/);
  configError(["serve"], {}, /positional.*see --help/i);
  configError(["--smtp-port"], {}, /--smtp-port.*argument/);
  configError(["--no-help"], {}, /--no-help is not an option/);
  // A value that looks like a flag is refused rather than taken silently.
  configError(["--smtp-port", "-1"], {}, /--smtp-port/);
});

Deno.test("config: --help and --version", () => {
  assert.deepEqual(resolveConfig(["--help"], {}), { action: "help" });
  assert.deepEqual(resolveConfig(["-h", "--smtp-port", "abc"], {}), { action: "help" });
  assert.deepEqual(resolveConfig(["--version"], {}), { action: "version" });
  assert.deepEqual(resolveConfig(["-V"], {}), { action: "version" });
  const help = helpText();
  for (const setting of SETTINGS) {
    assert.match(help, new RegExp(`--(\\[no-\\])?${setting.flag}\\b`), setting.flag);
    assert.ok(help.includes(setting.env), setting.env);
  }
});

Deno.test("config: TLS is on with --tls, a certificate, a key, --tls-required or a TLS port", () => {
  assert.equal(serve([]).tls, null);
  assert.deepEqual(serve(["--tls"]).tls, DEFAULT_TLS);
  assert.deepEqual(serve([], { ELEKTROMAIL_TLS: "yes" }).tls, DEFAULT_TLS);
  assert.equal(serve([], { ELEKTROMAIL_TLS: "no" }).tls, null);
  assert.deepEqual(serve([], { TLS_CERT: "/c.pem" }).tls, { ...DEFAULT_TLS, cert: "/c.pem" });
  assert.deepEqual(serve(["--tls-key", "/k.pem"]).tls, { ...DEFAULT_TLS, key: "/k.pem" });
  assert.deepEqual(serve(["--tls-required"]).tls, { ...DEFAULT_TLS, required: true });
  assert.deepEqual(serve([], { SMTPS_PORT: "4650" }).tls, { ...DEFAULT_TLS, smtpsPort: 4650 });
  assert.deepEqual(serve(["--imaps-port=0"]).tls, { ...DEFAULT_TLS, imapsPort: 0 });
  // A PEM text value is kept as given (loading it is lib/net/tls.ts's job).
  const pem = "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----";
  assert.equal(serve([], { TLS_CERT: pem }).tls?.cert, pem);
  assert.equal(testConfig().tls, null);
});

Deno.test("config: switching TLS off while a TLS setting needs it names both", () => {
  configError(
    [],
    { ELEKTROMAIL_TLS: "false", SMTPS_PORT: "4650" },
    /^ELEKTROMAIL_TLS turns TLS off, but SMTPS_PORT \(--smtps-port\) needs it$/,
  );
  configError(
    ["--no-tls", "--tls-cert", "/c.pem"],
    {},
    /^--tls turns TLS off, but TLS_CERT \(--tls-cert\) needs it$/,
  );
  configError([], { IMAPS_PORT: "99999" }, /^IMAPS_PORT: "99999" is not a port/);
  configError(["--tls-required=maybe"], {}, /--tls-required/);
});
