/**
 * Transcript tests: plain-text client/server scripts played against a live server over TCP.
 * Shared by `tests/rfc5321/` (SMTP) and `tests/rfc9051/` (IMAP).
 *
 * ## Format
 *
 * ```text
 * @rfc 5321 4.1.1.1, 4.1.4          header: the RFC section(s) the script checks (required)
 * @timeout 5                        optional: seconds for the whole script (default 10)
 * @anything value                   other header directives are for the runner (e.g. @config)
 * # a comment; blank lines are ignored
 * S: 220 {*}                        expect one server line on the default connection
 * C: EHLO client.example            send "EHLO client.example\r\n"
 * R: MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n   send raw bytes: no CRLF appended
 * S~: ^250[ -]2\.1\.0 .*$           expect a line matching a JS regular expression
 * S: 250 2.0.0 OK queued as $qid    capture a variable: `$qid` matches a run of non-spaces
 * C: NOOP $qid                      ...and reuse it in later C:, R: and S: lines
 * C2: EHLO second                   a second connection, opened on first use (C == C1)
 * S2: 220 {*}
 * {                                 lines up to "}" may arrive in any order (IMAP untagged)
 * S1: * 3 EXISTS
 * S1: * 0 RECENT
 * }
 * !closed 1                         expect the server to close connection 1 (no more data)
 * !close 2                          the client closes connection 2
 * !starttls 1                       the client starts TLS on connection 1 (after the server's
 *                                   go-ahead), trusting the runner's `caCerts`
 * !compress 1                       the client compresses connection 1 from now on (RFC 4978,
 *                                   after the server's tagged OK), both ways
 * !sleep 50                         wait 50 ms
 * !call name arg...                 run a hook the runner provides (e.g. check the store)
 * ```
 *
 * - Connection names: `C`/`S`/`R` alone mean connection `1`; `C2:`, `S2:`, `Cimap:` name
 *   others. A connection opens on its first `C`, `R` or `S` line, so a script must expect the
 *   greeting itself.
 * - Escapes in `C:`, `R:` and `S:` text: `\r`, `\n`, `\t`, `\\`, `\xHH` (one byte), `\$` (a
 *   literal dollar). `C:` lines get CRLF appended after unescaping.
 * - Consecutive `C:`/`R:` lines for the same connection are written in one `write` (one
 *   packet on loopback), which is how pipelining is tested.
 * - `S:` text matches the whole line (without its CRLF) exactly, except: `{*}` matches any
 *   text (also empty); `$name` (or `${name}`) matches and captures a run of non-spaces when
 *   `name` is not yet bound, and the bound value when it is. `S~:` takes a regular expression
 *   instead; its named groups `(?<name>...)` become variables.
 * - Every server line must end with CRLF; a bare LF is reported as a failure.
 * - At the end of the script (after a 30 ms grace period) every connection must have no
 *   unread lines.
 * - `!starttls` fails if the server sent anything after the line last expected (plaintext
 *   after the go-ahead), and when the handshake or the certificate check fails.
 * - Failures name the file and line, the expectation and what arrived.
 *
 * @module
 */

import { DeflatedConn } from "./deflate_conn.ts";
import {
  type Config,
  DEFAULT_LIMITS,
  DEFAULT_TLS,
  parseUsers,
  testConfig,
} from "../../lib/config.ts";

/** One step of a script. */
export type Step =
  | { kind: "send"; line: number; conn: string; text: string; crlf: boolean }
  | { kind: "expect"; line: number; conn: string; pattern: string; regex: boolean }
  | { kind: "unordered"; line: number; conn: string; items: Array<Step & { kind: "expect" }> }
  | { kind: "closed"; line: number; conn: string }
  | { kind: "close"; line: number; conn: string }
  | { kind: "starttls"; line: number; conn: string }
  | { kind: "compress"; line: number; conn: string }
  | { kind: "sleep"; line: number; ms: number }
  | { kind: "call"; line: number; name: string; args: string[] };

/** A parsed transcript. */
export interface Transcript {
  readonly file: string;
  /** Section references from `@rfc`. */
  readonly rfc: string;
  /** Every `@name value` header directive (including `rfc` and `timeout`). */
  readonly directives: ReadonlyMap<string, string>;
  readonly steps: readonly Step[];
}

/** Context handed to hooks. */
export interface HookContext {
  readonly vars: Map<string, string>;
  /** `file:line` of the `!call`. */
  readonly where: string;
}

/** A runner-provided check or action, invoked by `!call name args...`. */
export type Hook = (args: string[], ctx: HookContext) => void | Promise<void>;

/** How to run a transcript. */
export interface RunOptions {
  readonly port: number;
  /** Port for a named connection, when it differs from `port` (e.g. `Csmtp:` in an IMAP script). */
  readonly portFor?: (conn: string) => number | undefined;
  readonly hostname?: string;
  readonly hooks?: Readonly<Record<string, Hook>>;
  /** Overrides `@timeout`; seconds. */
  readonly timeoutSeconds?: number;
  /** Whether a named connection is TLS from the first byte (an implicit-TLS port). */
  readonly implicitTls?: (conn: string) => boolean;
  /** Certificates `!starttls` trusts (PEM); the name checked is `localhost`. */
  readonly caCerts?: readonly string[];
}

/** A transcript failure, with the file and line. */
export class TranscriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TranscriptError";
  }
}

const LINE_RE = /^([CSR])([A-Za-z0-9]*)(~?):(?: (.*))?$/;

/** Parses transcript text; `file` is used in error messages. */
export function parseTranscript(text: string, file: string): Transcript {
  const directives = new Map<string, string>();
  const steps: Step[] = [];
  let block: (Step & { kind: "unordered" }) | null = null;
  const lines = text.split(/\r?\n/);
  const fail = (n: number, message: string): never => {
    throw new TranscriptError(`${file}:${n}: ${message}`);
  };
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i];
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (raw.startsWith("@")) {
      const match = /^@([A-Za-z][\w-]*)\s*(.*)$/.exec(raw);
      if (!match) fail(n, `bad directive: ${raw}`);
      directives.set(match![1], match![2].trim());
      continue;
    }
    if (trimmed === "{") {
      if (block) fail(n, "nested { block");
      block = { kind: "unordered", line: n, conn: "", items: [] };
      continue;
    }
    if (trimmed === "}") {
      if (!block) fail(n, "} without {");
      if (block!.items.length === 0) fail(n, "empty { } block");
      steps.push(block!);
      block = null;
      continue;
    }
    if (raw.startsWith("!")) {
      if (block) fail(n, "only S: lines may appear inside { }");
      const [word, ...args] = raw.slice(1).trim().split(/\s+/);
      switch (word) {
        case "closed":
        case "close":
        case "starttls":
        case "compress":
          steps.push({ kind: word, line: n, conn: connName(args[0] ?? "") });
          break;
        case "sleep":
          steps.push({ kind: "sleep", line: n, ms: Number(args[0] ?? "0") });
          break;
        case "call":
          if (!args[0]) fail(n, "!call needs a hook name");
          steps.push({ kind: "call", line: n, name: args[0], args: args.slice(1) });
          break;
        default:
          fail(n, `unknown action !${word}`);
      }
      continue;
    }
    const match = LINE_RE.exec(raw);
    if (!match) fail(n, `cannot parse line: ${raw}`);
    const [, role, name, tilde, body = ""] = match!;
    const conn = connName(name);
    if (role === "S") {
      const step = { kind: "expect" as const, line: n, conn, pattern: body, regex: tilde === "~" };
      if (block) {
        if (block.items.length > 0 && block.conn !== conn) {
          fail(n, "all lines of a { } block must be for one connection");
        }
        block.conn = conn;
        block.items.push(step);
      } else steps.push(step);
      continue;
    }
    if (block) fail(n, "only S: lines may appear inside { }");
    if (tilde) fail(n, `${role}~: is not a thing; only S~: takes a regex`);
    steps.push({ kind: "send", line: n, conn, text: body, crlf: role === "C" });
  }
  if (block) fail(block.line, "{ without }");
  if (!directives.has("rfc")) fail(1, "missing @rfc header naming the RFC section(s)");
  return { file, rfc: directives.get("rfc")!, directives, steps };
}

function connName(name: string): string {
  return name === "" ? "1" : name;
}

/** Interprets `\r \n \t \\ \xHH \$` (other backslashes stay); `\xHH` bytes become placeholders that {@linkcode toBytes} restores. */
export function unescapeText(text: string): string {
  return text.replace(/\\(x[0-9A-Fa-f]{2}|.)/g, (_, esc: string) => {
    switch (esc[0]) {
      case "r":
        return "\r";
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "x":
        // A private-use code point stands for the raw byte until toBytes.
        return String.fromCharCode(0xf700 + parseInt(esc.slice(1), 16));
      case "$":
        return "\u0000DOLLAR\u0000";
      case "\\":
        return "\\";
      default:
        // Unknown escapes stay as written: IMAP system flags (\Seen) are plain text.
        return "\\" + esc;
    }
  });
}

function substitute(text: string, vars: Map<string, string>, where: string): string {
  return text.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, a: string, b: string) => {
    const name = a ?? b;
    const value = vars.get(name);
    if (value === undefined) throw new TranscriptError(`${where}: variable $${name} is not set`);
    return value;
  }).replaceAll("\u0000DOLLAR\u0000", "$");
}

/** Bytes of a string where `\xHH` escapes stand for single bytes and the rest is UTF-8. */
export function toBytes(text: string): Uint8Array {
  const parts: number[] = [];
  const encoder = new TextEncoder();
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xf700 && code <= 0xf7ff) parts.push(code - 0xf700); // from \xHH
    else parts.push(...encoder.encode(ch));
  }
  return new Uint8Array(parts);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compiles an `S:` pattern to a regex, noting which variables it captures. */
function compilePattern(
  step: Step & { kind: "expect" },
  vars: Map<string, string>,
  where: string,
): { regex: RegExp; captures: string[] } {
  if (step.regex) {
    try {
      return { regex: new RegExp(step.pattern), captures: [] };
    } catch (error) {
      throw new TranscriptError(`${where}: bad regex: ${(error as Error).message}`);
    }
  }
  // Server lines are read as Latin-1: a `\xHH` escape stands for that one character.
  const text = unescapeText(step.pattern).replace(
    /[\uf700-\uf7ff]/g,
    (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xf700),
  );
  const captures: string[] = [];
  let source = "^";
  const token = /\{\*\}|\$(?:\{(\w+)\}|(\w+))/g;
  let last = 0;
  for (const match of text.matchAll(token)) {
    source += escapeRegex(text.slice(last, match.index).replaceAll("\u0000DOLLAR\u0000", "$"));
    last = match.index! + match[0].length;
    if (match[0] === "{*}") {
      source += "[^]*?";
      continue;
    }
    const name = match[1] ?? match[2];
    const bound = vars.get(name);
    if (bound !== undefined) source += escapeRegex(bound);
    else if (captures.includes(name)) source += `\\k<${name}>`;
    else {
      captures.push(name);
      source += `(?<${name}>\\S+)`;
    }
  }
  source += escapeRegex(text.slice(last).replaceAll("\u0000DOLLAR\u0000", "$")) + "$";
  return { regex: new RegExp(source), captures };
}

/**
 * One client connection, read on demand (one read at a time) and split into lines. Reading
 * only when a line is wanted leaves no read pending after the server's STARTTLS go-ahead, so
 * the connection can be handed to `Deno.startTls`.
 */
class Peer {
  readonly name: string;
  conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  readonly lines: Array<{ text: string; bareLf: boolean }> = [];
  /** Every line received so far, for failure context. */
  readonly history: string[] = [];
  eof = false;
  readError: unknown = null;
  #reading: Promise<void> | null = null;

  constructor(name: string, conn: Deno.Conn) {
    this.name = name;
    this.conn = conn;
  }

  /** Settles when no read is pending. */
  get done(): Promise<void> {
    return this.#reading ?? Promise.resolve();
  }

  /** Starts one read (or joins the pending one). */
  #pull(): Promise<void> {
    this.#reading ??= this.#readOnce().finally(() => (this.#reading = null));
    return this.#reading;
  }

  async #readOnce(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      const n = await this.conn.read(chunk);
      if (n === null) {
        this.eof = true;
        return;
      }
      const merged = new Uint8Array(this.#buffer.length + n);
      merged.set(this.#buffer);
      merged.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = merged;
      this.#splitLines();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) this.readError = error;
      this.eof = true;
    }
  }

  #splitLines(): void {
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      if (this.#buffer[i] !== 0x0a) continue;
      const crlf = i > start && this.#buffer[i - 1] === 0x0d;
      const bytes = this.#buffer.subarray(start, crlf ? i - 1 : i);
      const text = new TextDecoder().decode(bytes);
      this.lines.push({ text, bareLf: !crlf });
      this.history.push(text);
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
  }

  /** Bytes received after the last line end. */
  get partial(): string {
    return new TextDecoder().decode(this.#buffer);
  }

  /** Waits until a line is available or EOF; false on timeout. */
  async waitLine(deadline: number): Promise<boolean> {
    while (this.lines.length === 0 && !this.eof) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#pull(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, remaining))),
      ]);
      clearTimeout(timer);
    }
    return this.lines.length > 0;
  }

  /** Client-side TLS over the connection; nothing may be unread or being read. */
  async startTls(caCerts: readonly string[]): Promise<void> {
    if (this.lines.length > 0 || this.#buffer.length > 0) {
      const extra = [...this.lines.map((l) => l.text + "\r\n"), this.partial].join("");
      throw new Error(`the server sent plaintext after its go-ahead: ${JSON.stringify(extra)}`);
    }
    if (this.#reading) throw new Error("a read is still pending (expect the go-ahead first)");
    const tls = await Deno.startTls(this.conn as Deno.TcpConn, {
      hostname: "localhost",
      caCerts: [...caCerts],
    });
    this.conn = tls;
    await tls.handshake();
  }

  /** Client-side DEFLATE over the connection; nothing may be unread or being read. */
  startCompression(): void {
    if (this.lines.length > 0 || this.#buffer.length > 0) {
      const extra = [...this.lines.map((l) => l.text + "\r\n"), this.partial].join("");
      throw new Error(`the server sent more after its tagged OK: ${JSON.stringify(extra)}`);
    }
    if (this.#reading) throw new Error("a read is still pending (expect the tagged OK first)");
    this.conn = new DeflatedConn(this.conn) as unknown as Deno.Conn;
  }

  async send(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * The server configuration a transcript asks for: `@config {json}` merged over
 * {@linkcode testConfig} (`limits` and `tls` merged over their defaults; `"tls": {}` turns
 * TLS on), `@users a:pw,b:pw`.
 */
export function configFor(directives: ReadonlyMap<string, string>): Config {
  const json = JSON.parse(directives.get("config") ?? "{}");
  const users = directives.has("users") ? parseUsers(directives.get("users")!) : [];
  return testConfig({
    httpPort: null,
    users,
    ...json,
    limits: { ...DEFAULT_LIMITS, ...(json.limits ?? {}) },
    tls: json.tls ? { ...DEFAULT_TLS, ...json.tls } : null,
  });
}

/**
 * Plays a transcript against a server listening on `options.port`. Throws a
 * {@linkcode TranscriptError} naming the file and line on the first mismatch.
 */
export async function runTranscript(transcript: Transcript, options: RunOptions): Promise<void> {
  const seconds = options.timeoutSeconds ?? Number(transcript.directives.get("timeout") ?? "10");
  const deadline = Date.now() + seconds * 1000;
  const peers = new Map<string, Peer>();
  const vars = new Map<string, string>();
  const hostname = options.hostname ?? "127.0.0.1";

  const where = (line: number) => `${transcript.file}:${line}`;
  const context = (peer: Peer) => {
    const recent = peer.history.slice(-6).map((l) => `    S${peer.name}: ${l}`).join("\n");
    return recent ? `\n  last lines received on connection ${peer.name}:\n${recent}` : "";
  };
  const peerFor = async (name: string): Promise<Peer> => {
    let peer = peers.get(name);
    if (!peer) {
      const port = options.portFor?.(name) ?? options.port;
      const conn = options.implicitTls?.(name)
        ? await Deno.connectTls({ hostname, port, caCerts: [...(options.caCerts ?? [])] })
        : await Deno.connect({ hostname, port });
      peer = new Peer(name, conn);
      peers.set(name, peer);
    }
    return peer;
  };
  const nextLine = async (peer: Peer, line: number, expected: string) => {
    if (!(await peer.waitLine(deadline))) {
      const why = peer.eof ? "the server closed the connection" : `timed out after ${seconds}s`;
      const partial = peer.partial ? `\n  partial line: ${JSON.stringify(peer.partial)}` : "";
      throw new TranscriptError(
        `${where(line)}: ${why} while waiting for S${peer.name}\n  expected: ${expected}` +
          partial + context(peer),
      );
    }
    const got = peer.lines.shift()!;
    if (got.bareLf) {
      throw new TranscriptError(
        `${where(line)}: the server ended a line with a bare LF (not CRLF)\n  actual: ${
          JSON.stringify(got.text)
        }`,
      );
    }
    return got.text;
  };
  const bind = (match: RegExpExecArray) => {
    for (const [name, value] of Object.entries(match.groups ?? {})) {
      if (value !== undefined) vars.set(name, value);
    }
  };

  const steps = transcript.steps;
  try {
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s];
      switch (step.kind) {
        case "send": {
          // Coalesce consecutive sends on one connection into one write (pipelining).
          let text = "";
          let t = s;
          for (; t < steps.length; t++) {
            const next = steps[t];
            if (next.kind !== "send" || next.conn !== step.conn) break;
            text += substitute(unescapeText(next.text), vars, where(next.line)) +
              (next.crlf ? "\r\n" : "");
          }
          s = t - 1;
          const peer = await peerFor(step.conn);
          try {
            await peer.send(toBytes(text));
          } catch (error) {
            throw new TranscriptError(
              `${where(step.line)}: cannot send on connection ${step.conn}: ${
                (error as Error).message
              }${context(peer)}`,
            );
          }
          break;
        }
        case "expect": {
          const peer = await peerFor(step.conn);
          const { regex } = compilePattern(step, vars, where(step.line));
          const shown = `${step.regex ? "S~" : "S"}${step.conn}: ${step.pattern}`;
          const actual = await nextLine(peer, step.line, shown);
          const match = regex.exec(actual);
          if (!match) {
            throw new TranscriptError(
              `${
                where(step.line)
              }: unexpected server line\n  expected: ${shown}\n  actual:   S${step.conn}: ${actual}` +
                context(peer),
            );
          }
          bind(match);
          break;
        }
        case "unordered": {
          const peer = await peerFor(step.conn);
          const remaining = [...step.items];
          const received: string[] = [];
          while (remaining.length > 0) {
            const shown = remaining.map((item) => `S${item.conn}: ${item.pattern}`).join(
              "\n            ",
            );
            const actual = await nextLine(peer, step.line, `one of\n            ${shown}`);
            received.push(actual);
            const index = remaining.findIndex((item) =>
              compilePattern(item, vars, where(item.line)).regex.test(actual)
            );
            if (index < 0) {
              throw new TranscriptError(
                `${
                  where(step.line)
                }: server line matches nothing left in the { } block\n  expected one of:\n            ${shown}\n  actual:   S${step.conn}: ${actual}` +
                  context(peer),
              );
            }
            const [item] = remaining.splice(index, 1);
            bind(compilePattern(item, vars, where(item.line)).regex.exec(actual)!);
          }
          break;
        }
        case "closed": {
          const peer = await peerFor(step.conn);
          if (await peer.waitLine(deadline)) {
            throw new TranscriptError(
              `${
                where(step.line)
              }: expected the server to close connection ${step.conn}\n  actual:   S${step.conn}: ${
                peer.lines[0].text
              }`,
            );
          }
          if (!peer.eof) {
            throw new TranscriptError(
              `${
                where(step.line)
              }: timed out after ${seconds}s waiting for the server to close connection ${step.conn}` +
                context(peer),
            );
          }
          break;
        }
        case "starttls": {
          const peer = peers.get(step.conn);
          if (!peer) throw new TranscriptError(`${where(step.line)}: no connection ${step.conn}`);
          try {
            await peer.startTls(options.caCerts ?? []);
          } catch (error) {
            throw new TranscriptError(
              `${where(step.line)}: cannot start TLS on connection ${step.conn}: ${
                (error as Error).message
              }${context(peer)}`,
            );
          }
          break;
        }
        case "compress": {
          const peer = peers.get(step.conn);
          if (!peer) throw new TranscriptError(`${where(step.line)}: no connection ${step.conn}`);
          try {
            peer.startCompression();
          } catch (error) {
            throw new TranscriptError(
              `${where(step.line)}: cannot compress connection ${step.conn}: ${
                (error as Error).message
              }${context(peer)}`,
            );
          }
          break;
        }
        case "close": {
          const peer = peers.get(step.conn);
          if (!peer) throw new TranscriptError(`${where(step.line)}: no connection ${step.conn}`);
          peer.close();
          await peer.done;
          peers.delete(step.conn);
          break;
        }
        case "sleep":
          await new Promise((resolve) => setTimeout(resolve, step.ms));
          break;
        case "call": {
          const hook = options.hooks?.[step.name];
          if (!hook) throw new TranscriptError(`${where(step.line)}: no hook named ${step.name}`);
          const args = step.args.map((arg) =>
            substitute(unescapeText(arg), vars, where(step.line))
          );
          try {
            await hook(args, { vars, where: where(step.line) });
          } catch (error) {
            if (error instanceof TranscriptError) throw error;
            throw new TranscriptError(
              `${where(step.line)}: !call ${step.name} failed: ${(error as Error).message}`,
            );
          }
          break;
        }
      }
    }
    // A short grace period so that a stray reply to the last command is caught.
    const grace = Date.now() + 30;
    await Promise.all([...peers.values()].map((peer) => peer.waitLine(grace)));
    for (const peer of peers.values()) {
      if (peer.lines.length > 0) {
        throw new TranscriptError(
          `${transcript.file}: end of script, but connection ${peer.name} has unread lines:\n` +
            peer.lines.map((l) => `    S${peer.name}: ${l.text}`).join("\n"),
        );
      }
    }
  } finally {
    for (const peer of peers.values()) peer.close();
    await Promise.allSettled([...peers.values()].map((peer) => peer.done));
  }
}

/** Reads every `*.txt` transcript in a directory, sorted by name. */
export function readTranscripts(dir: URL): Transcript[] {
  const names = [...Deno.readDirSync(dir)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".txt"))
    .map((entry) => entry.name)
    .sort();
  return names.map((name) =>
    parseTranscript(
      Deno.readTextFileSync(new URL(name, dir)),
      `${dir.pathname.split("/").slice(-2, -1)[0]}/${name}`,
    )
  );
}
